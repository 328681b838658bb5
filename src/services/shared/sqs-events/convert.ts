import { escapeLineBreaks } from '../../../outputs/syslog-line.js';
import { compactJsonObject, jsonArrayObjects } from '../../../formats/cloudtrail.js';
import type { CollectorEvent } from '../../../core/batch.js';
import type { Tagger } from '../tagging/tagger.js';

/** Why a message body was delivered as it is (the `kind` label of collector_malformed_total). */
export type MalformedKind = 'not-json' | 'unexpected-shape';

/** Devo events made from one SQS message body. */
export interface ConvertedMessage {
  readonly events: CollectorEvent[];
  /** Set when the body was not what the service expects; it is then delivered as-is. */
  readonly malformed?: MalformedKind;
}

/** Tags of a service: per event, and for bodies delivered as-is. */
export interface EventTags {
  readonly tagger: Tagger;
  /** The service's configured tag (rendered without event facts) or its default tag. */
  readonly fallback: string;
}

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function parse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Nothing is dropped: a body of the wrong shape goes out unchanged, on one line. */
function asIs(body: string, tags: EventTags, malformed: MalformedKind): ConvertedMessage {
  return { events: [{ tag: tags.fallback, message: escapeLineBreaks(body) }], malformed };
}

/**
 * `service-events-all`: the body is an EventBridge event; one Devo event, the event's compact JSON,
 * tagged from its `source` (auto_event_type, {event_type}).
 */
export function eventBridgeEvent(body: string, tags: EventTags): ConvertedMessage {
  const event = parse(body);
  if (event === undefined) return asIs(body, tags, 'not-json');
  if (!isObject(event) || typeof event.source !== 'string' || typeof event['detail-type'] !== 'string') {
    return asIs(body, tags, 'unexpected-shape');
  }
  // Compacted from the text, not re-serialised, so the event reaches Devo exactly as AWS wrote it.
  const message = compactJsonObject(body, 'EventBridge event');
  return { events: [{ tag: tags.tagger.tagFor({ source: event.source }), message }] };
}

/**
 * `sqs-cloudwatch-consumer`: the body is a Security Hub EventBridge event carrying up to 100
 * findings in `detail.findings`; one Devo event per finding, its compact JSON cut from the body as
 * written (a JSON.stringify round trip would round `"Count":12345678901234567890`).
 */
export function securityHubFindings(body: string, tags: EventTags): ConvertedMessage {
  const event = parse(body);
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
