/**
 * Every secret the process loads (access secrets, session tokens, HTTP tokens, private keys) is
 * registered here, so that whatever text leaves the process — logs, error messages, metrics
 * labels — can be scrubbed of it even when a library echoes it back.
 */
const secrets = new Set<string>();
const MIN_SECRET_LENGTH = 6;
export const REDACTED = '[REDACTED]';

export function registerSecret(value: string | undefined | null): void {
  if (typeof value === 'string' && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

/** For short-lived secrets (temporary credentials) once they are replaced, so the registry stays bounded. */
export function forgetSecret(value: string | undefined | null): void {
  if (typeof value === 'string') secrets.delete(value);
}

export function scrub(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Deep copy of a log record with every registered secret replaced. */
export function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  // Errors are left whole for the logger's error serializer, which scrubs them itself.
  if (depth > 8 || value === null || typeof value !== 'object' || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, depth + 1);
  return out;
}
