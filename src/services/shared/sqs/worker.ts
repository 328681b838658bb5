import type { WorkerPosition } from '../../../telemetry/health.js';
import type { ServiceWorker, WorkerContext } from '../../definition.js';
import { SqsConsumer, type MessageHandler, type SqsConsumerOptions } from './consumer.js';

/** What an SQS-fed service plugs into the worker, built at its first pull. */
export interface SqsWorkerSetup {
  readonly handler: MessageHandler;
  /** The context the consumer runs with, when the service changes it (e.g. a byte budget on deliver). */
  readonly ctx?: WorkerContext;
}

/**
 * One queue in one region: the shared SQS consumer with a service's message handler. The handler
 * is built at the first pull (a tag with {account_id} needs an STS call); a failed setup is tried
 * again at the next pull. Pulls and stop() may overlap: one setup at a time, none after stop().
 */
export class SqsWorker implements ServiceWorker {
  private consumer: SqsConsumer | undefined;
  private starting: Promise<SqsConsumer> | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly ctx: WorkerContext,
    private readonly options: SqsConsumerOptions,
    private readonly setup: () => Promise<SqsWorkerSetup>,
  ) {}

  async pull(): Promise<void> {
    if (this.stopped) return;
    const consumer = this.consumer ?? (await this.start());
    if (this.stopped) return;
    await consumer.pull();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.stop();
  }

  position(): WorkerPosition {
    return this.consumer?.position() ?? {};
  }

  private start(): Promise<SqsConsumer> {
    this.starting ??= this.setup()
      .then(({ handler, ctx }) => {
        this.consumer = new SqsConsumer(ctx ?? this.ctx, this.options, handler);
        return this.consumer;
      })
      .finally(() => {
        this.starting = undefined;
      });
    return this.starting;
  }
}
