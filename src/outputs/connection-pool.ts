import type { Socket } from 'node:net';
import { CollectorError, ErrorCodes, describeError, isCollectorError } from '../core/errors.js';
import type { OutputHealth } from '../telemetry/health.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { backoffDelay, sleep } from '../core/backoff.js';
import { backoffOptions, type BackoffConfig } from './backoff-schema.js';
import { ResendWindow, type Confirmation } from './resend-window.js';

export interface ConnectionPoolOptions {
  /** Output name, for logs and errors. */
  name: string;
  /** `host:port`, for logs. */
  target: string;
  /** Parallel connections. */
  connections: number;
  /**
   * Opens one connection and resolves once it can carry data (TLS: handshake done, server
   * verified). Rejects on failure; must give up promptly when `signal` aborts.
   */
  connect(signal: AbortSignal): Promise<Socket>;
  reconnect: BackoffConfig;
  /** Close a connection gracefully and open a new one after about this long; 0 = never. */
  recycleAfterMs: number;
  /**
   * Bytes already flushed to the kernel that are kept per connection and sent again if the
   * connection breaks: a flush only means the kernel took the bytes, and what sat in the
   * socket buffers (ours and the receiver's) when a receiver died is otherwise lost.
   */
  resendWindowBytes: number;
  /**
   * Bytes flushed this long before the connection's last flush are assumed received and not sent
   * again; so are bytes flushed this long ago on a connection with nothing waiting to be written.
   */
  resendWindowMs: number;
  /** How long a graceful close may wait for the peer to close its side. */
  closeTimeoutMs: number;
  /**
   * A connection holding unconfirmed bytes with nothing to write for this long closes gracefully
   * and reconnects at once: the receiver closing after reading everything confirms them now rather
   * than after resendWindowMs (at low traffic, acknowledgements would otherwise wait that long).
   * 0 = never. After such a close that the receiver did not confirm, none for resendWindowMs.
   */
  idleConfirmMs: number;
  logger: Logger;
  /** Told when the pool can carry data (a connection is open) and when it cannot. */
  health?: OutputHealth;
  /** Counts reconnections and bytes sent again after a break. */
  metrics?: Metrics;
}

interface Job {
  readonly data: Buffer;
  /** The waiting write; cleared once settled, so a re-sent job never settles twice. */
  settle: { resolve(): void; reject(err: Error): void } | undefined;
  /** Owed until the bytes leave a resend window (see Sent#confirmed), across re-sends. */
  confirm: Confirmation | undefined;
}

/** What send() resolves with once the bytes were flushed. */
export interface Sent {
  /**
   * Resolves when the resend window vouches for the bytes: they left it while the connection was
   * healthy (evicted by newer bytes, or aged out after resendWindowMs), or the peer closed after
   * reading to our end of stream. Rejects (OUTPUT_STOPPED) when the pool stopped before that.
   */
  readonly confirmed: Promise<void>;
}

interface Connection {
  readonly socket: Socket;
  /** Written to the socket, write callback not fired yet, in write order. */
  readonly inflight: Job[];
  /** Flushed recently: sent again if the connection breaks (see resendWindowBytes). */
  readonly window: ResendWindow;
  readonly openedAt: number;
  closed: boolean;
  /** Our graceful close (recycle or stop) is under way. */
  closing: boolean;
  /** The peer closed its side (FIN): with `closing`, it has read everything we sent. */
  peerEnded: boolean;
  recycleDue: boolean;
  /** Ages the window out while nothing is waiting to be written (see resendWindowMs). */
  ageOut: NodeJS.Timeout | undefined;
  /** Closes the connection to have its window confirmed once idle (see idleConfirmMs). */
  idleClose: NodeJS.Timeout | undefined;
  /** Closed by idleClose. */
  closedIdle: boolean;
  error: Error | undefined;
  /** Resolves the slot's current wait (for work, drain or close). */
  wake: (() => void) | undefined;
  readonly closedPromise: Promise<void>;
}

/**
 * A confirmation and its promise, made apart from send(): a closure made there would keep the
 * written Buffer alive (V8 shares one context per scope) for as long as the bytes await confirmation.
 */
function confirmation(): { confirm: Confirmation; confirmed: Promise<void> } {
  let confirm!: Confirmation;
  const confirmed = new Promise<void>((resolve, reject) => (confirm = { resolve, reject }));
  // Never flushed, it is never awaited: its write rejects instead.
  confirmed.catch(() => undefined);
  return { confirm, confirmed };
}

