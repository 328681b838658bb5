import { sanitizeTagSegment } from '../shared/tagging/template.js';
import type { TagRule } from '../shared/tagging/tagger.js';

/** Default tag (Devo table) of audit events, as the reference document states. */
export const TAG_AUDIT_EVENTS = 'cloud.aws.cloudwatch.events';

/** Service of a CloudTrail event: the first label of `eventSource` (`ec2.amazonaws.com` → `ec2`). */
export function serviceFromEventSource(eventSource: string | undefined): string {
  if (eventSource === undefined) return 'unknown';
  const dot = eventSource.indexOf('.');
  return sanitizeTagSegment(dot < 0 ? eventSource : eventSource.slice(0, dot));
}

/** {service} from CloudTrail's `eventSource`; auto_event_type: cloud.aws.cloudtrail.<service>. */
export const auditEventsTagRule: TagRule = {
  kindOf: (facts) => serviceFromEventSource(facts.eventSource),
  autoEventTypePrefix: 'cloud.aws.cloudtrail.',
};
