import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { closest } from 'fastest-levenshtein';
import { parseDocument, type YAMLError } from 'yaml';
import { z } from 'zod';
import { CollectorError, ErrorCodes } from '../core/errors.js';
import type { Secrets } from '../telemetry/secrets.js';
import { outputDefinitions } from '../outputs/registry.js';
import { configSchema, PREDEFINED_SERVICES, type CollectorConfig } from './schema.js';

/** One validation problem: where, and what was expected. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export interface LoadedConfig {
  config: CollectorConfig;
  /** Absolute path of the configuration file. */
  file: string;
  /** Folder of the configuration file: relative paths inside it resolve from here. */
  dir: string;
  /** Secrets written inline in the file (paths only), for a warning at start-up. */
  inlineSecrets: string[];
}

/** Keys whose values are secrets: registered for scrubbing wherever they come from. */
const SECRET_KEYS = new Set(['access_key', 'access_secret', 'assume_role_external_id', 'token', 'password']);

/**
 * Reads, interpolates, validates and freezes a configuration file; the secret values it holds are
 * registered in `secrets`, even when it is invalid. Throws CONFIG_UNREADABLE / CONFIG_INVALID.
 */
export function loadConfig(
  file: string,
  secrets: Secrets,
  env: NodeJS.ProcessEnv = process.env,
): LoadedConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CollectorError(
      ErrorCodes.CONFIG_UNREADABLE,
      `cannot read configuration file ${path}: ${(err as Error).message}`,
      {
        cause: err,
        details: { file: path },
      },
    );
  }
  const dir = dirname(path);
  const { config, problems, inlineSecrets, secretValues } = parseConfigText(text, { env, dir });
  for (const value of secretValues) secrets.register(value);
  if (problems.length > 0 || !config) {
    throw new CollectorError(ErrorCodes.CONFIG_INVALID, formatProblems(path, problems), {
      details: { file: path, problems },
    });
  }
  return { config, file: path, dir, inlineSecrets };
}

