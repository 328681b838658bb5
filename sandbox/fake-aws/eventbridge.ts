import { AwsError, serverError } from './errors.js';
import { jsonProtocol } from './json-protocol.js';
import { isObject, operationsReading, type ParamReader } from './params.js';
import type { RequestContext, ServiceDef } from './protocol.js';
import type { FakeSqs } from './sqs.js';
import { decodeToken, encodeToken, isoSeconds, newUuid, Regional, toMillis } from './util.js';

/** An event as EventBridge delivers it; only `source` and `detail-type` are required here. */
export interface EventInput {
  source: string;
  'detail-type': string;
  detail?: unknown;
  resources?: string[];
  time?: Date | number | string;
  id?: string;
  /** Bus the event is put on (default `default`). */
  eventBusName?: string;
}

export interface DeliveryFailure {
  ruleArn: string;
  targetId: string;
  eventId: string;
  reason: string;
}

interface Target {
  Id: string;
  Arn: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
  SqsParameters?: { MessageGroupId?: string };
  [other: string]: unknown;
}

interface Rule {
  name: string;
  bus: string;
  arn: string;
  accountId: string;
  eventPattern: string | undefined;
  pattern: Record<string, unknown> | undefined;
  scheduleExpression: string | undefined;
  state: string;
  description: string | undefined;
  roleArn: string | undefined;
  targets: Map<string, Target>;
}

/** SenderId of the messages EventBridge puts on SQS targets. */
const EVENTS_SENDER_ID = 'AIDAEVENTBRIDGEDELIVERY';
const STATES = ['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'];
const OPERATORS = new Set([
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'equals-ignore-case',
  'numeric',
  'wildcard',
]);

