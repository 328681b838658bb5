import { compactJsonObject } from '../../formats/json-scanner.js';
import { sanitizeTagSegment } from '../shared/tagging/template.js';
import type { TagRule } from '../shared/tagging/tagger.js';
import {
  asIs,
  isObject,
  parseBody,
  type ConvertedMessage,
  type EventTags,
} from '../shared/sqs-events/convert.js';

/** Default tag (Devo table) of service events. */
export const TAG_CLOUDWATCH_EVENTS = 'cloud.aws.cloudwatch.events';

/**
 * Event type of an EventBridge event from its `source`:
 * - an AWS service (`aws.<service>`): the service, sanitised (`aws.guardduty` → `guardduty`);
 * - a SaaS partner (`aws.partner/<partner>/...`): `partner`;
 * - anything else — a custom source such as `my.app` — : `custom`; a missing source: `unknown`.
 * Partner and custom sources are free text chosen by others: mapping them to a fixed word keeps the
 * set of tags (Devo tables) small and known, instead of creating one table per application name.
 * The event keeps its `source`, so nothing is lost.
 */
export function eventTypeFromSource(source: string | undefined): string {
  if (source === undefined || source.length === 0) return 'unknown';
  if (source.startsWith('aws.partner/')) return 'partner';
  if (source.startsWith('aws.') && source.length > 4) return sanitizeTagSegment(source.slice(4));
  return 'custom';
}

/** {event_type} from the EventBridge `source`; auto_event_type: cloud.aws.cloudwatch.<event type>. */
export const serviceEventsTagRule: TagRule = {
  kindOf: (facts) => eventTypeFromSource(facts.source),
  autoEventTypePrefix: 'cloud.aws.cloudwatch.',
};

/**
 * `service-events-all`: the body is an EventBridge event; one Devo event, the event's compact JSON,
 * tagged from its `source` (auto_event_type, {event_type}).
 */
export function eventBridgeEvent(body: string, tags: EventTags): ConvertedMessage {
  const event = parseBody(body);
  if (event === undefined) return asIs(body, tags, 'not-json');
  if (!isObject(event) || typeof event.source !== 'string' || typeof event['detail-type'] !== 'string') {
    return asIs(body, tags, 'unexpected-shape');
  }
  // Compacted from the text, not re-serialised, so the event reaches Devo exactly as AWS wrote it.
  const message = compactJsonObject(body, 'EventBridge event');
  return { events: [{ tag: tags.tagger.tagFor({ source: event.source }), message }] };
}
