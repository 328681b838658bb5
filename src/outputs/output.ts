import type { CollectorEvent } from '../core/batch.js';

/**
 * What write() resolves with. `confirmed`, from outputs whose acceptance does not yet prove the
 * receiver has the events (stream outputs: flushed to the kernel), resolves once the output
 * vouches for them and rejects (OUTPUT_STOPPED) when it gives them up unconfirmed at stop; absent,
 * accepted is confirmed.
 */
export interface Accepted {
  readonly confirmed?: Promise<void>;
}

/**
 * The one interface every output implements (devo_platform, devo_http, syslog, console, file).
 *
 * Contract:
 * - `write(events)` resolves only when every event was accepted downstream (TLS: written and
 *   flushed to the socket; HTTP: a 2xx; file: written). Transient failures are retried inside
 *   the output (reconnect, backoff) — the promise simply stays pending: that is backpressure.
 *   A receiver refusing the requests (e.g. HTTP 401, a wrong token) is also waited out, so that
 *   nothing is released to be received again: the output reports it through `health()`.
 *   It rejects (CollectorError OUTPUT_REJECTED / OUTPUT_STOPPED) only when the output cannot
 *   accept these events at all: an event the receiver can never take (HTTP 413 alone), or stopped.
 *   Acknowledging at the source waits for `confirmed` too (see Accepted); memory does not.
 * - Several `write` calls may be outstanding at once; each resolves independently.
 * - `start()` prepares (validates certificates, opens connections lazily or eagerly).
 * - `stop()` finishes or abandons pending writes (they reject with OUTPUT_STOPPED) and closes.
 *   `stop()` is safe before `start()` and safe twice.
 */
export interface Output {
  readonly name: string;
  /**
   * True when the output reports its connection state itself (ctx.health: up when it can carry
   * data); otherwise it counts as connected once start() resolved.
   */
  readonly tracksConnection?: boolean;
  start(): Promise<void>;
  write(events: readonly CollectorEvent[]): Promise<Accepted | void>;
  stop(): Promise<void>;
}
