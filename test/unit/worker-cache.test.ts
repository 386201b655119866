/** The worker's cache of workflow runs: sized for every subscriber's entity by default. */
import { ConfigError, loadConfig } from '../../config';
import { defaultCachedRuns } from '../../workers/worker';

const MiB = 1024 * 1024;

test('the default keeps four runs a MiB of heap above 512 MiB', () => {
  expect(defaultCachedRuns(4144 * MiB)).toBe(14_528); // Node's heap on a machine of 16 GiB or more
  expect(defaultCachedRuns(2048 * MiB)).toBe(6_144);
  expect(defaultCachedRuns(600 * MiB)).toBe(352);
  expect(defaultCachedRuns(256 * MiB)).toBe(100); // never fewer than 100
});

test('BILLING_WORKER_CACHED_RUNS overrides it, and nonsense is refused by name', () => {
  expect(loadConfig({ BILLING_WORKER_CACHED_RUNS: '20000' }).workerCachedRuns).toBe(20_000);
  expect(loadConfig({}).workerCachedRuns).toBeUndefined();
  expect(() => loadConfig({ BILLING_WORKER_CACHED_RUNS: 'lots' })).toThrow(ConfigError);
  expect(() => loadConfig({ BILLING_WORKER_CACHED_RUNS: '1' })).toThrow(/BILLING_WORKER_CACHED_RUNS="1" is invalid/);
});
