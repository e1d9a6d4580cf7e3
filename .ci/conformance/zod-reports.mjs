// Runs the official Zod schema (strict: format 0.34, so every attempt needs a startTimestamp)
// over every report.json below the given folders. Prints one line per failure and a summary
// line `N passed, M failed`; exits 1 when any report fails.
//
//   node .ci/conformance/zod-reports.mjs DIR...
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Schema } from '@flakiness/flakiness-report';

function* reports(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* reports(p);
    else if (name === 'report.json') yield p;
  }
}

let passed = 0;
let failed = 0;
for (const dir of process.argv.slice(2)) {
  for (const file of reports(dir)) {
    let result;
    try {
      result = Schema.Report.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (e) {
      result = { success: false, error: { issues: [{ path: [], message: String(e) }] } };
    }
    if (result.success) {
      passed++;
    } else {
      failed++;
      const issue = result.error.issues[0];
      console.log(`FAIL ${file}: ${issue.path.join('.')}: ${issue.message}`);
    }
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
