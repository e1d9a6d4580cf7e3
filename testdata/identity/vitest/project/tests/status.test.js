import fs from 'node:fs';
import { describe, expect, it, test } from 'vitest';

// Counter file under /tmp; ../record.sh deletes it before each run.
const COUNTER = process.env.FLAKY_COUNTER_FILE || '/tmp/rec-js/vitest-flaky-counter';

test('flaky passes on retry', () => {
  const n = fs.existsSync(COUNTER) ? Number(fs.readFileSync(COUNTER, 'utf8')) : 0;
  fs.writeFileSync(COUNTER, String(n + 1));
  // First run fails, the retry passes.
  expect(n).toBeGreaterThan(0);
});

test('always fails', () => {
  expect(1).toBe(2);
});

test.skip('skipped test', () => {
  throw new Error('never runs');
});

describe('skipped in suite', () => {
  it.skip('skipped nested', () => {
    throw new Error('never runs');
  });
});

test.todo('todo test');

test.fails('expected to fail', () => {
  expect(1).toBe(2);
});
