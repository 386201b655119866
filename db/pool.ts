import { Pool, types } from 'pg';

// bigint columns hold cents and micros; they fit in a JS number far beyond any invoice.
types.setTypeParser(types.builtins.INT8, (value) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`bigint ${value} exceeds the safe integer range`);
  return n;
});
// Dates (service start, policy effective dates) stay YYYY-MM-DD text: no zone shifting.
types.setTypeParser(types.builtins.DATE, (value) => value);

export function createPool(databaseUrl: string, max = 10): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max, application_name: 'redconnect-billing' });
  // An idle connection that the server drops (restart, failover) is discarded by the pool; the
  // next query opens a new one. Without a listener the error would end the process.
  pool.on('error', (error) => {
    process.emitWarning(`PostgreSQL connection lost: ${error.message}`);
  });
  // A connection lost while checked out (mid-transaction) fails its query; the 'error' event it
  // also emits must not end the process.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}
