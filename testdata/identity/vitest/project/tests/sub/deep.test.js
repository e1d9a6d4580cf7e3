import { describe, expect, test } from 'vitest';

test('shared title', () => {
  expect(2 * 2).toBe(4);
});

describe('deep suite', () => {
  test('deep test', () => {
    expect(null).toBeNull();
  });

  describe('deeper', () => {
    test('shared title', () => {
      expect({ a: 1 }).toEqual({ a: 1 });
    });
  });
});
