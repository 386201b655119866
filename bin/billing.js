#!/usr/bin/env -S node --max-semi-space-size=64
// The `billing` command. The sources are TypeScript, run through tsx: no build step.
'use strict';
require('tsx/cjs');
require('../client/cli.ts').main(process.argv);
