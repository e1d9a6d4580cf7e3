import { test, expect } from '@playwright/test';

// A file in a subdirectory of testDir.

// The same title as in tests/basics.spec.ts.
test('shared title', async () => {
  expect('deep').toHaveLength(4);
});

test.describe('deep group', () => {
  test('deep passes', async () => {
    expect(Math.max(1, 5, 3)).toBe(5);
  });

  test.describe('deeper group', () => {
    test('deep fails', async () => {
      expect(['x', 'y']).toEqual(['x', 'z']);
    });
  });
});
