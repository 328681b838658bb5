import type { BatchResultErrorEntry } from '@aws-sdk/client-sqs';
import { isThrottling } from '../../../aws/throttling.js';
import { describeError } from '../../../core/errors.js';
import type { HeldMessage } from './message.js';

/** SQS batch APIs take at most 10 entries. */
export const SQS_BATCH_MAX = 10;

/** Why one message of a batch call failed. */
export interface BatchFailure {
  /** The entry's SQS error code (e.g. ReceiptHandleIsInvalid), or the failed call's error code. */
  readonly code: string;
  readonly why: string;
}

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
): Promise<{ failures: Map<HeldMessage, BatchFailure>; throttled: boolean }> {
  const failures = new Map<HeldMessage, BatchFailure>();
  try {
    const out = await call(
      batch.map((h, i) => ({ ...extra(), Id: String(i), ReceiptHandle: h.receiptHandle })),
    );
    for (const f of out.Failed ?? []) {
      const h = batch[Number(f.Id)];
      const code = f.Code ?? 'failed';
      if (h)
        failures.set(h, {
          code,
          why: `${code}${f.SenderFault ? ' (sender fault)' : ''}: ${f.Message ?? ''}`,
        });
    }
  } catch (err) {
    const e = err as { code?: unknown; name?: unknown };
    const failure = {
      code: String(e.code ?? e.name ?? 'failed'),
      why: `${operation} failed: ${describeError(err)}`,
    };
    for (const h of batch) failures.set(h, failure);
    return { failures, throttled: isThrottling(err) };
  }
  return { failures, throttled: false };
}

/**
 * Failures for a log record: per message id its error code (a field to match on), and all of them
 * with their reasons as text (for the message).
 */
export function describeFailures(failures: Iterable<readonly [HeldMessage, BatchFailure]>): {
  failed: Record<string, string>;
  text: string;
} {
  const failed: Record<string, string> = {};
  const reasons: string[] = [];
  for (const [h, { code, why }] of failures) {
    failed[h.message.messageId] = code;
    reasons.push(`${h.message.messageId}: ${why}`);
  }
  return { failed, text: reasons.join('; ') };
}
