/**
 * One call record read from a usage file, whatever its format (DESIGN, "Usage import rules";
 * ../shared/cdr-formats.md). Readers turn rows into these; attribution (billing/cdr/attribution.ts)
 * decides whose usage it is.
 */

export type CdrFormat = 'asterisk' | 'freeswitch' | 'freeswitch-json' | 'csv' | 'jsonl';

/** Why a kept record does not count toward the limit. */
export type NotCountedReason =
  | 'unanswered' // never answered: NO ANSWER, BUSY, FAILED, CONGESTION, CANCEL, empty answer stamp
  | 'voicemail-deposit' // a caller leaving a message
  | 'voicemail-retrieval' // a subscriber listening to messages (access numbers, VoiceMailMain)
  | 'local-channel-duplicate' // the other half of a call through an Asterisk Local/ channel
  | 'b-leg' // a FreeSWITCH B-leg (mod_json_cdr's log-b-leg, mod_cdr_csv's legs=ab): its A-leg's record carries the call
  | 'not-a-call'; // feature codes (*72, configured patterns) and other non-call activity (our csv/jsonl "feature" kind)

export interface CdrRecord {
  format: CdrFormat;
  /** 1-based line number in the file, for reports. */
  line: number;
  /** The row as read, for the record key and reports. */
  raw: string;
  startMs: number;
  /** When the call was answered; null when it never was. */
  answerMs: number | null;
  endMs: number;
  /** Billable seconds (Asterisk/FreeSWITCH billsec). */
  billableSeconds: number;
  /** The calling side's number (Asterisk src, FreeSWITCH caller_id_number); null when empty. */
  callingNumber: string | null;
  /** The called side's number (Asterisk dst, FreeSWITCH destination_number); null when empty. */
  calledNumber: string | null;
  accountCode: string | null;
  counted: boolean;
  notCountedReason: NotCountedReason | null;
  /**
   * Our own csv/jsonl formats name the subscriber and direction explicitly; switch formats leave
   * these undefined and attribution uses numbers and account codes.
   */
  subscriberId?: string;
  direction?: 'outgoing' | 'incoming';
}

export interface RowProblem {
  line: number;
  raw: string;
  reason: string;
}

export type ReadResult = { ok: true; record: CdrRecord } | ({ ok: false } & RowProblem);

export interface ReaderOptions {
  /** IANA zone of the file's time stamps (they carry none). */
  timezone: string;
  /**
   * Numbers that reach voicemail, default *97, *98, 4000, vmain; `EXT@CONTEXT` names a menu by its
   * extension and context (a voicemail menu reached through an IVR option: `s@vm-menu`).
   */
  voicemailNumbers?: string[];
  /**
   * Feature-code patterns: an answered row to one is non-call activity ('not-a-call'). Asterisk
   * extension patterns (`_*7X`, `_*72.`; X, Z, N, [1-5], `.` and `!`), a regular expression
   * starting with `^` (FreeSWITCH dialplan style, `^\*72\d*$`), or an exact number. Default:
   * DEFAULT_FEATURE_CODES.
   */
  featureCodes?: string[];
}

/**
 * A streaming reader: rows go in one at a time, decided records come out. Rules that need another
 * row (an Asterisk Local/ ;2 half, a FreeSWITCH A-leg bridged to a voicemail leg) hold a row back
 * for a bounded window of following rows; flush() decides whatever is still held at the end.
 */
export interface CdrReader {
  push(fields: string[], line: number, raw: string): ReadResult[];
  flush(): ReadResult[];
}

/**
 * The source of records imported without `--source` (DESIGN, "Idempotence"): a record's identity
 * is the switch it came from and its content, never the name of the file it was read from, so a
 * rotated or copied file (`Master.csv`, `Master-copy.csv`) adds nothing twice.
 */
export const DEFAULT_SOURCE = 'default';

export const DEFAULT_VOICEMAIL_NUMBERS = ['*97', '*98', '4000', 'vmain'];

/**
 * A star and one to four digits, the codes FreePBX and the vanilla FreeSWITCH dialplan ship
 * (`*72` call forwarding, `*78` do not disturb, `*69`, `*9664`). Not a star followed by a number
 * (`*67` then the number hides the caller ID of a real call); an operator whose forwarding codes
 * take the number (`*72` then `4155550101`) adds `_*72.`.
 */
export const DEFAULT_FEATURE_CODES = ['_*X', '_*XX', '_*XXX', '_*XXXX'];
