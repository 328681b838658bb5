import { singleMessages, type CollectorEvent } from '../core/batch.js';
import { escapeLineBreaks, hasLineBreak } from '../formats/line-breaks.js';
import { latin1Write, utf8Write } from '../core/buffer-fast-paths.js';

/**
 * Syslog lines for the stream outputs (devo_platform, syslog).
 *
 * RFC 3164: `<PRI>Mmm dd HH:MM:SS HOSTNAME TAG: MESSAGE` — the shape Devo's relays read, the tag
 * naming the table. RFC 5424: `<PRI>1 YYYY-MM-DDTHH:MM:SSZ HOSTNAME APP-NAME - - - MESSAGE`, the
 * tag as APP-NAME. Timestamps are UTC, so lines do not depend on the host's time zone (Devo
 * stamps events with their arrival time; the header time is informational).
 */
export type SyslogFormat = 'rfc3164' | 'rfc5424';
/** `newline`: a line feed ends each message (RFC 6587 non-transparent framing); `octet-counting`: `LEN SP MSG` (RFC 6587 3.4.1). */
export type SyslogFraming = 'newline' | 'octet-counting';

export interface SyslogLineOptions {
  format: SyslogFormat;
  framing: SyslogFraming;
  hostname: string;
  /** 0..23 (1 = user). */
  facility: number;
  /** 0..7 (6 = informational). */
  severity: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** RFC 5424 APP-NAME is at most 48 printable ASCII characters. */
const APP_NAME_MAX = 48;
/** Bounds the tag cache when tags carry many distinct values (per-event tags). */
const TAG_CACHE_MAX = 1024;

/** `Mmm dd HH:MM:SS` (RFC 3164, day padded with a space), in UTC. */
export function rfc3164Timestamp(date: Date): string {
  const day = date.getUTCDate();
  return `${MONTHS[date.getUTCMonth()]} ${day < 10 ? ' ' : ''}${day} ${date.toISOString().slice(11, 19)}`;
}

/** `YYYY-MM-DDTHH:MM:SSZ` (RFC 5424, whole seconds), in UTC. */
export function rfc5424Timestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Keeps printable ASCII only: header fields are space-separated, so anything else would break them. */
function headerField(value: string, fallback: string, max = 255): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? fallback : clean;
}

/** Header + tag part of the messages of one tag, for the current second. */
interface Prefix {
  bytes: Buffer;
  text: string;
  /** '\n' and the text: what goes between two newline-framed messages of that tag. */
  separator: string;
}

/**
 * Length at which a run of plain messages (see CollectorEvent#plain) stops growing and is copied.
 * Joining and copying slow down about four times once the joined string no longer fits V8's
 * regular heap pages (over ~128 KiB: large-object space).
 */
const RUN_MAX_CHARS = 64 * 1024;
/**
 * Plain messages from this length on are copied one by one: joining copies them once more, which
 * costs more than the write call it saves (CloudTrail records, about 1 KB, versus flow log lines).
 */
const JOIN_MAX_CHARS = 256;

/**
 * Bytes of one event framed with a header of `head` bytes, its message taking `bytes`. A run of
 * lines (newline framing only) has a header and a line feed per line, its joining LFs in `bytes`.
 */
function framedSize(e: CollectorEvent, head: number, bytes: number, framingBytes: number): number {
  return e.lines === undefined ? head + bytes + framingBytes : head * e.lines + bytes + 1;
}

/**
 * Turns events into framed syslog messages, one Buffer per call, written in place: the header
 * (priority, time, host) is formatted once per second and the prefix with the tag once per tag
 * and second, so a call costs one length pass and one copy pass over the messages.
 */
export class SyslogEncoder {
  private readonly pri: string;
  private readonly hostname: string;
  private second = Number.NaN;
  private header = '';
  private readonly prefixes = new Map<string, Prefix>();
  private readonly tagParts = new Map<string, string>();

  constructor(private readonly options: SyslogLineOptions) {
    this.pri = `<${options.facility * 8 + options.severity}>`;
    this.hostname = headerField(options.hostname, '-');
  }

