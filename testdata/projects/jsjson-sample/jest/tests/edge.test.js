const fs = require('node:fs');

const COUNTER = process.env.FLAKY_COUNTER_FILE || '/tmp/rec-jsjson/jest-edge-counter';

// Retries without logErrorsBeforeRetry: Jest counts the invocations but keeps no reason.
jest.retryTimes(2);

test('flaky without reasons', () => {
  const n = fs.existsSync(COUNTER) ? Number(fs.readFileSync(COUNTER, 'utf8')) : 0;
  fs.writeFileSync(COUNTER, String(n + 1));
  expect(n).toBeGreaterThan(1);
});

test('same title', () => {
  expect(1).toBe(1);
});

test('same title', () => {
  expect(2).toBe(2);
});

test.failing('failing that passes', () => {
  expect(1).toBe(1);
});

test('coloured error', () => {
  throw new Error('\u001b[31mred\u001b[39m text');
});

describe('hooks', () => {
  afterEach(() => {
    throw new Error('afterEach broke');
  });

  test('fails twice in one run', () => {
    expect(1).toBe(2);
  });
});

describe('setup fails', () => {
  beforeAll(() => {
    throw new Error('beforeAll broke');
  });

  test('under a broken beforeAll', () => {
    expect(1).toBe(1);
  });
});
