#!/usr/bin/env -S node --max-semi-space-size=64
// The `billing` command: runs the compiled program in dist/ (tsconfig.build.json), which the
// project's setup builds (`npm run setup`, `npm test`, `npm run dev`; `npm run build` after editing
// the sources). A checkout without a build compiles once here first.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'client', 'cli.js');
if (!fs.existsSync(entry)) {
  try {
    require('../scripts/build.js').ensureBuilt();
  } catch (error) {
    process.stderr.write(`billing: no compiled program in dist/ and it cannot be built here (${error.message}); run \`npm run setup\`\n`);
    process.exit(1);
  }
}
require(entry).main(process.argv);
