import { test, expect } from 'vitest';

test('collected before the throw', () => {
  expect(1).toBe(1);
});

// An error while the file is collected.
throw new Error('thrown while collecting');
