/**
 * The real browser of the browser tests (test/e2e/temporal-ui.test.ts, console.test.ts): Debian's
 * Chromium, which `npm test`'s setup installs when it can, driven by playwright-core; screenshots
 * go to test/artifacts/ (ignored by git).
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const ARTIFACTS = path.resolve(__dirname, '../artifacts');
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/** CHROMIUM_PATH, else Debian's chromium. */
function chromiumExecutable(): string {
  const configured = process.env.CHROMIUM_PATH;
  const candidate = configured || DEBIAN_CHROMIUM;
  if (fs.existsSync(candidate)) return candidate;
  const where = configured ? `CHROMIUM_PATH=${configured} does not exist` : `Chromium is not installed at ${DEBIAN_CHROMIUM}`;
  throw new Error(
    `${where}: install Debian's chromium package (as root: apt-get install --no-install-recommends chromium; ` +
      '`npm test` does this itself when it runs as root on Debian/Ubuntu) or set CHROMIUM_PATH to a Chromium or Chrome executable',
  );
}

/** A headless Chromium; the artifacts folder made for its screenshots. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumExecutable();
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath,
    headless: true,
    // As root Chromium needs --no-sandbox; the rest keeps it from calling home on a closed network,
    // and --disable-dev-shm-usage keeps it alive where /dev/shm is small (containers).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
