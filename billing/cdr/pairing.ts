/**
 * Deciding a record that depends on another row of the file, in bounded memory.
 *
 * Two rules need a partner row that may come before or after the record (DESIGN, "Usage import
 * rules"): an Asterisk `Local/…;2` row is a duplicate when some row dialled that channel's `;1`
 * half, and a FreeSWITCH A-leg is a voicemail deposit when its B-leg is a voicemail loopback leg
 * (legs=ab) or, as vanilla FreeSWITCH writes only A-legs, when a voicemail leg of the same caller
 * ends in the same second and started within it (a key, then a check of the partner); and, with
 * legs=ab, an answered FreeSWITCH row is a B-leg when some A-leg's bleg_uuid names its uuid.
 * Switches write both rows close together (each when its channel hangs up), so the window
 * remembers partners seen in the last `size` rows and holds records back for at most `size`
 * further rows. A held record whose partner shows up is not counted (with the reason it was held
 * for: the window's, unless the reader gave another);
 * one whose window passes, or that is still held at flush(), is counted. Memory is bounded by
 * the window, never by the file.
 */
import type { CdrReader, CdrRecord, NotCountedReason, ReadResult } from './types';

interface Held {
  /** The partners that would decide it: a record may wait for more than one kind. */
  readonly keys: readonly string[];
  readonly row: number;
  readonly record: CdrRecord;
  /** Why it does not count if its partner shows up. */
  readonly reason: NotCountedReason;
  decided: boolean;
}

interface Sighting {
  readonly row: number;
  /** What the row that named the key says of itself, for `accepts` (undefined: any held record). */
  readonly partner: unknown;
}

/**
 * Whether a partner seen under one of a held record's keys decides it: a key alone can be too
 * coarse (the same caller ending a call in the same second), so the reader may check more.
 */
export type PartnerCheck = (held: CdrRecord, partner: unknown) => boolean;

/** Queues drop their consumed head in one step once it is this long and most of the array. */
const COMPACT_AFTER = 1024;

export class PairingWindow {
  /** Counts rows; row n's partners are valid for rows n..n+size. */
  private row = 0;
  /** Partner key → the last row that named it. */
  private readonly seenAt = new Map<string, Sighting>();
  /** The same sightings in row order, to forget them as they leave the window. */
  private seenKeys: string[] = [];
  private seenRows: number[] = [];
  private seenHead = 0;
  private readonly heldByKey = new Map<string, Held[]>();
  private heldQueue: Held[] = [];
  private heldHead = 0;
  private heldOpen = 0;

  constructor(
    private readonly size: number,
    private readonly pairedReason: NotCountedReason,
    private readonly accepts: PartnerCheck = () => true,
  ) {}

  /** How many partner keys are remembered and records held: bounded by the window. */
  get pending(): { remembered: number; held: number } {
    return { remembered: this.seenAt.size, held: this.heldOpen };
  }

  /** Starts a new row: forgets partners and releases (as counted) held records older than the window. */
  nextRow(out: ReadResult[]): void {
    this.row += 1;
    const oldest = this.row - this.size;
    this.forgetSightingsBefore(oldest);
    this.releaseHeldBefore(oldest, out);
  }

  /**
   * The current row names `key` as a partner (telling `partner` of itself, for the check): held
   * records waiting for it that the check accepts are decided now, not counted. Says whether any was.
   */
  partnerSeen(key: string, out: ReadResult[], partner?: unknown): boolean {
    this.seenAt.set(key, { row: this.row, partner });
    this.seenKeys.push(key);
    this.seenRows.push(this.row);
    return this.settleHeld(key, out, partner, false);
  }

  /**
   * As partnerSeen, without remembering `key` for records to come: for a partner that can only
   * come after the record it decides (the reader decides the other order some other way).
   */
  claim(key: string, out: ReadResult[]): boolean {
    return this.settleHeld(key, out, undefined, false);
  }

  /**
   * The current row shows that records held under `key` have no partner after all: they are
   * decided now, counted, instead of waiting for the window to pass. Says whether any was.
   */
  release(key: string, out: ReadResult[]): boolean {
    return this.settleHeld(key, out, undefined, true);
  }