const ebError = (code: string, message: string): AwsError => new AwsError(code, message, 400);
const validation = (message: string): AwsError => ebError('ValidationException', message);
const badPattern = (reason: string): AwsError =>
  ebError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}`);

/** EventBridge over AWS JSON 1.1: rules with event patterns, targets, and delivery to SQS. */
export class FakeEventBridge {
  private readonly rules = new Regional(() => new Map<string, Rule>());
  private readonly failures: DeliveryFailure[] = [];
  readonly def: ServiceDef;

  constructor(
    private readonly sqs: FakeSqs,
    private readonly defaultAccountId: string,
  ) {
    const op = operationsReading(validation, (name) => validation(`Parameter ${name} must be specified.`));
    this.def = {
      name: 'eventbridge',
      protocol: jsonProtocol({ version: '1.1', targets: ['AWSEvents'] }),
      operations: {
        PutRule: op((p, ctx) => ({ RuleArn: this.putRule(p, ctx).arn })),
        PutTargets: op((p, ctx) => this.putTargets(p, ctx)),
        DescribeRule: op((p, ctx) =>
          describe(
            this.rule(ctx.identity.accountId, ctx.region, p.requiredString('Name'), p.string('EventBusName')),
          ),
        ),
        ListTargetsByRule: op((p, ctx) => this.listTargets(p, ctx)),
        PutEvents: op((p, ctx) => this.putEventsOp(p, ctx)),
      },
      throttlingError: () => ebError('ThrottlingException', 'Rate exceeded'),
      serverError,
    };
  }

  // ---- direct API -------------------------------------------------------------------------------

  /**
   * Puts events on a bus (as an AWS service would, so `aws.*` sources are allowed) and delivers
   * each to the SQS targets of the enabled rules it matches. Returns the event ids.
   */
  putEvents(region: string, events: EventInput[], accountId = this.defaultAccountId): string[] {
    return events.map((e) =>
      this.route(accountId, region, e.eventBusName ?? 'default', envelope(e, accountId, region)),
    );
  }

  /** Deliveries that could not be made (target queue missing, FIFO parameters wrong...). */
  deliveryFailures(): readonly DeliveryFailure[] {
    return this.failures;
  }

  // ---- rules and targets ------------------------------------------------------------------------

  private key = (bus: string, name: string): string => `${bus}/${name}`;

  private rule(accountId: string, region: string, name: string, bus = 'default'): Rule {
    const rule = this.rules.get(accountId, region).get(this.key(bus, name));
    if (!rule) throw ebError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`);
    return rule;
  }

  private putRule(p: ParamReader, ctx: RequestContext): Rule {
    const name = p.requiredString('Name');
    if (!/^[.\-_A-Za-z0-9]{1,64}$/.test(name))
      throw validation(
        `Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`,
      );
    const bus = p.string('EventBusName') ?? 'default';
    if (bus !== 'default') throw ebError('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
    const eventPattern = p.string('EventPattern');
    const scheduleExpression = p.string('ScheduleExpression');
    if (eventPattern === undefined && scheduleExpression === undefined)
      throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    const state = p.string('State') ?? 'ENABLED';
    if (!STATES.includes(state))
      throw validation(
        `Value '${state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [${STATES.join(', ')}]`,
      );
    const { accountId } = ctx.identity;
    const rules = this.rules.get(accountId, ctx.region);
    const existing = rules.get(this.key(bus, name));
    const rule: Rule = {
      name,
      bus,
      arn: `arn:aws:events:${ctx.region}:${accountId}:rule/${name}`,
      accountId,
      eventPattern,
      pattern: eventPattern === undefined ? undefined : parsePattern(eventPattern),
      scheduleExpression,
      state,
      description: p.string('Description'),
      roleArn: p.string('RoleArn'),
      targets: existing?.targets ?? new Map(),
    };
    rules.set(this.key(bus, name), rule);
    return rule;
  }

  private putTargets(p: ParamReader, ctx: RequestContext): unknown {
    const rule = this.rule(
      ctx.identity.accountId,
      ctx.region,
      p.requiredString('Rule'),
      p.string('EventBusName'),
    );
    const targets = p.array('Targets') ?? [];
    if (targets.length === 0 || targets.length > 10)
      throw validation('Targets must hold from 1 to 10 targets.');
    for (const [i, raw] of targets.entries()) {
      const t = p.nested(raw, `Targets.${i + 1}`);
      const id = t.requiredString('Id');
      const arn = t.requiredString('Arn');
      if (!/^arn:aws[a-z-]*:[a-z0-9-]+:/.test(arn))
        throw validation(`Parameter ${arn} is not valid. Reason: Provided Arn is not in correct format.`);
      const given = ['Input', 'InputPath', 'InputTransformer'].filter((k) => t.has(k));
      if (given.length > 1)
        throw validation('Only one of Input, InputPath, or InputTransformer must be provided.');
      if (t.has('Input'))
        parseJson(t.requiredString('Input'), () => validation('Input must be valid JSON text.'));
      const transformer = t.object('InputTransformer');
      if (transformer) {
        transformer.requiredString('InputTemplate');
        transformer.stringMap('InputPathsMap');
      }
      if (
        arn.startsWith('arn:aws:sqs:') &&
        arn.endsWith('.fifo') &&
        !t.object('SqsParameters')?.string('MessageGroupId')
      ) {
        throw validation('Parameter(s) SqsParameters must be specified for FIFO queues.');
      }
      rule.targets.set(id, { ...(raw as Target) });
    }
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  private listTargets(p: ParamReader, ctx: RequestContext): unknown {
    const rule = this.rule(
      ctx.identity.accountId,
      ctx.region,
      p.requiredString('Rule'),
      p.string('EventBusName'),
    );
    const limit = p.integer('Limit', 1, 100) ?? 100;
    const query = { rule: rule.arn, limit };
    const token = p.string('NextToken');
    const from = token === undefined ? 0 : decodeToken(token, query);
    if (typeof from !== 'number') throw validation('The NextToken provided is invalid.');
    const all = [...rule.targets.values()];
    const page = all.slice(from, from + limit);
    return {
      Targets: page,
      ...(from + limit < all.length ? { NextToken: encodeToken(from + limit, query) } : {}),
    };
  }

  private putEventsOp(p: ParamReader, ctx: RequestContext): unknown {
    const entries = p.array('Entries') ?? [];
    if (entries.length === 0 || entries.length > 10)
      throw validation('Entries must hold from 1 to 10 entries.');
    const results = entries.map((raw, i) => {
      const e = p.nested(raw, `Entries.${i + 1}`);
      const source = e.string('Source');
      const detailType = e.string('DetailType');
      const detailText = e.string('Detail');
      if (!source || !detailType || detailText === undefined) {
        return {
          ErrorCode: 'InvalidArgument',
          ErrorMessage: 'Parameters Source, DetailType and Detail are required.',
        };
      }
      if (source.startsWith('aws.')) {
        return {
          ErrorCode: 'NotAuthorizedForSourceException',
          ErrorMessage: `Not authorized for the source ${source}.`,
        };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(detailText);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (!isObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      const time = e.timestamp('Time');
      const event = envelope(
        {
          source,
          'detail-type': detailType,
          detail,
          resources: e.stringArray('Resources') ?? [],
          ...(time !== undefined ? { time } : {}),
        },
        ctx.identity.accountId,
        ctx.region,
      );
      return {
        EventId: this.route(ctx.identity.accountId, ctx.region, e.string('EventBusName') ?? 'default', event),
      };
    });
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  // ---- delivery ---------------------------------------------------------------------------------

  private route(accountId: string, region: string, bus: string, event: Record<string, unknown>): string {
    const id = String(event.id);
    for (const rule of this.rules.get(accountId, region).values()) {
      if (
        rule.bus !== bus ||
        rule.state === 'DISABLED' ||
        !rule.pattern ||
        !matchPattern(rule.pattern, event)
      )
        continue;
      for (const target of rule.targets.values()) {
        if (!target.Arn.startsWith('arn:aws:sqs:')) continue;
        try {
          this.sqs.sendToArn(target.Arn, targetInput(target, event, rule), EVENTS_SENDER_ID, {
            ...(target.SqsParameters?.MessageGroupId !== undefined
              ? { groupId: target.SqsParameters.MessageGroupId }
              : {}),
            // FIFO targets deduplicate on the event id.
            ...(target.Arn.endsWith('.fifo') ? { deduplicationId: id } : {}),
          });
        } catch (err) {
          if (!(err instanceof AwsError)) throw err;
          this.failures.push({
            ruleArn: rule.arn,
            targetId: target.Id,
            eventId: id,
            reason: `${err.code}: ${err.message}`,
          });
        }
      }
    }
    return id;
  }
}

function envelope(e: EventInput, accountId: string, region: string): Record<string, unknown> {
  return {
    version: '0',
    id: e.id ?? newUuid(),
    'detail-type': e['detail-type'],
    source: e.source,
    account: accountId,
    time: isoSeconds(e.time === undefined ? Date.now() : toMillis(e.time)),
    region,
    resources: e.resources ?? [],
    detail: e.detail ?? {},
  };
}

function describe(rule: Rule): unknown {
  return {
    Name: rule.name,
    Arn: rule.arn,
    ...(rule.eventPattern !== undefined ? { EventPattern: rule.eventPattern } : {}),
    ...(rule.scheduleExpression !== undefined ? { ScheduleExpression: rule.scheduleExpression } : {}),
    State: rule.state,
    ...(rule.description !== undefined ? { Description: rule.description } : {}),
    ...(rule.roleArn !== undefined ? { RoleArn: rule.roleArn } : {}),
    EventBusName: rule.bus,
    CreatedBy: rule.accountId,
  };
}

function parseJson<T>(text: string, error: () => AwsError): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw error();
  }
}

/** Parses and validates an event pattern: objects nest, leaves are arrays of values or operators. */
function parsePattern(text: string): Record<string, unknown> {
  const pattern = parseJson<unknown>(text, () => badPattern('Filter is not valid JSON.'));
  const check = (node: unknown, path: string): void => {
    if (!isObject(node)) throw badPattern(`"${path}" must be an object or an array`);
    for (const [key, value] of Object.entries(node)) {
      if (Array.isArray(value)) {
        for (const item of value) {
          if (isObject(item) && !Object.keys(item).every((op) => OPERATORS.has(op))) {
            throw badPattern(`Unrecognized match type ${Object.keys(item).join(', ')}`);
          }
        }
      } else check(value, key);
    }
  };
  check(pattern, 'pattern');
  return pattern as Record<string, unknown>;
}

/** EventBridge content filtering on an event (arrays in the event match if any element does). */
export function matchPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    const value = isObject(event) ? event[key] : undefined;
    if (!Array.isArray(rule)) return matchPattern(rule as Record<string, unknown>, value);
    const values = Array.isArray(value) ? value : [value];
    return rule.some((r) =>
      isObject(r) && 'exists' in r
        ? (value !== undefined) === (r.exists === true)
        : values.some((v) => v !== undefined && matchValue(r, v)),
    );
  });
}

