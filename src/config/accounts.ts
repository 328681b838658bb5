import type { AwsInputConfig } from './schema.js';

/** One entry of inputs.aws.accounts, with its place in the list (for config key paths). */
export type AccountConfig = NonNullable<AwsInputConfig['accounts']>[number] & { readonly index: number };

/**
 * Who the services run as: each account of inputs.aws.accounts, or, without it, the input's own
 * credentials alone (`undefined`), so a configuration without accounts runs exactly as before.
 */
export function accountsOf(input: Pick<AwsInputConfig, 'accounts'>): (AccountConfig | undefined)[] {
  return input.accounts?.map((a, index) => ({ ...a, index })) ?? [undefined];
}

/** The config key of an account's field, e.g. `inputs.aws.accounts[1].target_assume_role`. */
export const accountKey = (account: AccountConfig, field: string): string =>
  `inputs.aws.accounts[${account.index}].${field}`;

/** The input's services as `account` runs them: in the account's regions when it lists some. */
export function servicesOf(
  input: Pick<AwsInputConfig, 'services'>,
  account: AccountConfig | undefined,
): AwsInputConfig['services'] {
  const regions = account?.regions;
  if (!regions) return input.services;
  return Object.fromEntries(
    Object.entries(input.services).map(([name, service]) => [name, service && { ...service, regions }]),
  ) as AwsInputConfig['services'];
}
