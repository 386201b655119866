/*
 * Lint, and the layer rules of ../shared/STYLE.md and the README's "Where things live", checked on
 * every `npm test` (and so in CI). Imports are checked two ways: by the module's name (packages and
 * Node built-ins, `no-restricted-imports`, which can let `import type` through) and by the file an
 * import resolves to (folders, `import-x/no-restricted-paths`, so `../../db/pool` from
 * `billing/cdr/` is caught as surely as `../db/pool` from `billing/`). test/unit/layers.test.ts
 * shows each rule failing on a probe file.
 */
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import globals from 'globals';

const ROOT = import.meta.dirname;
const escape = (name) => name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A specifier that is a Node built-in, with or without `node:` (`fs`, `node:fs`, `fs/promises`). */
const NODE_BUILTIN = `^(node:.*|(${builtinModules.map(escape).join('|')})(/.*)?)$`;
/** Any package except those named: a bare specifier (not `./`, `../`, nor a Node built-in: NODE_BUILTIN names those). */
const packageOtherThan = (allowed) => `^(?![./]|node:)(?!(${[...allowed, ...builtinModules].map(escape).join('|')})(/|$)).*$`;

/** The pure core uses these libraries and nothing else from npm: they compute, they do no I/O. */
const CORE_PACKAGES = ['libphonenumber-js', 'luxon', 'zod'];
/** Workflow code runs in the SDK's deterministic sandbox: its API, and the types of the rest. */
const WORKFLOW_PACKAGES = ['@temporalio/workflow', '@temporalio/common'];

const CORE = 'the pure core (billing/) does no I/O: it computes from the facts it is given';
const ACTIVITIES_ONLY =
  'activities/ holds registered activities only, run by workers for workflows: start the workflow (client/operations.ts runOperation), or import what they use from db/; `import type` is fine';
const WORKFLOW = "workflows are deterministic: the SDK's workflow API, the core, their own folder and activity types (import type) only";
/** No dynamic import() or require() where the static rules must see every import. */
const noDynamicImports = (why) => [
  'error',
  { selector: 'ImportExpression', message: `no dynamic import() here: ${why}` },
  { selector: "CallExpression[callee.name='require']", message: `no require() here: ${why}` },
];

/** Folder rules on the resolved file: `target` never imports from `from`. */
const zone = (target, from, message, except) => ({ target: `./${target}`, from: from.map((f) => `./${f}`), message, ...(except && { except }) });
const PRODUCTION = ['billing', 'workflows', 'activities', 'db', 'workers', 'client', 'stack', 'config', 'codec', 'telemetry', 'documents', 'console'];
const LAYER_ZONES = [
  // The core imports nothing of the project outside billing/ (at any depth); packages by name below.
  zone('billing', ['.'], CORE, ['./billing', './node_modules']),
  // Activities are imported as types only: checked by name below (no-restricted-imports allows `import type`).
  zone('workflows', ['.'], WORKFLOW, ['./workflows', './billing', './activities', './node_modules']),
  zone('activities', ['workers', 'client', 'stack'], 'activities do I/O for workflows; they do not reach into workers, the CLI or the local stack'),
  zone('db', ['workflows', 'activities', 'workers', 'client', 'stack'], 'the data layer (db/) serves the layers above it and never imports them'),
  zone('stack', ['client', 'workers', 'activities'], 'stack/ starts the local components; the CLI starts it, not the other way round'),
  zone('workers', ['client', 'stack'], 'workers/ wires workflows and activities; the CLI and the stack start workers, not the other way round'),
  zone(
    'codec',
    ['workflows', 'activities', 'db', 'workers', 'client', 'stack'],
    'codec/ (the payload codec, its keys and server) serves the worker, the clients and the CLI, and imports none of them',
  ),
  zone(
    'config',
    ['workflows', 'activities', 'db', 'workers', 'client', 'stack', 'codec'],
    "config/ is read by every layer and imports none of them (the core's schemas validate it)",
  ),
  zone(
    'telemetry',
    ['workflows', 'activities', 'db', 'workers', 'client', 'stack', 'config', 'codec'],
    'telemetry/ holds the metrics the activities count into; it imports none of the layers (workers/ serves them)',
  ),
  // documents/ draws the core's documents with a renderer that reads its own files (pdfkit's fonts): the core and its own folder only.
  zone('documents', ['.'], 'documents/ renders the documents the core builds (invoice PDFs); it imports the core and its renderer only, no I/O of its own', [
    './documents',
    './billing',
    './node_modules',
  ]),
  zone('db', ['documents'], 'the data layer (db/) stores document models; activities and the CLI render them'),
  // The console is a client like the CLI: it reads through db/ and decides through client/decisions.ts, never through activities or workers.
  zone(
    'console',
    ['activities', 'workers', 'stack'],
    "the console (console/) reads through db/ and decides through the CLI's client/decisions.ts; it runs no activity, worker or local stack",
  ),
  // Only the commands that start it load the console: `billing console`, `billing dev` and `billing demo`.
  ...['billing', 'workflows', 'activities', 'db', 'workers', 'stack', 'config', 'codec', 'telemetry', 'documents'].map((folder) =>
    zone(folder, ['console'], 'the console (console/) is started by the CLI (client/commands/console.ts, services.ts); no other layer imports it'),
  ),
  ...PRODUCTION.map((folder) => zone(folder, ['test', 'bench'], 'production code never imports tests or benchmarks')),
  // scripts/tools.json pins the Temporal binaries for scripts/setup.js and stack/binaries.ts alike.
  ...PRODUCTION.map((folder) => zone(folder, ['scripts'], 'production code never imports scripts (their pinned tools.json aside)', ['./tools.json'])),
];

