import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isCollectorError } from '../../../../src/core/errors.js';
import { compactCloudTrailEvent } from '../../../../src/formats/cloudtrail.js';
import {
  auditEventsTagRule,
  serviceFromEventSource,
} from '../../../../src/services/audit-events-all/tags.js';
import { TAG_CLOUDWATCH_LOGS } from '../../../../src/services/cloudwatch-logs/index.js';
import { TAG_CLOUDWATCH_METRICS } from '../../../../src/services/metrics-all/index.js';
import { TAG_CLOUDFRONT, TAG_VPC_FLOWLOGS } from '../../../../src/services/non-cloudwatch-logs/index.js';
import {
  eventTypeFromSource,
  serviceEventsTagRule,
  TAG_CLOUDWATCH_EVENTS,
} from '../../../../src/services/service-events-all/events.js';
import { TAG_SECURITYHUB_FINDINGS } from '../../../../src/services/sqs-cloudwatch-consumer/index.js';
import { createTagger } from '../../../../src/services/shared/tagging/tagger.js';
import {
  compileTagTemplate,
  sanitizeTagSegment,
  validateTagTemplate,
} from '../../../../src/services/shared/tagging/template.js';

describe('default tags', () => {
  test('one per service, as the data types table lists them', () => {
    assert.deepEqual(
      [
        TAG_CLOUDWATCH_EVENTS,
        TAG_SECURITYHUB_FINDINGS,
        TAG_CLOUDWATCH_METRICS,
        TAG_CLOUDWATCH_LOGS,
        TAG_VPC_FLOWLOGS,
        TAG_CLOUDFRONT,
      ],
      [
        'cloud.aws.cloudwatch.events',
        'cloud.aws.securityhub.findings',
        'cloud.aws.cloudwatch.metrics',
        'cloud.aws.cloudwatch.logs',
        'cloud.aws.vpc.flowlogs',
        'cloud.aws.cloudfront',
      ],
    );
  });
});

describe('event types', () => {
  test('from an EventBridge source', () => {
    assert.equal(eventTypeFromSource('aws.guardduty'), 'guardduty');
    assert.equal(eventTypeFromSource('aws.securityhub'), 'securityhub');
    assert.equal(eventTypeFromSource('aws.ssm-incidents'), 'ssm-incidents');
    assert.equal(eventTypeFromSource('aws.Some.Thing'), 'some_thing');
    assert.equal(eventTypeFromSource('aws.partner/datadog.com/123/alerts'), 'partner');
    assert.equal(eventTypeFromSource('my.app'), 'custom');
    assert.equal(eventTypeFromSource('aws.'), 'custom');
    assert.equal(eventTypeFromSource(''), 'unknown');
    assert.equal(eventTypeFromSource(undefined), 'unknown');
  });

  test('from a CloudTrail eventSource', () => {
    assert.equal(serviceFromEventSource('ec2.amazonaws.com'), 'ec2');
    assert.equal(serviceFromEventSource('s3.amazonaws.com'), 's3');
    assert.equal(serviceFromEventSource('signin'), 'signin');
    assert.equal(serviceFromEventSource('Evil Tag\n.amazonaws.com'), 'evil_tag_');
    assert.equal(serviceFromEventSource(undefined), 'unknown');
  });
});

