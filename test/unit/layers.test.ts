/**
 * The layer rules of eslint.config.mjs (STYLE, "The layers, one folder each"; README, "Where things
 * live") fail the build: probe files that break them are linted as if they sat in the tree (ESLint's
 * lintText with a filePath: nothing is written) and each is reported by the rule meant to catch it,
 * while probes that keep to the layers pass clean.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/**
 * Every probe of this file, linted in one run of test/helpers/lint-probes.mjs (ESLint loads its
 * config with import(), which Jest's sandbox refuses): the tests below register their probes as
 * they are defined, and read the rules that reported each.
 */
const probes: { file: string; text: string }[] = [];
let reports: string[][] | undefined;
function probe(file: string, text: string): () => string[] {
  const index = probes.push({ file, text }) - 1;
  return () => reports![index]!;
}
beforeAll(() => {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'test/helpers/lint-probes.mjs')], { cwd: ROOT, input: JSON.stringify(probes), encoding: 'utf8' });
  reports = JSON.parse(out) as string[][];
});

const RESTRICTED_IMPORT = '@typescript-eslint/no-restricted-imports';
const RESTRICTED_PATH = 'import-x/no-restricted-paths';
const DYNAMIC_IMPORT = 'no-restricted-syntax';

const refused = (table: [file: string, text: string, rule: string][]) => table.map(([file, text, rule]) => ({ file, text, rule, reported: probe(file, text) }));
const imports = (froms: string[]): string =>
  `${froms.map((from, i) => `import * as probe${i} from '${from}';`).join('\n')}\nexport const probe = [${froms.map((_, i) => `probe${i}`).join(', ')}];\n`;

describe('the pure core (billing/) imports no I/O at any depth', () => {
  const cases = refused([
    ['billing/__probe__.ts', "import { Pool } from 'pg';\nexport const probe = Pool;\n", RESTRICTED_IMPORT],
    ['billing/__probe__.ts', "import type { Pool } from 'pg';\nexport type Probe = Pool;\n", RESTRICTED_IMPORT],
    ['billing/__probe__.ts', "import nodemailer from 'nodemailer';\nexport const probe = nodemailer;\n", RESTRICTED_IMPORT],
    ['billing/__probe__.ts', "import { readFileSync } from 'node:fs';\nexport const probe = readFileSync;\n", RESTRICTED_IMPORT],
    ['billing/abuse/__probe__.ts', "import { spawn } from 'child_process';\nexport const probe = spawn;\n", RESTRICTED_IMPORT],
    ['billing/__probe__.ts', "import { proxyActivities } from '@temporalio/workflow';\nexport const probe = proxyActivities;\n", RESTRICTED_IMPORT],
    ['billing/__probe__.ts', "export { Client } from '@temporalio/client';\n", RESTRICTED_IMPORT],
    ['billing/__probe__.ts', "import { createPool } from '../db/pool';\nexport const probe = createPool;\n", RESTRICTED_PATH],
    ['billing/cdr/__probe__.ts', "import { createPool } from '../../db/pool';\nexport const probe = createPool;\n", RESTRICTED_PATH],
    ['billing/cdr/__probe__.ts', "import * as activities from '../../activities';\nexport const probe = activities;\n", RESTRICTED_PATH],
    ['billing/__probe__.ts', "import { loadConfig } from '../config';\nexport const probe = loadConfig;\n", RESTRICTED_PATH],
    ['billing/__probe__.ts', "export const probe = async () => import('pg');\n", DYNAMIC_IMPORT],
  ]);
  test.each(cases)('$file: $text is refused by $rule', ({ rule, reported }) => {
    expect(reported()).toEqual([rule]);
  });

  const required = probe('billing/__probe__.ts', "export const probe = () => require('pg');\n");
  test('require() in the core is refused (by the layer rule, beside the recommended no-require-imports)', () => {
    expect(required()).toEqual(expect.arrayContaining([DYNAMIC_IMPORT]));
  });

  const clean = probe('billing/cdr/__probe__.ts', imports(['luxon', 'zod', '../money', './types']));
  test('the core importing the core, luxon and zod passes', () => {
    expect(clean()).toEqual([]);
  });
});

