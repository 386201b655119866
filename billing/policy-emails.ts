/** The emails of a policy revision: notice, reminder, cancellation, and the hold alert to billing operations. Pure. */
import { escapeHtml, type EmailContent } from './emails';
import type { PolicyDifference } from './policy-revision';

export interface PolicyNoticeData {
  subscriberId: string;
  subscriberName: string | null;
  version: number;
  effectiveFrom: string;
  differences: PolicyDifference[];
}

function email(subject: string, before: string[], differences: PolicyDifference[], after: string[]): EmailContent {
  const width = Math.max(9, ...differences.map((d) => d.label.length));
  const beforeWidth = Math.max(3, ...differences.map((d) => d.before.length));
  const table =
    differences.length === 0
      ? []
      : [`  ${'What'.padEnd(width)}  ${'Now'.padEnd(beforeWidth)}  New`, ...differences.map((d) => `  ${d.label.padEnd(width)}  ${d.before.padEnd(beforeWidth)}  ${d.after}`), ''];
  const text = [...before.flatMap((p) => [p, '']), ...table, ...after.flatMap((p) => [p, '']), 'RedConnect Billing'].join('\n');
  const rows = differences.map((d) => `<tr><td>${escapeHtml(d.label)}</td><td>${escapeHtml(d.before)}</td><td><strong>${escapeHtml(d.after)}</strong></td></tr>`).join('\n');
  const html = `<!doctype html><html><body style="font-family:sans-serif">
${before.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
${differences.length ? `<table border="1" cellpadding="6" style="border-collapse:collapse"><thead><tr><th>What</th><th>Now</th><th>New</th></tr></thead><tbody>\n${rows}\n</tbody></table>` : ''}
${after.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n')}
<p>RedConnect Billing</p></body></html>`;
  return { subject, text, html };
}

const greeting = (d: { subscriberId: string; subscriberName: string | null }): string => `Hello ${d.subscriberName ?? d.subscriberId},`;

export function policyNoticeEmail(d: PolicyNoticeData): EmailContent {
  return email(
    `Changes to the RedConnect Fair Usage Policy from ${d.effectiveFrom}`,
    [greeting(d), `We are revising the RedConnect Fair Usage Policy (version ${d.version}). From ${d.effectiveFrom}, these terms change:`],
    d.differences,
    [
      `Each billing month that begins on or after ${d.effectiveFrom} is billed under the new terms; a month already under way keeps the current ones until it ends. Everything else stays as it is.`,
      'We will remind you a week before the change.',
    ],
  );
}

export function policyReminderEmail(d: PolicyNoticeData): EmailContent {
  return email(
    `Reminder: the RedConnect Fair Usage Policy changes on ${d.effectiveFrom}`,
    [greeting(d), `As we told you, the RedConnect Fair Usage Policy (version ${d.version}) changes on ${d.effectiveFrom}, in a week:`],
    d.differences,
    [`Each billing month that begins on or after ${d.effectiveFrom} is billed under the new terms.`],
  );
}

export function policyCancelledEmail(d: PolicyNoticeData): EmailContent {
  return email(
    `Cancelled: the RedConnect Fair Usage Policy change planned for ${d.effectiveFrom}`,
    [greeting(d), `The change to the RedConnect Fair Usage Policy we announced for ${d.effectiveFrom} (version ${d.version}) is cancelled. Your terms stay as they are:`],
    d.differences.map((x) => ({ ...x, after: `${x.before} (unchanged)` })),
    ['You need not do anything.'],
  );
}

export interface PolicyHoldData {
  version: number;
  effectiveFrom: string;
  /** Notices not sent yet, when that is the reason. */
  unsent?: number;
  /** When the notice period has passed for everyone, when that is the reason. */
  activeFrom?: string;
  noticeDays: number;
}

export function policyHoldAlertEmail(d: PolicyHoldData): EmailContent {
  const why = d.activeFrom
    ? `Every notice is sent now, but some went out late: the ${d.noticeDays}-day notice period has passed for everyone on ${d.activeFrom}. The version becomes active then, unless you decide otherwise.`
    : `${d.unsent} notice(s) could not be sent yet (is the mail server down?). The version stays scheduled; it becomes active once every notice is sent and the ${d.noticeDays}-day notice period has passed for everyone.`;
  return email(
    `Policy version ${d.version}: activation on ${d.effectiveFrom} held`,
    [
      `Policy version ${d.version} does not become active on ${d.effectiveFrom}: it is not activated on subscribers who were not told in time.`,
      why,
      `Follow it: billing policy show ${d.version}, or temporal workflow query --workflow-id policy-change-${d.version} --type status`,
      `To activate it now anyway (your decision, recorded): temporal workflow signal --workflow-id policy-change-${d.version} --name activate --input '{"operator": "YOUR_NAME", "reason": "..."}'`,
    ],
    [],
    [],
  );
}