describe('tag templates', () => {
  test('valid templates', () => {
    for (const tag of [
      'my.app.aws_service_events',
      'cloud.aws.cloudtrail.{service}',
      'my.app.{account_id}.{region}-{event_type}',
      'a.{service}{region}.c',
    ]) {
      assert.equal(validateTagTemplate(tag), undefined, tag);
    }
  });

  test('invalid templates get a message', () => {
    const cases: [string, RegExp][] = [
      [
        'my.app.{regoin}',
        /unknown placeholder \{regoin\} \(allowed: \{region\}, \{account_id\}, \{event_type\}, \{service\}\)/,
      ],
      ['my.app.{region', /'\{' at position 8 is not closed/],
      ['my.app.region}', /'\}' at position 14 closes no placeholder/],
      ['my.app.{}', /unknown placeholder \{\}/],
      ['my.app.a b', /characters a tag cannot have/],
      ['my.app.x\ny', /characters a tag cannot have/],
      ['my..app', /empty segment/],
      ['.my.app', /empty segment/],
      ['my.app.', /empty segment/],
      ['my.app', /at least 3 dot-separated segments/],
      ['{service}', /at least 3/],
    ];
    for (const [tag, message] of cases) assert.match(validateTagTemplate(tag) ?? 'valid', message, tag);
  });

  test('compiled once, rendered with sanitised values', () => {
    const template = compileTagTemplate('my.app.{region}.{account_id}.{service}');
    assert.deepEqual([...template.placeholders].sort(), ['account_id', 'region', 'service']);
    assert.equal(
      template.render({ region: 'eu-west-1', account_id: '123456789012', service: 'ec2' }),
      'my.app.eu-west-1.123456789012.ec2',
    );
    // Event data can never add a segment, a space or a newline to a tag.
    assert.equal(
      template.render({ region: 'a.b c\nd', service: 'X'.repeat(100) }),
      `my.app.a_b_c_d.unknown.${'x'.repeat(64)}`,
    );
  });

  test('a literal equal to a placeholder name stays literal', () => {
    assert.equal(
      compileTagTemplate('my.region.{region}').render({ region: 'us-east-1' }),
      'my.region.us-east-1',
    );
  });

  test('compiling an invalid template is CONFIG_INVALID naming the config key', () => {
    assert.throws(
      () => compileTagTemplate('my.app.{nope}', 'inputs.aws.services.cwl_1.tag'),
      (err: unknown) =>
        isCollectorError(err, 'CONFIG_INVALID') &&
        err.message.startsWith('inputs.aws.services.cwl_1.tag: invalid tag'),
    );
  });

  test('sanitizeTagSegment', () => {
    assert.equal(sanitizeTagSegment('GuardDuty'), 'guardduty');
    assert.equal(sanitizeTagSegment('a/b:c'), 'a_b_c');
    assert.equal(sanitizeTagSegment(''), 'unknown');
  });
});