export function formatProblems(file: string, problems: ConfigProblem[]): string {
  const lines = problems.map((p) => `  - ${p.path || '(top level)'}: ${p.message}`);
  return `invalid configuration ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
}

/**
 * The pure part of loading: YAML text → validated config, or every problem at once; and the values
 * of its secret keys, for the caller to register.
 */
export function parseConfigText(
  text: string,
  options: { env?: NodeJS.ProcessEnv; dir?: string } = {},
): { config?: CollectorConfig; problems: ConfigProblem[]; inlineSecrets: string[]; secretValues: string[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const syntaxError = doc.errors[0];
  if (syntaxError)
    return {
      problems: [yamlSyntaxProblem(syntaxError, doc.errors.length, text)],
      inlineSecrets: [],
      secretValues: [],
    };
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object') {
    return {
      problems: [
        { path: '', message: 'the configuration must be a YAML mapping with globals, outputs and inputs' },
      ],
      inlineSecrets: [],
      secretValues: [],
    };
  }
  const problems: ConfigProblem[] = [];
  const inlineSecrets: string[] = [];
  const secretValues: string[] = [];
  const interpolated = interpolate(raw, [], {
    env: options.env ?? process.env,
    dir: options.dir ?? process.cwd(),
    problems,
    inlineSecrets,
    secretValues,
  });
  const result = configSchema.safeParse(interpolated);
  if (!result.success) {
    // A key whose ${...} reference failed is already reported; its empty value would only add noise.
    const reported = new Set(problems.map((p) => p.path));
    problems.push(...describeIssues(result.error.issues, interpolated).filter((p) => !reported.has(p.path)));
  }
  if (problems.length > 0) return { problems, inlineSecrets, secretValues };
  return { config: deepFreeze(result.data), problems, inlineSecrets, secretValues };
}

/** What usually causes each YAML error, since its own message quotes the file (and so its secrets). */
const YAML_HINTS: Partial<Record<YAMLError['code'], string>> = {
  BAD_INDENT: 'check the indentation of this line against the lines above it',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  DUPLICATE_KEY: 'this key appears twice in the same mapping',
  MISSING_CHAR: 'a closing quote or bracket is missing',
  BAD_SCALAR_START: 'a value cannot start with this character; quote it',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; check for a missing ":" or quote',
  BLOCK_AS_IMPLICIT_KEY: 'a key must fit on one line; check for a missing ":" or quote',
  BLOCK_IN_FLOW: 'inside { } or [ ] write the whole mapping or list on one line',
  UNEXPECTED_TOKEN: 'a stray character, or a bracket or quote opened or closed without its pair',
};

/**
 * One problem for the first YAML error: the rest usually cascade from it (one per later token). Its
 * place and code only, never its message, which quotes the source — and the file holds secrets that
 * are registered for scrubbing only once it parsed.
 */
function yamlSyntaxProblem(error: YAMLError, count: number, text: string): ConfigProblem {
  const at = error.linePos?.[0];
  const line = at ? text.split(/\r?\n/)[at.line - 1] : undefined;
  // `{ token: ${X} }` is the usual cause: unquoted, `{` opens a nested flow mapping.
  const hint =
    line !== undefined && /[{[][^'"]*\$\{/.test(line)
      ? 'a ${...} reference inside { } or [ ] must be quoted: key: "${VAR}"'
      : (YAML_HINTS[error.code] ?? 'not valid YAML');
  const more = count > 1 ? ` (${count - 1} more error(s) after it, probably caused by this one)` : '';
  return {
    path: at ? `line ${at.line}, column ${at.col}` : '(YAML)',
    message: `YAML syntax error ${error.code}: ${hint}${more}`,
  };
}

interface InterpolationContext {
  env: NodeJS.ProcessEnv;
  dir: string;
  problems: ConfigProblem[];
  inlineSecrets: string[];
  /** The values of secret keys, once interpolated. */
  secretValues: string[];
}

const REFERENCE = /\$\{(?:file:([^}]+)|([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?)\}/g;

/** A secret (key, token, certificate) is small; the cap keeps `${file:/dev/zero}` from filling memory. */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/** The file's text, or undefined when it is larger than the cap (read in bounded steps: devices have no size). */
function readSecretFile(filePath: string): string | undefined {
  const fd = openSync(filePath, 'r');
  try {
    const buffer = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1);
    let length = 0;
    for (let n = 1; n > 0 && length < buffer.length; length += n)
      n = readSync(fd, buffer, length, buffer.length - length, null);
    return length > MAX_SECRET_FILE_BYTES ? undefined : buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * `${VAR}`, `${VAR:-default}` and `${file:/path}` in any string value. A value that is exactly
 * one reference keeps the referenced text as is (a file's trailing newline is dropped); an
 * integer-looking value in a numeric place is validated by the schema.
 */
function interpolate(value: unknown, path: (string | number)[], ctx: InterpolationContext): unknown {
  if (typeof value === 'string') {
    const key = path[path.length - 1];
    const isSecret = typeof key === 'string' && SECRET_KEYS.has(key);
    const hasReference = value.search(REFERENCE) >= 0;
    if (isSecret && !hasReference && key !== 'access_key') ctx.inlineSecrets.push(formatPath(path));
    const out = value.replace(
      REFERENCE,
      (_m, file: string | undefined, name: string | undefined, fallback: string | undefined) => {
        if (file !== undefined) {
          const filePath = resolve(ctx.dir, file.trim());
          try {
            const secret = readSecretFile(filePath);
            if (secret === undefined) {
              ctx.problems.push({
                path: formatPath(path),
                message: `secret file ${filePath} is larger than ${MAX_SECRET_FILE_BYTES} bytes`,
              });
              return '';
            }
            return secret.replace(/\r?\n$/, '');
          } catch (err) {
            ctx.problems.push({
              path: formatPath(path),
              message: `cannot read secret file ${filePath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
            });
            return '';
          }
        }
        const v = ctx.env[name!];
        if (v !== undefined && v !== '') return v;
        if (fallback !== undefined) return fallback;
        ctx.problems.push({ path: formatPath(path), message: `environment variable ${name} is not set` });
        return '';
      },
    );
    if (isSecret) ctx.secretValues.push(out);
    // Secrets are text even when all digits (a Redis password, an external id).
    return isSecret ? out : numericIfReferenced(value, out, hasReference);
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], ctx));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], ctx)]));
  }
  return value;
}

