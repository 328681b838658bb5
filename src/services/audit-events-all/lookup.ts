import { LookupEventsCommand, type CloudTrailClient, type Event } from '@aws-sdk/client-cloudtrail';
import { paceAttempts, retryThrottled, type RateLimiter } from '../../aws/rate-limiter.js';

/** The one CloudTrail call this service needs, paced and retried on throttling. */
export interface LookupEventsApi {
  /** One page of events in [from, to] (epoch ms, both inclusive), newest first as AWS returns them. */
  page(
    from: number,
    to: number,
    nextToken: string | undefined,
  ): Promise<{ events: Event[]; nextToken: string | undefined }>;
}

/** LookupEvents allows 2 requests a second per account and region. */
export const LOOKUP_EVENTS_PER_SECOND = 2;
/** Most events LookupEvents returns a page. */
const PAGE_SIZE = 50;

export function lookupEventsApi(
  client: CloudTrailClient,
  limiter: RateLimiter,
  region: string,
  signal: AbortSignal,
  onThrottled: (attempt: number, delayMs: number) => void,
): LookupEventsApi {
  return {
    async page(from, to, nextToken) {
      const out = await retryThrottled(
        () => {
          const command = new LookupEventsCommand({
            StartTime: new Date(from),
            EndTime: new Date(to),
            MaxResults: PAGE_SIZE,
            ...(nextToken ? { NextToken: nextToken } : {}),
          });
          paceAttempts(command, limiter, signal);
          return client.send(command, { abortSignal: signal });
        },
        { signal, what: `CloudTrail LookupEvents in ${region}`, onThrottled },
      );
      return { events: out.Events ?? [], nextToken: out.NextToken || undefined };
    },
  };
}
