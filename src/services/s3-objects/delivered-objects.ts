import type { S3ObjectRef } from '../../formats/notifications.js';

/**
 * Which objects of an SQS message were delivered in full (every batch acknowledged) while the
 * message lived in this process. When one object of a multi-object notification cannot be read,
 * the message is left for redelivery; on its next receive only the objects not yet delivered are
 * read, so the others are not sent again each time (issue: 200 CloudTrail records re-sent on
 * every receive). Memory is bounded: past `maxMessages` the least recently touched message is
 * forgotten (its objects would then be read again: duplicates, never loss).
 */
export class DeliveredObjects {
  private readonly byMessage = new Map<string, Set<string>>();

  constructor(private readonly maxMessages = 10_000) {}

  has(messageId: string, ref: S3ObjectRef): boolean {
    return this.byMessage.get(messageId)?.has(objectId(ref)) ?? false;
  }

  add(messageId: string, ref: S3ObjectRef): void {
    const objects = this.byMessage.get(messageId) ?? new Set<string>();
    // Re-inserted, so the Map's insertion order is least recently touched first.
    this.byMessage.delete(messageId);
    this.byMessage.set(messageId, objects.add(objectId(ref)));
    if (this.byMessage.size > this.maxMessages) {
      this.byMessage.delete(this.byMessage.keys().next().value!);
    }
  }

  /** The message is done with (its handler asked for its deletion). */
  forget(messageId: string): void {
    this.byMessage.delete(messageId);
  }

  get size(): number {
    return this.byMessage.size;
  }
}

/** An object version: a key overwritten under the same message id (never by S3) is a new object. */
function objectId(ref: S3ObjectRef): string {
  return `${ref.bucket}\u0000${ref.key}\u0000${ref.eTag ?? ''}`;
}
