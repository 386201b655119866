/**
 * A switch's own database for collector tests: a second database in the tests' PostgreSQL with
 * Asterisk's cdr_pgsql table (the columns of Asterisk's contrib schema, calldate a timestamp
 * without zone written in the switch's local time), and rows inserted as cdr_pgsql inserts them.
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { admin } from './db';

export const ASTERISK_CDR_SCHEMA = `
CREATE TABLE cdr (
  calldate    timestamp NOT NULL DEFAULT now(),
  clid        varchar(80) NOT NULL DEFAULT '',
  src         varchar(80) NOT NULL DEFAULT '',
  dst         varchar(80) NOT NULL DEFAULT '',
  dcontext    varchar(80) NOT NULL DEFAULT '',
  channel     varchar(80) NOT NULL DEFAULT '',
  dstchannel  varchar(80) NOT NULL DEFAULT '',
  lastapp     varchar(80) NOT NULL DEFAULT '',
  lastdata    varchar(80) NOT NULL DEFAULT '',
  duration    integer NOT NULL DEFAULT 0,
  billsec     integer NOT NULL DEFAULT 0,
  disposition varchar(45) NOT NULL DEFAULT '',
  amaflags    integer NOT NULL DEFAULT 0,
  accountcode varchar(20) NOT NULL DEFAULT '',
  uniqueid    varchar(150) NOT NULL DEFAULT '',
  userfield   varchar(255) NOT NULL DEFAULT '',
  peeraccount varchar(20) NOT NULL DEFAULT '',
  linkedid    varchar(150) NOT NULL DEFAULT '',
  sequence    integer NOT NULL DEFAULT 0
);
CREATE INDEX cdr_calldate_idx ON cdr (calldate);
CREATE ROLE billing_reader_ROLE LOGIN PASSWORD 's3cret-PASS';
GRANT SELECT ON cdr TO billing_reader_ROLE;
`;

export interface SwitchDatabase {
  name: string;
  /** The DSN of a role with SELECT on cdr alone, its password s3cret-PASS. */
  readerUrl: string;
  pool: Pool;
  /** Renames the database away (its DSN then names none) and back. */
  takeAway(): Promise<void>;
  bringBack(): Promise<void>;
  drop(): Promise<void>;
}

export async function createSwitchDatabase(): Promise<SwitchDatabase> {
  const suffix = randomBytes(5).toString('hex');
  const name = `switch_${suffix}`;
  const role = `billing_reader_${suffix}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = (user?: string): string => {
    const u = new URL(process.env.BILLING_TEST_ADMIN_URL!);
    u.pathname = `/${name}`;
    if (user) {
      u.username = user;
      u.password = 's3cret-PASS';
    }
    return u.toString();
  };
  let pool = new Pool({ connectionString: url(), max: 2 });
  await pool.query(ASTERISK_CDR_SCHEMA.replaceAll('billing_reader_ROLE', role));
  const self: SwitchDatabase = {
    name,
    readerUrl: url(role),
    pool,
    takeAway: async () => {
      await self.pool.end();
      await admin((c) =>
        c.query(`ALTER DATABASE ${name} RENAME TO ${name}_away`).catch(async () => {
          await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
          await c.query(`ALTER DATABASE ${name} RENAME TO ${name}_away`);
        }),
      );
    },
    bringBack: async () => {
      await admin((c) => c.query(`ALTER DATABASE ${name}_away RENAME TO ${name}`));
      pool = new Pool({ connectionString: url(), max: 2 });
      self.pool = pool;
    },
    drop: async () => {
      await self.pool.end().catch(() => undefined);
      await admin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.query(`DROP DATABASE IF EXISTS ${name}_away WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS ${role}`);
      });
    },
  };
  return self;
}

export interface CdrRow {
  calldate: string;
  src: string;
  dst: string;
  billsec: number;
  disposition?: string;
  lastapp?: string;
  uniqueid: string;
}

/** Inserts rows as cdr_pgsql does, ringing 5 s before the answer. */
export async function insertCdrRows(pool: Pool, rows: CdrRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    const slice = rows.slice(i, i + 500);
    const values: unknown[] = [];
    const tuples = slice.map((r, j) => {
      values.push(r.calldate, r.src, r.dst, r.billsec + 5, r.billsec, r.disposition ?? 'ANSWERED', r.lastapp ?? 'Dial', r.uniqueid);
      const b = j * 8;
      return `($${b + 1}::timestamp, '"" <' || $${b + 2} || '>', $${b + 2}, $${b + 3}, 'from-internal', 'PJSIP/1001-0001', 'PJSIP/trunk-0002', $${b + 7}, 'PJSIP/trunk,60', $${b + 4}::int, $${b + 5}::int, $${b + 6}, 3, '', $${b + 8}, '', '', $${b + 8}, 1)`;
    });
    await pool.query(
      `INSERT INTO cdr (calldate, clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata, duration, billsec, disposition, amaflags, accountcode, uniqueid, userfield, peeraccount, linkedid, sequence) VALUES ${tuples.join(', ')}`,
      values,
    );
  }
}

/** `count` answered calls from `src`, one a minute from `first` (YYYY-MM-DD HH:MM:SS), ids `prefix-n`. */
export function callsFrom(src: string, first: string, count: number, prefix: string): CdrRow[] {
  const start = Date.parse(`${first.replace(' ', 'T')}Z`);
  return Array.from({ length: count }, (_, n) => ({
    calldate: new Date(start + n * 60_000).toISOString().slice(0, 19).replace('T', ' '),
    src,
    dst: '33142000000',
    billsec: 60 + (n % 120),
    uniqueid: `${prefix}-${n}`,
  }));
}
