import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kindOfFormat, kindOfKey, sniffFormat } from '../../../src/services/s3-logs/kinds.js';

const ACCOUNT = '123456789012';

/** Keys as AWS documents their layouts (each service's user guide), with and without a prefix. */
const KEYS: [key: string, kind: string, format: string, tag: string][] = [
  [
    `AWSLogs/${ACCOUNT}/elasticloadbalancing/eu-west-1/2026/11/20/${ACCOUNT}_elasticloadbalancing_eu-west-1_app.my-loadbalancer.1234567890abcdef_20261120T1805Z_172.160.001.192_20sg8hgm.log.gz`,
    'alb',
    'elb',
    'web.aws.alb.access',
  ],
  [
    `my-prefix/AWSLogs/${ACCOUNT}/elasticloadbalancing/us-east-2/2026/05/01/${ACCOUNT}_elasticloadbalancing_us-east-2_net.my-loadbalancer.1234567890abcdef_20260501T0000Z_5d3f1a2b.log.gz`,
    'nlb',
    'elb',
    'cloud.aws.nlb.access',
  ],
  [
    `AWSLogs/${ACCOUNT}/elasticloadbalancing/us-west-2/2026/02/15/${ACCOUNT}_elasticloadbalancing_us-west-2_my-loadbalancer_20260215T2340Z_172.160.001.192_20sg8hgm.log`,
    'elb',
    'elb',
    'web.aws.elb.access',
  ],
  [
    `AWSLogs/${ACCOUNT}/elasticloadbalancing/us-east-2/2026/05/01/${ACCOUNT}_elasticloadbalancing_us-east-2_conn_log.app.my-loadbalancer.1234567890abcdef_20260501T0000Z_172.160.001.192_20sg8hgm.log.gz`,
    'alb_connection',
    'elb',
    'cloud.aws.alb.connection',
  ],
  ['logs/2026-11-20-18-05-41-1A2B3C4D5E6F7A8B', 's3_access', 's3_access', 'web.aws.s3.access'],
  [
    `s3-access/${ACCOUNT}/eu-west-1/my-bucket/2026/11/20/2026-11-20-18-05-41-1A2B3C4D5E6F7A8B`,
    's3_access',
    's3_access',
    'web.aws.s3.access',
  ],
  [
    `AWSLogs/${ACCOUNT}/WAFLogs/us-east-1/TestWebACL/2026/11/20/18/05/${ACCOUNT}_waflogs_us-east-1_TestWebACL_20261120T1805Z_abcd1234.log.gz`,
    'waf',
    'waf',
    'cloud.aws.waf.logs',
  ],
  [
    `AWSLogs/${ACCOUNT}/vpcdnsquerylogs/vpc-0a1b2c3d/2026/11/20/${ACCOUNT}_vpcdnsquerylogs_vpc-0a1b2c3d_20261120T1805Z_abcd1234.log.gz`,
    'route53_resolver',
    'route53_resolver',
    'dns.aws.route53',
  ],
  [
    `AWSLogs/${ACCOUNT}/network-firewall/alert/us-east-1/my-firewall/2026/11/20/18/${ACCOUNT}_network-firewall_alert_us-east-1_my-firewall_20261120T1805Z_abcd1234.log.gz`,
    'network_firewall_alert',
    'network_firewall',
    'cloud.aws.networkfirewall.alert',
  ],
  [
    `AWSLogs/${ACCOUNT}/network-firewall/tls/us-east-1/my-firewall/2026/11/20/18/${ACCOUNT}_network-firewall_tls_us-east-1_my-firewall_20261120T1805Z_abcd1234.log.gz`,
    'network_firewall_tls',
    'network_firewall',
    'cloud.aws.networkfirewall.tls',
  ],
  [
    `AWSLogs/${ACCOUNT}/GuardDuty/eu-west-1/2026/11/20/5f3e8c2a-1b2c-3d4e-5f6a-7b8c9d0e1f2a.jsonl.gz`,
    'guardduty',
    'guardduty',
    'cloud.aws.guardduty.findings',
  ],
  [
    `AWSLogs/${ACCOUNT}/Config/us-east-2/2026/11/20/ConfigHistory/${ACCOUNT}_Config_us-east-2_ConfigHistory_AWS::EC2::Instance_20261120T180541Z_20261120T181541Z_1.json.gz`,
    'config',
    'aws_config',
    'cloud.aws.configlogs.events',
  ],
  [
    `AWSLogs/${ACCOUNT}/Config/us-east-2/2026/11/20/ConfigSnapshot/${ACCOUNT}_Config_us-east-2_ConfigSnapshot_20261120T180541Z_a1b2c3d4-e5f6.json.gz`,
    'config',
    'aws_config',
    'cloud.aws.configlogs.events',
  ],
  [
    `AWSLogs/${ACCOUNT}/Config/ConfigWritabilityCheckFile`,
    'config_check',
    'aws_config',
    'cloud.aws.configlogs.events',
  ],
  [
    `AWSLogs/${ACCOUNT}/CloudTrail/eu-west-1/2026/11/20/${ACCOUNT}_CloudTrail_eu-west-1_20261120T1805Z_Ab12Cd34.json.gz`,
    'cloudtrail',
    'cloudtrail',
    'cloud.aws.cloudwatch.events',
  ],
  [
    `AWSLogs/${ACCOUNT}/vpcflowlogs/eu-west-1/2026/11/20/${ACCOUNT}_vpcflowlogs_eu-west-1_fl-1234abcd_20261120T1805Z_hash.log.gz`,
    'vpcflowlogs',
    'vpcflowlogs',
    'cloud.aws.vpc.flowlogs',
  ],
  [
    `AWSLogs/aws-account-id=${ACCOUNT}/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=11/day=20/${ACCOUNT}_vpcflowlogs_eu-west-1_fl-1234abcd_20261120T1805Z_hash.log.parquet`,
    'vpcflowlogs',
    'vpcflowlogs',
    'cloud.aws.vpc.flowlogs',
  ],
  ['cf/EMLARXS9EXAMPLE.2026-11-20-18.RT4KCN4SGK9.gz', 'cloudfront', 'cloudfront', 'cloud.aws.cloudfront'],
];

