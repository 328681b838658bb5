import { CollectorError, ErrorCodes, describeError } from '../../../core/errors.js';
import { compileTagTemplate } from './template.js';
import { createTagger, type Tagger, type TaggerOptions } from './tagger.js';
import type { WorkerContext } from '../../definition.js';

/**
 * The worker's Tagger. The credentials' account id is looked up (STS, cached by AwsClients) only
 * when the user's tag uses {account_id}; a failed lookup fails the pull, which is retried.
 */
export async function workerTagger(
  ctx: WorkerContext,
  options: Omit<TaggerOptions, 'region' | 'accountId' | 'tagConfigKey'>,
): Promise<Tagger> {
  const tagConfigKey = `inputs.aws.services.${ctx.serviceName}.tag`;
  let accountId: string | undefined;
  if (
    options.tag !== undefined &&
    compileTagTemplate(options.tag, tagConfigKey).placeholders.has('account_id')
  ) {
    try {
      accountId = await ctx.aws.accountId(ctx.region);
    } catch (err) {
      throw new CollectorError(
        ErrorCodes.AWS_CALL_FAILED,
        `${tagConfigKey} uses {account_id}, but STS GetCallerIdentity failed in ${ctx.region}: ${describeError(err)}`,
        { cause: err, details: { region: ctx.region, configKey: tagConfigKey } },
      );
    }
  }
  return createTagger({ ...options, region: ctx.region, accountId, tagConfigKey });
}