describe('createTagger', () => {
  const where = { region: 'eu-west-1', accountId: '123456789012' };

  test('no tag, no auto_event_type: the default, constant', () => {
    const tagger = createTagger({ rule: serviceEventsTagRule, defaultTag: TAG_CLOUDWATCH_EVENTS, ...where });
    assert.equal(tagger.constant, TAG_CLOUDWATCH_EVENTS);
    assert.equal(tagger.tagFor({ source: 'aws.guardduty' }), TAG_CLOUDWATCH_EVENTS);
  });

  test('auto_event_type for service events: cloud.aws.cloudwatch.<event type>', () => {
    const tagger = createTagger({
      rule: serviceEventsTagRule,
      defaultTag: TAG_CLOUDWATCH_EVENTS,
      autoEventType: true,
      ...where,
    });
    assert.equal(tagger.constant, undefined);
    assert.equal(tagger.tagFor({ source: 'aws.guardduty' }), 'cloud.aws.cloudwatch.guardduty');
    assert.equal(tagger.tagFor({ source: 'my.app' }), 'cloud.aws.cloudwatch.custom');
    assert.equal(tagger.tagFor({ source: 'aws.partner/x.com/1/y' }), 'cloud.aws.cloudwatch.partner');
    // Many distinct sources: the bounded cache never gives a wrong tag.
    for (let i = 0; i < 3000; i++)
      assert.equal(tagger.tagFor({ source: `aws.s${i}` }), `cloud.aws.cloudwatch.s${i}`);
    assert.equal(tagger.tagFor({ source: 'aws.guardduty' }), 'cloud.aws.cloudwatch.guardduty');
  });

  test('auto_event_type for audit events: cloud.aws.cloudtrail.<service>', () => {
    const tagger = createTagger({
      rule: auditEventsTagRule,
      defaultTag: TAG_CLOUDWATCH_EVENTS,
      autoEventType: true,
      ...where,
    });
    assert.equal(tagger.tagFor({ eventSource: 'ec2.amazonaws.com' }), 'cloud.aws.cloudtrail.ec2');
    assert.equal(tagger.tagFor({ eventSource: 'iam.amazonaws.com' }), 'cloud.aws.cloudtrail.iam');
    assert.equal(tagger.tagFor({}), 'cloud.aws.cloudtrail.unknown');
  });

  test('auto_event_type does not change services with a fixed rule', () => {
    const tagger = createTagger({
      rule: { fixed: 'unknown' },
      defaultTag: TAG_VPC_FLOWLOGS,
      autoEventType: true,
      ...where,
    });
    assert.equal(tagger.constant, TAG_VPC_FLOWLOGS);
  });

  test('a tag without event placeholders is constant, filled from the worker', () => {
    const tagger = createTagger({
      rule: auditEventsTagRule,
      defaultTag: TAG_CLOUDWATCH_EVENTS,
      tag: 'my.app.{account_id}.{region}',
      autoEventType: true,
      ...where,
    });
    assert.equal(tagger.constant, 'my.app.123456789012.eu-west-1');
  });

  test('a tag with {service}/{event_type} is rendered per event; region and account from the worker', () => {
    const tagger = createTagger({
      rule: auditEventsTagRule,
      defaultTag: TAG_CLOUDWATCH_EVENTS,
      tag: 'my.app.{service}.{event_type}.{region}.{account_id}',
      ...where,
    });
    assert.equal(tagger.constant, undefined);
    const facts = {
      eventSource: 's3.amazonaws.com',
      awsRegion: 'us-east-1',
      recipientAccountId: '210987654321',
    };
    assert.equal(tagger.tagFor(facts), 'my.app.s3.s3.eu-west-1.123456789012');
  });

  test('use_region_and_account_id_from_event takes them from the event, else from the worker', () => {
    const tagger = createTagger({
      rule: auditEventsTagRule,
      defaultTag: TAG_CLOUDWATCH_EVENTS,
      tag: 'my.app.{region}.{account_id}',
      regionAndAccountFromEvent: true,
      ...where,
    });
    assert.equal(tagger.constant, undefined);
    assert.equal(
      tagger.tagFor({ region: 'us-east-1', accountId: '210987654321' }),
      'my.app.us-east-1.210987654321',
    );
    assert.equal(
      tagger.tagFor({ region: 'ap-south-1', accountId: '210987654321' }),
      'my.app.ap-south-1.210987654321',
    );
    assert.equal(tagger.tagFor({}), 'my.app.eu-west-1.123456789012');
    // From a CloudTrail record.
    const record = compactCloudTrailEvent('{"awsRegion":"sa-east-1","recipientAccountId":"444455556666"}');
    assert.equal(
      tagger.tagFor({
        eventSource: record.eventSource,
        region: record.awsRegion,
        accountId: record.recipientAccountId,
      }),
      'my.app.sa-east-1.444455556666',
    );
  });

  test('service events in a template; fixed rule with its own event type; unknown account', () => {
    const events = createTagger({
      rule: serviceEventsTagRule,
      defaultTag: TAG_CLOUDWATCH_EVENTS,
      tag: 'my.app.{event_type}',
      ...where,
    });
    assert.equal(events.tagFor({ source: 'aws.health' }), 'my.app.health');
    const flow = createTagger({
      rule: { fixed: 'vpcflowlogs' },
      defaultTag: TAG_VPC_FLOWLOGS,
      tag: 'my.app.{event_type}.{account_id}',
      region: 'eu-west-1',
    });
    assert.equal(flow.constant, 'my.app.vpcflowlogs.unknown');
  });

  test('an invalid tag throws CONFIG_INVALID', () => {
    assert.throws(
      () =>
        createTagger({
          rule: { fixed: 'unknown' },
          defaultTag: TAG_CLOUDFRONT,
          tag: 'bad tag',
          tagConfigKey: 'x.tag',
          ...where,
        }),
      (err: unknown) => isCollectorError(err, 'CONFIG_INVALID') && /^x\.tag: /.test(err.message),
    );
  });
});