export default defineConfig(
  {
    ignores: ['node_modules/**', '.tools/**', '.data/**', 'dist/**', 'coverage/**', 'test/artifacts/**', 'test/histories/**', '.scratch/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // As import-x's TypeScript preset: without them it would not follow imports into .ts files (no-cycle would see nothing).
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/external-module-folders': ['node_modules', 'node_modules/@types'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: `${ROOT}/tsconfig.json` })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: ROOT, zones: LAYER_ZONES }],
      // Type-only imports (workflows -> activities) are erased and cannot form a cycle at run time.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // As tsc's noUnusedLocals / noUnusedParameters read it: `_name` is a required but unused binding.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Where a catch rethrows, it builds the one-line message a person reads (STYLE: say what was wrong,
      // with the value, and what to do) and quotes the caught error's message in it; an attached cause
      // would not be shown, and from an activity it would change the failure recorded in histories.
      'preserve-caught-error': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // The CommonJS entry points (bin/billing.js, scripts/setup.js, jest.config.js) are plain Node.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['billing/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: NODE_BUILTIN, message: `${CORE}; Node built-ins belong in activities/ or db/` },
            { regex: packageOtherThan(CORE_PACKAGES), message: `${CORE}; it uses only ${CORE_PACKAGES.join(', ')} from npm (no pg, nodemailer, @temporalio/*, ...)` },
          ],
        },
      ],
      'no-restricted-syntax': noDynamicImports(CORE),
    },
  },
  {
    // The document renderers compute bytes from a document: pdfkit and the core's libraries, no Node I/O.
    files: ['documents/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: NODE_BUILTIN, message: 'documents/ renders documents in memory; no Node built-ins (the caller writes the file)' },
            { regex: packageOtherThan([...CORE_PACKAGES, 'pdfkit']), message: `documents/ uses only pdfkit and ${CORE_PACKAGES.join(', ')} from npm` },
          ],
        },
      ],
      'no-restricted-syntax': noDynamicImports('documents/ renders documents in memory'),
    },
  },
  {
    // The CLI and the benchmarks start workflows; they never run an activity's code themselves.
    files: ['client/**/*.ts', 'bench/**/*.ts', 'console/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)activities(/|$)', allowTypeImports: true, message: ACTIVITIES_ONLY }] }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: NODE_BUILTIN, message: `${WORKFLOW}; no Node built-ins` },
            { regex: '^@temporalio/(?!(workflow|common)(/|$))', allowTypeImports: true, message: `${WORKFLOW}; other @temporalio packages as types only` },
            { regex: packageOtherThan([...WORKFLOW_PACKAGES, '@temporalio']), message: `${WORKFLOW}; no other package (no pg, nodemailer, ...)` },
            { regex: '(^|/)activities(/|$)', allowTypeImports: true, message: `${WORKFLOW}; activities through proxyActivities, imported with \`import type\`` },
          ],
        },
      ],
      'no-restricted-syntax': noDynamicImports(WORKFLOW),
    },
  },
);
