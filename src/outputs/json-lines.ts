import type { Writable } from 'node:stream';
import { CollectorError, ErrorCodes } from '../core/errors.js';
import { eventCount, singleMessages, type CollectorEvent } from '../core/batch.js';
import type { OutputContext } from './definition.js';
import type { Output } from './output.js';

/** One JSON object per line: `{"tag":"…","message":"…"}`. The message is kept as the exact string delivered. */
export function toJsonLines(events: readonly CollectorEvent[]): string {
  let out = '';
  for (const e of singleMessages(events))
    out += `{"tag":${JSON.stringify(e.tag)},"message":${JSON.stringify(e.message)}}\n`;
  return out;
}

/**
 * Writes JSON lines to a stream (stdout or a file). A write is accepted when the stream's write
 * callback fires (the data was handed to the OS); a full stream is backpressure, never a drop.
 */
export class JsonLinesOutput implements Output {
  /** The open (or opening) stream; shared, so concurrent writes never open two. */
  private stream: Promise<Writable> | undefined;
  private stopped = false;

  constructor(
    private readonly ctx: OutputContext,
    private readonly open: () => Promise<Writable>,
    private readonly closeStream: (stream: Writable) => Promise<void>,
  ) {}

  get name(): string {
    return this.ctx.name;
  }

  async start(): Promise<void> {
    await this.current();
  }

  async write(events: readonly CollectorEvent[]): Promise<void> {
    if (this.stopped) throw new CollectorError(ErrorCodes.OUTPUT_STOPPED, `output ${this.name} is stopped`);
    const current = this.current();
    const stream = await current;
    const text = toJsonLines(events);
    await new Promise<void>((resolve, reject) => {
      stream.write(text, (err) => {
        if (!err) return resolve();
        // A failed stream is destroyed: drop it, so the next write opens it again (disk full is transient).
        if (this.stream === current) this.stream = undefined;
        reject(
          new CollectorError(ErrorCodes.OUTPUT_UNAVAILABLE, `output ${this.name}: ${err.message}`, {
            cause: err,
          }),
        );
      });
    });
    this.ctx.metrics.outputEvents.inc({ output: this.name }, eventCount(events));
    this.ctx.metrics.outputBytes.inc({ output: this.name }, Buffer.byteLength(text));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const stream = this.stream;
    this.stream = undefined;
    // A stream that failed to open has nothing to close.
    const opened = await stream?.catch(() => undefined);
    if (opened) await this.closeStream(opened);
  }

  private current(): Promise<Writable> {
    if (this.stream) return this.stream;
    const opening = this.open();
    this.stream = opening;
    // A failed open is tried again by the next write.
    opening.catch(() => {
      if (this.stream === opening) this.stream = undefined;
    });
    return opening;
  }
}
