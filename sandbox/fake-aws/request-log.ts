import type { FaultKind } from './faults.js';
import type { Params, ServiceName } from './protocol.js';

export interface FakeRequest {
  /** Arrival time, epoch ms. */
  time: number;
  /** Undefined when the request could not be routed to a service. */
  service: ServiceName | undefined;
  operation: string;
  region: string;
  accessKeyId: string;
  accountId: string;
  status: number;
  /** The parsed input (S3: bucket, key and the headers that matter; never object bodies). */
  params: Params;
  /** The injected fault that answered or delayed it. */
  fault?: FaultKind;
}

export type RequestFilter = Partial<
  Pick<FakeRequest, 'service' | 'operation' | 'region' | 'accessKeyId' | 'accountId' | 'status'>
> & {
  /** Only requests that arrived at or after this time (epoch ms). */
  since?: number;
};

/** Every request served, oldest first; the oldest are dropped beyond `limit`. */
export class RequestLog {
  readonly entries: FakeRequest[] = [];
  constructor(private readonly limit: number) {}

  add(entry: FakeRequest): void {
    this.entries.push(entry);
    // Trim in slices so a full log costs O(1) per request on average.
    if (this.entries.length > this.limit * 1.1) this.entries.splice(0, this.entries.length - this.limit);
  }

  filter(filter: RequestFilter = {}): FakeRequest[] {
    return this.entries.filter(
      (r) =>
        (filter.since === undefined || r.time >= filter.since) &&
        (Object.keys(filter) as (keyof RequestFilter)[]).every(
          (k) => k === 'since' || filter[k] === undefined || r[k] === filter[k],
        ),
    );
  }

  clear(): void {
    this.entries.length = 0;
  }
}
