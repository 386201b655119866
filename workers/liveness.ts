/**
 * The worker's liveness for a container's health check (Dockerfile HEALTHCHECK): while the worker
 * is running, a file whose modification time is renewed every few seconds. A stuck or stopped
 * worker leaves it to age; the check reads its age, so it needs no port and no extra process.
 */
import fs from 'node:fs';
import path from 'node:path';

export const LIVENESS_FILE_NAME = 'worker.alive';
export const LIVENESS_INTERVAL_MS = 10_000;

/**
 * Writes `file` now (the worker is starting to run), then renews it every `intervalMs` while
 * `isRunning()`; the returned function stops and removes it.
 */
export function keepLivenessFile(file: string, isRunning: () => boolean, intervalMs: number = LIVENESS_INTERVAL_MS): () => void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${process.pid}\n`);
  const renew = (): void => {
    if (!isRunning()) return;
    const now = new Date();
    fs.utimesSync(file, now, now);
  };
  const timer = setInterval(renew, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    fs.rmSync(file, { force: true });
  };
}