describe('workflows import the SDK workflow API, the core, their own folder and activity types only', () => {
  const cases = refused([
    ['workflows/__probe__.ts', "import { createPool } from '../db/pool';\nexport const probe = createPool;\n", RESTRICTED_PATH],
    ['workflows/__probe__.ts', "import { loadConfig } from '../config';\nexport const probe = loadConfig;\n", RESTRICTED_PATH],
    ['workflows/__probe__.ts', "import { printJson } from '../client/output';\nexport const probe = printJson;\n", RESTRICTED_PATH],
    ['workflows/__probe__.ts', "import { createActivities } from '../activities';\nexport const probe = createActivities;\n", RESTRICTED_IMPORT],
    ['workflows/__probe__.ts', "import { Client } from '@temporalio/client';\nexport const probe = Client;\n", RESTRICTED_IMPORT],
    ['workflows/__probe__.ts', "import { Context } from '@temporalio/activity';\nexport const probe = Context;\n", RESTRICTED_IMPORT],
    ['workflows/__probe__.ts', "import { randomUUID } from 'node:crypto';\nexport const probe = randomUUID;\n", RESTRICTED_IMPORT],
    ['workflows/__probe__.ts', "import { Pool } from 'pg';\nexport const probe = Pool;\n", RESTRICTED_IMPORT],
    ['workflows/__probe__.ts', "export const probe = async () => import('../billing/money');\n", DYNAMIC_IMPORT],
  ]);
  test.each(cases)('$file: $text is refused by $rule', ({ rule, reported }) => {
    expect(reported()).toEqual([rule]);
  });

  const clean = probe(
    'workflows/__probe__.ts',
    [
      "import { proxyActivities } from '@temporalio/workflow';",
      "import { defineSearchAttributeKey } from '@temporalio/common';",
      "import type { Client } from '@temporalio/client';",
      "import type { Activities } from '../activities';",
      "import { type WrittenInvoice } from '../activities/cycle';",
      "import * as money from '../billing/money';",
      "import * as messages from './messages';",
      'export type Probe = [Activities, WrittenInvoice, Client];',
      'export const probe = [proxyActivities, defineSearchAttributeKey, money, messages];',
      '',
    ].join('\n'),
  );
  test('the SDK, the core, messages and activity types pass', () => {
    expect(clean()).toEqual([]);
  });
});

describe('no layer imports one above it', () => {
  const cases = refused(
    (
      [
        ['db/__probe__.ts', '../client/output'],
        ['db/__probe__.ts', '../workflows/messages'],
        ['db/__probe__.ts', '../activities'],
        ['stack/__probe__.ts', '../client/output'],
        ['stack/__probe__.ts', '../workers/worker'],
        ['activities/__probe__.ts', '../client/output'],
        ['activities/__probe__.ts', '../workers/worker'],
        ['activities/__probe__.ts', '../stack/local'],
        ['workers/__probe__.ts', '../client/output'],
        ['config/__probe__.ts', '../db/pool'],
        ['config/__probe__.ts', '../codec/keys'],
        ['codec/__probe__.ts', '../workers/worker'],
        ['codec/__probe__.ts', '../client/temporal'],
        ['codec/__probe__.ts', '../workflows/messages'],
        ['client/commands/__probe__.ts', '../../test/helpers/wait'],
      ] as const
    ).map(([file, from]) => [file, imports([from]), RESTRICTED_PATH]),
  );
  test.each(cases)('$file: $text is refused by $rule', ({ rule, reported }) => {
    expect(reported()).toEqual([rule]);
  });

  const allowed = (
    [
      ['db/__probe__.ts', ['pg', '../billing/money', './pool']],
      ['activities/__probe__.ts', ['pg', 'nodemailer', '@temporalio/client', '../db/pool', '../billing/money', '../workflows/messages']],
      ['stack/__probe__.ts', ['node:fs', '../config', '../db/migrate', '../workflows/messages']],
      ['workers/__probe__.ts', ['@temporalio/worker', '../activities', '../config', '../codec/data-converter']],
      ['codec/__probe__.ts', ['node:crypto', '@temporalio/common', '../config', './keys']],
      ['client/commands/__probe__.ts', ['@temporalio/client', '../../db/pool', '../../workers/worker', '../../stack/local', '../../billing/money', '../../codec/server']],
    ] as const
  ).map(([file, froms]) => ({ file, froms, reported: probe(file, imports([...froms])) }));
  test.each(allowed)('$file importing $froms passes', ({ reported }) => {
    expect(reported()).toEqual([]);
  });
});

