import { escapeLineBreaks } from '../../../formats/line-breaks.js';
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

export const isObject = (v: unknown): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body parsed, or undefined when it is not JSON. */
export function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Nothing is dropped: a body of the wrong shape goes out unchanged, on one line. */
export function asIs(body: string, tags: EventTags, malformed: MalformedKind): ConvertedMessage {
  return { events: [{ tag: tags.fallback, message: escapeLineBreaks(body) }], malformed };
}
