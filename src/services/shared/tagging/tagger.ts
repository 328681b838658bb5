import { compileTagTemplate, sanitizeTagSegment } from './template.js';

/** Default tags (Devo tables) per service, DESIGN.md §1. */
export const TAG_CLOUDWATCH_EVENTS = 'cloud.aws.cloudwatch.events';
export const TAG_SECURITYHUB_FINDINGS = 'cloud.aws.securityhub.findings';
export const TAG_CLOUDWATCH_METRICS = 'cloud.aws.cloudwatch.metrics';
export const TAG_CLOUDWATCH_LOGS = 'cloud.aws.cloudwatch.logs';
export const TAG_VPC_FLOWLOGS = 'cloud.aws.vpc.flowlogs';
export const TAG_CLOUDFRONT = 'cloud.aws.cloudfront';

/** auto_event_type prefixes: service events and audit (CloudTrail) events. */
const SERVICE_EVENTS_PREFIX = 'cloud.aws.cloudwatch.';
const AUDIT_EVENTS_PREFIX = 'cloud.aws.cloudtrail.';

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

/** Service of a CloudTrail event: the first label of `eventSource` (`ec2.amazonaws.com` → `ec2`). */
export function serviceFromEventSource(eventSource: string | undefined): string {
  if (eventSource === undefined) return 'unknown';
  const dot = eventSource.indexOf('.');
  return sanitizeTagSegment(dot < 0 ? eventSource : eventSource.slice(0, dot));
}

/** What an event contributes to its tag; services fill what they have. */
export interface TagFacts {
  /** EventBridge `source` (service events). */
  readonly source?: string | undefined;
  /** CloudTrail `eventSource` (audit events). */
  readonly eventSource?: string | undefined;
  /** Region named by the event (CloudTrail `awsRegion`): {region} with regionAndAccountFromEvent. */
  readonly region?: string | undefined;
  /** Account named by the event (CloudTrail `recipientAccountId`): {account_id} with regionAndAccountFromEvent. */
  readonly accountId?: string | undefined;
}

export interface TaggerOptions {
  /**
   * How {event_type}/{service} and auto_event_type derive from an event: from the EventBridge
   * `source` (service events), from CloudTrail's `eventSource` (audit events), or fixed.
   */
  readonly rule: 'service-events' | 'audit-events' | 'fixed';
  /** The service's default tag (one of the TAG_* constants). */
  readonly defaultTag: string;
  /** The user's `tag`, a template; takes precedence over auto_event_type. */
  readonly tag?: string | undefined;
  /** Config key of `tag`, for error messages, e.g. `inputs.aws.services.metrics-all.tag`. */
  readonly tagConfigKey?: string;
  readonly autoEventType?: boolean;
  /** Rule `fixed`: the value of {event_type} and {service} (e.g. `vpcflowlogs`). */
  readonly eventType?: string;
  /** The worker's region (the queue's or API's). */
  readonly region: string;
  /** The account of the credentials, when known. */
  readonly accountId?: string | undefined;
  /** use_region_and_account_id_from_event: {region}/{account_id} from the event when it names them. */
  readonly regionAndAccountFromEvent?: boolean;
}

export interface Tagger {
  /** The tag of every event when it does not depend on the event: services can skip TagFacts. */
  readonly constant: string | undefined;
  tagFor(facts: TagFacts): string;
}

/** Distinct tags remembered per tagger; event data is not trusted to stay low-cardinality. */
const CACHE_LIMIT = 1024;

/**
 * The tag rules (DESIGN.md §1) for one service × region:
 * - a user `tag` is a template: {region}, {account_id}, {event_type}, {service} are filled per event
 *   (sanitised segments); {event_type} and {service} are the same value: the event type from the
 *   EventBridge source for service events, the eventSource's service for audit events, `eventType`
 *   for other services;
 * - else with auto_event_type: `cloud.aws.cloudwatch.<event type>` for service events,
 *   `cloud.aws.cloudtrail.<service>` for audit events; other services keep their default;
 * - else the service's default tag.
 * Throws CONFIG_INVALID if `tag` is not a valid template.
 */
export function createTagger(options: TaggerOptions): Tagger {
  const { rule, region, accountId } = options;
  const fromEvent = options.regionAndAccountFromEvent ?? false;
  const kind = (facts: TagFacts): string =>
    rule === 'service-events'
      ? eventTypeFromSource(facts.source)
      : rule === 'audit-events'
        ? serviceFromEventSource(facts.eventSource)
        : (options.eventType ?? 'unknown');

  if (options.tag !== undefined) {
    const template = compileTagTemplate(options.tag, options.tagConfigKey);
    const usesKind =
      rule !== 'fixed' && (template.placeholders.has('event_type') || template.placeholders.has('service'));
    const usesPlace =
      fromEvent && (template.placeholders.has('region') || template.placeholders.has('account_id'));
    const render = (facts: TagFacts): string => {
      const type = kind(facts);
      return template.render({
        region: (fromEvent ? facts.region : undefined) ?? region,
        account_id: (fromEvent ? facts.accountId : undefined) ?? accountId,
        event_type: type,
        service: type,
      });
    };
    if (!usesKind && !usesPlace) return constantTagger(render({}));
    return cachedTagger(render, fromEvent);
  }
  if (options.autoEventType && rule !== 'fixed') {
    const prefix = rule === 'service-events' ? SERVICE_EVENTS_PREFIX : AUDIT_EVENTS_PREFIX;
    const cache = new Map<string, string>();
    return {
      constant: undefined,
      tagFor(facts: TagFacts): string {
        const key = (rule === 'service-events' ? facts.source : facts.eventSource) ?? '';
        let tag = cache.get(key);
        if (tag === undefined) {
          tag = prefix + kind(facts);
          if (cache.size >= CACHE_LIMIT) cache.clear();
          cache.set(key, tag);
        }
        return tag;
      },
    };
  }
  return constantTagger(options.defaultTag);
}

function constantTagger(tag: string): Tagger {
  return { constant: tag, tagFor: () => tag };
}

function cachedTagger(render: (facts: TagFacts) => string, fromEvent: boolean): Tagger {
  const cache = new Map<string, string>();
  return {
    constant: undefined,
    tagFor(facts: TagFacts): string {
      const key = `${facts.source ?? ''}\u0000${facts.eventSource ?? ''}${
        fromEvent ? `\u0000${facts.region ?? ''}\u0000${facts.accountId ?? ''}` : ''
      }`;
      let tag = cache.get(key);
      if (tag === undefined) {
        tag = render(facts);
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(key, tag);
      }
      return tag;
    },
  };
}
