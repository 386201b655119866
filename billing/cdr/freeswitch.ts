/**
 * FreeSWITCH `mod_cdr_csv` rows read into CdrRecords: the templates and traps are in
 * ../shared/cdr-formats.md §2, the counting rules in DESIGN, "Usage import rules".
 */
import { PairingReader, PairingWindow } from './pairing';
import { CallTimes, checkPairingWindow, switchRecord, voicemailNumbersOf } from './switch-row';
import type { CdrRecord, NotCountedReason, ReaderOptions, ReadResult } from './types';

/** The vanilla `example` template, every field quoted. */
export const FREESWITCH_EXAMPLE_COLUMNS = [
  'caller_id_name', 'caller_id_number', 'destination_number', 'context', 'start_stamp', 'answer_stamp',
  'end_stamp', 'duration', 'billsec', 'hangup_cause', 'uuid', 'bleg_uuid', 'accountcode', 'read_codec', 'write_codec',
] as const;

/** The built-in `default` template: the first 12 above, then `, "${accountcode}"` with a leading space. */
export const FREESWITCH_DEFAULT_COLUMNS = FREESWITCH_EXAMPLE_COLUMNS.slice(0, 13);

// Both templates share these positions.
const CALLER_ID_NUMBER = 1;
const DESTINATION_NUMBER = 2;
const START_STAMP = 4;
const ANSWER_STAMP = 5;
const END_STAMP = 6;
const DURATION = 7;
const BILLSEC = 8;
const UUID = 10;
const BLEG_UUID = 11;
const ACCOUNTCODE = 12;

/** The vanilla dialplan's deposit runs `bridge loopback/app=voicemail:…`, logged with this destination. */
const VOICEMAIL_LEG_DESTINATION = 'voicemail';

export interface FreeswitchReaderOptions extends ReaderOptions {
  /** Rows to wait for an A-leg's voicemail loopback leg (default 5000): see PairingWindow. */
  pairingWindow?: number;
}

const SPACE = 32;
const QUOTE = 34;

/**
 * The default template writes `, "${accountcode}"`: unless csv-parse trims left (ltrim), the field
 * arrives as ` "1000"`, with the space and the quotes (cdr-formats §2).
 */
function accountCodeOf(field: string): string | null {
  let code = field;
  if (code.charCodeAt(0) === SPACE) code = code.trimStart();
  if (code.length >= 2 && code.charCodeAt(0) === QUOTE && code.charCodeAt(code.length - 1) === QUOTE) code = code.slice(1, -1);
  return code === '' ? null : code;
}

function nonEmpty(text: string): string | null {
  return text === '' ? null : text;
}

export class FreeswitchReader extends PairingReader {
  private readonly times: CallTimes;
  private readonly voicemailNumbers: ReadonlySet<string>;

  constructor(options: FreeswitchReaderOptions) {
    super(new PairingWindow(checkPairingWindow(options.pairingWindow), 'voicemail-deposit'));
    // duration and billsec are both whole-second differences, so billsec never exceeds duration.
    this.times = new CallTimes(options.timezone, 0);
    this.voicemailNumbers = voicemailNumbersOf(options);
  }

  /** DESIGN, "Bad rows": why the row cannot be read, or undefined; fills this.times. */
  protected rowProblem(fields: string[]): string | undefined {
    const count = fields.length;
    if (count !== FREESWITCH_EXAMPLE_COLUMNS.length && count !== FREESWITCH_DEFAULT_COLUMNS.length) {
      return `wrong number of columns: ${count} (expected 15 for the example template or 13 for the built-in default template)`;
    }
    return this.times.read(fields[START_STAMP]!, fields[ANSWER_STAMP]!, fields[END_STAMP]!, fields[DURATION]!, fields[BILLSEC]!);
  }

  protected classify(fields: string[], line: number, raw: string, out: ReadResult[]): void {
    const destination = fields[DESTINATION_NUMBER]!;
    if (destination === VOICEMAIL_LEG_DESTINATION) {
      // The loopback leg: it marks the A-leg bridged to it (bleg_uuid = this uuid) as a deposit.
      const uuid = fields[UUID]!;
      if (uuid !== '') this.pairs.partnerSeen(uuid, out);
    }
    const reason = this.reasonNotCounted(fields, destination);
    const record = this.recordOf(fields, line, raw, reason);
    const blegUuid = fields[BLEG_UUID]!;
    if (reason === null && blegUuid !== '') {
      // An answered, bridged A-leg: a deposit if its B-leg is a voicemail leg, seen before or after it.
      this.pairs.decideOrHold(blegUuid, record, out);
      return;
    }
    out.push({ ok: true, record });
  }

  /**
   * Why the row does not count, before pairing. Precedence: the voicemail leg, then unanswered,
   * then retrieval. The voicemail leg is a deposit even though its answer stamp is empty, as an
   * Asterisk VoiceMail row is whatever its disposition: the application names what happened.
   */
  private reasonNotCounted(fields: string[], destination: string): NotCountedReason | null {
    if (destination === VOICEMAIL_LEG_DESTINATION) return 'voicemail-deposit';
    // No disposition column: answered means an answer stamp; NORMAL_CLEARING does not (cdr-formats §2).
    if (fields[ANSWER_STAMP] === '') return 'unanswered';
    // Vanilla `vmain` matches ^vmain$|^4000$|^\*98$ and runs `voicemail check`.
    if (this.voicemailNumbers.has(destination)) return 'voicemail-retrieval';
    return null;
  }

  private recordOf(fields: string[], line: number, raw: string, reason: NotCountedReason | null): CdrRecord {
    const parties = { callingNumber: nonEmpty(fields[CALLER_ID_NUMBER]!), calledNumber: nonEmpty(fields[DESTINATION_NUMBER]!), accountCode: accountCodeOf(fields[ACCOUNTCODE]!) };
    return switchRecord('freeswitch', line, raw, this.times, parties, reason);
  }

}
