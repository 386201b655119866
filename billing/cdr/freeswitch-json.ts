/**
 * FreeSWITCH `mod_json_cdr` documents read into CdrRecords, with the counting rules of the
 * `mod_cdr_csv` reader (billing/cdr/freeswitch.ts; DESIGN, "Usage import rules").
 *
 * What FreeSWITCH 1.10 writes (src/mod/event_handlers/mod_json_cdr/mod_json_cdr.c and
 * switch_ivr_generate_json_cdr in src/switch_ivr.c): one file per call leg, `<uuid>.cdr.json`
 * (`a_<uuid>.cdr.json` with `prefix-a-leg`), one line of JSON and a newline, written in place
 * (open, write, close: a reader must wait for the size to settle). The document:
 *
 *   {"core-uuid", "switchname", "channel_data": {"direction", ...}, "callStats",
 *    "variables": {NAME: "value", ...}, "app_log": {"applications": [...]},
 *    "callflow": [{"dialplan", "profile_index", "extension",
 *                  "caller_profile": {"caller_id_number", "destination_number", "context", "uuid", "chan_name", ...,
 *                                     "originator": {"originator_caller_profiles": [...]},   (a B-leg)
 *                                     "originatee": {"originatee_caller_profiles": [...]}},  (what it was bridged to)
 *                  "times": {...}}, ...]}
 *
 * - `variables` are the channel's variables, each a string, **URL-encoded** unless
 *   `encode-values` is false (its default is true): `2026-10-05%2009%3A00%3A00`, `%2B1415…`. The
 *   encoder leaves an existing `%XX` as it is, so they are decoded the way FreeSWITCH's
 *   switch_url_decode does, whether or not the switch encoded them: none of the values read here
 *   (epochs, seconds, uuids, account codes, application names) holds a `%` of its own.
 * - `callflow` is an array since 1.6 (before, a repeated key), newest caller profile first: after
 *   a transfer (an IVR option, `public` to `default`) callflow[0] has the destination the call
 *   ended at. Caller profile fields are not URL-encoded.
 * - `caller_id_number`, `destination_number` and `context` are not channel variables: mod_cdr_csv's
 *   `${caller_id_number}` finds them in the current caller profile, and `${bleg_uuid}` in the
 *   profile the leg was bridged to (originatee_caller_profiles[0], the latest bridge). This reader
 *   looks them up the same way (a variable of that name first, then the profile).
 * - Times: `start_epoch`, `answer_epoch` (`0` when never answered) and `end_epoch` are whole
 *   seconds since 1970, UTC; `billsec = end_epoch - answer_epoch`, `duration = end_epoch -
 *   start_epoch`. The `*_stamp` variables are local time without a zone (read in the source's zone
 *   only when a document has no epochs).
 *
 * Pairing across files is not needed. The CSV reader must pair an A-leg with its voicemail leg
 * because a CSV row only names its B-leg by uuid. A JSON document carries its B-leg's whole caller
 * profile: the vanilla deposit (`bridge loopback/app=voicemail:default …`) bridges the A-leg to the
 * loopback leg whose destination_number is `voicemail`, so each document is decided alone:
 * - the A-leg of a deposit: its originatee's destination_number is `voicemail` (legs=a and legs=ab alike);
 * - both loopback halves (destination_number `voicemail`: `loopback/voicemail-a`, a B-leg written
 *   with `log-b-leg`, and `loopback/voicemail-b`, which runs the voicemail application as an A-leg
 *   of its own and is always written) are deposits;
 * - a B-leg (`log-b-leg=true`, mod_json_cdr's default: the leg has an `originator` profile, the
 *   test mod_json_cdr itself uses) is `b-leg`, never counted: its A-leg's document carries the call.
 * So a spool collector reads each file alone, in any order, with readFreeswitchJsonCdr (or one
 * FreeswitchJsonDocuments per run), and `usage import --format freeswitch-json` reads a file of
 * documents one a line (`cat *.cdr.json > calls.jsonl`) through FreeswitchJsonReader; the same
 * document gives the same record, and so the same key, either way.
 */
import { CallTimes, ServiceNumbers, switchRecord, type LegTimes } from './switch-row';
import type { CdrReader, CdrRecord, NotCountedReason, ReaderOptions, ReadResult } from './types';

/** The loopback legs of the vanilla deposit (`loopback/app=voicemail`) have this destination. */
const VOICEMAIL_LEG_DESTINATION = 'voicemail';

/** Where a document came from, for reports: the spool file's name and its line (1 for a spool file). */
export interface DocumentPlace {
  file?: string;
  line?: number;
}

type JsonObject = Record<string, unknown>;

function asObject(value: unknown): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

const UTF8 = new TextDecoder('utf-8');

/**
 * A variable's value as FreeSWITCH's switch_url_decode reads it: `%XX` is the byte XX, anything
 * else (a `%` without two hex digits after it too) is itself; the bytes are UTF-8.
 */
export function urlDecodedValue(value: string): string {
  if (!value.includes('%')) return value;
  return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    return UTF8.decode(bytes);
  });
}

