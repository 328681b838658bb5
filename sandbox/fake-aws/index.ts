import { FakeCloudTrail } from './cloudtrail.js';
import { FakeCloudWatch } from './cloudwatch.js';
import { FakeEventBridge } from './eventbridge.js';
import { Faults, type FaultSpec } from './faults.js';
import { Accounts, type AccountsOptions } from './identity.js';
import type { ServiceDef } from './protocol.js';
import { RequestLog, type FakeRequest, type RequestFilter } from './request-log.js';
import { FakeLogs } from './logs.js';
import { FakeAwsServer } from './server.js';
import { FakeS3 } from './s3.js';
import { FakeSqs } from './sqs.js';
import { FakeSts } from './sts.js';

export type { CloudTrailRecordInput } from './cloudtrail.js';
export { FakeCloudTrail } from './cloudtrail.js';
export type { Datapoint, GeneratedSeries, MetricId } from './cloudwatch.js';
export { FakeCloudWatch, generatedValue } from './cloudwatch.js';
export { AwsError } from './errors.js';
export type { DeliveryFailure, EventInput } from './eventbridge.js';
export { FakeEventBridge, matchPattern } from './eventbridge.js';
export type { LogEventInput } from './logs.js';
export { FakeLogs } from './logs.js';
export type { FaultKind, FaultSpec } from './faults.js';
export type { AccountsOptions, Identity, TemporaryCredentials } from './identity.js';
export { Accounts } from './identity.js';
export type { FakeRequest, RequestFilter } from './request-log.js';
export type { ServiceName } from './protocol.js';
export type { PutObjectOptions, QueueNotification } from './s3.js';
export { FakeS3, notificationKey } from './s3.js';
export type { ChecksumAlgorithm } from './checksums.js';
export type { MessageAttribute, MessageSnapshot, QueueStats, SendOptions, SendResult } from './sqs.js';
export { FakeSqs } from './sqs.js';
export type { RoleOptions } from './sts.js';
export { FakeSts } from './sts.js';
export { DEFAULT_ACCOUNT_ID } from './util.js';

export interface FakeAwsOptions {
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Access keys → accounts; by default any key is accepted as account 123456789012. */
  accounts?: AccountsOptions;
  /** Print one line per request on stderr. */
  logRequests?: boolean;
  /** Seed of the generator behind probabilistic faults (default 1), so runs repeat. */
  seed?: number;
  /** Most requests kept in `requests`; the oldest are dropped beyond it (default 100,000). */
  requestLogLimit?: number;
  /**
   * The time of the request log and of log groups' creation (default Date.now): a test on a
   * simulated clock gives its clock, so request rates and creation times are on it.
   */
  now?: () => number;
}

/** A running fake AWS: one HTTP endpoint for every service, plus direct seeding and inspection. */
export class FakeAws {
  readonly accounts: Accounts;
  readonly sts: FakeSts;
  readonly sqs: FakeSqs;
  readonly s3: FakeS3;
  readonly cloudtrail: FakeCloudTrail;
  readonly cloudwatch: FakeCloudWatch;
  readonly logs: FakeLogs;
  readonly eventbridge: FakeEventBridge;
  private readonly faults: Faults;
  private readonly log: RequestLog;
  private readonly server: FakeAwsServer;
  private stopped: Promise<void> | undefined;

  private constructor(options: FakeAwsOptions) {
    this.accounts = new Accounts(options.accounts);
    this.faults = new Faults(options.seed ?? 1);
    this.log = new RequestLog(options.requestLogLimit ?? 100_000);
    const endpoint = (): string => this.endpoint;
    this.sts = new FakeSts(this.accounts);
    this.sqs = new FakeSqs(endpoint, this.accounts.defaultAccountId);
    const account = this.accounts.defaultAccountId;
    this.s3 = new FakeS3(this.sqs, account);
    this.cloudtrail = new FakeCloudTrail(account);
    this.cloudwatch = new FakeCloudWatch(account);
    const now = options.now ?? Date.now;
    this.logs = new FakeLogs(account, now);
    this.eventbridge = new FakeEventBridge(this.sqs, account);
    this.s3.eventSink = (accountId, region, event) => this.eventbridge.putEvents(region, [event], accountId);
    const services: ServiceDef[] = [
      this.sts.def,
      this.sqs.def,
      this.s3.def,
      this.cloudtrail.def,
      this.cloudwatch.def,
      this.logs.def,
      this.eventbridge.def,
    ];
    this.server = new FakeAwsServer({
      services,
      accounts: this.accounts,
      faults: this.faults,
      log: this.log,
      logRequests: options.logRequests ?? false,
      now,
    });
  }

  static async start(options: FakeAwsOptions = {}): Promise<FakeAws> {
    const fake = new FakeAws(options);
    await fake.server.listen(options.port ?? 0);
    return fake;
  }

  /** `http://127.0.0.1:PORT`, the `endpoint` option of every SDK client. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  /** Requests being handled right now, e.g. to wait until a consumer is long polling. */
  get activeRequests(): number {
    return this.server.active;
  }

  /** Every request served, oldest first. */
  get requests(): readonly FakeRequest[] {
    return this.log.entries;
  }

  /** Requests matching every given field, e.g. `{ service: 'sqs', operation: 'DeleteMessage' }`. */
  requestsFor(filter: RequestFilter): FakeRequest[] {
    return this.log.filter(filter);
  }

  clearRequests(): void {
    this.log.clear();
  }

  /** Arms a fault; returns a function that disarms it. */
  inject(spec: FaultSpec): () => void {
    return this.faults.inject(spec);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Closes the server, ending pending long polls and delays at once. Safe to call twice. */
  stop(): Promise<void> {
    this.stopped ??= this.server.close();
    return this.stopped;
  }
}

export function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  return FakeAws.start(options);
}
