import { CloudFrontLogParser } from '../../../formats/cloudfront.js';
import { VpcFlowLogParser } from '../../../formats/vpc-flow.js';
import { lineParser, type ObjectFormat } from './formats.js';

/** VPC Flow Logs files: one event per record row (see VpcFlowLogParser for the message). */
export function vpcFlowLogsFormat(tag: string): ObjectFormat {
  return {
    name: 'vpcflowlogs',
    accepts: () => true,
    open(source) {
      return lineParser(new VpcFlowLogParser({ source }), tag);
    },
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
