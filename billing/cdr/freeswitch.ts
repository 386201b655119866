/**
 * FreeSWITCH `mod_cdr_csv` rows read into CdrRecords: the templates and traps are in
 * ../shared/cdr-formats.md §2, the counting rules in DESIGN, "Usage import rules".
 */
import { PairingReader, PairingWindow } from './pairing';
import { CallTimes, checkPairingWindow, ServiceNumbers, switchRecord } from './switch-row';
import type { CdrRecord, NotCountedReason, ReaderOptions, ReadResult } from './types';

/** The vanilla `example` template, every field quoted. */
export const FREESWITCH_EXAMPLE_COLUMNS = [
  'caller_id_name',
  'caller_id_number',
  'destination_number',
  'context',
  'start_stamp',
  'answer_stamp',
  'end_stamp',
  'duration',
  'billsec',
  'hangup_cause',
  'uuid',
  'bleg_uuid',
  'accountcode',
  'read_codec',
  'write_codec',
] as const;

/** The built-in `default` template: the first 12 above, then `, "${accountcode}"` with a leading space. */
export const FREESWITCH_DEFAULT_COLUMNS = FREESWITCH_EXAMPLE_COLUMNS.slice(0, 13);

// Both templates share these positions.
const CALLER_ID_NUMBER = 1;
const DESTINATION_NUMBER = 2;
const CONTEXT = 3;
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

/**
 * How far apart, in whole seconds, the end stamps of an A-leg and the voicemail leg it ended in
 * may be: both hang up together, milliseconds apart, but each stamp is truncated to its second.
 */
const END_SLACK_SECONDS = 1;

/** The pairing key of a bridged A-leg's B-leg by uuid (legs=ab writes it). */
const uuidKey = (uuid: string): string => `u\u0000${uuid}`;
/** The pairing key of an answered row that may be a B-leg, named by its A-leg's bleg_uuid. */
const bLegKey = (uuid: string): string => `b\u0000${uuid}`;
/** The pairing key of a caller's leg ending in a given second (legs=a: the B-leg is not written). */
const endKey = (caller: string, endSecond: number): string => `c\u0000${caller}\u0000${endSecond}`;

interface VoicemailLeg {
  startMs: number;
}

/** A voicemail leg belongs to the A-leg it started within (their ends are matched by key). */
function startsWithin(aLeg: CdrRecord, partner: unknown): boolean {
  const { startMs } = partner as VoicemailLeg;
  return startMs >= aLeg.startMs && startMs <= aLeg.endMs;
}

export interface FreeswitchReaderOptions extends ReaderOptions {
  /** Rows to wait for an A-leg's voicemail loopback leg, or a B-leg's A-leg (default 5000): see PairingWindow. */
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
  private readonly services: ServiceNumbers;

  constructor(options: FreeswitchReaderOptions) {
    super(new PairingWindow(checkPairingWindow(options.pairingWindow), 'voicemail-deposit', startsWithin));
    // duration and billsec are both whole-second differences, so billsec never exceeds duration.
    this.times = new CallTimes(options.timezone, 0);
    this.services = new ServiceNumbers(options);
  }

  /** DESIGN, "Bad rows": why the row cannot be read, or undefined; fills this.times. */
  protected rowProblem(fields: string[]): string | undefined {
    const count = fields.length;
    if (count !== FREESWITCH_EXAMPLE_COLUMNS.length && count !== FREESWITCH_DEFAULT_COLUMNS.length) {
      return `wrong number of columns: ${count} (expected 15 for the example template or 13 for the built-in default template)`;
    }
    return this.times.read(fields[START_STAMP]!, fields[ANSWER_STAMP]!, fields[END_STAMP]!, fields[DURATION]!, fields[BILLSEC]!);
  }

