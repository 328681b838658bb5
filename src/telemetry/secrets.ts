/**
 * Every secret the process loads (access secrets, session tokens, HTTP tokens, private keys) is
 * registered in one `Secrets` — made by the composition root and handed to the config loader, the
 * logger, the AWS clients, outputs and stores — so that whatever text leaves the process — logs,
 * error messages, metrics labels — can be scrubbed of it even when a library echoes it back.
 */
const MIN_SECRET_LENGTH = 6;
export const REDACTED = '[REDACTED]';

export class Secrets {
  private readonly values = new Set<string>();

  register(value: string | undefined | null): void {
    if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) this.values.add(value);
  }

  /** For short-lived secrets (temporary credentials) once they are replaced, so the registry stays bounded. */
  forget(value: string | undefined | null): void {
    if (typeof value === 'string') this.values.delete(value);
  }

  /**
   * Text on its way out of the process (log fields and messages, error lines): registered secrets
   * replaced, and control bytes escaped — C0 but tab and newline, DEL, C1 (0x9b is an 8-bit CSI) —
   * because such text may come from data (an object, a message body) and must not drive a terminal.
   */
  scrub(text: string): string {
    let out = text;
    for (const s of this.values) if (out.includes(s)) out = out.split(s).join(REDACTED);
    return out.replace(CONTROL_BYTES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }

  /** Deep copy of a log record with every registered secret replaced. */
  scrubDeep(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.scrub(value);
    // Errors are left whole for the logger's error serializer, which scrubs them itself.
    if (depth > 8 || value === null || typeof value !== 'object' || value instanceof Error) return value;
    if (Array.isArray(value)) return value.map((v) => this.scrubDeep(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.scrubDeep(v, depth + 1);
    return out;
  }
}

// eslint-disable-next-line no-control-regex -- matching control bytes is the point
const CONTROL_BYTES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
