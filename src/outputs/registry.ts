import type { OutputDefinition } from './definition.js';
import { definition as consoleOutput } from './console/index.js';
import { definition as fileOutput } from './file/index.js';

/** Every output type, by the `type` written in `outputs.<name>.type`. */
export const outputDefinitions: Record<string, OutputDefinition> = {
  console: consoleOutput,
  file: fileOutput,
};
