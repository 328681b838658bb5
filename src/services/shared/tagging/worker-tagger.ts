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
  const tagConfigKey = tagConfigKeyOf(ctx);
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

/**
 * The one tag of every event of a worker whose events are all of one kind (`kind` is its
 * {event_type}), the account being known.
 */
export function fixedTag(
  ctx: WorkerContext,
  options: { kind: string; defaultTag: string; tag: string | undefined; accountId: string | undefined },
): string {
  return createTagger({
    rule: { fixed: options.kind },
    defaultTag: options.defaultTag,
    tag: options.tag,
    tagConfigKey: tagConfigKeyOf(ctx),
    region: ctx.region,
    accountId: options.accountId,
  }).tagFor({});
}

const tagConfigKeyOf = (ctx: WorkerContext): string => `inputs.aws.services.${ctx.serviceName}.tag`;
