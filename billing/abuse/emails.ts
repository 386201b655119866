/** The emails of an abuse case: to support (a new case, a reminder) and to the subscriber (the outcome). Pure. */
import type { EmailContent } from '../emails';
import { greeting, message } from '../plain-email';

export interface AbuseCaseEmailData {
  caseId: string;
  subscriberId: string;
  subscriberName: string | null;
  /** Each finding's one-line summary, prefixed with its detector and day. */
  findings: { detector: string; day: string; summary: string }[];
}

const findingLines = (d: AbuseCaseEmailData): string[] => d.findings.map((f) => `${f.day} ${f.detector}: ${f.summary}`);

/** How support decides: our CLI, or a signal from the `temporal` CLI or the UI. */
function howToDecide(d: AbuseCaseEmailData): string[] {
  return [
    `billing abuse show ${d.caseId}`,
    `billing abuse decide ${d.caseId} --reviewer YOUR_ID --action suspend --reason TEXT [--until YYYY-MM-DD]`,
    `billing abuse decide ${d.caseId} --reviewer YOUR_ID --action terminate --reason TEXT`,
    `billing abuse decide ${d.caseId} --reviewer YOUR_ID --action dismiss --reason TEXT`,
    `temporal workflow signal --workflow-id abuse-case-${d.caseId} --name decide --input '{"reviewer": "YOUR_ID", "action": "suspend", "reason": "...", "until": "YYYY-MM-DD"}'`,
  ];
}

export function abuseCaseOpenedEmail(d: AbuseCaseEmailData): EmailContent {
  return message(
    `Abuse case ${d.caseId}: ${d.subscriberId}, ${d.findings
      .map((f) => f.detector)
      .filter((v, i, a) => a.indexOf(v) === i)
      .join(', ')}`,
    [
      `The daily usage check found a pattern that may be abuse for subscriber ${d.subscriberId} (${d.subscriberName ?? 'no name'}).`,
      ...findingLines(d),
      'Later findings for this subscriber join this case until it is decided. Decide it with any of:',
    ],
    howToDecide(d),
  );
}

export function abuseCaseReminderEmail(d: AbuseCaseEmailData & { hoursWaiting: number }): EmailContent {
  return message(
    `Reminder: abuse case ${d.caseId} (${d.subscriberId}) has waited ${d.hoursWaiting} hours`,
    [`Abuse case ${d.caseId} for subscriber ${d.subscriberId} has had no decision for ${d.hoursWaiting} hours. Its findings so far:`, ...findingLines(d), 'Decide it with any of:'],
    howToDecide(d),
  );
}

const appeal = (supportEmail: string, caseId: string): string =>
  `If you believe this is a mistake, you may appeal: reply to this email or write to ${supportEmail}, quoting case ${caseId}, and tell us how you use the service. A person from our customer support team reviews every appeal.`;

export function accountSuspendedEmail(d: AbuseCaseEmailData & { reason: string; until: string | null; supportEmail: string }): EmailContent {
  return message(`Your RedConnect account is suspended (case ${d.caseId})`, [
    greeting(d),
    `Under the RedConnect Fair Usage Policy ("Abuse Prevention"), your account is suspended ${d.until ? `until ${d.until}` : 'until further notice'}: calls are not connected meanwhile.`,
    `Reason: ${d.reason}`,
    appeal(d.supportEmail, d.caseId),
  ]);
}

export function accountResumedEmail(d: AbuseCaseEmailData): EmailContent {
  return message(`Your RedConnect account is active again (case ${d.caseId})`, [
    greeting(d),
    `The suspension of your account (case ${d.caseId}) has ended; your calls are connected again. Please keep to the Fair Usage Policy.`,
  ]);
}

export function accountTerminatedEmail(d: AbuseCaseEmailData & { reason: string; supportEmail: string }): EmailContent {
  return message(`Your RedConnect subscription is terminated (case ${d.caseId})`, [
    greeting(d),
    'Under the RedConnect Fair Usage Policy ("Abuse Prevention"), your subscription is terminated as of today. A final invoice for the current month so far follows in a separate email.',
    `Reason: ${d.reason}`,
    appeal(d.supportEmail, d.caseId),
  ]);
}
