import { describe, expect, test } from "bun:test";

// A file in a subdirectory.

// The same title as in tests/basics.test.ts.
test("shared title", () => {
  expect("deep").toHaveLength(4);
});

describe("deep group", () => {
  test("deep passes", () => {
    expect(Math.max(1, 5, 3)).toBe(5);
  });

  describe.skip("skipped group", () => {
    test("inside skipped group", () => {
      expect(true).toBe(false);
    });
  });
});
