import type { BatchResultErrorEntry } from '@aws-sdk/client-sqs';
import { isThrottling } from '../../../aws/throttling.js';
import { describeError } from '../../../core/errors.js';
import type { HeldMessage } from './message.js';

/** SQS batch APIs take at most 10 entries. */
export const SQS_BATCH_MAX = 10;

/**
 * One SQS batch call over up to 10 messages; returns the messages that failed, with why
 * (every message when the whole call failed), and whether the call was throttled.
 */
export async function batchCall<E extends object>(
  operation: string,
  batch: HeldMessage[],
  call: (
    entries: (E & { Id: string; ReceiptHandle: string })[],
  ) => Promise<{ Failed?: BatchResultErrorEntry[] | undefined }>,
  extra: () => E,
): Promise<{ failures: Map<HeldMessage, string>; throttled: boolean }> {
  const failures = new Map<HeldMessage, string>();
  try {
    const out = await call(
      batch.map((h, i) => ({ ...extra(), Id: String(i), ReceiptHandle: h.receiptHandle })),
    );
    for (const f of out.Failed ?? []) {
      const h = batch[Number(f.Id)];
      if (h)
        failures.set(h, `${f.Code ?? 'failed'}${f.SenderFault ? ' (sender fault)' : ''}: ${f.Message ?? ''}`);
    }
  } catch (err) {
    const why = `${operation} failed: ${describeError(err)}`;
    for (const h of batch) failures.set(h, why);
    return { failures, throttled: isThrottling(err) };
  }
  return { failures, throttled: false };
}