/** Fails a job that will not be sent again: its write, or its confirmation once flushed. */
function reject(job: Job, err: Error): void {
  job.settle?.reject(err);
  job.confirm?.reject(err);
}

/** A connection that lived this long was healthy: its loss restarts the backoff from the beginning. */
const HEALTHY_CONNECTION_MS = 10_000;

/**
 * Several long-lived stream connections (TLS or TCP) carrying opaque buffers, with write
 * backpressure, reconnection with backoff and jitter, graceful recycling, and at-least-once
 * delivery across breaks. Shared by devo_platform and syslog (TCP/TLS).
 *
 * `send(data)` resolves once the bytes were flushed to the kernel (the socket's write callback
 * fired), with a promise of their confirmation (see Sent). When a connection breaks, its unflushed
 * buffers and its resend window go back to the head of the queue and are written again on the next
 * connection: duplicates are possible on failure, loss is not. Memory is what callers have queued
 * plus, per connection, at most `resendWindowBytes` of flushed data.
 */
export class ConnectionPool {
  private queue: Job[] = [];
  private readonly connections = new Set<Connection>();
  private readonly idle = new Set<Connection>();
  private readonly abort = new AbortController();
  private slots: Promise<void>[] = [];
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private failures = 0;
  private failingSince = 0;
  /** No idle close before this (epoch ms): the last one was not confirmed by the receiver. */
  private idleClosesFrom = 0;
  private lastFailure = '';

  constructor(private readonly options: ConnectionPoolOptions) {}

  /** Opens the connections (in the background: an unreachable server is retried, not fatal). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (let i = 0; i < this.options.connections; i++) this.slots.push(this.runSlot());
  }

  /** Resolves when `data` was flushed to the kernel on some connection; rejects OUTPUT_STOPPED on stop(). */
  send(data: Buffer): Promise<Sent> {
    if (this.stopped) return Promise.reject(this.stoppedError());
    const { confirm, confirmed } = confirmation();
    return new Promise((resolve, reject) => {
      this.queue.push({ data, settle: { resolve: () => resolve({ confirmed }), reject }, confirm });
      this.wakeIdle();
    });
  }

  /** Bytes held: queued, in flight and in resend windows (bounded memory is checked against this). */
  get bufferedBytes(): number {
    let bytes = 0;
    for (const job of this.queue) bytes += job.data.length;
    for (const conn of this.connections) {
      bytes += conn.window.bytes;
      for (const job of conn.inflight) bytes += job.data.length;
    }
    return bytes;
  }

  /** Rejects what was never written, lets in-flight writes flush during a graceful close, then closes. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    const err = this.stoppedError();
    for (const job of this.queue.splice(0)) reject(job, err);
    for (const conn of this.connections) this.wake(conn);
    await Promise.all(this.slots);
  }

  private async runSlot(): Promise<void> {
    const backoff = backoffOptions(this.options.reconnect);
    let attempt = 0;
    // This slot's last connection broke (not recycled): the next one is a reconnection.
    let lost = false;
    while (!this.stopped) {
      let socket: Socket;
      try {
        socket = await this.options.connect(this.abort.signal);
      } catch (err) {
        if (this.stopped) return;
        this.reportFailure(err);
        await sleep(backoffDelay(attempt++, backoff), this.abort.signal);
        continue;
      }
      if (this.stopped) {
        socket.destroy();
        return;
      }
      this.reportConnected();
      if (lost) this.options.metrics?.outputReconnects.inc({ output: this.options.name });
      lost = false;
      const conn = await this.serve(socket);
      if (this.stopped) return;
      if (conn.closing && !conn.error) {
        attempt = 0; // recycled: reconnect at once
        continue;
      }
      if (Date.now() - conn.openedAt >= HEALTHY_CONNECTION_MS) attempt = 0;
      this.reportBroken(conn);
      lost = true;
      await sleep(backoffDelay(attempt++, backoff), this.abort.signal);
    }
  }

  /** Carries jobs on one connection until it breaks, is recycled, or the pool stops. */
  private async serve(socket: Socket): Promise<Connection> {
    let markClosed!: () => void;
    const conn: Connection = {
      socket,
      inflight: [],
      window: new ResendWindow(this.options.resendWindowBytes),
      openedAt: Date.now(),
      closed: false,
      closing: false,
      peerEnded: false,
      recycleDue: false,
      ageOut: undefined,
      idleClose: undefined,
      closedIdle: false,
      error: undefined,
      wake: undefined,
      closedPromise: new Promise((resolve) => (markClosed = resolve)),
    };
    this.connections.add(conn);
    socket.on('error', (err) => (conn.error ??= err));
    socket.on('end', () => (conn.peerEnded = true));
    socket.once('close', () => {
      this.onClose(conn);
      markClosed();
    });
    const { recycleAfterMs } = this.options;
    // ±10 % so that connections opened together are not all recycled at the same moment.
    const recycle =
      recycleAfterMs > 0
        ? setTimeout(
            () => {
              conn.recycleDue = true;
              this.wake(conn);
            },
            recycleAfterMs * (0.9 + 0.2 * Math.random()),
          )
        : undefined;
    recycle?.unref();

    while (!conn.closed && !conn.recycleDue && !this.stopped) {
      const job = this.queue.shift();
      if (!job) {
        await this.waitForWork(conn);
        continue;
      }
      conn.inflight.push(job);
      if (!socket.write(job.data, (err) => this.onFlushed(conn, job, err))) await this.waitForDrain(conn);
    }
    clearTimeout(recycle);
    if (!conn.closed) await this.closeGracefully(conn);
    return conn;
  }

