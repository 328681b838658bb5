import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import { repoRoot } from '../helpers/paths.js';

// The layering of src/ is enforced by `npm run lint` (eslint.config.js): these lint a file that
// does not exist, at a path in one layer, importing from another, and read the rule that fired.

const eslint = new ESLint({ cwd: repoRoot });

/** Whether `no-restricted-imports` refuses `importPath` in `file`. */
async function refused(file: string, importPath: string): Promise<boolean> {
  const [result] = await eslint.lintText(`import { x } from '${importPath}';\nexport const y = x;\n`, {
    filePath: join(repoRoot, file),
  });
  return (result?.messages ?? []).some((m) => m.ruleId === 'no-restricted-imports');
}

describe('lint: layers', () => {
  const refusedImports: [string, string, string][] = [
    ['core imports nothing above it', 'src/core/extra.ts', '../runtime/delivery.js'],
    ['a lower layer imports no higher one', 'src/aws/extra.ts', '../services/registry.js'],
    ['outputs and services are apart', 'src/outputs/extra.ts', '../services/definition.js'],
    ['services do not import config', 'src/services/metrics-all/extra.ts', '../../config/schema.js'],
    [
      'a service imports no other service',
      'src/services/metrics-all/extra.ts',
      '../cloudwatch-logs/worker.js',
    ],
    ['a service does not import the registry', 'src/services/metrics-all/extra.ts', '../registry.js'],
    ['shared imports no service', 'src/services/shared/extra.ts', '../metrics-all/index.js'],
    [
      'nested shared imports no service',
      'src/services/shared/sqs/extra.ts',
      '../../audit-events-all/tags.js',
    ],
    ['src imports no sandbox', 'src/runtime/extra.ts', '../../sandbox/fake-aws/index.js'],
  ];
  for (const [name, file, importPath] of refusedImports) {
    test(`refused: ${name}`, async () => {
      assert.equal(await refused(file, importPath), true);
    });
  }

  const allowed: [string, string][] = [
    ['src/services/metrics-all/extra.ts', '../shared/time-window.js'],
    ['src/services/metrics-all/extra.ts', '../definition.js'],
    ['src/services/shared/sqs/extra.ts', '../../definition.js'],
    ['src/services/shared/sqs/extra.ts', '../../../core/batch.js'],
    ['src/runtime/extra.ts', '../services/registry.js'],
    ['src/config/extra.ts', '../outputs/registry.js'],
  ];
  for (const [file, importPath] of allowed) {
    test(`allowed: ${file} → ${importPath}`, async () => {
      assert.equal(await refused(file, importPath), false);
    });
  }
});
