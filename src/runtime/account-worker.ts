import type { AwsClients } from '../aws/clients.js';
import { accountKey, type AccountConfig } from '../config/accounts.js';
import { CollectorError, ErrorCodes, describeError } from '../core/errors.js';
import type { ServiceWorker } from '../services/definition.js';

/**
 * A worker of one account of inputs.aws.accounts, named with the account so that the workers of
 * several accounts tell apart in logs, /status and metrics. Each pull first gets the account's
 * credentials (held while valid, so usually no call): a role the account refuses fails the pull as
 * ASSUME_ROLE_FAILED naming the account, retried like any failed pull; other accounts run on.
 */
export function accountWorker(worker: ServiceWorker, account: AccountConfig, aws: AwsClients): ServiceWorker {
  return {
    name: `${account.id}/${worker.name}`,
    pull: async () => {
      await assumeRole(account, aws);
      await worker.pull();
    },
    stop: () => worker.stop(),
    ...(worker.position ? { position: () => worker.position!() } : {}),
  };
}

async function assumeRole(account: AccountConfig, aws: AwsClients): Promise<void> {
  try {
    await aws.credentials!();
  } catch (err) {
    const configKey = accountKey(account, 'target_assume_role');
    throw new CollectorError(
      ErrorCodes.ASSUME_ROLE_FAILED,
      `account ${account.id}: cannot assume ${configKey} (${account.target_assume_role}): ${describeError(err)}`,
      { cause: err, details: { account: account.id, configKey, role: account.target_assume_role } },
    );
  }
}