describe('format auto: AWS key layouts', () => {
  for (const [key, kind, format, tag] of KEYS) {
    test(`${kind}: ${key.slice(0, 60)}...`, () => {
      const found = kindOfKey(key);
      assert.deepEqual([found?.name, found?.format, found?.defaultTag], [kind, format, tag]);
    });
  }

  test('keys of no documented layout are recognised by content', () => {
    for (const key of ['app/events.json', 'exports/2026/11/20/data.ndjson.gz', 'AWSLogs/x/other/file.log'])
      assert.equal(kindOfKey(key), undefined, key);
  });

  test('only ConfigWritabilityCheckFile is skipped', () => {
    assert.deepEqual(
      KEYS.filter(([key]) => kindOfKey(key)?.skip).map(([, kind]) => kind),
      ['config_check'],
    );
  });

  test('an explicit format takes the kind its key shows, else the format’s first kind', () => {
    assert.equal(kindOfFormat('elb', KEYS[1]![0]).name, 'nlb');
    assert.equal(kindOfFormat('elb', 'lb/some.log').name, 'alb');
    assert.equal(kindOfFormat('json', KEYS[1]![0]).defaultTag, 'cloud.aws.s3.json');
  });
});

describe('format auto: content of keys that say nothing', () => {
  const cases: [head: string, format: string][] = [
    ['{"Records":[{"eventVersion":"1.08"', 'cloudtrail'],
    ['  {\n "Records": [', 'cloudtrail'],
    [
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 1',
      'vpcflowlogs',
    ],
    ['#Version: 1.0\n#Fields: date time', 'cloudfront'],
    ['[{"a":1},\n{"a":2}]', 'json'],
    ['{\n  "items": [', 'json'],
    ['{"a":1}\n{"a":2}\n', 'ndjson'],
    ['{"a":1}', 'ndjson'],
    ['2026-11-20 18:05:41 GET /index.html 200\n', 'lines'],
    ['', 'lines'],
  ];
  for (const [head, format] of cases) {
    test(`${JSON.stringify(head.slice(0, 30))} → ${format}`, () => assert.equal(sniffFormat(head), format));
  }
});
