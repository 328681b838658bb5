import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCollectorError } from '../../../../src/core/errors.js';
import { DEFAULT_CLOUDTRAIL_KEY_FILTER } from '../../../../src/formats/cloudtrail.js';
import { decompress } from '../../../../src/formats/compression.js';
import type { CollectorEvent } from '../../../../src/core/batch.js';
import { auditEventsTagRule } from '../../../../src/services/audit-events-all/tags.js';
import { cloudTrailFormat } from '../../../../src/services/shared/s3-objects/cloudtrail-format.js';
import {
  cloudFrontFormat,
  vpcFlowLogsFormat,
} from '../../../../src/services/shared/s3-objects/log-formats.js';
import type { ObjectFormat } from '../../../../src/services/shared/s3-objects/formats.js';
import { jsonFormat, linesFormat, ndjsonFormat } from '../../../../src/services/s3-logs/formats.js';
import { createTagger } from '../../../../src/services/shared/tagging/tagger.js';
import { hostileCorpus, hostileObject } from '../../../helpers/hostile.js';

// Every entry of the hostile corpus through every S3 object format, as the object reader feeds
// them (decompression by magic bytes, then the format's parser): a clean parse, OBJECT_CORRUPT or
// OBJECT_REJECTED (not of the format at all) naming the object, never another error, a hang or
// unbounded memory.

const FORMATS: ObjectFormat[] = [
  cloudTrailFormat({
    tagger: createTagger({
      rule: auditEventsTagRule,
      defaultTag: 'cloud.aws.cloudwatch.events',
      region: 'us-east-1',
    }),
    keyFilter: new RegExp(DEFAULT_CLOUDTRAIL_KEY_FILTER),
    dropEventNames: [],
  }),
  vpcFlowLogsFormat('cloud.aws.vpc.flowlogs'),
  cloudFrontFormat('cloud.aws.cloudfront'),
  jsonFormat('cloud.aws.s3.json', {}),
  ndjsonFormat('cloud.aws.s3.ndjson'),
  linesFormat('cloud.aws.s3.lines'),
];

/** GetObject bodies come in pieces of about 64 KiB. */
async function* body(bytes: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024);
}

/** 'ok' or the error code; events are counted and dropped, as delivery would. */
async function parse(format: ObjectFormat, bytes: Buffer, source: string): Promise<string> {
  const parser = format.open(source, {
    bucket: 'hostile-bucket',
    key: source.slice(20),
    region: 'us-east-1',
  });
  const out: CollectorEvent[] = [];
  try {
    for await (const chunk of decompress(body(bytes), { source })) {
      parser.push(chunk, out);
      out.length = 0;
    }
    parser.end(out);
    return 'ok';
  } catch (err) {
    assert.ok(
      isCollectorError(err, 'OBJECT_CORRUPT') || isCollectorError(err, 'OBJECT_REJECTED'),
      `${source} as ${format.name}: ${String(err)}`,
    );
    assert.equal(err.details.source, source, 'the error names the object');
    return err.code;
  }
}

test('every hostile object through every S3 format: a clean parse, OBJECT_CORRUPT or OBJECT_REJECTED naming it, in bounded memory', async (t) => {
  // Built first (about 1 MB of compressed bytes), so that only parsing is measured.
  const objects = await Promise.all(
    hostileCorpus.map(async (e) => [e, await hostileObject(e.name)] as const),
  );
  const rssBefore = process.resourceUsage().maxRSS;
  for (const [entry, bytes] of objects) {
    for (const format of FORMATS) {
      const source = `s3://hostile-bucket/${entry.name}`;
      const outcome = await parse(format, bytes, source);
      const expected = entry.expect?.[format.name];
      if (expected !== undefined) assert.equal(outcome, expected, `${entry.name} as ${format.name}`);
    }
  }
  // maxRSS is in KiB. The content totals about 520 MB decompressed (183 MB of it the crafted
  // CloudTrail object, which alone took 2 GB before nesting was bounded); a parser holds a bounded part.
  const growth = (process.resourceUsage().maxRSS - rssBefore) / 1024;
  t.diagnostic(
    `peak RSS grew by ${growth.toFixed(0)} MiB over ${objects.length} objects × ${FORMATS.length} formats`,
  );
  assert.ok(growth < 128, `peak RSS grew by ${growth.toFixed(0)} MiB`);
});
