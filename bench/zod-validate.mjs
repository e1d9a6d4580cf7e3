// The official validation path: read FILE, JSON.parse it, run the Zod schema
// `Schema.Report.safeParse` from @flakiness/flakiness-report.
//
//   node bench/zod-validate.mjs FILE
//
// Prints `valid` (exit 0) or `invalid` and the first issues (exit 1); exit 2 on usage errors,
// unreadable or non-JSON files, or when the package is not installed.
//
// The package is loaded from .ci/conformance/node_modules at the repository root (installed by
// the conformance tooling). Set FLAKINESS_REPORT_NODE_MODULES to another node_modules folder to
// use it instead, e.g. after
//   npm install --prefix /tmp/zodtmp @flakiness/flakiness-report@0.34.0 zod@4
//   FLAKINESS_REPORT_NODE_MODULES=/tmp/zodtmp/node_modules node bench/zod-validate.mjs FILE

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const file = process.argv[2];
if (!file || process.argv.length > 3) {
  console.error('usage: node bench/zod-validate.mjs FILE');
  process.exit(2);
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nodeModules = process.env.FLAKINESS_REPORT_NODE_MODULES
  ? resolve(process.env.FLAKINESS_REPORT_NODE_MODULES)
  : join(repoRoot, '.ci', 'conformance', 'node_modules');
const entry = join(nodeModules, '@flakiness', 'flakiness-report', 'lib', 'index.js');
if (!existsSync(entry)) {
  console.error(`zod-validate: ${entry} not found; install @flakiness/flakiness-report and zod@4 there ` +
    '(or point FLAKINESS_REPORT_NODE_MODULES at a node_modules folder holding them)');
  process.exit(2);
}
// An absolute file URL: the package's own `import "zod/v4"` then resolves from its node_modules.
const { Schema } = await import(pathToFileURL(entry).href);

let data;
try {
  data = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.error(`${file}: ${e.message}`);
  process.exit(2);
}

const result = Schema.Report.safeParse(data);
if (result.success) {
  console.log('valid');
  process.exit(0);
}
console.log('invalid');
for (const issue of result.error.issues.slice(0, 10))
  console.error(`  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
if (result.error.issues.length > 10)
  console.error(`  … and ${result.error.issues.length - 10} more issues`);
process.exit(1);
