import type { IamGrant, ServiceQueue } from './definition.js';
import { definitionFor, PREDEFINED_SERVICES } from './registry.js';
import type { QueuePlan } from '../aws/auto-setup-plan.js';

/** The configured services: name, definition and (validated) block; predefined ones first, in registry order. */
function* configured(
  services: Readonly<Record<string, unknown>>,
): Generator<[string, ReturnType<typeof definitionFor>, { regions: readonly string[] }]> {
  const custom = Object.keys(services).filter((name) => !(PREDEFINED_SERVICES as string[]).includes(name));
  for (const name of [...PREDEFINED_SERVICES, ...custom]) {
    const config = services[name];
    if (config !== undefined)
      yield [name, definitionFor(name, config), config as { regions: readonly string[] }];
  }
}

/** The queues the configured services read, per region, and what feeds each (auto-setup, iam-policy). */
export function planAutoSetup(input: {
  readonly id: string;
  readonly services: Readonly<Record<string, unknown>>;
}): QueuePlan[] {
  const plans: QueuePlan[] = [];
  for (const [service, definition, config] of configured(input.services)) {
    const queues: ServiceQueue[] = definition.queues?.(config, input.id) ?? [];
    for (const queue of queues)
      for (const region of config.regions) plans.push({ service, region, ...queue });
  }
  return plans;
}

/** The IAM grants of the configured services' API calls, one per Sid (resources merged). */
export function serviceGrants(services: Readonly<Record<string, unknown>>, account: string): IamGrant[] {
  const bySid = new Map<string, IamGrant>();
  for (const [, definition, config] of configured(services)) {
    for (const grant of definition.grants?.(config, account) ?? []) {
      const known = bySid.get(grant.sid);
      bySid.set(grant.sid, known ? { ...known, resources: [...known.resources, ...grant.resources] } : grant);
    }
  }
  return [...bySid.values()];
}
