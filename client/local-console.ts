/**
 * The support console started beside something else (`billing dev`, `billing demo`, the play of
 * `billing demo --months`): its server is loaded only then, and a console that cannot start (its
 * port taken) is said on stderr and left out, the rest running on.
 */
import type { Config } from '../config';
import type { RunningConsole } from '../console/server';

export async function startConsoleBeside(
  config: Config,
  say: (line: string) => void,
  options: { env?: NodeJS.ProcessEnv; hint?: string } = {},
): Promise<RunningConsole | undefined> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the console's server is loaded only when it starts
    const { startConsole } = require('../console/start') as typeof import('../console/start');
    return await startConsole(config, options.env ? { env: options.env } : {});
  } catch (error) {
    say(`the support console did not start: ${(error as Error).message} (${options.hint ?? 'set BILLING_CONSOLE_PORT to another port'})`);
    return undefined;
  }
}
