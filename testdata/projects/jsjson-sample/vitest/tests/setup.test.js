import { beforeAll, expect, test } from 'vitest';

// The file's only hook fails: Vitest skips its tests and fails the file.
beforeAll(() => {
  throw new Error('file beforeAll broke');
});

test('under a broken file beforeAll', () => {
  expect(1).toBe(1);
});