  /**
   * A deposit writes the caller's A-leg (answered, billsec = the time in voicemail, bleg_uuid
   * set) and a voicemail loopback leg. With `legs=ab` the loopback leg the A-leg was bridged to
   * is written and named by bleg_uuid. With `legs=a`, the vanilla setting, it is not: the leg
   * written is the loopback's other half, which runs the voicemail application under its own
   * uuid, as an A-leg of its own (cdr-formats §2). It has the caller's number, starts within the
   * caller's A-leg and ends with it; that is how the A-leg is found.
   *
   * With `legs=ab` every bridged call also writes its B-leg: answered, the same parties and
   * billsec, its own uuid, which the A-leg's bleg_uuid names (`${bleg_uuid}` is the uuid of the
   * originatee profile, src/switch_channel.c), and an empty bleg_uuid, having no originatee;
   * nothing in the row names its A-leg (the `originator` variable is in no template). Whichever
   * is written first, the pair is decided when the second comes, without remembering anything
   * more: an answered row without a bleg_uuid is a B-leg if a held A-leg waits for its uuid (the
   * A-leg then counts at once: it was bridged to an answered party, not to voicemail); otherwise
   * it waits as a possible B-leg until an A-leg naming it decides both, or the window passes and
   * it counts.
   */
  protected classify(fields: string[], line: number, raw: string, out: ReadResult[]): void {
    const destination = fields[DESTINATION_NUMBER]!;
    const caller = fields[CALLER_ID_NUMBER]!;
    const endSecond = Math.floor(this.times.endMs / 1000);
    const uuid = fields[UUID]!;
    const blegUuid = fields[BLEG_UUID]!;
    if (destination === VOICEMAIL_LEG_DESTINATION) {
      // The loopback leg: it marks the A-leg bridged to it as a deposit, before or after it.
      if (uuid !== '') this.pairs.partnerSeen(uuidKey(uuid), out);
      if (caller !== '') {
        const leg: VoicemailLeg = { startMs: this.times.startMs };
        for (let second = endSecond - END_SLACK_SECONDS; second <= endSecond + END_SLACK_SECONDS; second += 1) {
          this.pairs.partnerSeen(endKey(caller, second), out, leg);
        }
      }
    }
    let reason = this.reasonNotCounted(fields, destination);
    // Answered and bridged to nothing: the B-leg of an A-leg held before it, which then counts at once.
    if (reason === null && blegUuid === '' && uuid !== '' && this.pairs.release(uuidKey(uuid), out)) reason = 'b-leg';
    const record = this.recordOf(fields, line, raw, reason);
    if (blegUuid !== '') {
      // A bridged A-leg names its B-leg: an answered one written before it is decided now.
      const bLegAnswered = this.pairs.claim(bLegKey(blegUuid), out);
      if (reason === null && !bLegAnswered) {
        // A deposit if it was bridged to a voicemail leg, seen before or after it.
        this.pairs.decideOrHold(caller === '' ? uuidKey(blegUuid) : [uuidKey(blegUuid), endKey(caller, endSecond)], record, out);
        return;
      }
    } else if (reason === null && uuid !== '') {
      // Or the B-leg of an A-leg to come.
      this.pairs.decideOrHold(bLegKey(uuid), record, out, 'b-leg');
      return;
    }
    out.push({ ok: true, record });
  }

  /**
   * Why the row does not count, before pairing. Precedence: the voicemail leg, then unanswered,
   * then retrieval, then a feature code. The voicemail leg is a deposit even though its answer
   * stamp is empty, as an Asterisk VoiceMail row is whatever its disposition: the application
   * names what happened.
   */
  private reasonNotCounted(fields: string[], destination: string): NotCountedReason | null {
    if (destination === VOICEMAIL_LEG_DESTINATION) return 'voicemail-deposit';
    // No disposition column: answered means an answer stamp; NORMAL_CLEARING does not (cdr-formats §2).
    if (fields[ANSWER_STAMP] === '') return 'unanswered';
    // Vanilla `vmain` matches ^vmain$|^4000$|^\*98$ and runs `voicemail check`; an IVR option
    // transfers there, so the A-leg's destination is the menu's.
    if (this.services.isVoicemail(destination, fields[CONTEXT]!)) return 'voicemail-retrieval';
    if (this.services.isFeatureCode(destination)) return 'not-a-call';
    return null;
  }

  private recordOf(fields: string[], line: number, raw: string, reason: NotCountedReason | null): CdrRecord {
    const parties = { callingNumber: nonEmpty(fields[CALLER_ID_NUMBER]!), calledNumber: nonEmpty(fields[DESTINATION_NUMBER]!), accountCode: accountCodeOf(fields[ACCOUNTCODE]!) };
    return switchRecord('freeswitch', line, raw, this.times, parties, reason);
  }
}
