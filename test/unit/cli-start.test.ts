/**
 * The CLI's start-up (issue 13, "A thin CLI"): `billing --help` runs the compiled program and loads
 * no command group, so none of the worker SDK, the Temporal client or PostgreSQL's client; the
 * overview's descriptions are the ones the groups register; `--version` prints the package's.
 */
import { Command } from 'commander';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { allGroups, TOP_LEVEL_COMMANDS } from '../../client/cli';
import type { RunCommand } from '../../client/context';
import { version } from '../../package.json';

const BIN = path.resolve(__dirname, '../../bin/billing.js');

function node(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs bin/billing.js with these arguments and reports, on stderr, every module it had loaded when it exited. */
async function modulesLoadedBy(...args: string[]): Promise<{ stdout: string; modules: string[] }> {
  const script = [
    `process.on('exit', () => require('node:fs').writeSync(2, '\\nMODULES ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));`,
    `process.argv = [process.execPath, ${JSON.stringify(BIN)}, ...${JSON.stringify(args)}];`,
    `require(${JSON.stringify(BIN)});`,
  ].join('\n');
  const { code, stdout, stderr } = await node(['-e', script]);
  expect({ code, stderr: stderr.replace(/\nMODULES .*\n/, '') }).toEqual({ code: 0, stderr: '' });
  return { stdout, modules: JSON.parse(/\nMODULES (.*)\n/.exec(stderr)![1]!) as string[] };
}

const packageOf = (file: string): string | undefined => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1];

test('billing --help lists every command from the compiled program without loading a command group', async () => {
  const { stdout, modules } = await modulesLoadedBy('--help');
  expect(stdout).toContain('Usage: billing [options] [command]');
  for (const { name } of TOP_LEVEL_COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  const packages = [...new Set(modules.map(packageOf).filter((p): p is string => p !== undefined))];
  expect(packages).toEqual(['commander']);
  expect(modules.some((m) => /\/(tsx|typescript)\//.test(m) || m.endsWith('.ts'))).toBe(false);
  expect(modules.filter((m) => m.includes(`${path.sep}client${path.sep}commands${path.sep}`))).toEqual([]);
});

test("a group's --help loads that group only, and still not the worker SDK", async () => {
  const { stdout, modules } = await modulesLoadedBy('invoices', '--help');
  expect(stdout).toContain('Usage: billing invoices [options] [command]');
  expect(modules.filter((m) => m.includes(`${path.sep}client${path.sep}commands${path.sep}`)).map((m) => path.basename(m))).toEqual(['invoices.js']);
  expect(modules.some((m) => packageOf(m) === '@temporalio/worker')).toBe(false);
});

test('billing --version prints the package version', async () => {
  expect(await node([BIN, '--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  expect((await node([BIN, '-V'])).stdout).toBe(`${version}\n`);
});

test('the overview names every top-level command with the description its group registers', () => {
  const program = new Command('billing');
  const run: RunCommand = async () => undefined;
  for (const register of allGroups()) register(program, run);
  const registered = program.commands.map((c) => ({ name: c.name(), description: c.description() }));
  const listed = TOP_LEVEL_COMMANDS.map(({ name, description }) => ({ name, description }));
  expect(new Set(registered.map((c) => c.name)).size).toBe(registered.length);
  expect([...listed].sort((a, b) => a.name.localeCompare(b.name))).toEqual([...registered].sort((a, b) => a.name.localeCompare(b.name)));
});