function matchValue(rule: unknown, value: unknown): boolean {
  if (!isObject(rule)) return rule === value;
  const [op, arg] = Object.entries(rule)[0] ?? [];
  const text = typeof value === 'string' ? value : undefined;
  switch (op) {
    case 'prefix':
      return text !== undefined && typeof arg === 'string' && text.startsWith(arg);
    case 'suffix':
      return text !== undefined && typeof arg === 'string' && text.endsWith(arg);
    case 'equals-ignore-case':
      return text !== undefined && typeof arg === 'string' && text.toLowerCase() === arg.toLowerCase();
    case 'wildcard':
      return (
        text !== undefined &&
        typeof arg === 'string' &&
        new RegExp(`^${arg.split('*').map(escapeRegExp).join('.*')}$`).test(text)
      );
    case 'anything-but':
      return Array.isArray(arg)
        ? !arg.includes(value)
        : isObject(arg)
          ? !matchValue(arg, value)
          : arg !== value;
    case 'numeric': {
      if (typeof value !== 'number' || !Array.isArray(arg)) return false;
      for (let i = 0; i + 1 < arg.length; i += 2) {
        const [cmp, n] = [arg[i], arg[i + 1] as number];
        const ok =
          cmp === '<'
            ? value < n
            : cmp === '<='
              ? value <= n
              : cmp === '='
                ? value === n
                : cmp === '>='
                  ? value >= n
                  : value > n;
        if (!ok) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What a target receives: the event, a constant Input, a path into it, or a transformed template. */
function targetInput(target: Target, event: Record<string, unknown>, rule: Rule): string {
  if (target.Input !== undefined) return target.Input;
  if (target.InputPath !== undefined) return JSON.stringify(jsonPath(event, target.InputPath) ?? null);
  const transformer = target.InputTransformer;
  if (!transformer) return JSON.stringify(event);
  const values: Record<string, unknown> = {
    'aws.events.rule-arn': rule.arn,
    'aws.events.rule-name': rule.name,
    'aws.events.event.ingestion-time': event.time,
    'aws.events.event': event,
    'aws.events.event.json': event,
  };
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {}))
    values[name] = jsonPath(event, path);
  return transformer.InputTemplate.replace(/<([^<>\s]+)>/g, (whole, name: string) => {
    if (!(name in values)) return whole;
    const v = values[name];
    return typeof v === 'string' ? v : JSON.stringify(v ?? null);
  });
}

/** `$`, `$.a.b`, `$.a[0]` paths. */
function jsonPath(root: unknown, path: string): unknown {
  const steps = path.replace(/^\$/, '').match(/\.[^.[\]]+|\[\d+\]/g) ?? [];
  let node = root;
  for (const step of steps) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[step.startsWith('[') ? step.slice(1, -1) : step.slice(1)];
  }
  return node;
}
