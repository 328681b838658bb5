import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  eventBridgeEvent,
  serviceEventsTagRule,
  TAG_CLOUDWATCH_EVENTS,
} from '../../../../src/services/service-events-all/events.js';
import { TAG_SECURITYHUB_FINDINGS } from '../../../../src/services/sqs-cloudwatch-consumer/index.js';
import { securityHubFindings } from '../../../../src/services/sqs-cloudwatch-consumer/findings.js';
import type { EventTags } from '../../../../src/services/shared/sqs-events/convert.js';
import { createTagger, type TaggerOptions } from '../../../../src/services/shared/tagging/tagger.js';
import {
  guardDutyEvent as guardDuty,
  securityHubEvent as securityHub,
  securityHubEventWith,
} from './fixtures.js';

function serviceTags(options: Partial<TaggerOptions> = {}): EventTags {
  const tagger = createTagger({
    rule: serviceEventsTagRule,
    defaultTag: TAG_CLOUDWATCH_EVENTS,
    region: 'eu-west-1',
    accountId: '123456789012',
    ...options,
  });
  return { tagger, fallback: options.tag === undefined ? TAG_CLOUDWATCH_EVENTS : tagger.tagFor({}) };
}
function hubTags(tag?: string): EventTags {
  const tagger = createTagger({
    rule: { fixed: 'securityhub' },
    defaultTag: TAG_SECURITYHUB_FINDINGS,
    region: 'us-east-1',
    tag,
  });
  return { tagger, fallback: tagger.tagFor({}) };
}

/** The fixture re-serialised over several lines, as a pretty-printing producer would send it. */
const pretty = (body: string) => JSON.stringify(JSON.parse(body), null, 2);

describe('service-events-all message conversion', () => {
  test('one event: the compact JSON of the EventBridge event, default tag', () => {
    const { events, malformed } = eventBridgeEvent(pretty(guardDuty), serviceTags());
    assert.equal(malformed, undefined);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.tag, 'cloud.aws.cloudwatch.events');
    assert.equal(events[0]!.message, JSON.stringify(JSON.parse(guardDuty)));
    assert.doesNotMatch(events[0]!.message, /\n/);
  });

  test('auto_event_type tags by source; a tag template takes precedence and fills its placeholders', () => {
    assert.equal(
      eventBridgeEvent(guardDuty, serviceTags({ autoEventType: true })).events[0]!.tag,
      'cloud.aws.cloudwatch.guardduty',
    );
    const custom = JSON.stringify({ ...JSON.parse(guardDuty), source: 'my.app' });
    assert.equal(
      eventBridgeEvent(custom, serviceTags({ autoEventType: true })).events[0]!.tag,
      'cloud.aws.cloudwatch.custom',
    );
    const templated = serviceTags({ tag: 'my.aws.{region}.{account_id}.{event_type}', autoEventType: true });
    assert.equal(
      eventBridgeEvent(guardDuty, templated).events[0]!.tag,
      'my.aws.eu-west-1.123456789012.guardduty',
    );
  });

  test('a body that is not JSON goes out as-is on one line, to the default tag, marked not-json', () => {
    const body = 'plain text\nsecond line\r\nthird';
    const { events, malformed } = eventBridgeEvent(body, serviceTags({ autoEventType: true }));
    assert.equal(malformed, 'not-json');
    assert.deepEqual(events, [
      { tag: 'cloud.aws.cloudwatch.events', message: 'plain text\\nsecond line\\r\\nthird' },
    ]);
  });

  test('JSON that is not an EventBridge event goes out unchanged, to the configured tag, marked unexpected-shape', () => {
    for (const body of ['{"hello":\n"world"}', '[1,2]', '42', 'null', '{"source":"aws.ec2"}']) {
      const { events, malformed } = eventBridgeEvent(body, serviceTags({ tag: 'my.app.{event_type}' }));
      assert.equal(malformed, 'unexpected-shape', body);
      assert.deepEqual(events, [{ tag: 'my.app.unknown', message: body.replace('\n', '\\n') }]);
    }
  });
});

describe('sqs-cloudwatch-consumer message conversion', () => {
  /** Pretty-printed, so line breaks between findings must not reach the output. */
  const withFindings = (n: number): string => pretty(securityHubEventWith(n));

  test('one event per finding, each the compact JSON of the finding', () => {
    const { events, malformed } = securityHubFindings(withFindings(3), hubTags());
    assert.equal(malformed, undefined);
    assert.equal(events.length, 3);
    const ids = events.map((e) => (JSON.parse(e.message) as { Id: string }).Id);
    assert.equal(new Set(ids).size, 3);
    for (const e of events) {
      assert.equal(e.tag, 'cloud.aws.securityhub.findings');
      assert.doesNotMatch(e.message, /\n/);
      assert.equal(e.message, JSON.stringify(JSON.parse(e.message)));
    }
    assert.equal(securityHubFindings(withFindings(100), hubTags()).events.length, 100);
  });

  test("the user's tag replaces the default; {event_type} is securityhub", () => {
    assert.equal(
      securityHubFindings(securityHub, hubTags('my.hub.{event_type}.{region}')).events[0]!.tag,
      'my.hub.securityhub.us-east-1',
    );
  });

  test('an event without findings, or a body that is not JSON, goes out as-is', () => {
    const insight = JSON.stringify({
      source: 'aws.securityhub',
      'detail-type': 'Security Hub Insight Results',
      detail: { insightResults: [] },
    });
    assert.deepEqual(securityHubFindings(insight, hubTags()), {
      events: [{ tag: 'cloud.aws.securityhub.findings', message: insight }],
      malformed: 'unexpected-shape',
    });
    assert.equal(securityHubFindings(withFindings(0), hubTags()).malformed, 'unexpected-shape');
    assert.deepEqual(securityHubFindings('{oops\n', hubTags()), {
      events: [{ tag: 'cloud.aws.securityhub.findings', message: '{oops\\n' }],
      malformed: 'not-json',
    });
  });
});

test('service events keep numbers and strings exactly as AWS wrote them (no JSON round trip)', () => {
  const body =
    '{\n  "version": "0", "id": "e1", "detail-type": "Custom", "source": "aws.ec2",\n  "detail": { "big": 12345678901234567890, "ratio": 4.0, "s": "a\\u00e9 b" }\n}';
  const out = eventBridgeEvent(body, serviceTags());
  assert.equal(
    out.events[0]!.message,
    '{"version":"0","id":"e1","detail-type":"Custom","source":"aws.ec2","detail":{"big":12345678901234567890,"ratio":4.0,"s":"a\\u00e9 b"}}',
  );
});

test('Security Hub findings keep numbers and strings exactly as AWS wrote them (no JSON round trip)', () => {
  const body = `{"version":"0","source":"aws.securityhub","detail-type":"Security Hub Findings - Imported",
  "detail": {"count": 1, "findings": [
    { "Id": "f1", "Count": 12345678901234567890, "Severity": { "Normalized": 4.0 }, "Title": "caf\\u00e9" },
    {"Id":"f2","Resources":[{"Details":{"findings":[1]}}]}
  ]}, "findings": "not these"}`;
  const { events, malformed } = securityHubFindings(body, hubTags());
  assert.equal(malformed, undefined);
  assert.deepEqual(
    events.map((e) => e.message),
    [
      '{"Id":"f1","Count":12345678901234567890,"Severity":{"Normalized":4.0},"Title":"caf\\u00e9"}',
      '{"Id":"f2","Resources":[{"Details":{"findings":[1]}}]}',
    ],
  );
});
