// Lints probe files as if they sat in the tree, without writing them (ESLint's lintText with a
// filePath), for test/unit/layers.test.ts. It runs as its own Node process because ESLint loads
// eslint.config.mjs with import(), which Jest's module sandbox does not allow.
// stdin: [{ file, text }] with file relative to the project root; stdout: [[ruleId, ...], ...].
import path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(import.meta.dirname, '../..');
const probes = JSON.parse(await new Response(process.stdin).text());
const eslint = new ESLint({ cwd: root });
const reports = [];
for (const { file, text } of probes) {
  const [result] = await eslint.lintText(text, { filePath: path.join(root, file) });
  reports.push(result.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`));
}
process.stdout.write(JSON.stringify(reports));
