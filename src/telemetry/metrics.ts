import { Counter, Gauge, Registry } from 'prom-client';

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