  private onFlushed(conn: Connection, job: Job, err: Error | null | undefined): void {
    // A failed write is handled when the connection closes: its jobs are re-queued then. Node also
    // calls back without an error for a write cancelled because the socket was destroyed.
    if (err || conn.closed || conn.socket.destroyed) return;
    const index = conn.inflight[0] === job ? 0 : conn.inflight.indexOf(job);
    if (index < 0) return;
    conn.inflight.splice(index, 1);
    job.settle?.resolve();
    job.settle = undefined;
    const now = Date.now();
    conn.window.add(job.data, now, job.confirm);
    job.confirm = undefined;
    conn.window.expire(now - this.options.resendWindowMs);
    if (conn.inflight.length > 0) return;
    this.armAgeOut(conn);
    this.armIdleClose(conn);
  }

  /** See idleConfirmMs: re-armed by every flush that leaves the connection with nothing in flight. */
  private armIdleClose(conn: Connection): void {
    const { idleConfirmMs } = this.options;
    if (idleConfirmMs <= 0) return;
    clearTimeout(conn.idleClose);
    conn.idleClose = setTimeout(() => {
      conn.idleClose = undefined;
      const idle = conn.inflight.length === 0 && this.queue.length === 0;
      if (conn.closed || conn.closing || !idle || conn.window.bytes === 0) return;
      if (Date.now() < this.idleClosesFrom) return;
      conn.closedIdle = true;
      conn.recycleDue = true;
      this.wake(conn);
    }, idleConfirmMs);
    conn.idleClose.unref();
  }

  /**
   * While a connection has nothing waiting to be written, its window ages out by the clock, so
   * that at low traffic what was sent is confirmed after resendWindowMs. Not while writes wait:
   * the receiver may have stopped reading, and then only newer flushes age the window.
   */
  private armAgeOut(conn: Connection): void {
    const oldest = conn.window.oldestFlushedAt;
    if (conn.ageOut || conn.closed || oldest === undefined) return;
    // Strictly older than the window, as on a flush (expire() keeps what is exactly that old).
    const delay = Math.max(0, oldest + this.options.resendWindowMs + 1 - Date.now());
    conn.ageOut = setTimeout(() => {
      conn.ageOut = undefined;
      if (conn.closed || conn.inflight.length > 0) return;
      conn.window.expire(Date.now() - this.options.resendWindowMs);
      this.armAgeOut(conn);
    }, delay);
    conn.ageOut.unref();
  }

