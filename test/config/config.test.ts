import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { configJsonSchema, configReferenceMarkdown } from '../../src/config/json-schema.js';
import { loadConfig, parseConfigText } from '../../src/config/loader.js';
import { isCollectorError } from '../../src/core/errors.js';
import { logsSchema, s3LogsSchema } from '../../src/config/schema.js';
import { definitionFor } from '../../src/services/registry.js';
import { Secrets } from '../../src/telemetry/secrets.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const fullExample = readFileSync(join(repoRoot, 'docs/examples/full.yaml'), 'utf8');
const env = {
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE01',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  DEVO_EXTERNAL_ID: 'ext-id-0b9f2c',
};

const minimal = (services: string, extra = '') => `
globals:
  debug: false${extra}
outputs:
  local:
    type: console
inputs:
  aws:
    id: abc
    services:
${services}
`;

describe('configuration', () => {
  test('accepts every service block of the reference document, with defaults applied', () => {
    const { config, problems, secretValues } = parseConfigText(fullExample, { env });
    assert.deepEqual(problems, []);
    assert.ok(config);
    const s = config.inputs.aws.services;
    assert.equal(s['service-events-all']?.cloudwatch_sqs_queue_name, 'devo-cwe-<account_id>.fifo');
    assert.equal(s['service-events-all']?.pull_retries, 3, 'default pull_retries');
    assert.equal(s['metrics-all']?.request_period_in_seconds, 60, 'default period');
    assert.deepEqual(s['audit-events-all']?.types, ['audits_api', 'audits_s3']);
    assert.ok(s['audit-events-all']?.s3_file_type_filter instanceof RegExp, 'regexes are compiled');
    assert.equal(s.cwl_1 && 'log_group' in s.cwl_1 && s.cwl_1.log_group, '/aws/lambda/payments');
    assert.equal(
      s.cwl_lambdas && 'log_group_prefix' in s.cwl_lambdas && s.cwl_lambdas.log_group_prefix,
      '/aws/lambda/',
    );
    assert.ok(
      s.cwl_apps && 'log_group_pattern' in s.cwl_apps && s.cwl_apps.log_group_pattern?.test('/app/web-prod'),
      'log_group_pattern is compiled',
    );
    assert.equal(config.inputs.aws.id, '12351', 'numeric ids become strings');
    assert.equal(
      config.inputs.aws.credentials.access_secret,
      env.AWS_SECRET_ACCESS_KEY,
      '${ENV} is expanded',
    );
    assert.equal(config.globals.persistence.type, 'filesystem');
    assert.ok(Object.isFrozen(config.inputs.aws.services), 'validated config is frozen');
    assert.ok(
      secretValues.includes(env.AWS_SECRET_ACCESS_KEY),
      'secrets from the environment are handed back for registering',
    );
  });

  test('loading registers the secrets of the file in the registry it is given, even when invalid', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(
        file,
        minimal('      metrics-all:\n        regions: [us-east-1]\n', '\n  unknown_key: 1').replace(
          '    id: abc',
          '    id: abc\n    credentials:\n      access_secret: ${AWS_SECRET_ACCESS_KEY}',
        ),
      );
      const secrets = new Secrets();
      const other = new Secrets();
      assert.throws(
        () => loadConfig(file, secrets, env),
        (e: unknown) => isCollectorError(e, 'CONFIG_INVALID'),
      );
      assert.equal(secrets.scrub(`x ${env.AWS_SECRET_ACCESS_KEY} y`), 'x [REDACTED] y');
      assert.equal(
        other.scrub(env.AWS_SECRET_ACCESS_KEY),
        env.AWS_SECRET_ACCESS_KEY,
        'registries are separate',
      );
    } finally {
      cleanup();
    }
  });

  test('reports every problem at once, each with its path and what was expected', () => {
    const text = minimal(
      `      cwl_1:
        types: [logs]
        regions: [us-east-1]
      metrcs-all:
        regions: [us-east-1]
      metrics-all:
        request_period_in_seconds: sixty
        regions: [us-east-7]
      audit-events-all:
        start_time: yesterday
        s3_file_type_filter: '(unclosed'
        audit_sqs_queue_name: q
        regions: [eu-west-1]`,
      '\n  persistance: {}',
    );
    const { config, problems } = parseConfigText(text, { env: {} });
    assert.equal(config, undefined);
    const byPath = new Map(problems.map((p) => [p.path, p.message]));
    assert.match(
      byPath.get('inputs.aws.services.cwl_1.log_group') ?? '',
      /^required: one of log_group, log_group_prefix, log_group_pattern, log_group_identifier$/,
    );
    assert.match(
      byPath.get('inputs.aws.services.metrcs-all') ?? '',
      /unknown service \(did you mean 'metrics-all'\?\)/,
    );
    assert.match(
      byPath.get('inputs.aws.services.metrics-all.request_period_in_seconds') ?? '',
      /expected number, got "sixty"/,
    );
    assert.match(byPath.get('inputs.aws.services.metrics-all.regions[0]') ?? '', /not an AWS region name/);
    assert.match(byPath.get('inputs.aws.services.audit-events-all.start_time') ?? '', /ISO-8601/);
    assert.match(
      byPath.get('inputs.aws.services.audit-events-all.s3_file_type_filter') ?? '',
      /not a valid regular expression/,
    );
    assert.match(byPath.get('globals.persistance') ?? '', /unknown key \(did you mean 'persistence'\?\)/);
    assert.equal(problems.length, 7, JSON.stringify(problems, null, 1));
  });

  test('unknown keys inside outputs and credentials get did-you-mean hints', () => {
    const text = `
outputs:
  local:
    type: file
    config: { pth: out.jsonl }
inputs:
  aws:
    id: abc
    credentials: { acces_key: AKIA, access_secret: x }
    services:
      metrics-all: { regions: [us-east-1] }
`;
    const { problems } = parseConfigText(text, { env: {} });
    const byPath = new Map(problems.map((p) => [p.path, p.message]));
    assert.match(byPath.get('outputs.local.config.pth') ?? '', /did you mean 'path'/);
    assert.match(byPath.get('outputs.local.config.path') ?? '', /required/);
    assert.match(byPath.get('inputs.aws.credentials.acces_key') ?? '', /did you mean 'access_key'/);
  });

  test('an unknown output type names the types that exist', () => {
    const { problems } = parseConfigText(
      minimal('      metrics-all: { regions: [us-east-1] }').replace('type: console', 'type: consol'),
      { env: {} },
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, 'outputs.local.type');
    assert.match(problems[0]!.message, /console/);
  });

  test('secrets come from the environment or a file; a missing variable names the key and the variable', () => {
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(join(dir, 'secret'), 'file-secret-value-123\n');
      const text = minimal('      metrics-all: { regions: [us-east-1] }').replace(
        'id: abc',
        'id: abc\n    credentials: { access_key: "${MY_KEY}", access_secret: "${file:secret}" }',
      );
      const ok = parseConfigText(text, { env: { MY_KEY: 'AKIAFROMENV' }, dir });
      assert.deepEqual(ok.problems, []);
      assert.equal(ok.config?.inputs.aws.credentials.access_secret, 'file-secret-value-123');
      assert.deepEqual(ok.inlineSecrets, []);
      const missing = parseConfigText(text, { env: {}, dir });
      assert.deepEqual(missing.problems, [
        { path: 'inputs.aws.credentials.access_key', message: 'environment variable MY_KEY is not set' },
      ]);
      const inline = parseConfigText(text.replace('"${file:secret}"', 'plainsecretvalue'), {
        env: { MY_KEY: 'AKIAFROMENV' },
        dir,
      });
      assert.deepEqual(inline.inlineSecrets, ['inputs.aws.credentials.access_secret']);
    } finally {
      cleanup();
    }
  });

  test('a secret file over 1 MiB (or an endless device) is one problem naming the key, read in bounded memory', () => {
    const text = minimal('      metrics-all: { regions: [us-east-1] }').replace(
      'id: abc',
      'id: abc\n    credentials: { access_key: AKIAINLINE, access_secret: "${file:/dev/zero}" }',
    );
    assert.deepEqual(parseConfigText(text, { env: {} }).problems, [
      {
        path: 'inputs.aws.credentials.access_secret',
        message: 'secret file /dev/zero is larger than 1048576 bytes',
      },
    ]);
  });

  test('a ${...} reference keeps its text where a number would change it: secrets, leading zeros', () => {
    const text = minimal(
      '      metrics-all: { regions: [us-east-1] }',
      '\n  persistence:\n    type: redis\n    config: { password: "${REDIS_PASSWORD}", port: "${REDIS_PORT}" }',
    ).replace(
      'id: abc',
      'id: "${INPUT_ID}"\n    credentials:\n      target_assume_role: arn:aws:iam::123456789012:role/devo\n      assume_role_external_id: "${EXTERNAL_ID}"',
    );
    const { config, problems } = parseConfigText(text, {
      env: { REDIS_PASSWORD: '73019284', REDIS_PORT: '6380', INPUT_ID: '007', EXTERNAL_ID: '918273645501' },
    });
    assert.deepEqual(problems, []);
    const persistence = config?.globals.persistence;
    assert.equal(persistence?.type, 'redis');
    if (persistence?.type !== 'redis') return;
    assert.equal(persistence.config.password, '73019284', 'an all-digit password is still a string');
    assert.equal(persistence.config.port, 6380, 'a number in a numeric place still becomes a number');
    assert.equal(config?.inputs.aws.credentials.assume_role_external_id, '918273645501');
    assert.equal(
      config?.inputs.aws.id,
      '007',
      'leading zeros are kept (state keys and queue names use the id)',
    );
  });

  test('a secret of the wrong type is reported without its value', () => {
    const text = minimal(
      '      metrics-all: { regions: [us-east-1] }',
      '\n  persistence:\n    type: redis\n    config: { password: 73019284 }',
    );
    const { problems } = parseConfigText(text, { env: {} });
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, 'globals.persistence.config.password');
    assert.match(problems[0]!.message, /^expected string/);
    assert.doesNotMatch(problems[0]!.message, /73019284/);
  });

  test('audit-events-all: types default from the presence of audit_sqs_queue_name; audits_s3 needs the queue', () => {
    const parse = (block: string) =>
      parseConfigText(minimal(`      audit-events-all:\n${block}`), { env: {} });
    assert.deepEqual(
      parse('        regions: [us-east-1]').config?.inputs.aws.services['audit-events-all']?.types,
      ['audits_api'],
    );
    assert.deepEqual(
      parse('        audit_sqs_queue_name: q\n        regions: [us-east-1]').config?.inputs.aws.services[
        'audit-events-all'
      ]?.types,
      ['audits_s3'],
    );
    assert.deepEqual(parse('        types: [audits_s3]\n        regions: [us-east-1]').problems, [
      {
        path: 'inputs.aws.services.audit-events-all.audit_sqs_queue_name',
        message: 'required when types includes audits_s3',
      },
    ]);
  });

  test('keys a service would ignore are refused, naming the key: start_time and the queue on the wrong audit type, auto_event_type where every event has one table', () => {
    const problemsOf = (services: string) => parseConfigText(minimal(services), { env: {} }).problems;
    assert.deepEqual(
      problemsOf(
        `      audit-events-all:\n        types: [audits_s3]\n        audit_sqs_queue_name: q\n        start_time: '2026-01-01T00:00:00Z'\n        regions: [us-east-1]`,
      ).map((p) => p.path),
      ['inputs.aws.services.audit-events-all.start_time'],
    );
    assert.deepEqual(
      problemsOf(
        `      audit-events-all:\n        types: [audits_api]\n        audit_sqs_queue_name: q\n        regions: [us-east-1]`,
      ).map((p) => p.path),
      ['inputs.aws.services.audit-events-all.audit_sqs_queue_name'],
    );
    assert.deepEqual(
      problemsOf(
        `      sqs-cloudwatch-consumer:\n        cloudwatch_sqs_queue_name: q\n        auto_event_type: true\n        regions: [us-east-1]\n      non-cloudwatch-logs:\n        auto_event_type: true\n        regions: [us-east-1]`,
      ).map((p) => [p.path, /has no effect here/.test(p.message)]),
      [
        ['inputs.aws.services.sqs-cloudwatch-consumer.auto_event_type', true],
        ['inputs.aws.services.non-cloudwatch-logs.auto_event_type', true],
      ],
    );
    // As the reference lists them: false is accepted, and so is start_time when audits_api is read.
    assert.deepEqual(
      problemsOf(
        `      sqs-cloudwatch-consumer:\n        cloudwatch_sqs_queue_name: q\n        auto_event_type: false\n        regions: [us-east-1]\n      audit-events-all:\n        types: [audits_api, audits_s3]\n        audit_sqs_queue_name: q\n        start_time: '2026-01-01T00:00:00Z'\n        regions: [us-east-1]`,
      ),
      [],
    );
  });

  test('without globals, every globals default applies', () => {
    const { config, problems } = parseConfigText(
      'outputs:\n  out:\n    type: console\ninputs:\n  aws:\n    id: a\n    services:\n      metrics-all:\n        regions: [us-east-1]\n',
      { env: {} },
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(config?.globals.persistence, {
      type: 'filesystem',
      config: { directory_name: 'state' },
    });
    assert.equal(config?.globals.max_in_flight_events, 200_000);
  });

  test('YAML syntax errors and unreadable files are clear errors', () => {
    const { problems } = parseConfigText('globals: [unclosed');
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.path, /^line \d+/);
    assert.throws(
      () => loadConfig('/nonexistent/collector.yaml', new Secrets()),
      (e: unknown) =>
        isCollectorError(e, 'CONFIG_UNREADABLE') && /\/nonexistent\/collector\.yaml/.test(e.message),
    );
  });

  test('a YAML syntax error is one problem with line, column and hint, never a value from the file', () => {
    const secret = 'yaml-inline-secret-value-42';
    const stray = parseConfigText(
      `globals: {}\n}\ninputs:\n  aws:\n    credentials:\n      access_key: AKIAINLINE\n      access_secret: ${secret}\n`,
    ).problems;
    assert.equal(stray.length, 1);
    assert.equal(stray[0]!.path, 'line 2, column 1');
    assert.match(stray[0]!.message, /^YAML syntax error UNEXPECTED_TOKEN: /);
    const flow = parseConfigText(
      `inputs:\n  aws:\n    credentials: { access_key: \${AK}, access_secret: \${SK} }\n    services: { token: ${secret} }\n`,
    ).problems;
    assert.equal(flow.length, 1);
    assert.equal(flow[0]!.path, 'line 3, column 33');
    assert.match(flow[0]!.message, /must be quoted: key: "\$\{VAR\}"/);
    assert.doesNotMatch(JSON.stringify([stray, flow]), new RegExp(`${secret}|AKIAINLINE`));
  });

  test('custom entries are dispatched on types ([logs], [s3]); anything else is an error naming the key', () => {
    const parse = (entry: string) => parseConfigText(minimal(`      lb_logs:\n${entry}`), { env: {} });
    const ok = parse('        types: [s3]\n        sqs_queue_name: q\n        regions: [eu-west-1]');
    assert.deepEqual(ok.problems, []);
    const entry = ok.config!.inputs.aws.services.lb_logs;
    const definition = definitionFor('lb_logs', entry);
    assert.equal(definition.schema, s3LogsSchema);
    assert.deepEqual(
      definition.queues?.(entry as never, 'abc').map((q) => [q.queueName, q.maxReceiveCount]),
      [['q', 5]],
    );
    assert.equal(definitionFor('cwl', { types: ['logs'] }).schema, logsSchema);

    const bad = parse('        types: [kinesis]\n        regions: [eu-west-1]');
    assert.deepEqual(
      bad.problems.map((p) => p.path),
      ['inputs.aws.services.lb_logs.types'],
    );
    assert.match(bad.problems[0]!.message, /\[logs\].*\[s3\].*\["kinesis"\]/);

    const typo = parse(
      '        types: [s3]\n        sqs_queue_name: q\n        regions: [eu-west-1]\n        formt: json',
    );
    assert.deepEqual(typo.problems, [
      { path: 'inputs.aws.services.lb_logs.formt', message: "unknown key (did you mean 'format'?)" },
    ]);
  });

  test('the JSON Schema and the configuration reference come from the same schema', () => {
    const schema = configJsonSchema() as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    assert.ok(schema.properties.inputs?.properties?.aws);
    const docs = configReferenceMarkdown();
    for (const key of [
      'inputs.aws.services.service-events-all.cloudwatch_sqs_queue_name',
      'inputs.aws.services.audit-events-all.s3_file_type_filter',
      'inputs.aws.services.non-cloudwatch-logs.cloudfrontlogs_sqs_queue_name',
      'inputs.aws.services.<name> (types: [logs]).log_group',
      'inputs.aws.services.<name> (types: [s3]).file_selectors[].expand_event_list_from_field',
      'inputs.aws.credentials.target_assume_role',
      'globals.persistence',
    ]) {
      assert.ok(docs.includes(`\`${key}\``), `docs mention ${key}`);
    }
    assert.equal(
      readFileSync(join(repoRoot, 'docs/configuration.md'), 'utf8'),
      docs,
      'docs/configuration.md is up to date (npm run docs:config)',
    );
  });
});

