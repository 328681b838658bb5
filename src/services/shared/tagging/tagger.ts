import { compileTagTemplate } from './template.js';

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

/**
 * How a service derives {event_type}/{service} from an event, and its auto_event_type tag; each
 * service that tags per event owns its rule (e.g. service-events-all: from the EventBridge `source`).
 */
export interface TagRule {
  kindOf(facts: TagFacts): string;
  /** auto_event_type: the tag is this prefix followed by kindOf(facts). */
  readonly autoEventTypePrefix: string;
}

export interface TaggerOptions {
  /**
   * The service's rule, or `{ fixed }` for a service whose events are all of one kind: the value
   * of {event_type} and {service} (e.g. `vpcflowlogs`); auto_event_type then changes nothing.
   */
  readonly rule: TagRule | { readonly fixed: string };
  /** The service's default tag. */
  readonly defaultTag: string;
  /** The user's `tag`, a template; takes precedence over auto_event_type. */
  readonly tag?: string | undefined;
  /** Config key of `tag`, for error messages, e.g. `inputs.aws.services.metrics-all.tag`. */
  readonly tagConfigKey?: string;
  readonly autoEventType?: boolean;
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
 * The tags of one service × region:
 * - a user `tag` is a template: {region}, {account_id}, {event_type}, {service} are filled per event
 *   (sanitised segments); {event_type} and {service} are the same value, the rule's kind;
 * - else with auto_event_type and a per-event rule: the rule's prefix followed by the kind;
 * - else the service's default tag.
 * Throws CONFIG_INVALID if `tag` is not a valid template.
 */
export function createTagger(options: TaggerOptions): Tagger {
  const { rule, region, accountId } = options;
  const fromEvent = options.regionAndAccountFromEvent ?? false;
  const perEvent = 'kindOf' in rule ? rule : undefined;
  const kind = (facts: TagFacts): string => perEvent?.kindOf(facts) ?? (rule as { fixed: string }).fixed;

  if (options.tag !== undefined) {
    const template = compileTagTemplate(options.tag, options.tagConfigKey);
    const usesKind =
      perEvent !== undefined &&
      (template.placeholders.has('event_type') || template.placeholders.has('service'));
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
  if (options.autoEventType && perEvent !== undefined) {
    const prefix = perEvent.autoEventTypePrefix;
    return cachedTagger((facts) => prefix + perEvent.kindOf(facts), false);
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
