/**
 * A realistic Asterisk cdr_csv Master.csv (18 columns: loguniqueid and loguserfield on, as the
 * shipped cdr.conf.sample sets them) for benchmarks: outbound, inbound and internal calls, mixed
 * dispositions (some NO ANSWER rows with billsec, as Asterisk 12+ writes), voicemail deposits and
 * retrievals, and Local/ channel pairs. Written as a stream, so any size takes little memory.
 */
import fs from 'node:fs';
import { once } from 'node:events';

export interface GeneratedSubscriber {
  id: string;
  number: string;
  extension: string;
}

export function benchSubscribers(count: number): GeneratedSubscriber[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `s${String(i).padStart(6, '0')}`,
    number: `+1212${String(5_000_000 + i).padStart(7, '0')}`,
    extension: String(10_000 + i),
  }));
}

function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const q = (text: string): string => `"${text.replace(/"/g, '""')}"`;
const hex = (n: number): string => n.toString(16).padStart(8, '0');

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export interface AsteriskFileOptions {
  rows: number;
  subscribers: GeneratedSubscriber[];
  period: string;
  seed?: number;
  /** Subscribers whose answered calls last 90 to 180 minutes instead of up to 15: the heavy users. */
  longCallers?: ReadonlySet<string>;
}

export async function writeAsteriskFile(file: string, options: AsteriskFileOptions): Promise<void> {
  const random = generator(options.seed ?? 42);
  const out = fs.createWriteStream(file);
  const monthStart = Date.parse(`${options.period}-01T00:00:00Z`);
  const monthMs = 28 * 86_400_000;
  const subs = options.subscribers;
  let channel = 0;
  let written = 0;
  const pick = (): GeneratedSubscriber => subs[Math.floor(random() * subs.length)]!;
  const external = (): string => `1${Math.floor(2_000_000_000 + random() * 7_000_000_000)}`;

  const row = (f: {
    accountcode?: string;
    src: string;
    dst: string;
    dcontext: string;
    clid: string;
    channel: string;
    dstchannel: string;
    lastapp: string;
    lastdata: string;
    startMs: number;
    answered: boolean;
    duration: number;
    billsec: number;
    disposition: string;
  }): string => {
    const answerMs = f.startMs + (f.duration - f.billsec) * 1000;
    const uniqueid = `${Math.floor(f.startMs / 1000)}.${channel}`;
    return [
      q(f.accountcode ?? ''),
      q(f.src),
      q(f.dst),
      q(f.dcontext),
      q(f.clid),
      q(f.channel),
      q(f.dstchannel),
      q(f.lastapp),
      q(f.lastdata),
      q(stamp(f.startMs)),
      f.answered ? q(stamp(answerMs)) : '',
      q(stamp(f.startMs + f.duration * 1000)),
      String(f.duration),
      String(f.billsec),
      q(f.disposition),
      q('DOCUMENTATION'),
      q(uniqueid),
      q(''),
    ].join(',');
  };

  const lines = (): string[] => {
    channel += 1;
    const kind = random();
    const startMs = monthStart + Math.floor((random() * monthMs) / 1000) * 1000;
    const a = pick();
    const billsec = options.longCallers?.has(a.id) ? 5_400 + Math.floor(random() * 5_400) : 5 + Math.floor(random() * 900);
    const ring = 2 + Math.floor(random() * 20);
    const phone = `PJSIP/${a.extension}-${hex(channel)}`;
    const trunk = `PJSIP/trunk_1-${hex(channel + 1)}`;
    if (kind < 0.55) {
      const dst = external();
      return [
        row({
          src: a.number,
          dst: `9${dst}`,
          dcontext: 'from-internal',
          clid: `"Sub ${a.id}" <${a.number}>`,
          channel: phone,
          dstchannel: trunk,
          lastapp: 'Dial',
          lastdata: `PJSIP/${dst}@trunk_1,60`,
          startMs,
          answered: true,
          duration: ring + billsec,
          billsec,
          disposition: 'ANSWERED',
        }),
      ];
    }
    if (kind < 0.75) {
      const src = external();
      return [
        row({
          src,
          dst: a.number,
          dcontext: 'from-trunk',
          clid: `"" <${src}>`,
          channel: trunk,
          dstchannel: phone,
          lastapp: 'Dial',
          lastdata: `PJSIP/${a.extension},30`,
          startMs,
          answered: true,
          duration: ring + billsec,
          billsec,
          disposition: 'ANSWERED',
        }),
      ];
    }
    if (kind < 0.8) {
      const b = pick();
      return [
        row({
          src: a.number,
          dst: b.number,
          dcontext: 'from-internal',
          clid: `"Sub ${a.id}" <${a.number}>`,
          channel: phone,
          dstchannel: `PJSIP/${b.extension}-${hex(channel + 2)}`,
          lastapp: 'Dial',
          lastdata: `PJSIP/${b.extension},30`,
          startMs,
          answered: true,
          duration: ring + billsec,
          billsec,
          disposition: 'ANSWERED',
        }),
      ];
    }
    if (kind < 0.88) {
      const disposition = random() < 0.6 ? 'NO ANSWER' : random() < 0.7 ? 'BUSY' : 'FAILED';
      // Asterisk 12+: an unanswered Dial after an IVR can still carry billsec.
      const carried = disposition === 'NO ANSWER' && random() < 0.3 ? 5 + Math.floor(random() * 30) : 0;
      return [
        row({
          src: a.number,
          dst: `9${external()}`,
          dcontext: 'from-internal',
          clid: `"Sub ${a.id}" <${a.number}>`,
          channel: phone,
          dstchannel: trunk,
          lastapp: 'Dial',
          lastdata: 'PJSIP/trunk_1,60',
          startMs,
          answered: carried > 0,
          duration: ring + carried,
          billsec: carried,
          disposition,
        }),
      ];
    }
    if (kind < 0.92) {
      const src = external();
      const vm = 10 + Math.floor(random() * 60);
      return [
        row({
          src,
          dst: a.number,
          dcontext: 'from-trunk',
          clid: `"" <${src}>`,
          channel: trunk,
          dstchannel: phone,
          lastapp: 'Dial',
          lastdata: `PJSIP/${a.extension},20`,
          startMs,
          answered: false,
          duration: 20,
          billsec: 0,
          disposition: 'NO ANSWER',
        }),
        row({
          src,
          dst: a.number,
          dcontext: 'from-trunk',
          clid: `"" <${src}>`,
          channel: trunk,
          dstchannel: '',
          lastapp: 'VoiceMail',
          lastdata: `${a.extension}@default,u`,
          startMs: startMs + 20_000,
          answered: true,
          duration: vm,
          billsec: vm,
          disposition: 'ANSWERED',
        }),
      ];
    }
    if (kind < 0.94) {
      return [
        row({
          src: a.number,
          dst: '*97',
          dcontext: 'from-internal',
          clid: `"Sub ${a.id}" <${a.number}>`,
          channel: phone,
          dstchannel: '',
          lastapp: 'VoiceMailMain',
          lastdata: `${a.extension}@default`,
          startMs,
          answered: true,
          duration: 40,
          billsec: 40,
          disposition: 'ANSWERED',
        }),
      ];
    }
    if (kind < 0.97) {
      // A phone dials through a Local/ channel: the phone's row and the ;2 half describe one call.
      const local = `Local/${a.extension}@from-internal-${hex(channel)}`;
      const dst = external();
      return [
        row({
          src: a.number,
          dst: `9${dst}`,
          dcontext: 'from-internal',
          clid: `"Sub ${a.id}" <${a.number}>`,
          channel: phone,
          dstchannel: `${local};1`,
          lastapp: 'Dial',
          lastdata: `Local/${a.extension}@from-internal`,
          startMs,
          answered: true,
          duration: ring + billsec,
          billsec,
          disposition: 'ANSWERED',
        }),
        row({
          src: a.number,
          dst: `9${dst}`,
          dcontext: 'from-internal',
          clid: `"Sub ${a.id}" <${a.number}>`,
          channel: `${local};2`,
          dstchannel: trunk,
          lastapp: 'Dial',
          lastdata: `PJSIP/${dst}@trunk_1`,
          startMs,
          answered: true,
          duration: ring + billsec,
          billsec,
          disposition: 'ANSWERED',
        }),
      ];
    }
    // An originated call (call file): the ;1 half runs an app, the ;2 half is the real call.
    const local = `Local/${a.extension}@callback-${hex(channel)}`;
    const dst = external();
    return [
      row({
        src: a.number,
        dst: 's',
        dcontext: 'callback',
        clid: `"" <${a.number}>`,
        channel: `${local};1`,
        dstchannel: '',
        lastapp: 'Playback',
        lastdata: 'hello-world',
        startMs,
        answered: true,
        duration: 3,
        billsec: 3,
        disposition: 'ANSWERED',
      }),
      row({
        src: a.number,
        dst: `9${dst}`,
        dcontext: 'from-internal',
        clid: `"" <${a.number}>`,
        channel: `${local};2`,
        dstchannel: trunk,
        lastapp: 'Dial',
        lastdata: `PJSIP/${dst}@trunk_1`,
        startMs,
        answered: true,
        duration: ring + billsec,
        billsec,
        disposition: 'ANSWERED',
      }),
    ];
  };

  let buffer = '';
  while (written < options.rows) {
    for (const line of lines()) {
      if (written >= options.rows) break;
      buffer += `${line}\n`;
      written += 1;
    }
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}
