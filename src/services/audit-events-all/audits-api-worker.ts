import type { Event } from '@aws-sdk/client-cloudtrail';
import type { AuditEventsConfig } from './schema.js';
import { describeError, ErrorCodes, isCollectorError } from '../../core/errors.js';
import { compactCloudTrailEvent, type CloudTrailRecord } from '../../formats/cloudtrail.js';
import type { Batch, CollectorEvent } from '../../core/batch.js';
import type { CheckpointSequencer } from '../../core/checkpoints.js';
import { taskKey } from '../../state/store.js';
import { createTagger, type Tagger } from '../shared/tagging/tagger.js';
import { auditEventsTagRule, TAG_AUDIT_EVENTS } from './tags.js';
import { ProgressReporter } from '../../telemetry/progress.js';
import type { WorkerPosition } from '../../telemetry/health.js';
import type { PullTask, ServiceWorker, WorkerContext } from '../definition.js';
import { LOOKUP_EVENTS_PER_SECOND, lookupEventsApi, type LookupEventsApi } from './lookup.js';
import {
  DeliveredBefore,
  TimeCursor,
  timeCheckpointSpec,
  type TimeCheckpoint,
} from '../shared/time-cursor.js';
import { WindowCursor } from '../shared/time-window.js';

export interface CloudTrailApiOptions {
  /**
   * How far behind now a window ends: events reach LookupEvents some minutes after they happen,
   * and a window is never read again once passed (default 5 minutes, CloudTrail's documented
   * typical delivery time).
   */
  settleDelayMs?: number;
}

const DAY_MS = 86_400_000;
/** LookupEvents only holds the last 90 days; start a little later so the first query is still in range. */
const HISTORY_MS = 90 * DAY_MS - 10 * 60_000;
/** Sub-windows aim at this many events (40 pages, 20 s at 2 requests/s) and adapt to the density seen. */
const TARGET_EVENTS = 2_000;
/** A sub-window holding more than this is split where the read got to, so memory stays bounded. */
const MAX_WINDOW_EVENTS = 10 * TARGET_EVENTS;
const MIN_WINDOW_MS = 1_000;
const MAX_WINDOW_MS = 30 * DAY_MS;
const INITIAL_WINDOW_MS = 5 * 60_000;
const BATCH_EVENTS = 500;

interface TimedEvent {
  time: number;
  id: string;
  event: Event;
}

/** A complete, newer part of a sub-window, held while the older part is read and delivered first. */
interface Held {
  from: number;
  to: number;
  events: TimedEvent[];
}

/**
 * CloudTrail through the API (`audit-events-all`, `types: [audits_api]`). Each pull reads
 * [checkpoint, now − settle delay] (the shared WindowCursor) with LookupEvents. AWS returns a query's events newest first,
 * but a checkpoint can only move forward over events delivered oldest first, so the range is
 * walked in sub-windows, oldest first: each sub-window is read whole, sorted oldest first, and
 * delivered in batches whose checkpoints are event positions (time + ids at that time). The
 * sub-window length adapts to the event density so one holds about TARGET_EVENTS events.
 */
export class CloudTrailApiWorker implements ServiceWorker {
  readonly name: string;
  private readonly window: WindowCursor<TimeCheckpoint>;
  private readonly drop: ReadonlySet<string>;
  private readonly sizer = new WindowSizer();

  constructor(
    private readonly config: AuditEventsConfig,
    private readonly ctx: WorkerContext,
    options: CloudTrailApiOptions = {},
  ) {
    this.name = `${ctx.serviceName}:audits_api/${ctx.region}`;
    this.window = new WindowCursor(ctx, {
      ...timeCheckpointSpec,
      worker: this.name,
      // The S3 way of the same service keeps no checkpoint, but keep the keys apart anyway.
      key: taskKey(ctx, 'audits_api'),
      startTime: config.start_time,
      settleMs: options.settleDelayMs ?? config.settle_delay_seconds * 1000,
      // LookupEvents times are whole seconds.
      alignMs: 1000,
    });
    this.drop = new Set(config.drop_event_names);
  }