/**
 * `port: ${DEVO_PORT}` should give a number, as the literal would; text a number cannot give back
 * (leading zeros, beyond 2^53) stays text.
 */
function numericIfReferenced(original: string, out: string, hasReference: boolean): unknown {
  if (hasReference && /^-?\d+$/.test(out) && original.trim().startsWith('${') && String(Number(out)) === out)
    return Number(out);
  if (hasReference && (out === 'true' || out === 'false') && original.trim().startsWith('${'))
    return out === 'true';
  return out;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** zod issues → problems a person can act on: required keys, did-you-mean hints, unknown services. */
function describeIssues(issues: readonly z.core.$ZodIssue[], input: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const reportedServices = new Set<string>();
  for (const issue of issues) {
    const path = issue.path;
    const unknownService = unknownServiceAt(path, input);
    if (unknownService !== undefined) {
      if (!reportedServices.has(unknownService)) {
        reportedServices.add(unknownService);
        const hint = closest(unknownService, PREDEFINED_SERVICES);
        problems.push({
          path: formatPath(['inputs', 'aws', 'services', unknownService]),
          message: `unknown service (did you mean '${hint}'?); an entry with another name is a CloudWatch Logs entry (types: [logs] and one of log_group, log_group_prefix, log_group_pattern, log_group_identifier) or logs in S3 (types: [s3] and sqs_queue_name)`,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && isCustomServicePath(path)) {
      // A custom entry is one of customServiceSchema's options, told apart by `types`.
      const types = (valueAt(input, path) as { types?: unknown } | null)?.types;
      const option = Array.isArray(types) ? (types.includes('s3') ? 1 : types.includes('logs') ? 0 : -1) : -1;
      const optionIssues = issue.errors[option];
      if (optionIssues === undefined) {
        problems.push({
          path: formatPath([...path, 'types']),
          message: `must be [logs] (a CloudWatch Logs group, with log_group) or [s3] (objects in S3 announced on SQS, with sqs_queue_name), got ${JSON.stringify(types) ?? 'nothing'}`,
        });
      } else {
        problems.push(
          ...describeIssues(
            optionIssues.map((i) => ({ ...i, path: [...path, ...i.path] })),
            input,
          ),
        );
      }
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(path, input);
      for (const key of issue.keys) {
        const hint = allowed.length > 0 ? ` (did you mean '${closest(key, allowed)}'?)` : '';
        problems.push({ path: formatPath([...path, key]), message: `unknown key${hint}` });
      }
      continue;
    }
    const key = path[path.length - 1];
    // Never echo a secret back, even one of the wrong type (an unquoted all-digit password).
    const secret = typeof key === 'string' && SECRET_KEYS.has(key);
    problems.push({ path: formatPath(path), message: describeIssue(issue, valueAt(input, path), secret) });
  }
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown, secret: boolean): string {
  if (issue.code === 'invalid_type' && value === undefined) return 'required';
  if (issue.code === 'invalid_type' && secret)
    return `expected ${issue.expected} (the value is a secret: not shown)`;
  if (issue.code === 'invalid_type') return `expected ${issue.expected}, got ${describeValue(value)}`;
  if (issue.code === 'invalid_value')
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(value)}`;
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    const types = Object.keys(outputDefinitions);
    const hint = typeof value === 'string' ? ` (did you mean '${closest(value, types)}'?)` : '';
    return `unknown type ${describeValue(value)}${hint}; one of ${types.join(', ')}`;
  }
  return issue.message;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** inputs.aws.services.<name> of a name not predefined. */
function isCustomServicePath(path: readonly PropertyKey[]): boolean {
  return (
    path.length === 4 &&
    path[0] === 'inputs' &&
    path[1] === 'aws' &&
    path[2] === 'services' &&
    !(PREDEFINED_SERVICES as string[]).includes(String(path[3]))
  );
}

/** A service entry with a name we do not know and no sign of being a logs entry. */
function unknownServiceAt(path: readonly PropertyKey[], input: unknown): string | undefined {
  if (path.length < 4 || path[0] !== 'inputs' || path[1] !== 'aws' || path[2] !== 'services')
    return undefined;
  const name = String(path[3]);
  if ((PREDEFINED_SERVICES as string[]).includes(name)) return undefined;
  const entry = valueAt(input, path.slice(0, 4));
  const looksLikeLogs =
    entry !== null && typeof entry === 'object' && ('log_group' in entry || 'types' in entry);
  return looksLikeLogs ? undefined : name;
}

/** Keys the schema allows at a path, for did-you-mean hints. */
function allowedKeysAt(path: readonly PropertyKey[], input: unknown): string[] {
  let schema: unknown = configSchema;
  for (let i = 0; i <= path.length; i++) {
    schema = unwrap(schema, valueAt(input, path.slice(0, i)));
    if (i === path.length) break;
    const shape = shapeOf(schema);
    const key = String(path[i]);
    if (shape && key in shape) schema = shape[key];
    else if (isRecordLike(schema)) schema = recordValue(schema);
    else return [];
  }
  const shape = shapeOf(schema);
  return shape ? Object.keys(shape) : [];
}

interface Def {
  type?: string;
  innerType?: unknown;
  in?: unknown;
  schema?: unknown;
  options?: unknown[];
  discriminator?: string;
  valueType?: unknown;
  catchall?: unknown;
}
const defOf = (s: unknown): Def => ((s as { _zod?: { def?: Def } })?._zod?.def ?? {}) as Def;

function unwrap(schema: unknown, value: unknown): unknown {
  for (;;) {
    const def = defOf(schema);
    if (def.innerType) schema = def.innerType;
    else if (def.type === 'pipe' && def.in) schema = def.in;
    else if (def.type === 'union' && def.options) {
      // Discriminated unions: the option whose literal `type` matches the value, or (custom
      // services) whose `types` list holds a literal of the value's `types`.
      const v = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
      const literals = (schema: unknown): unknown[] | undefined =>
        (schema as { _zod?: { def?: { values?: unknown[] } } })?._zod?.def?.values;
      const match = def.options.find((o) => {
        const shape = shapeOf(o);
        if (literals(shape?.type)?.includes(v.type)) return true;
        const element = (shape?.types as { _zod?: { def?: { element?: unknown } } })?._zod?.def?.element;
        const types = literals(element);
        return types !== undefined && Array.isArray(v.types) && v.types.some((t) => types.includes(t));
      });
      if (!match) return schema;
      schema = match;
    } else return schema;
  }
}

function shapeOf(schema: unknown): Record<string, unknown> | undefined {
  const shape = (schema as { shape?: unknown })?.shape;
  return shape && typeof shape === 'object' ? (shape as Record<string, unknown>) : undefined;
}
function isRecordLike(schema: unknown): boolean {
  const def = defOf(schema);
  return def.type === 'record' || Boolean(def.catchall);
}
function recordValue(schema: unknown): unknown {
  const def = defOf(schema);
  return def.valueType ?? def.catchall;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !(value instanceof RegExp) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
