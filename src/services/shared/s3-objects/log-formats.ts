import { CloudFrontLogParser } from '../../../formats/cloudfront.js';
import { VpcFlowLogParser } from '../../../formats/vpc-flow.js';
import { vpcFlowParquetHeader, vpcFlowParquetLine } from '../../../formats/vpc-flow-parquet.js';
import { DEFAULT_MAX_PARQUET_ROW_GROUP_BYTES } from '../config-fields.js';
import { lineParser, type ObjectFormat } from './formats.js';

/**
 * VPC Flow Logs files, text or Parquet: one event per record row (see VpcFlowLogParser for the
 * message); a Parquet file's rows are read as the text format would hold them, so both give the
 * same events. `maxRowGroupBytes`: max_parquet_row_group_bytes.
 */
export function vpcFlowLogsFormat(
  tag: string,
  maxRowGroupBytes = DEFAULT_MAX_PARQUET_ROW_GROUP_BYTES,
): ObjectFormat {
  return {
    name: 'vpcflowlogs',
    accepts: () => true,
    open(source) {
      return lineParser(new VpcFlowLogParser({ source }), tag);
    },
    parquet: () => ({ maxRowGroupBytes, header: vpcFlowParquetHeader, line: vpcFlowParquetLine }),
  };
}

/** CloudFront standard logs: one event per record line, as written. */
export function cloudFrontFormat(tag: string): ObjectFormat {
  return {
    name: 'cloudfront',
    accepts: () => true,
    open(source) {
      return lineParser(new CloudFrontLogParser({ source }), tag);
    },
  };
}