  async pull(): Promise<void> {
    const { ctx } = this;
    const accountId = await ctx.aws.accountId();
    const api = lookupEventsApi(
      ctx.aws.cloudtrail(ctx.region),
      ctx.rateLimits.limiter('cloudtrail:LookupEvents', accountId, ctx.region, LOOKUP_EVENTS_PER_SECOND),
      ctx.region,
      ctx.signal,
      (attempt, delayMs) =>
        ctx.logger.warn({ worker: this.name, attempt, delayMs }, 'LookupEvents throttled, backing off'),
    );
    const start = this.inHistory(await this.window.resume());
    // Inclusive end, in whole seconds.
    const end = this.window.end() - 1;
    if (start.from > end) return;

    const seq = this.window.sequencer();
    const tagger = createTagger({
      rule: auditEventsTagRule,
      defaultTag: TAG_AUDIT_EVENTS,
      tag: this.config.tag,
      tagConfigKey: `inputs.aws.services.${ctx.serviceName}.tag`,
      autoEventType: this.config.auto_event_type,
      region: ctx.region,
      accountId,
      regionAndAccountFromEvent: this.config.use_region_and_account_id_from_event,
    });
    const run = new Run(
      { name: this.name, ctx, api, seq, sizer: this.sizer, drop: this.drop, tagger },
      start,
      end,
    );
    try {
      await run.walk();
    } finally {
      await seq.settled(ctx.signal);
    }
  }

  position(): WorkerPosition {
    return this.window.position();
  }

  get task(): PullTask {
    return this.window.task;
  }

  async stop(): Promise<void> {}

  /** `start`, or 90 days back when it is older than LookupEvents keeps. */
  private inHistory(start: TimeCheckpoint): TimeCheckpoint {
    const oldest = Math.ceil((this.ctx.clock.now() - HISTORY_MS) / 1000) * 1000;
    if (start.from >= oldest) return start;
    this.ctx.logger.warn(
      {
        event: 'start_clamped',
        worker: this.name,
        requested: new Date(start.from).toISOString(),
        from: new Date(oldest).toISOString(),
      },
      'the start position is older than the 90 days LookupEvents keeps: events before the new start are no longer available',
    );
    return { from: oldest, seen: [] };
  }
}

/**
 * Length of the next sub-window: aims at TARGET_EVENTS, growing at most 4× at a time so a sparse
 * stretch does not jump straight into a burst. Kept across pulls (the density changes slowly).
 */
class WindowSizer {
  ms = INITIAL_WINDOW_MS;

  adapt(spanMs: number, events: number): void {
    const ideal = events === 0 ? spanMs * 4 : (spanMs * TARGET_EVENTS) / events;
    this.ms = Math.round(Math.min(MAX_WINDOW_MS, Math.max(MIN_WINDOW_MS, Math.min(ideal, spanMs * 4))));
  }
}

interface RunDeps {
  name: string;
  ctx: WorkerContext;
  api: LookupEventsApi;
  seq: CheckpointSequencer<TimeCheckpoint>;
  sizer: WindowSizer;
  drop: ReadonlySet<string>;
  tagger: Tagger;
}

/** One pull: walks [start, end] oldest first, sub-window by sub-window. */
class Run {
  private readonly before: DeliveredBefore;
  private readonly cursor: TimeCursor;
  private readonly held: Held[] = [];
  private readonly reporter: ProgressReporter;
  private delivered = 0;
  private stopped = false;

  constructor(
    private readonly w: RunDeps,
    private readonly start: TimeCheckpoint,
    private readonly end: number,
  ) {
    this.before = new DeliveredBefore(start);
    this.cursor = new TimeCursor(start);
    this.reporter = new ProgressReporter({
      logger: w.ctx.logger,
      what: `CloudTrail backfill in ${w.ctx.region}`,
      fields: { worker: w.name },
      from: start.from,
      to: end + 1,
    });
  }

  async walk(): Promise<void> {
    const { ctx } = this.w;
    while (!this.stopped && !ctx.signal.aborted) {
      const from = this.cursor.position;
      const top = this.held.at(-1);
      // Read up to the oldest held part; once there, deliver it.
      const limit = top ? top.from - 1 : this.end;
      if (from > limit) {
        if (!top) break;
        this.held.pop();
        await this.deliverWindow(top.events, top.to);
        this.progress(0, 0);
        continue;
      }
      const to = Math.min(limit, Math.floor((from + this.w.sizer.ms) / 1000) * 1000 - 1);
      const read = await this.read(from, to);
      if (read.held) {
        this.held.push(read.held);
        this.w.sizer.adapt(read.held.to - read.held.from + 1, read.held.events.length);
        continue;
      }
      this.w.sizer.adapt(to - from + 1, read.events.length);
      await this.deliverWindow(read.events, to);
      this.progress(0, 0);
    }
  }

