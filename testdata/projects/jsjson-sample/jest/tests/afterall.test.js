// Every test passes, then the file's afterAll fails.
afterAll(() => {
  throw new Error('afterAll broke');
});

test('passes before a broken afterAll', () => {
  expect(1).toBe(1);
});
