import type { WorkerContext } from '../services/definition.js';
import type { Delivery } from './delivery.js';

/** What the workers of one collector share: a WorkerContext without its service, region and hook. */
export type SharedWorkerContext = Omit<WorkerContext, 'serviceName' | 'region' | 'account' | 'deliver'> & {
  readonly delivery: Delivery;
};

/**
 * The context of the worker of `serviceName` in `region` (of `account` of inputs.aws.accounts, when
 * set, whose clients `shared.aws` are), handing its batches to `shared.delivery`.
 */
export function workerContext(
  shared: SharedWorkerContext,
  serviceName: string,
  region: string,
  account?: string,
): WorkerContext {
  const { delivery, ...rest } = shared;
  return {
    ...rest,
    // Bound once here, so a worker's own log fields never repeat them.
    logger: shared.logger.child({
      service: serviceName,
      region,
      ...(account === undefined ? {} : { account }),
    }),
    serviceName,
    region,
    ...(account === undefined ? {} : { account }),
    deliver: (batch) => delivery.admit(batch, { service: serviceName, region }),
  };
}
