/*
 * Loaded with `node -r` into a process the tests start: fails any load of a module from a package
 * that the lockfile marks development-only ("dev": true), which `npm ci --omit=dev` leaves out of
 * the image (Dockerfile). So a `billing worker` started this way proves the image's worker needs
 * nothing but the production dependencies. Plain CommonJS: it runs before anything is compiled.
 */
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const lock = require(path.join(root, 'package-lock.json'));
// Modules resolve to real paths: node_modules may be a link (a worktree sharing another's).
const modules = fs.realpathSync(path.join(root, 'node_modules'));
const devOnly = Object.entries(lock.packages)
  .filter(([location, entry]) => location.startsWith('node_modules/') && entry.dev)
  .map(([location]) => path.join(modules, location.slice('node_modules/'.length)) + path.sep);

const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveProductionOnly(request, parent, ...rest) {
  const filename = resolve.call(this, request, parent, ...rest);
  const real = typeof filename === 'string' && path.isAbsolute(filename) ? filename : '';
  const hit = real && devOnly.find((prefix) => real.startsWith(prefix));
  if (hit) {
    throw new Error(
      `production-only: ${request} resolves to ${path.relative(root, real)}, a development dependency (package-lock.json "dev": true) that the image leaves out; required from ${parent && parent.filename ? path.relative(root, parent.filename) : '?'}`,
    );
  }
  return filename;
};
