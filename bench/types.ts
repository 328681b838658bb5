/** One line of `npm run bench`'s report. */
export interface BenchResult {
  /** Pipeline or component measured, e.g. `devo-tls output`, `vpc flow logs (S3 → TLS)`. */
  name: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  megabytesPerSecond?: number;
  /** Peak resident set size of the process during this measurement, in MB. */
  peakRssMb?: number;
  /** Free-form: target, bottleneck, ratio to raw gunzip... */
  notes?: string;
}
