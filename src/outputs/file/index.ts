import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { z } from 'zod';
import type { OutputDefinition } from '../definition.js';
import { JsonLinesOutput } from '../json-lines.js';

const schema = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .describe(
        'File to append JSON lines {"tag","message"} to; relative to the configuration file. Created readable by its owner only (0600).',
      ),
  })
  .describe('Appends each event as a JSON line to a local file.');

export const definition: OutputDefinition<typeof schema> = {
  schema,
  create: (config, ctx) => {
    const path = resolve(ctx.configDir, config.path);
    return new JsonLinesOutput(
      ctx,
      async () => {
        await mkdir(dirname(path), { recursive: true });
        // Owner-only, like the state: the file holds the events themselves.
        const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
        await new Promise<void>((ok, fail) => stream.once('open', () => ok()).once('error', fail));
        return stream;
      },
      async (stream) => {
        stream.end();
        await finished(stream);
      },
    );
  },
};
