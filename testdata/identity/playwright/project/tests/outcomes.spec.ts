import fs from 'node:fs';
import { test, expect } from '@playwright/test';

test('always fails', async () => {
  expect(1 + 1, 'arithmetic is broken on purpose').toBe(3);
});

// Fails on its first attempt, passes on the retry. The counter lives in
// /tmp, one file per project; record.sh deletes those files before the run.
test('flaky fails first then passes', async ({}, testInfo) => {
  const counter = `/tmp/playwright-sample-flaky-${testInfo.project.name}`;
  const previous = fs.existsSync(counter) ? Number(fs.readFileSync(counter, 'utf8')) : 0;
  fs.writeFileSync(counter, String(previous + 1));
  expect(previous, 'first attempt fails').toBeGreaterThan(0);
});

test.skip('skipped statically', async () => {
  expect(true).toBe(false);
});

test('skipped at run time', async () => {
  test.skip(true, 'skipped from inside the body');
  expect(true).toBe(false);
});

test.fixme('fixme test', async () => {
  expect(true).toBe(false);
});

// Expected failure that does fail: counts as passed ("expected").
test.fail('expected failure that fails', async () => {
  expect(1).toBe(2);
});

// Expected failure that passes: Playwright treats it as a failure and retries it.
test.fail('expected failure that passes', async () => {
  expect(1).toBe(1);
});

test.describe('grouped outcomes', () => {
  test.skip('skipped in describe', async () => {});

  test('fails in describe', async () => {
    throw new Error('thrown on purpose');
  });
});