  /** All events as framed messages in one Buffer; `now` (ms) stamps them all. */
  encode(batchEvents: readonly CollectorEvent[], now: number = Date.now()): Buffer {
    this.setSecond(now);
    const newline = this.options.framing === 'newline';
    // A run of lines (CollectorEvent#lines) is copied whole with newline framing; octet counting
    // needs each message's length.
    const events = newline ? batchEvents : singleMessages(batchEvents);
    // Octet counting: `LEN ` is at most 10 digits and a space; the Buffer is trimmed to what was written.
    const framingBytes = newline ? 1 : 11;
    let messages: readonly string[] | undefined;
    let size = 0;
    let breaks = false;
    // UTF-8 length equals UTF-16 length only for all-ASCII text: then a latin1 copy writes the same bytes.
    let ascii = true;
    // Events mostly come in long runs of one tag: look the prefix up once per run.
    let tag: string | undefined;
    let prefix: Prefix | undefined;
    for (const e of events) {
      if (e.tag !== tag || prefix === undefined) {
        tag = e.tag;
        prefix = this.prefix(tag);
      }
      let bytes = e.message.length;
      if (e.plain !== true) {
        const utf8 = Buffer.byteLength(e.message);
        if (utf8 !== bytes) ascii = false;
        bytes = utf8;
        if (newline && !breaks) breaks = hasLineBreak(e.message);
      }
      size += framedSize(e, prefix.bytes.length, bytes, framingBytes);
    }
    if (breaks) {
      // Rare: producers emit compact JSON. Escape, then size again with the escaped text. A run of
      // lines is plain: it has no break to escape besides the LFs that separate its lines.
      messages = events.map((e) => (e.lines === undefined ? escapeLineBreaks(e.message) : e.message));
      size = 0;
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        size += framedSize(e, this.prefix(e.tag).bytes.length, Buffer.byteLength(messages[i]!), framingBytes);
      }
    }
    const buf = Buffer.allocUnsafe(size);
    // Escaping adds only ASCII, so `ascii` still holds for the escaped messages.
    let offset = 0;
    tag = undefined;
    for (let i = 0; i < events.length;) {
      const e = events[i]!;
      if (e.tag !== tag || prefix === undefined) {
        tag = e.tag;
        prefix = this.prefix(tag);
      }
      const head = prefix.bytes;
      if (e.lines !== undefined) {
        // Newline framing (see above): each LF of the run starts the next line's header.
        buf.set(head, offset);
        offset += head.length;
        offset += latin1Write(buf, e.message.replaceAll('\n', prefix.separator), offset);
        buf[offset++] = 0x0a;
        i++;
        continue;
      }
      if (e.plain === true && e.message.length < JOIN_MAX_CHARS) {
        // A run of short plain messages of one tag is joined and copied at once: far cheaper than
        // a write call per message.
        const parts: string[] = [];
        let chars = 0;
        for (; i < events.length && chars < RUN_MAX_CHARS; i++) {
          const next = events[i]!;
          if (
            next.plain !== true ||
            next.tag !== tag ||
            next.message.length >= JOIN_MAX_CHARS ||
            next.lines !== undefined
          )
            break;
          const bytes = head.length + next.message.length;
          if (!newline) parts.push(`${bytes} ${prefix.text}`);
          parts.push(next.message);
          chars += bytes;
        }
        if (newline) {
          buf.set(head, offset);
          offset += head.length;
          offset += latin1Write(buf, parts.join(prefix.separator), offset);
          buf[offset++] = 0x0a;
        } else {
          offset += latin1Write(buf, parts.join(''), offset);
        }
        continue;
      }
      const message = messages ? messages[i]! : e.message;
      const oneByte = ascii || e.plain === true;
      if (newline) {
        buf.set(head, offset);
        offset += head.length;
        offset += oneByte ? latin1Write(buf, message, offset) : utf8Write(buf, message, offset);
        buf[offset++] = 0x0a;
      } else {
        offset += latin1Write(buf, `${head.length + Buffer.byteLength(message)} `, offset);
        buf.set(head, offset);
        offset += head.length;
        offset += oneByte ? latin1Write(buf, message, offset) : utf8Write(buf, message, offset);
      }
      i++;
    }
    return offset === size ? buf : buf.subarray(0, offset);
  }

  /** One unframed message (a UDP datagram). */
  message(event: CollectorEvent, now: number = Date.now()): string {
    this.setSecond(now);
    return this.header + this.tagPart(event.tag) + event.message;
  }

  private setSecond(now: number): void {
    const second = Math.floor(now / 1000);
    if (second === this.second) return;
    const date = new Date(second * 1000);
    this.header =
      this.options.format === 'rfc3164'
        ? `${this.pri}${rfc3164Timestamp(date)} ${this.hostname} `
        : `${this.pri}1 ${rfc5424Timestamp(date)} ${this.hostname} `;
    this.second = second;
    this.prefixes.clear();
  }

  private prefix(tag: string): Prefix {
    let prefix = this.prefixes.get(tag);
    if (prefix === undefined) {
      const text = this.header + this.tagPart(tag);
      prefix = { bytes: Buffer.from(text, 'latin1'), text, separator: `\n${text}` };
      if (this.prefixes.size >= TAG_CACHE_MAX) this.prefixes.clear();
      this.prefixes.set(tag, prefix);
    }
    return prefix;
  }

  private tagPart(tag: string): string {
    let part = this.tagParts.get(tag);
    if (part === undefined) {
      part =
        this.options.format === 'rfc3164'
          ? `${headerField(tag, '-')}: `
          : `${headerField(tag, '-', APP_NAME_MAX)} - - - `;
      if (this.tagParts.size >= TAG_CACHE_MAX) this.tagParts.clear();
      this.tagParts.set(tag, part);
    }
    return part;
  }
}
