/** Messages travel one per line (syslog framing, Devo HTTP lines): raw line breaks inside one are escaped. */
const LINE_BREAKS = /[\r\n]/g;

/** Whether `text` holds a raw CR or LF. */
export function hasLineBreak(text: string): boolean {
  // Two indexOf scans are markedly faster than a regular expression on the hot path.
  return text.indexOf('\n') !== -1 || text.indexOf('\r') !== -1;
}

/** Replaces raw CR/LF with the two-character escapes `\r` / `\n`, as JSON would write them. */
export function escapeLineBreaks(text: string): string {
  return hasLineBreak(text) ? text.replace(LINE_BREAKS, (c) => (c === '\n' ? '\\n' : '\\r')) : text;
}
