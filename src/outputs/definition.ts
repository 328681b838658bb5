import type { z } from 'zod';
import type { OutputHealth } from '../telemetry/health.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Secrets } from '../telemetry/secrets.js';
import type { Output } from './output.js';

/** What an output gets when it is created from `outputs.<name>`. */
export interface OutputContext {
  /** The output's key in `outputs`. */
  readonly name: string;
  /** Folder of the configuration file: relative paths (certificates, files) resolve from here. */
  readonly configDir: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Where the output registers its secrets (tokens, private keys). */
  readonly secrets: Secrets;
  /** Host name written in syslog headers. */
  readonly hostname: string;
  /** Clock of rate-limited logs and health timestamps (tests); Date.now when absent. */
  readonly now?: () => number;
  /** Where the output reports its connection state (see Output.tracksConnection); absent outside a collector. */
  readonly health?: OutputHealth;
}

/** A kind of output: its `config` schema (zod, the single source of truth) and its factory. */
export interface OutputDefinition<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  create(config: z.output<S>, ctx: OutputContext): Output;
}
