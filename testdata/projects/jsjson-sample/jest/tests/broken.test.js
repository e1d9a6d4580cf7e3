// A syntax error: Jest cannot run this file ("Test suite failed to run").
test('never collected', () => {
  expect(1).toBe(1);
