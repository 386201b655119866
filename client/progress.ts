/**
 * A progress bar on stderr for long commands (an import, a month close), shown only on a terminal:
 * piped or redirected output stays clean for scripts.
 */
import { Presets, SingleBar } from 'cli-progress';
import { output } from './output';

export interface ProgressBar<P extends object> {
  /** False when not on a terminal: nothing is drawn, so nothing need be measured. */
  readonly enabled: boolean;
  update(value: number, total: number, payload: P): void;
  stop(): void;
}

/** `format` is cli-progress's, e.g. 'importing [{bar}] {percentage}% | ETA {eta_formatted}', with payload fields in braces. */
export function progressBar<P extends object>(format: string, enabled = Boolean(output().stderr.isTTY)): ProgressBar<P> {
  if (!enabled) return { enabled, update: () => undefined, stop: () => undefined };
  // The current command line's stderr: the process's (a terminal) when enabled by default.
  const bar = new SingleBar({ stream: output().stderr as NodeJS.WritableStream, format, hideCursor: true }, Presets.shades_classic);
  let begun = false;
  return {
    enabled,
    update(value, total, payload) {
      if (!begun) {
        bar.start(total, value, payload);
        begun = true;
      } else {
        bar.setTotal(total);
        bar.update(value, payload);
      }
    },
    stop() {
      if (begun) bar.stop();
    },
  };
}
