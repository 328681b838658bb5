import { z } from 'zod';
import type { OutputDefinition } from '../definition.js';
import { JsonLinesOutput } from '../json-lines.js';

const schema = z
  .strictObject({})
  .default({})
  .describe(
    'Writes each event as a JSON line {"tag","message"} to standard output (logs go to standard error).',
  );

export const definition: OutputDefinition<typeof schema> = {
  schema,
  create: (_config, ctx) =>
    new JsonLinesOutput(
      ctx,
      async () => process.stdout,
      // Standard output is never closed; wait until what was written is flushed.
      (stream) => new Promise((resolve) => stream.write('', () => resolve())),
    ),
};
