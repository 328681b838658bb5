import { readFileSync } from 'node:fs';
import { createGzip } from 'node:zlib';

/**
 * The hostile-input corpus (test/fixtures/hostile/): crafted, broken and odd S3 objects, listed in
 * corpus.json. Small ones are committed files; big ones are built from a recipe there, so the
 * repository holds a few lines instead of megabytes.
 */
const DIR = new URL('../fixtures/hostile/', import.meta.url);

/** Pieces of the content, in order; each written `repeat` times (default once). */
interface Recipe {
  parts: { text: string; repeat?: number }[];
  gzip?: boolean;
}

export interface HostileEntry {
  name: string;
  /** What the entry is and where it comes from. */
  what: string;
  /** Set when the content is built from a recipe rather than read from the file `name`. */
  recipe?: Recipe;
  /** Outcome required per format name (ObjectFormat#name); other formats may give either. */
  expect?: Record<string, 'ok' | 'OBJECT_CORRUPT'>;
}

export const hostileCorpus: readonly HostileEntry[] = JSON.parse(
  readFileSync(new URL('corpus.json', DIR), 'utf8'),
) as HostileEntry[];

/** The bytes of a corpus entry, as stored in S3. */
export async function hostileObject(name: string): Promise<Buffer> {
  const entry = hostileCorpus.find((e) => e.name === name);
  if (!entry) throw new Error(`no hostile corpus entry ${name}`);
  return entry.recipe ? build(entry.recipe) : readFileSync(new URL(name, DIR));
}

async function build(recipe: Recipe): Promise<Buffer> {
  const out: Buffer[] = [];
  const gzip = recipe.gzip ? createGzip({ level: 9 }) : undefined;
  gzip?.on('data', (d: Buffer) => out.push(d));
  const ended = gzip ? new Promise((resolve) => gzip.once('end', resolve)) : Promise.resolve();
  for (const part of recipe.parts) {
    const text = Buffer.from(part.text);
    // Repeated parts are written a MiB at a time: gigabytes of content cost little memory.
    const times = Math.max(1, Math.floor((1 << 20) / text.length));
    const block = Buffer.concat(Array.from({ length: times }, () => text));
    for (let left = part.repeat ?? 1; left > 0; left -= times) {
      const piece = left >= times ? block : block.subarray(0, left * text.length);
      if (!gzip) out.push(Buffer.from(piece));
      else if (!gzip.write(piece)) await new Promise((resolve) => gzip.once('drain', resolve));
    }
  }
  gzip?.end();
  await ended;
  return Buffer.concat(out);
}
