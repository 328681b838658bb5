import { CollectorError, ErrorCodes } from '../../../core/errors.js';

/** Placeholders a user `tag` may hold. */
export const TAG_PLACEHOLDERS = ['region', 'account_id', 'event_type', 'service'] as const;
export type TagPlaceholder = (typeof TAG_PLACEHOLDERS)[number];

export type TagValues = Partial<Record<TagPlaceholder, string | undefined>>;

/** Literal characters allowed in a tag (besides placeholders): no space, newline or syslog delimiter. */
const LITERAL = /^[A-Za-z0-9_.-]*$/;
const MIN_SEGMENTS = 3;
const MAX_VALUE_LENGTH = 64;

/** A compiled `tag`: parsed once, rendered per event by concatenation. */
export interface TagTemplate {
  readonly source: string;
  /** Placeholders the template uses. */
  readonly placeholders: ReadonlySet<TagPlaceholder>;
  /** The tag for these values; each is sanitised with sanitizeTagSegment(). */
  render(values: TagValues): string;
}

/**
 * A tag segment from event data: lowercase, every character outside [a-z0-9_-] replaced by '_'
 * (so a value can never add a dot, space or newline to a tag), at most 64 characters; an empty or
 * missing value becomes `unknown`.
 */
export function sanitizeTagSegment(value: string | undefined): string {
  if (value === undefined || value.length === 0) return 'unknown';
  const lower = (value.length > MAX_VALUE_LENGTH ? value.slice(0, MAX_VALUE_LENGTH) : value).toLowerCase();
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d)) {
      return lower.replace(/[^a-z0-9_-]/g, '_');
    }
  }
  return lower;
}

/** Literal text, or a placeholder. */
type Part = { readonly text: string } | { readonly placeholder: TagPlaceholder };

function isPlaceholder(name: string): name is TagPlaceholder {
  return (TAG_PLACEHOLDERS as readonly string[]).includes(name);
}

/** Splits a template into literal text and placeholders; returns an error message if it is invalid. */
function parse(template: string): Part[] | string {
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    const close = template.indexOf('}', i);
    if (close >= 0 && (open < 0 || close < open)) return `'}' at position ${close + 1} closes no placeholder`;
    const text = template.slice(i, open < 0 ? template.length : open);
    if (!LITERAL.test(text))
      return `"${text}" holds characters a tag cannot have (only letters, digits, '_', '-', '.')`;
    if (text.length > 0) parts.push({ text });
    if (open < 0) break;
    if (close < 0) return `'{' at position ${open + 1} is not closed`;
    const name = template.slice(open + 1, close);
    if (!isPlaceholder(name)) {
      return `unknown placeholder {${name}} (allowed: ${TAG_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`;
    }
    parts.push({ placeholder: name });
    i = close + 1;
  }
  // A placeholder never renders a dot, so every segment boundary is a dot of the template's text.
  const segments = template.split('.');
  if (segments.some((s) => s.length === 0))
    return 'a tag has no empty segment (no leading, trailing or double dot)';
  if (segments.length < MIN_SEGMENTS) {
    return `a Devo tag has at least ${MIN_SEGMENTS} dot-separated segments, e.g. my.app.aws_events`;
  }
  return parts;
}

/**
 * Validates a `tag` value (the config schema calls this): returns an error message, or undefined
 * when it is valid.
 */
export function validateTagTemplate(template: string): string | undefined {
  const result = parse(template);
  return typeof result === 'string' ? result : undefined;
}

/** Compiles a `tag`; throws CONFIG_INVALID (naming `configKey`) if it is invalid. */
export function compileTagTemplate(template: string, configKey = 'tag'): TagTemplate {
  const parts = parse(template);
  if (typeof parts === 'string') {
    throw new CollectorError(ErrorCodes.CONFIG_INVALID, `${configKey}: invalid tag "${template}": ${parts}`, {
      details: { configKey },
    });
  }
  const texts = parts.map((p) => ('text' in p ? p.text : undefined));
  const names = parts.map((p) => ('placeholder' in p ? p.placeholder : undefined));
  const placeholders = new Set(names.filter((n): n is TagPlaceholder => n !== undefined));
  return {
    source: template,
    placeholders,
    render(values: TagValues): string {
      let tag = '';
      for (let i = 0; i < texts.length; i++) {
        const name = names[i];
        tag += name === undefined ? (texts[i] as string) : sanitizeTagSegment(values[name]);
      }
      return tag;
    },
  };
}
