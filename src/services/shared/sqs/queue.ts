import { GetQueueUrlCommand, QueueDoesNotExist, type SQSClient } from '@aws-sdk/client-sqs';
import { CollectorError, ErrorCodes, describeError } from '../../../core/errors.js';
import type { WorkerContext } from '../../definition.js';

/** The queue a consumer reads: its name (`<account_id>` resolved), URL (cached) and errors naming it. */
export class SqsQueue {
  name: string;
  private url: string | undefined;

  constructor(
    private readonly configuredName: string,
    private readonly ctx: WorkerContext,
  ) {
    this.name = configuredName;
  }

  get fifo(): boolean {
    return this.name.endsWith('.fifo');
  }

  where(): string {
    return `SQS queue ${this.name} (${this.ctx.region})`;
  }

  /** The queue URL (cached); a missing queue is QUEUE_NOT_FOUND naming queue and region. */
  async resolveUrl(client: SQSClient): Promise<string> {
    if (this.url) return this.url;
    if (this.configuredName.includes('<account_id>')) {
      let accountId: string;
      try {
        accountId = await this.ctx.aws.accountId(this.ctx.region);
      } catch (err) {
        throw new CollectorError(
          ErrorCodes.AWS_CALL_FAILED,
          `cannot resolve <account_id> in SQS queue name ${this.configuredName} (${this.ctx.region}): STS GetCallerIdentity failed: ${describeError(err)}`,
          { cause: err, details: { queue: this.configuredName, region: this.ctx.region } },
        );
      }
      this.name = this.configuredName.replaceAll('<account_id>', accountId);
    }
    try {
      const out = await client.send(new GetQueueUrlCommand({ QueueName: this.name }));
      if (!out.QueueUrl) throw new Error('GetQueueUrl returned no QueueUrl');
      this.url = out.QueueUrl;
      return out.QueueUrl;
    } catch (err) {
      throw this.callFailed('GetQueueUrl', err);
    }
  }

  callFailed(operation: string, err: unknown): CollectorError {
    const details = { queue: this.name, region: this.ctx.region, operation };
    if (err instanceof QueueDoesNotExist || (err as { name?: unknown }).name === 'QueueDoesNotExist') {
      // The queue may have been deleted since its URL was cached: look it up again next pull.
      this.url = undefined;
      return new CollectorError(
        ErrorCodes.QUEUE_NOT_FOUND,
        `${this.where()} does not exist in the account of the configured credentials; create it or fix the queue name`,
        { cause: err, details },
      );
    }
    return new CollectorError(
      ErrorCodes.AWS_CALL_FAILED,
      `${this.where()}: ${operation} failed: ${describeError(err)}`,
      {
        cause: err,
        details,
      },
    );
  }
}
