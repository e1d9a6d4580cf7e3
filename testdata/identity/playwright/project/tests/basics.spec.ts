import { test, expect } from '@playwright/test';

// A test at the root of a file (no describe).
test('root passes', async () => {
  expect(1 + 1).toBe(2);
});

// The same title is used in tests/sub/deep.spec.ts too.
test('shared title', async () => {
  expect('shared').toHaveLength(6);
});

test('writes to stdout and stderr', async () => {
  console.log('hello from stdout');
  console.error('hello from stderr');
  expect(true).toBeTruthy();
});

test.describe('outer group', () => {
  test('in outer', async () => {
    expect([1, 2, 3]).toContain(2);
  });

  test.describe('inner group', () => {
    test('in inner', async () => {
      expect({ a: 1 }).toEqual({ a: 1 });
    });

    test.describe('innermost group', () => {
      test('in innermost', async () => {
        expect('abc').toMatch(/b/);
      });
    });
  });

  // Same title as a root test, but inside a describe.
  test('root passes', async () => {
    expect(2 * 2).toBe(4);
  });
});

// A describe without a title.
test.describe(() => {
  test('in anonymous describe', async () => {
    expect(null).toBeNull();
  });
});
