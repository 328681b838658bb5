import { spawn, type ChildProcess } from 'node:child_process';
import { cliPath } from './paths.js';

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal name) once the process ended. */
  exited: Promise<number | string>;
  /** Waits until stderr (the log) contains `text`, or fails after `timeoutMs`. */
  waitForLog(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

/** Runs the built CLI as users do, capturing its output. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): CliRun {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForLog(text, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      const seen = () => (typeof text === 'string' ? err.includes(text) : text.test(err));
      while (!seen()) {
        if (child.exitCode !== null)
          throw new Error(`CLI exited (${child.exitCode}) before logging ${text}:\n${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${text} in the log:\n${err}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
