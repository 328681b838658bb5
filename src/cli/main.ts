#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { configJsonSchema, configReferenceMarkdown } from '../config/json-schema.js';
import { accountsOf, servicesOf } from '../config/accounts.js';
import { loadConfig } from '../config/loader.js';
import { CollectorError, ErrorCodes, describeError } from '../core/errors.js';
import { accountsIamPolicy, iamPolicy } from './iam-policy.js';
import { runTop } from './top.js';
import { Collector } from '../runtime/collector.js';
import { boundHeapGrowth } from '../runtime/memory.js';
import { createLogger, logProcessWarnings } from '../telemetry/logger.js';
import { Secrets } from '../telemetry/secrets.js';

/** Exit codes: 0 done, 1 failed while running, 2 bad invocation or configuration. */
const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function buildProgram(secrets: Secrets): Command {
  const program = new Command('devo-aws-collector')
    .description('Collects AWS monitoring data and delivers it to Devo.')
    .version(version, '-V, --version')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('run')
    .description('Collect and deliver until SIGINT/SIGTERM.')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .action(async (opts: { config: string }) => {
      await run(opts.config, secrets);
    });

  program
    .command('validate')
    .description('Check a configuration file; lists every problem at once.')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .action((opts: { config: string }) => {
      const loaded = loadConfig(opts.config, secrets);
      const input = loaded.config.inputs.aws;
      const services = Object.entries(input.services).filter(([, s]) => s);
      const workers = accountsOf(input).reduce(
        (n, account) =>
          n + Object.values(servicesOf(input, account)).reduce((m, s) => m + (s?.regions.length ?? 0), 0),
        0,
      );
      const accounts = input.accounts ? `${input.accounts.length} account(s), ` : '';
      process.stdout.write(
        `${loaded.file}: valid — ${accounts}${services.length} service(s), ${workers} service × region worker(s), ${Object.keys(loaded.config.outputs).length} output(s)\n`,
      );
      for (const path of loaded.inlineSecrets)
        process.stdout.write(`warning: ${path} is written inline; prefer \${ENV_VAR} or \${file:/path}\n`);
    });

  program
    .command('iam-policy')
    .description(
      "Print the least-privilege IAM policy (JSON) the configured services need; with inputs.aws.accounts, the policy and trust relationship of each account's role and the base identity's sts:AssumeRole.",
    )
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .action((opts: { config: string }) => {
      const { config } = loadConfig(opts.config, secrets);
      const policy = config.inputs.aws.accounts ? accountsIamPolicy(config) : iamPolicy(config);
      process.stdout.write(`${JSON.stringify(policy, null, 2)}\n`);
    });

  program
    .command('top')
    .description(
      'Live view of a running collector (reads its /status): a row per worker and per output, refreshed each second; q quits.',
    )
    .option('--url <url>', 'the collector status server, e.g. http://127.0.0.1:9464')
    .option('-c, --config <file>', 'or the configuration file: globals.status_address and status_port')
    .option('--once', 'print one snapshot (rates over one second) and exit, for scripts')
    .action(async (opts: { url?: string; config?: string; once?: boolean }) => {
      await runTop({ url: statusUrl(opts, secrets), once: opts.once === true, intervalMs: 1_000 });
    });

  program
    .command('print-schema')
    .description('Print the JSON Schema of the configuration file.')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });

  program
    .command('print-docs')
    .description('Print the configuration reference (Markdown), generated from the schema.')
    .action(() => {
      process.stdout.write(configReferenceMarkdown());
    });

  program
    .command('demo')
    .description(
      'Run every service against the built-in sandbox (local fake AWS and Devo receiver); no AWS account needed.',
    )
    .option(
      '--dir <folder>',
      'where the sandbox writes its configuration, state, logs and received events',
      '.demo',
    )
    .action(async (opts: { dir: string }) => {
      // The sandbox is shipped apart from the production code (dist/sandbox) and loaded only here.
      const { runDemo } = (await import(
        new URL('../../sandbox/demo/run.js', import.meta.url).href
      )) as typeof import('../../sandbox/demo/run.js');
      process.exitCode = await runDemo({ workDir: opts.dir });
    });

  return program;
}

/** The status server `top` reads: --url, or the configuration's status_address and status_port. */
function statusUrl(opts: { url?: string; config?: string }, secrets: Secrets): string {
  if (opts.url) return opts.url;
  if (!opts.config) throw new CollectorError(ErrorCodes.CONFIG_INVALID, 'top needs --url or --config');
  const { status_address: address, status_port: port } = loadConfig(opts.config, secrets).config.globals;
  if (port === undefined)
    throw new CollectorError(
      ErrorCodes.CONFIG_INVALID,
      `${opts.config}: globals.status_port is not set, so the collector serves no status for top`,
    );
  const host =
    address === '0.0.0.0'
      ? '127.0.0.1'
      : address === '::'
        ? '[::1]'
        : address.includes(':')
          ? `[${address}]`
          : address;
  return `http://${host}:${port}`;
}

async function run(configFile: string, secrets: Secrets): Promise<void> {
  const loaded = loadConfig(configFile, secrets);
  const logger = createLogger({ secrets, debug: loaded.config.globals.debug });
  logProcessWarnings(logger);
  for (const path of loaded.inlineSecrets)
    logger.warn(
      { event: 'inline_secret', configKey: path },
      `${path} is written inline in the configuration; prefer \${ENV_VAR} or \${file:/path}`,
    );
  boundHeapGrowth();
  const collector = new Collector(loaded, { logger, secrets });
  let signals = 0;
  const done = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals += 1;
      if (signals > 1) {
        logger.warn({ event: 'second_signal', signal }, 'second signal: exiting now');
        logger.flush();
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      logger.info({ event: 'signal_received', signal }, 'signal received: shutting down');
      collector.stop().then(resolve, (err: unknown) => {
        logger.error({ event: 'shutdown_failed', err }, `shutdown failed: ${describeError(err)}`);
        process.exitCode = EXIT_RUNTIME;
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  try {
    await collector.start();
  } catch (err) {
    await collector.stop(0);
    throw err;
  }
  await done;
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
}

export async function main(argv: string[], secrets: Secrets): Promise<number> {
  const program = buildProgram(secrets);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    const isConfig = err instanceof CollectorError && err.code.startsWith('CONFIG');
    // describeError() leads with the stable code (CONFIG_INVALID, ...), for scripts and tests.
    process.stderr.write(`devo-aws-collector: ${secrets.scrub(describeError(err))}\n`);
    return isConfig ? EXIT_USAGE : EXIT_RUNTIME;
  }
}

// The process's one secrets registry: the configuration, the collector and its parts register into
// it, and the logger and every error line written here are scrubbed with it.
const secrets = new Secrets();
// Exit explicitly: a lingering keep-alive socket must not keep a finished collector alive.
main(process.argv, secrets).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`devo-aws-collector: ${secrets.scrub(describeError(err))}\n`);
    process.exitCode = EXIT_RUNTIME;
  },
);
