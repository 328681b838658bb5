import type { ServiceDefinition, ServiceWorker, WorkerContext } from '../definition.js';
import { queueOptions, s3ObjectsWorker, type S3ObjectsTuning } from '../shared/s3-objects/worker.js';
import { workerTagger } from '../shared/tagging/worker-tagger.js';
import { LOG_KINDS } from './kinds.js';
import { s3LogsSchema, type S3LogsConfig } from './schema.js';
import { selectingFormat } from './select.js';

export { s3LogsSchema, type S3LogsConfig } from './schema.js';

/**
 * A custom entry with `types: [s3]`: the objects announced on `sqs_queue_name`, each read in the
 * format its key selects (file_selectors, then `format`; `auto` recognises AWS's log layouts).
 */
export function createS3LogsWorker(
  config: S3LogsConfig,
  ctx: WorkerContext,
  tuning: S3ObjectsTuning = {},
): ServiceWorker {
  return s3ObjectsWorker(ctx, {
    ...tuning,
    name: `${ctx.serviceName}/${ctx.region}`,
    queueName: config.sqs_queue_name,
    ...queueOptions(config),
    format: async () => {
      // Every tag a kind can get, filled at the first pull ({account_id} needs STS once).
      const tags = new Map<string, string>();
      const templates = new Set([config.tag, ...config.file_selectors.map((s) => s.tag)]);
      for (const template of templates) {
        for (const kind of LOG_KINDS) {
          const tagger = await workerTagger(ctx, {
            rule: { fixed: kind.name },
            defaultTag: kind.defaultTag,
            tag: template,
          });
          tags.set(`${template ?? ''}\u0000${kind.name}`, tagger.tagFor({}));
        }
      }
      return selectingFormat({
        format: config.format,
        tag: config.tag,
        expandEventListFromField: config.expand_event_list_from_field,
        selectors: config.file_selectors,
        keyFilter: config.s3_file_type_filter,
        maxParquetRowGroupBytes: config.max_parquet_row_group_bytes,
        tagFor: (template, kind) => tags.get(`${template ?? ''}\u0000${kind.name}`)!,
      });
    },
  });
}

export const definition: ServiceDefinition<typeof s3LogsSchema> = {
  schema: s3LogsSchema,
  queues: (config) => [
    {
      queueName: config.sqs_queue_name,
      maxReceiveCount: config.max_receive_count,
      feed: { kind: 's3', content: 'log files' },
    },
  ],
  createWorkers: (config, ctx) => [createS3LogsWorker(config, ctx)],
};