describe('inputs.aws.accounts', () => {
  const withAccounts = (accounts: string, credentials = '') =>
    minimal('      metrics-all: { regions: [us-east-1] }').replace(
      'id: abc',
      `id: abc${credentials}\n    accounts:\n${accounts}`,
    );
  const role = (account: string) => `arn:aws:iam::${account}:role/devo`;

  test('ids (numbers or strings), roles, secret external ids and regions are accepted', () => {
    const { config, problems, secretValues } = parseConfigText(
      withAccounts(
        `      - { id: 111111111111, target_assume_role: ${role('111111111111')}, assume_role_external_id: "\${EXT}" }\n` +
          `      - { id: "022222222222", target_assume_role: ${role('022222222222')}, regions: [eu-west-1] }`,
      ),
      { env: { EXT: 'account-external-id-77' } },
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      config?.inputs.aws.accounts?.map((a) => a.id),
      ['111111111111', '022222222222'],
    );
    assert.deepEqual(config?.inputs.aws.accounts?.[1]?.regions, ['eu-west-1']);
    assert.ok(secretValues.includes('account-external-id-77'), 'the external id is a secret');
  });

  test('every problem names its key path', () => {
    const { problems } = parseConfigText(
      withAccounts(
        `      - { id: 11111111111, target_assume_role: ${role('111111111111')} }\n` +
          `      - { id: 222222222222, target_assume_role: ${role('333333333333')} }\n` +
          `      - { id: 222222222222, target_assume_role: ${role('222222222222')}, regions: [mars-1] }\n` +
          `      - { id: 444444444444 }`,
      ),
      { env: {} },
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      [
        'inputs.aws.accounts[0].id',
        'inputs.aws.accounts[1].target_assume_role',
        'inputs.aws.accounts[2].regions[0]',
        'inputs.aws.accounts[3].target_assume_role',
      ],
    );
    assert.match(problems[0]!.message, /12-digit/);
    assert.match(problems[1]!.message, /role of account 333333333333/);
  });

  test('the accounts example of docs/examples/full.yaml is valid once uncommented', () => {
    const text = fullExample
      .replace(/^ {6}(target_assume_role|assume_role_external_id): .*\n/gm, '')
      .replace(/^ {4}# (accounts:| {2}[ -] .*)$/gm, '    $1');
    const { config, problems } = parseConfigText(text, {
      env: { ...env, DEVO_EXTERNAL_ID_333333333333: 'ext-id-333333333333' },
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      config?.inputs.aws.accounts?.map((a) => [a.id, a.regions]),
      [
        ['333333333333', undefined],
        ['444444444444', ['eu-west-1']],
      ],
    );
  });

  test('an account listed twice, and a target_assume_role of the credentials beside accounts, are refused', () => {
    const { problems } = parseConfigText(
      withAccounts(
        `      - { id: 222222222222, target_assume_role: ${role('222222222222')} }\n` +
          `      - { id: 222222222222, target_assume_role: ${role('222222222222')} }`,
        `\n    credentials: { target_assume_role: ${role('555555555555')} }`,
      ),
      { env: {} },
    );
    assert.deepEqual(
      problems.map((p) => p.path),
      ['inputs.aws.accounts[1].id', 'inputs.aws.credentials.target_assume_role'],
    );
    assert.match(problems[0]!.message, /listed twice/);
  });
});
