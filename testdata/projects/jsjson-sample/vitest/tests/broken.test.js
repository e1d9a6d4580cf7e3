// A syntax error: Vitest cannot collect this file.
import { test, expect } from 'vitest';

test('never collected', () => {
  expect(1).toBe(1);
