/**
 * Where the Temporal binaries are: a path named by TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH,
 * else one on PATH, else the pinned copy that `npm run setup` installs into .tools/temporal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, type Config } from '../config';
import tools from '../scripts/tools.json';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function resolveBinary(fromEnv: string | undefined, envName: string, commandName: string, installedRel: string): string {
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`${envName}=${fromEnv} does not exist`);
    return fromEnv;
  }
  const installed = path.join(PROJECT_ROOT, tools.installDir, installedRel);
  const found = onPath(commandName) ?? (fs.existsSync(installed) ? installed : undefined);
  if (!found) {
    throw new Error(
      `the ${commandName} binary was not found: run \`npm run setup\` (installs the pinned one into ${tools.installDir}), put ${commandName} on PATH, or set ${envName}`,
    );
  }
  return found;
}

export function temporalCliPath(config: Pick<Config, 'temporalCliPath'>): string {
  return resolveBinary(config.temporalCliPath, 'TEMPORAL_CLI_PATH', 'temporal', tools.binaries.temporal);
}

export function temporalTestServerPath(config: Pick<Config, 'temporalTestServerPath'>): string {
  return resolveBinary(config.temporalTestServerPath, 'TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server', tools.binaries.temporalTestServer);
}
