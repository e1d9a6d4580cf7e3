// Vitest config for the identity sample. One run feeds every reporter, so the
// JUnit file, the Vitest JSON and the official Flakiness report describe the
// very same executions. RECORD_OUT_DIR is set by ../record.sh.
import path from 'node:path';
import { defineConfig } from 'vitest/config';

const out = process.env.RECORD_OUT_DIR || path.resolve(import.meta.dirname, '..', 'out');

export default defineConfig({
  test: {
    include: ['tests/**/*.test.js'],
    // Every failing test is retried up to 2 more times (3 runs at most).
    retry: 2,
    // Recommended by @flakiness/vitest: gives suites and tests a line/column.
    includeTaskLocation: true,
    // Vitest 4.1 test tags (declared tags only).
    tags: [{ name: 'smoke' }],
    reporters: [
      'default',
      // Built-in JUnit reporter, default options.
      'junit',
      // Built-in JSON reporter.
      'json',
      // The official Flakiness reporter: write locally, never upload.
      ['@flakiness/vitest', { outputFolder: path.join(out, 'official'), disableUpload: true }],
    ],
    outputFile: {
      junit: path.join(out, 'junit.xml'),
      json: path.join(out, 'vitest.json'),
    },
  },
});
