/** `billing console`: the support console in the browser (console/, README "The support console") until Ctrl-C. */
import type { Command } from 'commander';
import { z } from 'zod';
import type { RunCommand } from '../context';
import { output } from '../output';
import { flag } from '../validate';

const PortSchema = z.coerce.number().int().min(0).max(65_535);

export function registerConsoleCommand(program: Command, run: RunCommand): void {
  program
    .command('console')
    .description('the support console in the browser: subscribers, the queue of requests and cases, closes and policies')
    .option('--port <n>', 'port to listen on (default: BILLING_CONSOLE_PORT, 8090)')
    .option('--host <address>', 'address to listen on (default: BILLING_CONSOLE_HOST, 127.0.0.1; 0.0.0.0 in a container)')
    .action((opts: { port?: string; host?: string }) =>
      run(async (ctx) => {
        await ctx.pool();
        // The server (Fastify, its plugins, the templates) is loaded only by this command.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { startConsole } = require('../../console/start') as typeof import('../../console/start');
        const port = opts.port === undefined ? undefined : flag(PortSchema, opts.port, '--port');
        const running = await startConsole(ctx.config, { host: opts.host, port });
        const { stderr } = output();
        if (running.secretFile) stderr.write(`cookies signed with the local key in ${running.secretFile} (set BILLING_CONSOLE_SECRET in production)\n`);
        if (ctx.config.consoleTrustHeader) stderr.write(`sign-in delegated to a reverse proxy's ${ctx.config.consoleTrustHeader} header (from proxy addresses only)\n`);
        stderr.write(`support console on ${running.url} (sign in with a staff id and the password of \`billing staff password ID\`); Ctrl-C stops it\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await running.close();
      }),
    );
}
