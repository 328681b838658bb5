import { REDIS_PASSWORD } from '../../sandbox/redis.js';

export { writeReplicaConfig } from '../../sandbox/replicas.js';
import { runCli, type CliRun } from './cli.js';

/**
 * Replicas of one configuration as CLI child processes on one redis-server and the fake AWS,
 * printing their events on stdout (console output), for the scale-out end-to-end tests.
 */

export function startReplica(config: string, cwd: string): CliRun {
  return runCli(['run', '--config', config], { cwd, env: { REDIS_PASSWORD } });
}

/** Ids of the events a replica printed (complete lines only): CloudTrail eventID, EventBridge id, or the log line. */
export function deliveredIds(run: CliRun): string[] {
  return run
    .stdout()
    .split('\n')
    .slice(0, -1)
    .map((line) => {
      const { message } = JSON.parse(line) as { message: string };
      const event = JSON.parse(message) as { eventID?: string; id?: string; message?: string };
      return event.eventID ?? event.id ?? event.message ?? message;
    });
}

/** The log records of a replica with `event` set to one of `events`. */
export function logEvents(run: CliRun, ...events: string[]): Record<string, unknown>[] {
  return run
    .stderr()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => events.includes(l.event as string));
}

/** Tasks a replica holds now, from what it logged taking, giving up and losing. */
export function heldTasks(run: CliRun): string[] {
  const held = new Set<string>();
  for (const l of logEvents(run, 'lease_taken', 'lease_released', 'lease_lost'))
    if (l.event === 'lease_taken') held.add(l.task as string);
    else held.delete(l.task as string);
  return [...held].sort();
}

/** The most calls in any one second among `times` (epoch ms, any order). */
export function mostPerSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= 1000) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}
