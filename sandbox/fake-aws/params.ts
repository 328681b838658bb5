import type { AwsError } from './errors.js';
import type { Operation, Params, RequestContext } from './protocol.js';

/** Typed reads of an operation's input; each service supplies its own validation error codes. */
export class ParamReader {
  constructor(
    readonly raw: Params,
    private readonly invalid: (message: string) => AwsError,
    private readonly missing: (name: string) => AwsError,
  ) {}

  /** A reader over a nested structure (a batch entry, a MetricStat...), with the same error codes. */
  nested(value: unknown, path: string): ParamReader {
    if (!isObject(value)) throw this.invalid(`${path} must be a structure.`);
    return new ParamReader(value, this.invalid, (name) => this.missing(`${path}.${name}`));
  }

  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  string(name: string): string | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw this.invalid(`Value for parameter ${name} must be a string.`);
    return v;
  }

  requiredString(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw this.missing(name);
    return v;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw this.invalid(
        `Value ${String(v)} for parameter ${name} is invalid. Must be an integer from ${min} to ${max}.`,
      );
    }
    return n;
  }

  boolean(name: string): boolean | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    throw this.invalid(`Value ${String(v)} for parameter ${name} must be a boolean.`);
  }

  /** A JSON-protocol timestamp (epoch seconds) in epoch milliseconds. */
  timestamp(name: string): number | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return Math.round(v * 1000);
    if (typeof v === 'string' && Number.isFinite(Date.parse(v))) return Date.parse(v);
    throw this.invalid(`Value ${String(v)} for parameter ${name} is not a valid timestamp.`);
  }

  array(name: string): unknown[] | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) throw this.invalid(`Value for parameter ${name} must be a list.`);
    return v;
  }

  stringArray(name: string): string[] | undefined {
    const v = this.array(name);
    if (v?.some((s) => typeof s !== 'string'))
      throw this.invalid(`Parameter ${name} must be a list of strings.`);
    return v as string[] | undefined;
  }

  stringMap(name: string): Record<string, string> | undefined {
    const v = this.raw[name];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v) || Object.values(v).some((s) => typeof s !== 'string')) {
      throw this.invalid(`Parameter ${name} must be a map of strings.`);
    }
    return v as Record<string, string>;
  }

  object(name: string): ParamReader | undefined {
    return this.has(name) ? this.nested(this.raw[name], name) : undefined;
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Adapts `(reader, ctx) => output` handlers to operations, with the service's validation errors. */
export function operationsReading(
  invalid: (message: string) => AwsError,
  missing: (name: string) => AwsError,
): (handler: (p: ParamReader, ctx: RequestContext) => unknown) => Operation {
  return (handler) => (params, ctx) => handler(new ParamReader(params, invalid, missing), ctx);
}
