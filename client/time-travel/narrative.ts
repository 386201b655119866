/** The play told month by month, as `billing demo --months N` prints it. */
import { formatCents } from '../../billing/money';
import { plural } from '../output';
import type { MonthReport, PlayReport } from './engine';
import type { PlayEvent } from './facts';

/** "Jan 26": the simulated day a step saw it. */
const dayOf = (ms: number): string => new Date(ms).toLocaleDateString('en-GB', { timeZone: 'UTC', day: '2-digit', month: 'short' }).split(' ').reverse().join(' ');

function eventLine(e: PlayEvent): string | undefined {
  switch (e.kind) {
    case 'policy-published':
      return `policy version ${e.version} published, effective ${e.effectiveFrom}: ${e.differences.join('; ')}`;
    case 'policy-emails':
      return `policy version ${e.version}: ${e.emailKind === 'notice' ? 'notice' : 'reminder (7 days before it takes effect)'} mailed to ${plural(e.count, 'subscriber')}`;
    case 'policy-activated':
      return `policy version ${e.version} is active from ${e.activeFrom}: months from then are rated under it`;
    case 'late-call':
      return `a late call: ${e.subscriberId}'s ${e.minutes}-minute call of ${e.startedAt.slice(0, 10)} reaches the import only now, after its month was invoiced`;
    case 'limit-requested':
      return `${e.subscriberId} asks for ${e.minutes} minutes a month (${e.requestId}); support and the subscriber are mailed`;
    case 'limit-approved':
      return `${e.reviewer} (support) approves ${e.requestId}: ${e.subscriberId} may use ${e.minutes} minutes a month from this month`;
    case 'plan':
      return `minute plan for ${e.subscriberId} from ${e.effectivePeriod}: ${e.minutes} min for ${formatCents(e.feeCents)} ${e.currency} a month, after three months of overage (mailed)`;
    default:
      return undefined;
  }
}

/** One month's lines: its steps in order, the alerts of each import together, then its invoices. */
export function monthLines(month: MonthReport): string[] {
  const lines = [month.period ? `── ${month.period} ${'─'.repeat(60)}` : '── Before the first month ' + '─'.repeat(44)];
  const alerts = new Map<number, string[]>();
  for (const e of month.events)
    if (e.kind === 'alert') alerts.set(e.atMs, [...(alerts.get(e.atMs) ?? []), `${e.subscriberId} ${e.percent} %${e.period !== month.period ? ` (${e.period})` : ''}`]);
  const shown = new Set<number>();
  for (const e of month.events) {
    if (e.kind === 'alert' && !shown.has(e.atMs)) {
      shown.add(e.atMs);
      lines.push(`  ${dayOf(e.atMs)}  usage alerts mailed: ${alerts.get(e.atMs)!.sort().join(', ')}`);
    }
    const line = eventLine(e);
    if (line) lines.push(`  ${dayOf(e.atMs)}  ${line}`);
    if (e.kind === 'close') {
      lines.push(`  ${dayOf(e.atMs)}  ${e.period} closed by ${e.workflowId}; invoices mailed:`);
      for (const i of month.events.flatMap((x) => (x.kind === 'invoice' ? [x.invoice] : []))) {
        const notes = [
          i.overageMinutes > 0 ? `${i.overageMinutes} min overage` : 'no overage',
          ...(i.planMinutes ? [`${i.planMinutes}-minute plan`] : []),
          ...i.adjustments.map((a) => `adjustment for ${a.period}: ${a.overageMinutes} min, ${formatCents(a.amountCents)}`),
        ];
        lines.push(`           ${i.subscriberId.padEnd(12)} ${i.number}  ${`${formatCents(i.totalCents)} ${i.currency}`.padStart(12)}  ${notes.join(', ')}`);
      }
    }
  }
  return lines;
}

/** The totals of the play, one line. */
export function summaryLine(report: PlayReport): string {
  const events = report.months.flatMap((m) => m.events);
  const count = (kind: PlayEvent['kind']): number => events.filter((e) => e.kind === kind).length;
  const periods = report.months.flatMap((m) => (m.period ? [m.period] : []));
  const span = periods.length === 1 ? periods[0] : `${periods[0]} to ${periods[periods.length - 1]}`;
  return (
    `Played ${plural(periods.length, 'month')} (${span}) in ${(report.wallMs / 1000).toFixed(1)} s: ${plural(count('invoice'), 'invoice')}, ` +
    `${plural(count('alert'), 'usage alert')}, ${plural(count('plan'), 'minute plan')}, ${plural(count('limit-approved'), 'limit request')} approved, ` +
    `${plural(count('late-call'), 'late call')}, ${plural(count('policy-activated'), 'policy revision')} activated.`
  );
}
