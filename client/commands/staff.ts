/**
 * `billing staff add|list|password|deactivate|activate`: the staff who decide for support and sign
 * in to the console, with their role (billing/staff-roles.ts). A password is read from standard
 * input, never from the command line, so it stays out of the shell's history and `ps`.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { passwordProblem, STAFF_ROLES, type StaffRole } from '../../billing/staff-roles';
import { EmailSchema, IdSchema } from '../../billing/validation';
import { getStaffMember, insertStaff, listStaff, setStaffActive, setStaffPasswordHash } from '../../db/staff';
import { InputError, type RunCommand } from '../context';
import { output, printJson, printLines, printTable } from '../output';
import { hashPassword } from '../passwords';
import { flag } from '../validate';

const RoleSchema = z.enum(STAFF_ROLES, { error: `must be one of ${STAFF_ROLES.join(', ')}` });

/**
 * The password typed at a terminal (twice, not echoed) or piped in (`--password-stdin`, the first
 * line, its line ending dropped).
 */
async function readPassword(fromStdin: boolean): Promise<string> {
  const stdin = process.stdin;
  if (!fromStdin && stdin.isTTY) {
    const first = await promptHidden('New password: ');
    const second = await promptHidden('Again: ');
    if (first !== second) throw new InputError('the two passwords differ; nothing was changed');
    return first;
  }
  if (!fromStdin) throw new InputError('no terminal to ask the password on: pipe it in with --password-stdin (e.g. `billing staff password sam --password-stdin < file`)');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

/** One line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const { stderr } = output();
  stderr.write(question);
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    let typed = '';
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (key: string): void => {
      for (const ch of key) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(typed);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(new InputError('cancelled; nothing was changed'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

export function registerStaffCommands(program: Command, run: RunCommand): void {
  const staff = program.command('staff').description('support reviewers, who may decide requests and cases');
  staff
    .command('add')
    .description('add a staff member: support (decides requests and cases) or billing-ops (follows closes and policies)')
    .requiredOption('--id <id>', 'staff id (their sign-in name)')
    .requiredOption('--email <email>', 'staff email')
    .option('--name <name>', 'display name')
    .option('--role <role>', STAFF_ROLES.join(' | '), 'support')
    .option('--json', 'print the result as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const member = {
          id: flag(IdSchema, opts.id, '--id'),
          email: flag(EmailSchema, opts.email, '--email'),
          name: opts.name as string | undefined,
          role: flag(RoleSchema, opts.role, '--role') as StaffRole,
        };
        if (!(await insertStaff(await ctx.pool(), member))) throw new InputError(`staff member "${member.id}" already exists`);
        if (opts.json) printJson({ ...member, active: true, hasPassword: false });
        else printLines([`added ${member.role} staff ${member.id} (${member.email}); set a password for the console with \`billing staff password ${member.id}\``]);
      }),
    );
  staff
    .command('list')
    .description('list staff with their role')
    .option('--json', 'print as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const rows = await listStaff(await ctx.pool());
        if (opts.json) printJson(rows);
        else
          printTable(
            rows.map((r) => ({ ...r, active: r.active ? 'yes' : 'no', password: r.hasPassword ? 'set' : 'none' })),
            [['id', 'Reviewer'], 'name', 'email', 'role', 'active', 'password'],
          );
      }),
    );
  staff
    .command('password <id>')
    .description('set the password a member signs in to the console with: typed twice at a terminal, or piped in with --password-stdin')
    .option('--password-stdin', 'read the password from standard input (its first line)')
    .option('--clear', 'remove the password instead: the member can no longer sign in with one')
    .action((idArg: string, opts: { passwordStdin?: boolean; clear?: boolean }) =>
      run(async (ctx) => {
        const id = flag(IdSchema, idArg, 'ID');
        const pool = await ctx.pool();
        if (!(await getStaffMember(pool, id))) throw new InputError(`staff member "${id}" does not exist; see \`billing staff list\``);
        if (opts.clear) {
          await setStaffPasswordHash(pool, id, null);
          return printLines([`removed ${id}'s password: they cannot sign in with one`]);
        }
        const password = await readPassword(opts.passwordStdin === true);
        const problem = passwordProblem(password);
        if (problem) throw new InputError(`${problem}; nothing was changed`);
        await setStaffPasswordHash(pool, id, await hashPassword(password));
        printLines([`set ${id}'s password; they sign in to the console (\`billing console\`) with their id or email`]);
      }),
    );
  for (const [name, active] of [
    ['deactivate', false],
    ['activate', true],
  ] as const) {
    staff
      .command(`${name} <id>`)
      .description(active ? 'let a deactivated member sign in and decide again' : 'stop a member from signing in and deciding; their console sessions end at once')
      .action((idArg: string) =>
        run(async (ctx) => {
          const id = flag(IdSchema, idArg, 'ID');
          if (!(await setStaffActive(await ctx.pool(), id, active))) throw new InputError(`staff member "${id}" does not exist; see \`billing staff list\``);
          printLines([`${id} is ${active ? 'active' : 'no longer active: they cannot sign in or decide'}`]);
        }),
      );
  }
}