/** Whole non-negative seconds written as digits, or -1 (at most 12 digits: past the year 33000). */
function wholeSeconds(text: string): number {
  if (!/^\d{1,12}$/.test(text)) return -1;
  return Number(text);
}

class Unreadable extends Error {}

/** One document's fields, looked up the way FreeSWITCH expands `${name}` in a CDR template. */
class Channel {
  constructor(
    private readonly variables: JsonObject,
    private readonly profile: JsonObject,
  ) {}

  /** A channel variable, URL-decoded; undefined when absent (FreeSWITCH leaves empty ones out). */
  variable(name: string): string | undefined {
    const value = this.variables[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new Unreadable(`variables.${name} is ${JSON.stringify(value)}, not a string`);
    return urlDecodedValue(value);
  }

  /** `${name}`: the variable, else the field of the current caller profile (callflow[0]). */
  field(name: string): string | undefined {
    return this.variable(name) ?? profileField(this.profile, name, 'callflow[0].caller_profile');
  }

  /** `${bleg_name}`: the variable, else the field of the profile this leg was last bridged to. */
  bLegField(name: string): string | undefined {
    const variable = this.variable(`bleg_${name}`);
    if (variable !== undefined) return variable;
    const bLeg = firstProfile(this.profile.originatee, 'originatee_caller_profiles');
    return bLeg === undefined ? undefined : profileField(bLeg, name, 'callflow[0].caller_profile.originatee.originatee_caller_profiles[0]');
  }

  /** mod_json_cdr's own test for a B-leg: the current caller profile has an originator. */
  isBLeg(): boolean {
    return firstProfile(this.profile.originator, 'originator_caller_profiles') !== undefined;
  }
}

function profileField(profile: JsonObject, name: string, path: string): string | undefined {
  const value = profile[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Unreadable(`${path}.${name} is ${JSON.stringify(value)}, not a string`);
  return value;
}

function firstProfile(holder: unknown, key: string): JsonObject | undefined {
  const list = asObject(holder)?.[key];
  return Array.isArray(list) ? asObject(list[0]) : undefined;
}

function nonEmpty(text: string | undefined): string | null {
  return text === undefined || text === '' ? null : text;
}

/**
 * Reads mod_json_cdr documents with one source's settings (zone of the fallback stamps,
 * voicemail numbers, feature codes). Keep one per run: the settings are compiled once.
 */
export class FreeswitchJsonDocuments {
  private readonly services: ServiceNumbers;
  private readonly stamps: CallTimes;

  constructor(options: ReaderOptions) {
    this.services = new ServiceNumbers(options);
    // Only for a document without epochs; FreeSWITCH computes billsec from whole seconds.
    this.stamps = new CallTimes(options.timezone, 0);
  }

  /**
   * One document (a spool file's text, or one line of a file of them) as a record, or why it
   * cannot be read, naming the file when given and the field. Never throws on bad input.
   */
  read(text: string, place: DocumentPlace = {}): ReadResult {
    const line = place.line ?? 1;
    const raw = text.trimEnd();
    try {
      return { ok: true, record: this.recordOf(raw, line) };
    } catch (error) {
      if (!(error instanceof Unreadable)) throw error;
      const where = place.file === undefined ? '' : `${place.file}: `;
      return { ok: false, line, raw, reason: `${where}${error.message}` };
    }
  }

  private recordOf(raw: string, line: number): CdrRecord {
    const channel = channelOf(raw);
    const times = this.timesOf(channel);
    const destination = channel.field('destination_number') ?? '';
    const parties = {
      callingNumber: nonEmpty(channel.field('caller_id_number')),
      calledNumber: nonEmpty(destination),
      accountCode: nonEmpty(channel.variable('accountcode')),
    };
    const reason = this.reasonNotCounted(channel, destination, times.answerMs !== null);
    return switchRecord('freeswitch-json', line, raw, times, parties, reason);
  }

  /**
   * Why the leg does not count. Precedence as in the CSV reader: a voicemail leg, then (what CSV
   * cannot see) a B-leg, then unanswered, then the A-leg of a deposit, retrieval, a feature code.
   */
  private reasonNotCounted(channel: Channel, destination: string, answered: boolean): NotCountedReason | null {
    if (destination === VOICEMAIL_LEG_DESTINATION) return 'voicemail-deposit';
    if (channel.isBLeg()) return 'b-leg';
    if (!answered) return 'unanswered';
    // Answered, then bridged to the voicemail loopback: the caller left a message.
    if (channel.bLegField('destination_number') === VOICEMAIL_LEG_DESTINATION) return 'voicemail-deposit';
    // A dialplan that runs the voicemail application on the A-leg itself (no loopback): like an
    // Asterisk VoiceMail row, the last application names what happened.
    if (channel.variable('last_app') === 'voicemail') {
      return /^\s*check\b/.test(channel.variable('last_arg') ?? '') ? 'voicemail-retrieval' : 'voicemail-deposit';
    }
    if (this.services.isVoicemail(destination, channel.field('context') ?? '')) return 'voicemail-retrieval';
    if (this.services.isFeatureCode(destination)) return 'not-a-call';
    return null;
  }

  /** The leg's times from its epochs (UTC), or from its local stamps when it has none. */
  private timesOf(channel: Channel): LegTimes {
    const startEpoch = channel.variable('start_epoch');
    const endEpoch = channel.variable('end_epoch');
    if (startEpoch === undefined && endEpoch === undefined) return this.timesFromStamps(channel);
    const start = epochOf('start_epoch', startEpoch);
    const end = epochOf('end_epoch', endEpoch);
    if (start === 0) throw new Unreadable('variables.start_epoch is 0: the leg has no start time');
    if (end < start) throw new Unreadable(`variables.end_epoch ${end} is before variables.start_epoch ${start}`);
    const answerText = channel.variable('answer_epoch') ?? '0';
    const answer = epochOf('answer_epoch', answerText);
    if (answer !== 0 && (answer < start || answer > end)) {
      throw new Unreadable(`variables.answer_epoch ${answer} is not between start_epoch ${start} and end_epoch ${end} (0 for a leg never answered)`);
    }
    const billsec = secondsOf(channel, 'billsec');
    const durationText = channel.variable('duration');
    const duration = durationText === undefined ? end - start : secondsOf(channel, 'duration');
    if (billsec > duration) throw new Unreadable(`variables.billsec ${billsec} is greater than variables.duration ${duration}`);
    return { startMs: start * 1000, answerMs: answer === 0 ? null : answer * 1000, endMs: end * 1000, billableSeconds: billsec };
  }

  private timesFromStamps(channel: Channel): CallTimes {
    const start = channel.variable('start_stamp');
    if (start === undefined) throw new Unreadable('has neither variables.start_epoch nor variables.start_stamp: the leg has no start time');
    const problem = this.stamps.read(
      start,
      channel.variable('answer_stamp') ?? '',
      channel.variable('end_stamp') ?? '',
      channel.variable('duration') ?? '',
      channel.variable('billsec') ?? '',
    );
    if (problem !== undefined) throw new Unreadable(`variables: ${problem}`);
    return this.stamps;
  }
}

function epochOf(name: string, text: string | undefined): number {
  if (text === undefined) throw new Unreadable(`variables.${name} is missing`);
  const seconds = wholeSeconds(text);
  if (seconds < 0) throw new Unreadable(`variables.${name} "${text}" is not whole seconds since 1970 (UTC)`);
  return seconds;
}

function secondsOf(channel: Channel, name: string): number {
  const text = channel.variable(name);
  if (text === undefined) throw new Unreadable(`variables.${name} is missing`);
  const seconds = wholeSeconds(text);
  if (seconds < 0) throw new Unreadable(`variables.${name} "${text}" is not a whole number of seconds ≥ 0`);
  return seconds;
}

function channelOf(raw: string): Channel {
  let document: unknown;
  try {
    document = JSON.parse(raw);
  } catch (error) {
    const cut = raw.length === 0 ? 'empty' : (error as Error).message;
    throw new Unreadable(`not a JSON document (${cut}): a file cut short, or not mod_json_cdr's`);
  }
  const top = asObject(document);
  if (top === undefined) throw new Unreadable(`is ${Array.isArray(document) ? 'an array' : typeof document}, not a mod_json_cdr document (a JSON object)`);
  const variables = asObject(top.variables);
  if (variables === undefined) throw new Unreadable('has no "variables" object: not a mod_json_cdr document');
  // An array since FreeSWITCH 1.6; before, one object per repeated key (JSON.parse keeps one).
  const current = Array.isArray(top.callflow) ? asObject(top.callflow[0]) : asObject(top.callflow);
  const profile = asObject(current?.caller_profile);
  if (profile === undefined) throw new Unreadable('has no callflow[0].caller_profile: not a mod_json_cdr document');
  return new Channel(variables, profile);
}

/**
 * One mod_json_cdr document, decided alone (see the top of this file for why no other file is
 * needed). For many documents with the same settings, keep one FreeswitchJsonDocuments.
 */
export function readFreeswitchJsonCdr(text: string, options: ReaderOptions & DocumentPlace): ReadResult {
  return new FreeswitchJsonDocuments(options).read(text, options);
}

/**
 * The reader of `usage import --format freeswitch-json`: a file of documents, one a line.
 * `fields[0]` is the document; `fields[1]`, when a caller gives it, the file it came from (a spool
 * collector pushing one file a row), for the rejection's reason.
 */
export class FreeswitchJsonReader implements CdrReader {
  private readonly documents: FreeswitchJsonDocuments;

  constructor(options: ReaderOptions) {
    this.documents = new FreeswitchJsonDocuments(options);
  }

  push(fields: string[], line: number): ReadResult[] {
    return [this.documents.read(fields[0] ?? '', { line, file: fields[1] })];
  }

  flush(): ReadResult[] {
    return [];
  }
}
