import { test, expect } from '@playwright/test';

// A parametrized loop: one test per case.
const cases: Array<[number, number, number]> = [
  [1, 1, 2],
  [2, 3, 5],
  [10, -4, 6],
];

for (const [a, b, sum] of cases) {
  test(`adds ${a} + ${b} = ${sum}`, async () => {
    expect(a + b).toBe(sum);
  });
}

test.describe('parametrized in describe', () => {
  for (const word of ['alpha', 'beta']) {
    test(`length of ${word}`, async () => {
      expect(word.length).toBeGreaterThan(3);
    });
  }
});

// Tags: in the details object, and in the title.
test('tagged with details', { tag: '@smoke' }, async () => {
  expect(true).toBe(true);
});

test('tagged in title @fast @regression', async () => {
  expect(true).toBe(true);
});

test.describe('tagged group', { tag: ['@slow'] }, () => {
  test('inherits group tag', { tag: '@smoke' }, async () => {
    expect(true).toBe(true);
  });
});

// Annotations: static in details, and one pushed at run time.
test('annotated', {
  annotation: [
    { type: 'issue', description: 'https://example.com/issues/42' },
    { type: 'owner', description: 'team-x' },
  ],
}, async () => {
  test.info().annotations.push({ type: 'runtime', description: 'added in the body' });
  expect(true).toBe(true);
});