  private onClose(conn: Connection): void {
    conn.closed = true;
    clearTimeout(conn.ageOut);
    clearTimeout(conn.idleClose);
    this.connections.delete(conn);
    this.idle.delete(conn);
    const unflushed = conn.inflight.splice(0);
    // After our graceful close the peer's FIN says it read everything: the window is confirmed.
    const clean = conn.closing && conn.peerEnded && !conn.error;
    if (clean) conn.window.settle();
    // A receiver that does not close when asked may not be reading: do not keep reconnecting to ask.
    else if (conn.closedIdle) this.idleClosesFrom = Date.now() + this.options.resendWindowMs;
    if (this.stopped) {
      const err = this.stoppedError();
      for (const job of unflushed) reject(job, err);
      const unconfirmed = conn.window.bytes;
      if (unconfirmed > 0) {
        // Given up unconfirmed: their batches are released to their sources, to be sent again later.
        const { logger, name, target } = this.options;
        logger.warn(
          {
            event: 'output_unconfirmed_at_shutdown',
            output: name,
            target,
            bytes: unconfirmed,
            code: ErrorCodes.OUTPUT_STOPPED,
          },
          `output ${name}: closed at shutdown without ${target} confirming it read the last ${unconfirmed} bytes sent; their events are released to their sources`,
        );
        conn.window.settle(err);
      }
    } else {
      // Re-send what may not have reached the receiver, oldest first. Aged from the connection's
      // last flush, not from now: while a stalled receiver reads nothing, flushes stop and what
      // fills the socket buffers must not age out before the break.
      const since = conn.window.lastFlushedAt - this.options.resendWindowMs;
      const resend: Job[] = conn.window
        .take(since)
        .map(({ data, confirm }) => ({ data, settle: undefined, confirm }));
      const resentBytes = resend.reduce((n, job) => n + job.data.length, 0);
      if (resentBytes > 0)
        this.options.metrics?.outputResentBytes.inc({ output: this.options.name }, resentBytes);
      if (this.connections.size === 0) this.options.health?.down();
      // concat, not unshift(...): a window of many small jobs would exceed the argument limit.
      this.queue = resend.concat(unflushed, this.queue);
      if (this.queue.length > 0) this.wakeIdle();
    }
    this.wake(conn);
  }

  private async closeGracefully(conn: Connection): Promise<void> {
    conn.closing = true;
    conn.socket.end();
    const timer = setTimeout(() => conn.socket.destroy(), this.options.closeTimeoutMs);
    await conn.closedPromise;
    clearTimeout(timer);
  }

  private waitForWork(conn: Connection): Promise<void> {
    return new Promise((resolve) => {
      conn.wake = resolve;
      this.idle.add(conn);
    });
  }

  private waitForDrain(conn: Connection): Promise<void> {
    if (conn.closed) return Promise.resolve();
    return new Promise((resolve) => {
      conn.wake = resolve;
      conn.socket.once('drain', () => this.wake(conn));
    });
  }

  private wake(conn: Connection): void {
    const wake = conn.wake;
    conn.wake = undefined;
    this.idle.delete(conn);
    wake?.();
  }

  private wakeIdle(): void {
    for (const conn of this.idle) this.wake(conn);
  }

  private stoppedError(): CollectorError {
    return new CollectorError(ErrorCodes.OUTPUT_STOPPED, `output ${this.options.name} is stopped`);
  }

  private reportFailure(err: unknown): void {
    const { logger, name, target } = this.options;
    const message = describeError(err);
    if (this.failures === 0) this.failingSince = Date.now();
    this.failures++;
    // The first failure of an outage, and any change of reason, is worth a line; repeats are not.
    if (this.failures > 1 && message === this.lastFailure) {
      logger.debug(
        { event: 'output_connect_failed', output: name, target, attempt: this.failures },
        `output ${name}: still cannot connect: ${message}`,
      );
      return;
    }
    this.lastFailure = message;
    const level = isCollectorError(err) && err.details.tlsVerification ? 'error' : 'warn';
    logger[level](
      { event: 'output_connect_failed', output: name, target, err },
      `output ${name}: cannot connect to ${target}: ${message}; retrying with backoff`,
    );
  }

  private reportConnected(): void {
    const { logger, name, target } = this.options;
    this.options.health?.up();
    if (this.failures > 0) {
      const seconds = ((Date.now() - this.failingSince) / 1000).toFixed(1);
      logger.info(
        { event: 'output_reconnected', output: name, target, attempts: this.failures },
        `output ${name}: connected to ${target} again after ${seconds} s`,
      );
      this.failures = 0;
      this.lastFailure = '';
    } else {
      logger.debug({ output: name, target }, `output ${name}: connected to ${target}`);
    }
  }

  private reportBroken(conn: Connection): void {
    const { logger, name, target } = this.options;
    const reason = conn.error ? describeError(conn.error) : 'closed by the server';
    logger.warn(
      { event: 'output_connection_lost', output: name, target, err: conn.error },
      `output ${name}: connection to ${target} lost (${reason}); unconfirmed data will be sent again`,
    );
  }
}
