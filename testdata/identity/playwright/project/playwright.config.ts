import { defineConfig } from '@playwright/test';

// Raw outputs go to ./reports (git-ignored); record.sh copies them into ../out/.
const RAW = 'reports';

export default defineConfig({
  testDir: './tests',
  retries: 2,
  // One worker and no full parallelism: the order of tests (and of their
  // retries) is the same on every recording.
  workers: 1,
  fullyParallel: false,
  // Two projects, so every test runs in two environments. No `use` block and
  // no `page` fixture in any test: no browser is ever launched.
  projects: [
    { name: 'alpha' },
    { name: 'beta' },
  ],
  reporter: [
    ['junit', { outputFile: `${RAW}/junit.xml` }],
    // The same JUnit reporter once more, with `includeRetries`: failed retries become
    // <flakyFailure>/<rerunFailure> elements (Playwright 1.6x option, off by default).
    ['junit', { outputFile: `${RAW}/junit-retries.xml`, includeRetries: true }],
    ['json', { outputFile: `${RAW}/playwright.json` }],
    ['@flakiness/playwright', { outputFolder: `${RAW}/flakiness-report`, disableUpload: true, open: 'never' }],
  ],
});
