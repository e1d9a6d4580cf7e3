describe('a › b', () => {
  test('c › d', () => {
    expect(1).toBe(1);
  });
});

test('x > y >= z', () => {
  expect(3 > 2).toBe(true);
});

test('path/like/title', () => {
  expect('a/b').toContain('/');
});

describe('Class::method', () => {
  test('handles :: separators', () => {
    expect('a::b'.split('::')).toEqual(['a', 'b']);
  });
});

test('tagged test @smoke @fast', () => {
  expect(true).toBe(true);
});
