/**
 * Asterisk `cdr_csv` rows (Master.csv) read into CdrRecords: the column layouts and traps are in
 * ../shared/cdr-formats.md §1, the counting rules in DESIGN, "Usage import rules".
 */
import { PairingReader, PairingWindow } from './pairing';
import { CallTimes, checkPairingWindow, ServiceNumbers, switchRecord } from './switch-row';
import type { CdrRecord, NotCountedReason, ReaderOptions, ReadResult } from './types';

/** The 16 columns cdr_csv always writes, in order. */
export const ASTERISK_BASE_COLUMNS = [
  'accountcode',
  'src',
  'dst',
  'dcontext',
  'clid',
  'channel',
  'dstchannel',
  'lastapp',
  'lastdata',
  'start',
  'answer',
  'end',
  'duration',
  'billsec',
  'disposition',
  'amaflags',
] as const;

/**
 * The optional columns, always appended in this order: uniqueid (loguniqueid=yes), userfield
 * (loguserfield=yes), then peeraccount, linkedid and sequence together (newcdrcolumns=yes).
 */
export const ASTERISK_OPTIONAL_COLUMNS = ['uniqueid', 'userfield', 'peeraccount', 'linkedid', 'sequence'] as const;
const NEW_CDR_COLUMNS: readonly string[] = ['peeraccount', 'linkedid', 'sequence'];

/** The counts that name their options unambiguously; 17 and 20 need --columns (one of uniqueid/userfield). */
const OPTIONAL_COLUMNS_BY_COUNT: ReadonlyMap<number, readonly string[]> = new Map<number, readonly string[]>([
  [16, []],
  [18, ['uniqueid', 'userfield']],
  [19, NEW_CDR_COLUMNS],
  [21, ASTERISK_OPTIONAL_COLUMNS],
]);

// Positions of the base columns: the optional ones only ever follow them.
const ACCOUNTCODE = 0;
const SRC = 1;
const DST = 2;
const DCONTEXT = 3;
const CHANNEL = 5;
const DSTCHANNEL = 6;
const LASTAPP = 7;
const START = 9;
const ANSWER = 10;
const END = 11;
const DURATION = 12;
const BILLSEC = 13;
const DISPOSITION = 14;

/**
 * The column names of a row of `count` fields. `columns` names the optional columns present (for
 * 17 or 20 columns it is required); when given it must match the count.
 */
export function asteriskLayout(count: number, columns?: string[]): string[] | { error: string } {
  if (columns !== undefined) {
    const problem = optionalColumnsProblem(columns);
    if (problem !== undefined) return { error: problem };
    const expected = ASTERISK_BASE_COLUMNS.length + columns.length;
    if (count !== expected) {
      return { error: `wrong number of columns: ${count} (expected ${expected} for --columns ${columns.join(',') || '(none)'})` };
    }
    return [...ASTERISK_BASE_COLUMNS, ...columns];
  }
  const optional = OPTIONAL_COLUMNS_BY_COUNT.get(count);
  if (optional === undefined) return { error: wrongColumnCount(count) };
  return [...ASTERISK_BASE_COLUMNS, ...optional];
}

function wrongColumnCount(count: number): string {
  const hint =
    count === 17
      ? ': 17 columns log only one of uniqueid and userfield, e.g. --columns uniqueid'
      : count === 20
        ? ': 20 columns log only one of uniqueid and userfield, e.g. --columns uniqueid,peeraccount,linkedid,sequence'
        : '';
  return `wrong number of columns: ${count} (expected 16, 18, 19 or 21, or pass --columns${hint})`;
}

/** Why a --columns list cannot describe a cdr_csv file, or undefined when it can. */
export function optionalColumnsProblem(columns: readonly string[]): string | undefined {
  const known: readonly string[] = ASTERISK_OPTIONAL_COLUMNS;
  const order = `${known.join(', ')}, in that order`;
  let previous = -1;
  for (const name of columns) {
    const position = known.indexOf(name);
    if (position < 0) return `unknown Asterisk column "${name}" in --columns: the optional columns are ${order}`;
    if (position <= previous) return `--columns ${columns.join(',')} is out of order or repeats a name: cdr_csv writes ${order}`;
    previous = position;
  }
  const newCdrColumns = columns.filter((name) => NEW_CDR_COLUMNS.includes(name)).length;
  if (newCdrColumns !== 0 && newCdrColumns !== NEW_CDR_COLUMNS.length) {
    return `--columns ${columns.join(',')}: peeraccount, linkedid and sequence are written together (newcdrcolumns=yes), pass all three or none`;
  }
  return undefined;
}

export interface AsteriskReaderOptions extends ReaderOptions {
  /** The optional columns present, for files whose column count is ambiguous (17 or 20). */
  columns?: string[];
  /** Rows to wait for the partner of a Local/ ;2 row (default 5000): see PairingWindow. */
  pairingWindow?: number;
}

const LOCAL_PREFIX = 'Local/';
const SEMICOLON = 59;
const HALF_1 = 49; // '1'
const HALF_2 = 50; // '2'

