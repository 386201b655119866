/** Asterisk cdr_csv rows (18 columns) written as cdr_csv writes them, for import tests. */
export interface AsteriskRowSpec {
  accountcode?: string;
  src: string;
  dst: string;
  dcontext?: string;
  channel?: string;
  dstchannel?: string;
  lastapp?: string;
  lastdata?: string;
  /** "YYYY-MM-DD HH:MM:SS" in the switch's zone. */
  start: string;
  /** Seconds ringing before the answer; the row is unanswered when disposition is not ANSWERED. */
  ring?: number;
  billsec: number;
  disposition?: string;
  uniqueid: string;
}

const q = (text: string): string => `"${text.replace(/"/g, '""')}"`;

function plusSeconds(stamp: string, seconds: number): string {
  const ms = Date.parse(`${stamp.replace(' ', 'T')}Z`) + seconds * 1000;
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function asteriskRow(r: AsteriskRowSpec): string {
  const ring = r.ring ?? 5;
  const disposition = r.disposition ?? 'ANSWERED';
  const answered = disposition === 'ANSWERED' || r.billsec > 0;
  return [
    q(r.accountcode ?? ''),
    q(r.src),
    q(r.dst),
    q(r.dcontext ?? 'from-internal'),
    q(`"" <${r.src}>`),
    q(r.channel ?? 'PJSIP/1001-00000001'),
    q(r.dstchannel ?? 'PJSIP/trunk_1-00000002'),
    q(r.lastapp ?? 'Dial'),
    q(r.lastdata ?? 'PJSIP/trunk_1,60'),
    q(r.start),
    answered ? q(plusSeconds(r.start, ring)) : '',
    q(plusSeconds(r.start, ring + r.billsec)),
    String(ring + r.billsec),
    String(r.billsec),
    q(disposition),
    q('DOCUMENTATION'),
    q(r.uniqueid),
    q(''),
  ].join(',');
}

export function asteriskFile(rows: AsteriskRowSpec[]): string {
  return `${rows.map(asteriskRow).join('\n')}\n`;
}