  /**
   * Decides the current row's record now if a partner under one of its keys was seen within the
   * window (and accepted); otherwise holds it until one shows up or the window passes. Either way
   * a partner makes it not counted with `reason` (by default the window's).
   */
  decideOrHold(keys: string | readonly string[], record: CdrRecord, out: ReadResult[], reason: NotCountedReason = this.pairedReason): void {
    const all = typeof keys === 'string' ? [keys] : keys;
    for (const key of all) {
      const seen = this.seenAt.get(key);
      if (seen !== undefined && (seen.partner === undefined || this.accepts(record, seen.partner))) {
        out.push(this.decide(record, reason));
        return;
      }
    }
    const held: Held = { keys: all, row: this.row, record, reason, decided: false };
    this.heldQueue.push(held);
    this.heldOpen += 1;
    for (const key of all) {
      const waiting = this.heldByKey.get(key);
      if (waiting === undefined) this.heldByKey.set(key, [held]);
      else waiting.push(held);
    }
  }

  /** Decides the records held under `key` (those the check accepts): counted, or not with their reason. */
  private settleHeld(key: string, out: ReadResult[], partner: unknown, counted: boolean): boolean {
    const waiting = this.heldByKey.get(key);
    if (waiting === undefined) return false;
    let decided = false;
    for (const held of [...waiting]) {
      if (held.decided || (partner !== undefined && !this.accepts(held.record, partner))) continue;
      held.decided = true;
      decided = true;
      this.heldOpen -= 1;
      this.forgetKeys(held);
      out.push(this.decide(held.record, counted ? null : held.reason));
    }
    return decided;
  }

  /** End of the file: every record still held had no partner, so it counts. */
  flush(out: ReadResult[]): void {
    this.releaseHeldBefore(Number.POSITIVE_INFINITY, out);
    this.seenAt.clear();
    this.seenKeys = [];
    this.seenRows = [];
    this.seenHead = 0;
  }

  /** A record's outcome: not counted with `reason`, or counted (null). */
  private decide(record: CdrRecord, reason: NotCountedReason | null): ReadResult {
    record.counted = reason === null;
    record.notCountedReason = reason;
    return { ok: true, record };
  }

  private forgetSightingsBefore(oldest: number): void {
    const keys = this.seenKeys;
    const rows = this.seenRows;
    let head = this.seenHead;
    while (head < rows.length && rows[head]! < oldest) {
      const key = keys[head]!;
      // The key may have been seen again since: only its last sighting decides.
      if (this.seenAt.get(key)?.row === rows[head]) this.seenAt.delete(key);
      head += 1;
    }
    if (head > COMPACT_AFTER && head * 2 > rows.length) {
      this.seenKeys = keys.slice(head);
      this.seenRows = rows.slice(head);
      head = 0;
    }
    this.seenHead = head;
  }

  private releaseHeldBefore(oldest: number, out: ReadResult[]): void {
    const queue = this.heldQueue;
    let head = this.heldHead;
    while (head < queue.length && queue[head]!.row < oldest) {
      const held = queue[head]!;
      head += 1;
      if (held.decided) continue;
      this.heldOpen -= 1;
      this.forgetKeys(held);
      out.push(this.decide(held.record, null));
    }
    if (head === queue.length) {
      queue.length = 0;
      head = 0;
    } else if (head > COMPACT_AFTER && head * 2 > queue.length) {
      this.heldQueue = queue.slice(head);
      head = 0;
    }
    this.heldHead = head;
  }

  /** A decided record stops waiting under every key; it leaves in row order, so usually first. */
  private forgetKeys(held: Held): void {
    for (const key of held.keys) {
      const waiting = this.heldByKey.get(key);
      if (waiting === undefined) continue;
      if (waiting.length === 1 && waiting[0] === held) this.heldByKey.delete(key);
      else if (waiting[0] === held) waiting.shift();
      else {
        const at = waiting.indexOf(held);
        if (at >= 0) waiting.splice(at, 1);
      }
    }
  }
}

/**
 * A switch reader whose cross-row rule runs through a PairingWindow: each row first ages the
 * window, then is either reported as unreadable or classified.
 */
export abstract class PairingReader implements CdrReader {
  protected constructor(protected readonly pairs: PairingWindow) {}

  /** Partners remembered and rows held: stays within the pairing window. */
  get pending(): { remembered: number; held: number } {
    return this.pairs.pending;
  }

  push(fields: string[], line: number, raw: string): ReadResult[] {
    const out: ReadResult[] = [];
    this.pairs.nextRow(out);
    const problem = this.rowProblem(fields);
    if (problem !== undefined) out.push({ ok: false, line, raw, reason: problem });
    else this.classify(fields, line, raw, out);
    return out;
  }

  flush(): ReadResult[] {
    const out: ReadResult[] = [];
    this.pairs.flush(out);
    return out;
  }

  /** DESIGN, "Bad rows": why the row cannot be read, or undefined. */
  protected abstract rowProblem(fields: string[]): string | undefined;

  protected abstract classify(fields: string[], line: number, raw: string, out: ReadResult[]): void;
}