/** Whether a channel name is a Local channel's `;1` or `;2` half, e.g. Local/1001@from-internal-0000000a;2. */
function isLocalHalf(channel: string, half: number): boolean {
  const length = channel.length;
  return length > LOCAL_PREFIX.length + 2 && channel.charCodeAt(length - 1) === half && channel.charCodeAt(length - 2) === SEMICOLON && channel.startsWith(LOCAL_PREFIX);
}

/** The Local channel both halves share: the name without `;1`/`;2`. */
function localChannelOf(half: string): string {
  return half.slice(0, -2);
}

function nonEmpty(text: string): string | null {
  return text === '' ? null : text;
}

export class AsteriskReader extends PairingReader {
  private readonly times: CallTimes;
  private readonly services: ServiceNumbers;
  private readonly columns: string[] | undefined;
  /** The last column count found readable: nearly every row of a file has the same. */
  private readableCount = -1;

  constructor(options: AsteriskReaderOptions) {
    super(new PairingWindow(checkPairingWindow(options.pairingWindow), 'local-channel-duplicate'));
    if (options.columns !== undefined) {
      const problem = optionalColumnsProblem(options.columns);
      if (problem !== undefined) throw new RangeError(problem);
    }
    this.columns = options.columns;
    // No zone in the file (cdr-formats §1): the import supplies it.
    this.times = new CallTimes(options.timezone, 1);
    this.services = new ServiceNumbers(options);
  }

  /** DESIGN, "Bad rows": why the row cannot be read, or undefined; fills this.times. */
  protected rowProblem(fields: string[]): string | undefined {
    const count = fields.length;
    if (count !== this.readableCount) {
      const layout = asteriskLayout(count, this.columns);
      if (!Array.isArray(layout)) return layout.error;
      this.readableCount = count;
    }
    const timesProblem = this.times.read(fields[START]!, fields[ANSWER]!, fields[END]!, fields[DURATION]!, fields[BILLSEC]!);
    if (timesProblem !== undefined) return timesProblem;
    if (fields[DISPOSITION] === '') return 'disposition is empty (expected ANSWERED, NO ANSWER, BUSY, FAILED, ...)';
    return undefined;
  }

  protected classify(fields: string[], line: number, raw: string, out: ReadResult[]): void {
    const dstchannel = fields[DSTCHANNEL]!;
    // A row that dialled a Local ;1 half already describes the call its ;2 half carries, whatever
    // this row's own fate (DESIGN, "Local channels").
    if (isLocalHalf(dstchannel, HALF_1)) this.pairs.partnerSeen(localChannelOf(dstchannel), out);
    const reason = this.reasonNotCounted(fields);
    const record = this.recordOf(fields, line, raw, reason);
    const channel = fields[CHANNEL]!;
    if (reason === null && isLocalHalf(channel, HALF_2)) {
      // Counted only if no row dialled its ;1 half: an originated call (call file, AMI).
      this.pairs.decideOrHold(localChannelOf(channel), record, out);
      return;
    }
    out.push({ ok: true, record });
  }

  /**
   * Why the row does not count, before pairing. Precedence: a VoiceMail deposit, then unanswered,
   * then retrieval, then a feature code, then a Local ;1 half (the ;2 half is decided by pairing).
   */
  private reasonNotCounted(fields: string[]): NotCountedReason | null {
    const lastapp = fields[LASTAPP]!;
    // A deposit whatever the disposition: Asterisk 11 writes one CDR whose disposition is the
    // Dial's (NO ANSWER) while the caller spent billsec in voicemail (cdr-formats §1, "Voicemail").
    // lastapp holds the application's registered name, so the spelling is exact.
    if (lastapp === 'VoiceMail') return 'voicemail-deposit';
    // Only the disposition says answered: since Asterisk 12, NO ANSWER and BUSY rows can carry
    // billsec (cdr-formats §1; DESIGN, "What counts").
    if (fields[DISPOSITION] !== 'ANSWERED') return 'unanswered';
    // lastapp shows VoiceMailMain only if the caller hung up inside it; a menu that runs another
    // step is known by its access number (cdr-formats §1, "Retrieval").
    // A menu reached through an IVR option logs the menu's extension and context (s@vm-menu).
    const dst = fields[DST]!;
    if (lastapp === 'VoiceMailMain' || this.services.isVoicemail(dst, fields[DCONTEXT]!)) return 'voicemail-retrieval';
    // *72 runs Playback to confirm forwarding, *78 sets do not disturb: answered, never a call.
    if (this.services.isFeatureCode(dst)) return 'not-a-call';
    // The ;1 half runs the dialplan application; the call is counted from the phone's row or the ;2 row.
    if (isLocalHalf(fields[CHANNEL]!, HALF_1)) return 'local-channel-duplicate';
    return null;
  }

  private recordOf(fields: string[], line: number, raw: string, reason: NotCountedReason | null): CdrRecord {
    const parties = { callingNumber: nonEmpty(fields[SRC]!), calledNumber: nonEmpty(fields[DST]!), accountCode: nonEmpty(fields[ACCOUNTCODE]!) };
    return switchRecord('asterisk', line, raw, this.times, parties, reason);
  }
}
