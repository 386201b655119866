import { Pool, types, type PoolClient } from 'pg';

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

/** Runs `work` in one transaction on one connection: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
