import type { Command } from 'commander';
import { EmailSchema, IdSchema } from '../../billing/validation';
import { insertStaff, listStaff } from '../../db/staff';
import { InputError, type RunCommand } from '../context';
import { printJson, printLines, printTable } from '../output';
import { flag } from '../validate';

export function registerStaffCommands(program: Command, run: RunCommand): void {
  const staff = program.command('staff').description('support reviewers, who may decide requests and cases');
  staff
    .command('add')
    .description('add a support reviewer')
    .requiredOption('--id <id>', 'reviewer id')
    .requiredOption('--email <email>', 'reviewer email')
    .option('--name <name>', 'display name')
    .option('--json', 'print the result as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const member = { id: flag(IdSchema, opts.id, '--id'), email: flag(EmailSchema, opts.email, '--email'), name: opts.name as string | undefined };
        if (!(await insertStaff(await ctx.pool(), member))) throw new InputError(`staff member "${member.id}" already exists`);
        if (opts.json) printJson({ ...member, active: true });
        else printLines([`added support reviewer ${member.id} (${member.email})`]);
      }),
    );
  staff
    .command('list')
    .description('list support reviewers')
    .option('--json', 'print as JSON')
    .action((opts) =>
      run(async (ctx) => {
        const rows = await listStaff(await ctx.pool());
        if (opts.json) printJson(rows);
        else
          printTable(
            rows.map((r) => ({ ...r, active: r.active ? 'yes' : 'no' })),
            [['id', 'Reviewer'], 'name', 'email', 'active'],
          );
      }),
    );
}