  /**
   * Reads [from, to] whole, oldest first. If it holds more than MAX_WINDOW_EVENTS and can be cut
   * at a second boundary, stops there: the newer, complete part is returned as `held`.
   */
  private async read(from: number, to: number): Promise<{ events: TimedEvent[]; held?: Held }> {
    const events: TimedEvent[] = [];
    let oldest = Infinity;
    let token: string | undefined;
    do {
      const page = await this.w.api.page(from, to, token);
      token = page.nextToken;
      for (const event of page.events) {
        const time = event.EventTime?.getTime();
        if (time === undefined || !event.EventId) continue;
        oldest = Math.min(oldest, time);
        if (!this.before.has(time, event.EventId)) events.push({ time, id: event.EventId, event });
      }
      // A window is read newest first: what is read of it so far is [oldest, to].
      this.progress(Number.isFinite(oldest) ? to - oldest : 0, events.length);
      if (token && events.length >= MAX_WINDOW_EVENTS) {
        // Events of the oldest second read so far may continue on the next page; newer ones are complete.
        const cut = Math.floor(oldest / 1000) * 1000 + 1000;
        if (cut > from && cut <= to) {
          return {
            events: [],
            held: { from: cut, to, events: sortOldestFirst(events.filter((e) => e.time >= cut)) },
          };
        }
      }
    } while (token && !this.w.ctx.signal.aborted);
    return { events: sortOldestFirst(events) };
  }

  /** Delivers a fully read window oldest first; the last batch moves the checkpoint past `to`. */
  private async deliverWindow(events: TimedEvent[], to: number): Promise<void> {
    const { ctx } = this.w;
    if (ctx.signal.aborted) return;
    for (let i = 0; i < events.length || i === 0; i += BATCH_EVENTS) {
      const chunk = events.slice(i, i + BATCH_EVENTS);
      const out: CollectorEvent[] = [];
      for (const e of chunk) {
        const built = this.build(e.event);
        if (built) out.push(built);
        this.cursor.pass(e.time, e.id);
      }
      if (i + BATCH_EVENTS >= events.length) this.cursor.completeThrough(to);
      const source = `CloudTrail LookupEvents ${ctx.region} ${new Date(chunk[0]?.time ?? to).toISOString()}`;
      if (!(await this.deliver(this.w.seq.batch(out, source, this.cursor.checkpoint())))) return;
      this.delivered += out.length;
    }
  }

  private build(event: Event): CollectorEvent | undefined {
    const { ctx, drop, tagger } = this.w;
    const labels = { service: ctx.serviceName, region: ctx.region };
    if (event.EventName && drop.has(event.EventName)) {
      ctx.metrics.filtered.inc({ ...labels, reason: 'drop_event_names' });
      return undefined;
    }
    let record: CloudTrailRecord;
    try {
      record = compactCloudTrailEvent(
        event.CloudTrailEvent ?? '',
        `CloudTrail event ${event.EventId} in ${ctx.region}`,
      );
    } catch (err) {
      if (!isCollectorError(err, ErrorCodes.OBJECT_CORRUPT)) throw err;
      // Delivered anyway, as the LookupEvents entry itself (it holds the raw string), and counted.
      ctx.metrics.malformed.inc({ ...labels, kind: 'cloudtrail_event' });
      ctx.logger.warn(
        { eventId: event.EventId, err },
        `CloudTrail event is not valid JSON, sent as returned: ${describeError(err)}`,
      );
      record = {
        json: JSON.stringify(event),
        eventSource: event.EventSource,
        eventName: event.EventName,
        awsRegion: undefined,
        recipientAccountId: undefined,
        plain: false,
      };
    }
    const tag =
      tagger.constant ??
      tagger.tagFor({
        eventSource: record.eventSource,
        region: record.awsRegion,
        accountId: record.recipientAccountId,
      });
    return { tag, message: record.json };
  }

  private async deliver(batch: Batch): Promise<boolean> {
    if (await this.w.seq.deliver(batch, this.w.ctx)) this.stopped = true;
    return !this.stopped;
  }

  /**
   * A backfill reports how far it got: the time range read (delivered, held, and `readingMs` of
   * the window being read) and the events so far.
   */
  private progress(readingMs: number, reading: number): void {
    let covered = this.cursor.position - this.start.from + readingMs;
    let events = this.delivered + reading;
    for (const h of this.held) {
      covered += h.to + 1 - h.from;
      events += h.events.length;
    }
    this.reporter.update(covered, this.cursor.position, events);
  }
}

function sortOldestFirst(events: TimedEvent[]): TimedEvent[] {
  return events.sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
