import type { OutputDefinition } from './definition.js';
import { definition as consoleOutput } from './console/index.js';
import { definition as devoHttpOutput } from './devo-http/index.js';
import { definition as devoPlatformOutput } from './devo-platform/index.js';
import { definition as fileOutput } from './file/index.js';
import { definition as syslogOutput } from './syslog/index.js';

/** Every output type, by the `type` written in `outputs.<name>.type`. */
export const outputDefinitions: Record<string, OutputDefinition> = {
  devo_platform: devoPlatformOutput,
  devo_http: devoHttpOutput,
  syslog: syslogOutput,
  console: consoleOutput,
  file: fileOutput,
};
