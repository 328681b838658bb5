/** Just enough XML for the query and REST-XML protocols: a writer and a parser of plain element trees. */

export type XmlValue =
  string | number | boolean | undefined | null | XmlValue[] | { [name: string]: XmlValue };

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

/** `<name>value</name>`; objects nest in key order, arrays repeat the element, null/undefined are left out. */
export function xmlElement(name: string, value: XmlValue, attributes = ''): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((v) => xmlElement(name, v, attributes)).join('');
  const open = attributes ? `<${name} ${attributes}>` : `<${name}>`;
  if (typeof value === 'object') {
    return `${open}${Object.entries(value)
      .map(([k, v]) => xmlElement(k, v))
      .join('')}</${name}>`;
  }
  return `${open}${escapeXml(String(value))}</${name}>`;
}

export const xmlDocument = (name: string, value: XmlValue, attributes = ''): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n${xmlElement(name, value, attributes)}`;

export class XmlNode {
  readonly children: XmlNode[] = [];
  text = '';
  constructor(readonly name: string) {}

  child(name: string): XmlNode | undefined {
    return this.children.find((c) => c.name === name);
  }
  all(name: string): XmlNode[] {
    return this.children.filter((c) => c.name === name);
  }
  /** Trimmed text of a child element, or undefined when there is none. */
  value(name: string): string | undefined {
    return this.child(name)?.text.trim();
  }
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const decoded = ENTITIES[ref];
    if (decoded === undefined) throw new SyntaxError(`unknown XML entity ${whole}`);
    return decoded;
  });
}

/** Parses a document into its root element; attributes are ignored. Throws SyntaxError when malformed. */
export function parseXml(source: string): XmlNode {
  const stack: XmlNode[] = [];
  let root: XmlNode | undefined;
  let i = 0;
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const text = source.slice(i, lt === -1 ? source.length : lt);
    const top = stack[stack.length - 1];
    if (top) top.text += decodeEntities(text);
    else if (text.trim()) throw new SyntaxError('text outside the root element');
    if (lt === -1) break;
    if (source.startsWith('<?', lt) || source.startsWith('<!--', lt) || source.startsWith('<!DOCTYPE', lt)) {
      const end = source.startsWith('<!--', lt) ? source.indexOf('-->', lt) + 2 : source.indexOf('>', lt);
      if (end < lt + 1) throw new SyntaxError('unterminated XML declaration or comment');
      i = end + 1;
      continue;
    }
    if (source.startsWith('<![CDATA[', lt)) {
      const end = source.indexOf(']]>', lt);
      if (end === -1 || !top) throw new SyntaxError('bad CDATA section');
      top.text += source.slice(lt + 9, end);
      i = end + 3;
      continue;
    }
    const gt = source.indexOf('>', lt);
    if (gt === -1) throw new SyntaxError('unterminated tag');
    const tag = source.slice(lt + 1, gt);
    if (tag.startsWith('/')) {
      const closed = stack.pop();
      if (!closed || closed.name !== tag.slice(1).trim())
        throw new SyntaxError(`unexpected </${tag.slice(1)}>`);
    } else {
      const selfClosing = tag.endsWith('/');
      const name = /^[^\s/>]+/.exec(tag)?.[0];
      if (!name) throw new SyntaxError('empty tag name');
      const node = new XmlNode(name);
      if (top) top.children.push(node);
      else if (root) throw new SyntaxError('more than one root element');
      else root = node;
      if (!selfClosing) stack.push(node);
    }
    i = gt + 1;
  }
  if (!root || stack.length > 0) throw new SyntaxError('incomplete XML document');
  return root;
}
