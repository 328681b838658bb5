import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI: end-to-end tests run what users run (`npm test` builds first). */
export const cliPath = join(repoRoot, 'dist/src/cli/main.js');

/** A temporary folder removed when the returned disposer runs. */
export function tempDir(prefix = 'dac-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
