import { readFileSync } from 'node:fs';

/** Copies of /work/shared/reference/fixtures/eventbridge-*.json (AWS's documented shapes). */
const fixture = (name: string): string =>
  readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim();

export const guardDutyEvent = fixture('eventbridge-guardduty-event.json');
export const securityHubEvent = fixture('eventbridge-securityhub-finding.json');

/** An EventBridge event of `source` with a distinct id, compact, as EventBridge sends it to SQS. */
export function serviceEvent(id: string, source = 'aws.guardduty', region = 'eu-west-1'): string {
  return JSON.stringify({ ...(JSON.parse(guardDutyEvent) as object), id, source, region });
}

/** A Security Hub "Findings - Imported" event holding `n` findings with distinct ids. */
export function securityHubEventWith(n: number, prefix = 'f'): string {
  const event = JSON.parse(securityHubEvent) as { detail: { findings: { Id: string }[] } };
  const finding = event.detail.findings[0]!;
  event.detail.findings = Array.from({ length: n }, (_, i) => ({ ...finding, Id: `${prefix}-${i}` }));
  return JSON.stringify(event);
}
