import { afterEach, beforeAll, describe, expect, test } from 'vitest';

test('same title', () => {
  expect(1).toBe(1);
});

test('same title', () => {
  expect(2).toBe(2);
});

test.fails('fails that passes', () => {
  expect(1).toBe(1);
});

test.fails('fails that fails', () => {
  expect(1).toBe(2);
});

test('two soft failures in one run', () => {
  expect.soft(1).toBe(2);
  expect.soft(3).toBe(4);
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

test.skip('skipped', () => {});
test.todo('to do');
