#!/usr/bin/env node
// The `billing` command. The sources are TypeScript, run through tsx: no build step.
'use strict';
require('tsx/cjs');
require('../client/cli.ts').main(process.argv);
