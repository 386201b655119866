/** Printing: JSON for scripts (--json), aligned text for people; and the output's end, when the process exits. */

/** True once whoever read our stdout has gone (`billing ... | head`): the rest of the output is dropped. */
let readerGone = false;

/**
 * A reader that stops reading (`| head`) makes the next write fail with EPIPE, an 'error' event
 * that would otherwise crash the process with a stack trace. The command still finishes what it
 * was doing (an import, a close): only its output has nobody to read it.
 */
export function guardOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
        if (stream === process.stdout) readerGone = true;
        return;
      }
      if (stream !== process.stderr) process.stderr.write(`billing: cannot write the output: ${error.message}\n`);
      process.exitCode = 1;
    });
  }
}

/**
 * Resolves once everything written to stdout and stderr has been handed to the reader. On a pipe
 * Node writes asynchronously: exiting before this cut `subscribers list --json` at the 64 KiB the
 * pipe holds when the reader was slower than us.
 */
export async function flushOutput(): Promise<void> {
  const flushed = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => {
    if (stream.destroyed || (stream === process.stdout && readerGone)) return resolve();
    // Writes complete in order: the callback of an empty one comes after all earlier ones.
    stream.write('', () => resolve());
  });
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(columns)}\n`);
  for (const row of rows) process.stdout.write(`${line(columns.map((c) => String(row[c] ?? '')))}\n`);
}

export function printLines(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}