describe('the CLI and the benchmarks start workflows; activities/ is imported by the worker alone (types aside)', () => {
  const cases = refused([
    [
      'client/commands/__probe__.ts',
      "import { createOnboardingActivities } from '../../activities/onboarding';\nexport const probe = createOnboardingActivities;\n",
      RESTRICTED_IMPORT,
    ],
    ['client/__probe__.ts', "import { createActivities } from '../activities';\nexport const probe = createActivities;\n", RESTRICTED_IMPORT],
    ['bench/__probe__.ts', "export { createUsageFollowUpActivities } from '../activities/usage-follow-ups';\n", RESTRICTED_IMPORT],
  ]);
  test.each(cases)('$file: $text is refused by $rule', ({ rule, reported }) => {
    expect(reported()).toEqual([rule]);
  });

  const clean = probe(
    'client/commands/__probe__.ts',
    [
      "import type { Activities } from '../../activities';",
      "import { importUsageFile } from '../../db/usage-import';",
      "import { runOperation } from '../operations';",
      'export type Probe = Activities;',
      'export const probe = [importUsageFile, runOperation];',
      '',
    ].join('\n'),
  );
  const bench = probe('bench/__probe__.ts', imports(['../db/usage-import', '../workers/worker', '../workflows/messages']));
  test('activity types, db/, the operation runner and the worker wiring pass', () => {
    expect(clean()).toEqual([]);
    expect(bench()).toEqual([]);
  });
});

describe('no import cycles', () => {
  // billing/rating.ts imports ./money; money.ts importing ./rating back would close a loop.
  const money = fs.readFileSync(path.join(ROOT, 'billing/money.ts'), 'utf8');
  const asItIs = probe('billing/money.ts', money);
  const looped = probe('billing/money.ts', `import * as rating from './rating';\nexport const probe = rating;\n${money}`);
  test('money.ts importing rating.ts, which imports it, is refused', () => {
    expect(fs.readFileSync(path.join(ROOT, 'billing/rating.ts'), 'utf8')).toMatch(/from '\.\/money'/);
    expect(asItIs()).toEqual([]);
    expect(looped()).toEqual(['import-x/no-cycle']);
  });
});

describe('documents/ renders what the core builds: the core and pdfkit only; the data layer never renders', () => {
  const cases = refused([
    ['documents/__probe__.ts', "import { createPool } from '../db/pool';\nexport const probe = createPool;\n", RESTRICTED_PATH],
    ['documents/__probe__.ts', "import { loadConfig } from '../config';\nexport const probe = loadConfig;\n", RESTRICTED_PATH],
    ['documents/__probe__.ts', "import fs from 'node:fs';\nexport const probe = fs;\n", RESTRICTED_IMPORT],
    ['documents/__probe__.ts', "import { Pool } from 'pg';\nexport const probe = Pool;\n", RESTRICTED_IMPORT],
    ['billing/__probe__.ts', "import PDFDocument from 'pdfkit';\nexport const probe = PDFDocument;\n", RESTRICTED_IMPORT],
    ['billing/__probe__.ts', "import { renderInvoicePdf } from '../documents/invoice-pdf';\nexport const probe = renderInvoicePdf;\n", RESTRICTED_PATH],
    ['db/__probe__.ts', "import { renderInvoicePdf } from '../documents/invoice-pdf';\nexport const probe = renderInvoicePdf;\n", RESTRICTED_PATH],
  ]);
  test.each(cases)('$file: $text is refused by $rule', ({ rule, reported }) => {
    expect(reported()).toEqual([rule]);
  });

  const clean = probe('documents/__probe__.ts', imports(['pdfkit', '../billing/invoice-document']));
  test('documents/ importing pdfkit and the core passes', () => {
    expect(clean()).toEqual([]);
  });
});
