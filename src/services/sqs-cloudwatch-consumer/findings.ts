import { jsonArrayObjects } from '../../formats/json-scanner.js';
import {
  asIs,
  isObject,
  parseBody,
  type ConvertedMessage,
  type EventTags,
} from '../shared/sqs-events/convert.js';

/**
 * `sqs-cloudwatch-consumer`: the body is a Security Hub EventBridge event carrying up to 100
 * findings in `detail.findings`; one Devo event per finding, its compact JSON cut from the body as
 * written (a JSON.stringify round trip would round `"Count":12345678901234567890`).
 */
export function securityHubFindings(body: string, tags: EventTags): ConvertedMessage {
  const event = parseBody(body);
  if (event === undefined) return asIs(body, tags, 'not-json');
  const findings = isObject(event) && isObject(event.detail) ? event.detail.findings : undefined;
  // An event without findings (e.g. Insight Results) is not lost either: it goes out whole.
  if (!Array.isArray(findings) || findings.length === 0 || !findings.every(isObject)) {
    return asIs(body, tags, 'unexpected-shape');
  }
  const tag = tags.tagger.tagFor({});
  const messages = jsonArrayObjects(body, ['detail', 'findings'], 'Security Hub event');
  return { events: messages.map((message) => ({ tag, message })) };
}
