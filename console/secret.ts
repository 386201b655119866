/**
 * The key the console signs its cookies with: BILLING_CONSOLE_SECRET, or outside production one of
 * the local stack's, made once in the data folder (as the codec key of `billing dev`), so that a
 * restart keeps everyone signed in. In production (NODE_ENV=production) it must be configured:
 * a key on one replica's disk would sign nobody in on the others.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from '../config';

export const SECRET_FILE_NAME = 'console-secret';

export function consoleSecret(config: Pick<Config, 'consoleSecret' | 'production' | 'dataDir'>): { secret: string; file?: string; created: boolean } {
  if (config.consoleSecret) return { secret: config.consoleSecret, created: false };
  if (config.production) {
    throw new ConfigError('BILLING_CONSOLE_SECRET is not set: in production the console needs it to sign its cookies (generate one with `openssl rand -hex 32`)');
  }
  const file = path.join(config.dataDir, SECRET_FILE_NAME);
  if (fs.existsSync(file)) return { secret: fs.readFileSync(file, 'utf8').trim(), file, created: false };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('hex');
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { secret, file, created: true };
}
