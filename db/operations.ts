/** The first write of an operation run as a workflow, done once per run (migration 1700000000014). */
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from './pool';

/**
 * Runs `write` once for `key` (the workflow run doing it): a retry after the first attempt
 * committed returns what that attempt returned, in the same transaction as nothing else.
 */
export async function writeOnce<T>(pool: Pool, key: string, write: (client: PoolClient) => Promise<T>): Promise<{ result: T; again: boolean }> {
  return inTransaction(pool, async (client) => {
    // Two attempts at once (a timed-out one still running) wait here for each other.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);
    const { rows } = await client.query('SELECT result FROM operation_writes WHERE key = $1', [key]);
    if (rows[0]) return { result: rows[0].result as T, again: true };
    const result = await write(client);
    await client.query('INSERT INTO operation_writes (key, result) VALUES ($1, $2)', [key, JSON.stringify(result ?? null)]);
    return { result, again: false };
  });
}
