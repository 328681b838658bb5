import { DescribeLogGroupsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { paceAttempts, retryThrottled, type RateLimiter } from '../../aws/rate-limiter.js';

/** A log group as DescribeLogGroups lists it. */
export interface FoundLogGroup {
  readonly name: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

export interface GroupSelection {
  /** Sent as logGroupNamePrefix: AWS narrows the listing. */
  readonly prefix?: string | undefined;
  /** Tested on every listed name (AWS's logGroupNamePattern is a substring search, not a regex). */
  readonly pattern?: RegExp | undefined;
}

/** Pages of DescribeLogGroups are this long at most (API reference). */
const PAGE = 50;

/** Every log group of the client's account and region that the selection takes, ASCII-sorted by name. */
export async function listLogGroups(
  client: CloudWatchLogsClient,
  limiter: RateLimiter,
  selection: GroupSelection,
  signal: AbortSignal,
  where: string,
): Promise<FoundLogGroup[]> {
  const found: FoundLogGroup[] = [];
  let token: string | undefined;
  do {
    const out = await retryThrottled(
      () => {
        const command = new DescribeLogGroupsCommand({
          ...(selection.prefix !== undefined ? { logGroupNamePrefix: selection.prefix } : {}),
          limit: PAGE,
          ...(token ? { nextToken: token } : {}),
        });
        paceAttempts(command, limiter, signal);
        return client.send(command, { abortSignal: signal });
      },
      { signal, what: `CloudWatch Logs DescribeLogGroups in ${where}` },
    );
    for (const g of out.logGroups ?? []) {
      if (!g.logGroupName || (selection.pattern && !selection.pattern.test(g.logGroupName))) continue;
      found.push({ name: g.logGroupName, createdAt: g.creationTime ?? 0 });
    }
    token = out.nextToken || undefined;
  } while (token && !signal.aborted);
  return found;
}
