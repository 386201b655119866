#!/usr/bin/env node
/*
 * Compiles the program that bin/billing.js runs (tsconfig.build.json: TypeScript to JavaScript in
 * dist/), only when a source is newer than the last build, so that the setup, `npm test` and the
 * test run's global setup can all call it and pay for it once. `node scripts/build.js --force`
 * rebuilds regardless. Plain Node, like scripts/setup.js.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const DIST = path.join(root, 'dist');
const STAMP = path.join(DIST, '.built');
const CONFIG = path.join(root, 'tsconfig.build.json');

/** Every file the build reads: the folders tsconfig.build.json includes, what they import, the configs. */
function sources() {
  const { include } = JSON.parse(fs.readFileSync(CONFIG, 'utf8').replace(/^\s*\/\/.*$/gm, ''));
  const files = [CONFIG, path.join(root, 'tsconfig.json'), path.join(root, 'scripts', 'tools.json')];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|json)$/.test(entry.name)) files.push(full);
    }
  };
  for (const dir of include) {
    const full = path.join(root, dir);
    if (fs.existsSync(full)) walk(full);
  }
  return files;
}

/** True when dist/ is missing or older than a source. A checkout without sources (an image) is never stale. */
function isStale() {
  if (!fs.existsSync(CONFIG)) return false;
  let built;
  try {
    built = fs.statSync(STAMP).mtimeMs;
  } catch {
    return true;
  }
  return sources().some((file) => fs.statSync(file).mtimeMs > built);
}

function build(log = (line) => process.stderr.write(`${line}\n`)) {
  const started = Date.now();
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  // The stamp takes the time the build started: a source saved during the build makes it stale again.
  const result = spawnSync(process.execPath, [tsc, '-p', CONFIG], { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed with exit code ${result.status}`);
  fs.writeFileSync(STAMP, '');
  fs.utimesSync(STAMP, new Date(started), new Date(started));
  log(`build: compiled the sources into dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Builds when stale; returns whether it did. */
function ensureBuilt(log) {
  if (!isStale()) return false;
  build(log);
  return true;
}

module.exports = { ensureBuilt, isStale, build, DIST };

if (require.main === module) {
  try {
    if (process.argv.includes('--force')) build();
    else if (!ensureBuilt()) process.stderr.write('build: dist/ is up to date\n');
  } catch (error) {
    process.stderr.write(`build: ${error.message}\n`);
    process.exit(1);
  }
}
