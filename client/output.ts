/**
 * Printing: JSON for scripts (--json), aligned text for people; and the output's end, when the process exits.
 * Everything goes to the output of the command line being run: the process's stdout and stderr
 * (bin/billing.js), or the sinks an in-process caller gave runCli (client/cli.ts; the tests).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Where a command line's text goes: a stream, or anything with a write (a test's buffer). */
export interface OutputSink {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface Output {
  stdout: OutputSink;
  stderr: OutputSink;
}

/*
 * The output of the command line running in this async context: set by runCli for the duration
 * of one command line, so calls running at the same time in one process (tests) each print to
 * their own sinks, and a command that runs another (the demo) prints to the same ones.
 */
const current = new AsyncLocalStorage<Output>();

/** Runs `action` with its printing going to `output`. */
export function withOutput<T>(output: Output, action: () => Promise<T>): Promise<T> {
  return current.run(output, action);
}

/** The current command line's output (the process's own outside runCli). */
export function output(): Output {
  return current.getStore() ?? { stdout: process.stdout, stderr: process.stderr };
}

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
  const flushed = (stream: NodeJS.WriteStream): Promise<void> =>
    new Promise((resolve) => {
      if (stream.destroyed || (stream === process.stdout && readerGone)) return resolve();
      // Writes complete in order: the callback of an empty one comes after all earlier ones.
      stream.write('', () => resolve());
    });
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
}

export function printJson(value: unknown): void {
  output().stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A column of a table: the row's key, its header by default in words ("monthlyFee" is "Monthly
 * fee", "subscriberId" is "Subscriber"), or the key and a header of its own (an "id" says what it is).
 */
export type Column = string | readonly [key: string, header: string];

/** "monthlyFee" → "Monthly fee", "subscriberId" → "Subscriber", "not counted" → "Not counted". */
export function headerOf(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[\s_]+/)
    .filter(Boolean);
  if (words.length > 1 && words[words.length - 1] === 'id') words.pop();
  const text = words.join(' ');
  return text === 'id' ? 'ID' : text.charAt(0).toUpperCase() + text.slice(1);
}

export function printTable(rows: Record<string, unknown>[], columns: Column[]): void {
  const { stdout } = output();
  if (rows.length === 0) {
    stdout.write('(none)\n');
    return;
  }
  const keys = columns.map((c) => (typeof c === 'string' ? c : c[0]));
  const headers = columns.map((c) => (typeof c === 'string' ? headerOf(c) : c[1]));
  const widths = keys.map((k, i) => Math.max(headers[i]!.length, ...rows.map((r) => String(r[k] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  stdout.write(`${line(headers)}\n`);
  for (const row of rows) stdout.write(`${line(keys.map((k) => String(row[k] ?? '')))}\n`);
}

/** "1 call", "2 calls", "0 calls"; nouns with another plural give it ("1 was", "2 were"). */
export function plural(count: number, noun: string, nounPlural = `${noun}s`): string {
  return `${count.toLocaleString('en')} ${count === 1 ? noun : nounPlural}`;
}

export function printLines(lines: string[]): void {
  output().stdout.write(`${lines.join('\n')}\n`);
}
