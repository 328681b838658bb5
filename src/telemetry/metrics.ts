import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Health } from './health.js';

/**
 * Process metrics (prom-client). Labels never carry secrets: service, region, output, tag, code.
 * `snapshot()` gives plain numbers for the status line, tests and the demo.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Events a service produced (before delivery). */
  readonly eventsPulled = this.counter('collector_events_pulled_total', 'Events produced by services', [
    'service',
    'region',
  ]);
  /** Events every output accepted. */
  readonly eventsDelivered = this.counter(
    'collector_events_delivered_total',
    'Events accepted by every output',
    ['service', 'region'],
  );
  /** Events every output accepted, per Devo tag (tags are table names, never secrets). */
  readonly tagEventsDelivered = this.counter(
    'collector_tag_events_delivered_total',
    'Events accepted by every output, per Devo tag',
    ['tag'],
  );
  /** Inputs that were not of the expected shape but were still delivered as-is. */
  readonly malformed = this.counter('collector_malformed_total', 'Malformed inputs delivered as-is', [
    'service',
    'region',
    'kind',
  ]);
  /** Events dropped on purpose (drop_event_names, S3 test events, filtered keys). */
  readonly filtered = this.counter(
    'collector_filtered_total',
    'Events or objects filtered out by configuration',
    ['service', 'region', 'reason'],
  );
  /** S3 objects proven corrupt (e.g. truncated gzip): what could be read was delivered, the rest skipped. */
  readonly objectsCorrupt = this.counter(
    'collector_objects_corrupt_total',
    'S3 objects found corrupt; the events before the problem were delivered',
    ['service', 'region', 'format'],
  );
  /** Failures by stable error code. */
  readonly errors = this.counter('collector_errors_total', 'Errors by code', ['service', 'region', 'code']);
  /** Events written by each output. */
  readonly outputEvents = this.counter('collector_output_events_total', 'Events accepted per output', [
    'output',
  ]);
  readonly outputBytes = this.counter('collector_output_bytes_total', 'Bytes accepted per output', [
    'output',
  ]);
  /** 1 while an output's receiver refuses its requests (e.g. HTTP 401): events are held, sources paused. */
  readonly outputRefused = new Gauge({
    name: 'collector_output_refused',
    help: 'Whether the receiver refuses the output requests (1) or not (0)',
    labelNames: ['output'],
    registers: [this.registry],
  });
  readonly inFlightEvents = this.gauge(
    'collector_in_flight_events',
    'Events admitted but not yet acknowledged',
  );
  readonly inFlightBytes = this.gauge('collector_in_flight_bytes', 'Bytes admitted but not yet acknowledged');
  /** 1 while a pull worker's latest checkpoint could not be saved (it pulls on from memory), else 0. */
  readonly stateUnsaved = new Gauge({
    name: 'collector_state_unsaved',
    help: 'Pull workers whose latest checkpoint could not be saved (1) or is saved (0)',
    labelNames: ['service', 'region'] as const,
    registers: [this.registry],
  });
  /** Replicas on one Redis: 1 while this replica holds a pull task's lease, else 0. */
  readonly leaseHeld = new Gauge({
    name: 'collector_lease_held',
    help: 'Whether this replica holds the lease of the pull task (1) or not (0)',
    labelNames: ['service', 'region', 'task'] as const,
    registers: [this.registry],
  });
  readonly replicasLive = this.gauge(
    'collector_replicas_live',
    'Replicas of this configuration alive on the shared Redis, as this replica last counted them',
  );
  readonly outputReconnects = this.counter(
    'collector_output_reconnects_total',
    'Connections opened again after one was lost',
    ['output'],
  );
  readonly outputResentBytes = this.counter(
    'collector_output_resent_bytes_total',
    'Bytes sent again after a connection broke (possible duplicates downstream)',
    ['output'],
  );
  readonly pullDuration = new Histogram({
    name: 'collector_pull_duration_seconds',
    help: 'Duration of pulls (one pull reads everything new, until caught up)',
    labelNames: ['service', 'region', 'task', 'outcome'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    registers: [this.registry],
  });
  private health: Health | undefined;

  constructor() {
    // Derived from the health model when scraped, so they are current at every scrape.
    const workerGauge = (
      name: string,
      help: string,
      value: (w: Health['workerHealth'][number]) => number | undefined,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['service', 'region', 'task'],
        registers: [this.registry],
        collect(this: Gauge<'service' | 'region' | 'task'>) {
          this.reset();
          for (const w of health()?.workerHealth ?? []) {
            const v = value(w);
            if (v !== undefined) this.set({ ...w.labels }, v);
          }
        },
      });
    const health = () => this.health;
    workerGauge(
      'collector_lag_seconds',
      'How far the delivered data is behind now: pull services from their checkpoint, SQS services from the oldest message held',
      (w) => w.lagSeconds(),
    );
    workerGauge(
      'collector_queue_messages',
      'Messages waiting in the queue (SQS ApproximateNumberOfMessages, sampled each period)',
      (w) => w.queueMessages(),
    );
    workerGauge(
      'collector_last_successful_pull_timestamp_seconds',
      'When the worker last made progress (Unix time): a pull succeeded, or a batch it read was acknowledged (an SQS pull goes on while messages keep coming)',
      (w) => (w.lastSuccessAt === undefined ? undefined : w.lastSuccessAt / 1000),
    );
    workerGauge(
      'collector_pull_period_seconds',
      'The configured request_period_in_seconds',
      (w) => w.periodMs / 1000,
    );
    new Gauge({
      name: 'collector_output_connected',
      help: 'Whether the output can carry data now (1) or not (0)',
      labelNames: ['output'],
      registers: [this.registry],
      collect(this: Gauge<'output'>) {
        this.reset();
        for (const o of health()?.outputHealth ?? []) this.set({ output: o.name }, o.connected ? 1 : 0);
      },
    });
    workerGauge(
      'collector_worker_stuck',
      'Work pending and nothing moved for 3 periods (1) or not (0)',
      (w) => (w.stuck ? 1 : 0),
    );
  }

  /** The health model the per-worker gauges are read from. */
  track(health: Health): void {
    this.health = health;
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
  private gauge(name: string, help: string): Gauge {
    return new Gauge({ name, help, registers: [this.registry] });
  }

  /** Sum of a metric's values whose labels match `where`. */
  async total(name: string, where: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const { values } = await metric.get();
    let sum = 0;
    for (const v of values) {
      if (Object.entries(where).every(([k, want]) => String(v.labels[k]) === want)) sum += v.value;
    }
    return sum;
  }
}
