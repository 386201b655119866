/** The emails of a limit-increase request, to the subscriber and to support. Pure: data in, message out. */
import type { EmailContent } from './emails';
import { greeting, message } from './plain-email';

export interface LimitRequestEmailData {
  requestId: string;
  subscriberId: string;
  subscriberName: string | null;
  requestedMinutes: number;
  reason: string;
  /** Shown to support: any subscriber may ask (the policy's "such as business accounts"), and support weighs it. */
  business?: boolean;
}

/** "acme (Acme, business account)" / "ada (Ada, not a business account)": who asks, as support reads it. */
function whoAsks(d: LimitRequestEmailData): string {
  const kind = d.business === undefined ? '' : d.business ? ', business account' : ', not a business account';
  return `${d.subscriberId} (${d.subscriberName ?? 'no name'}${kind})`;
}

export function limitRequestAcknowledgedEmail(d: LimitRequestEmailData & { expiryDays: number }): EmailContent {
  return message(`We received your request for a ${d.requestedMinutes}-minute monthly limit (${d.requestId})`, [
    greeting(d),
    `We received your request ${d.requestId} to raise your monthly limit to ${d.requestedMinutes} minutes. Our customer support team reviews each request and will tell you their decision by email.`,
    `Your reason: ${d.reason}`,
    `A request not decided within ${d.expiryDays} days expires; you may then ask again.`,
  ]);
}

/** How support decides: our CLI, or a signal from the `temporal` CLI or the UI. */
function howToDecide(d: LimitRequestEmailData): string[] {
  return [
    `billing limit approve ${d.requestId} --reviewer YOUR_ID [--minutes N] [--until YYYY-MM] [--note TEXT]`,
    `billing limit reject ${d.requestId} --reviewer YOUR_ID --reason TEXT`,
    `temporal workflow signal --workflow-id limit-request-${d.requestId} --name approve --input '{"reviewer": "YOUR_ID", "minutes": ${d.requestedMinutes}}'`,
    `temporal workflow signal --workflow-id limit-request-${d.requestId} --name reject --input '{"reviewer": "YOUR_ID", "reason": "..."}'`,
  ];
}

export function limitRequestSupportNoticeEmail(d: LimitRequestEmailData & { reminderHours: number; expiryDays: number; currentLimitMinutes: number }): EmailContent {
  return message(
    `Limit request ${d.requestId}: ${d.subscriberId} asks for ${d.requestedMinutes} minutes a month`,
    [
      `Subscriber ${whoAsks(d)} asks to raise their monthly limit from ${d.currentLimitMinutes} to ${d.requestedMinutes} minutes.`,
      `Reason: ${d.reason}`,
      `Decide it within ${d.expiryDays} days (a reminder follows after ${d.reminderHours} hours). You may approve another limit, and an end month. Any of:`,
    ],
    howToDecide(d),
  );
}

export function limitRequestReminderEmail(d: LimitRequestEmailData & { hoursWaiting: number; expiresAt: string }): EmailContent {
  return message(
    `Reminder: limit request ${d.requestId} from ${d.subscriberId} has waited ${d.hoursWaiting} hours`,
    [
      `Limit request ${d.requestId} (subscriber ${whoAsks(d)}, ${d.requestedMinutes} minutes a month) has had no decision for ${d.hoursWaiting} hours. It expires at ${d.expiresAt}.`,
      `Reason: ${d.reason}`,
      'Decide it with any of:',
    ],
    howToDecide(d),
  );
}

export function limitApprovedEmail(d: LimitRequestEmailData & { minutes: number; fromPeriod: string; untilPeriod: string | null; note: string | null }): EmailContent {
  const until = d.untilPeriod ? ` to ${d.untilPeriod} (included); from the month after, the standard limit applies again` : ', until further notice';
  return message(`Your RedConnect monthly limit is now ${d.minutes} minutes`, [
    greeting(d),
    `Your request ${d.requestId} is approved: your monthly limit is ${d.minutes} minutes from ${d.fromPeriod}${until}.${d.minutes !== d.requestedMinutes ? ` (You asked for ${d.requestedMinutes} minutes.)` : ''}`,
    ...(d.note ? [`Note from customer support: ${d.note}`] : []),
  ]);
}

export function limitRejectedEmail(d: LimitRequestEmailData & { rejection: string }): EmailContent {
  return message(`Your request for a higher RedConnect limit (${d.requestId}) was not approved`, [
    greeting(d),
    `Your request ${d.requestId} to raise your monthly limit to ${d.requestedMinutes} minutes was not approved.`,
    `Reason: ${d.rejection}`,
  ]);
}

export function limitRequestExpiredEmail(d: LimitRequestEmailData & { expiryDays: number }): EmailContent {
  return message(`Your request for a higher RedConnect limit (${d.requestId}) has expired`, [
    greeting(d),
    `Your request ${d.requestId} to raise your monthly limit to ${d.requestedMinutes} minutes was not decided within ${d.expiryDays} days and has expired. Your limit is unchanged; you may ask again.`,
  ]);
}
