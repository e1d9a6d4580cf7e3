import { describe, expect, test } from "bun:test";
import fs from "node:fs";

// A test at the root of a file (no describe).
test("root passes", () => {
  expect(1 + 1).toBe(2);
});

// The same title is used in tests/sub/deep.test.ts too.
test("shared title", () => {
  expect("shared").toHaveLength(6);
});

test("writes to stdout and stderr", () => {
  console.log("hello from stdout");
  console.error("hello from stderr");
  expect(true).toBeTruthy();
});

describe("outer group", () => {
  test("in outer", () => {
    expect([1, 2, 3]).toContain(2);
  });

  describe("inner group", () => {
    test("in inner", () => {
      expect({ a: 1 }).toEqual({ a: 1 });
    });

    test("fails in inner", () => {
      expect(["x", "y"]).toEqual(["x", "z"]);
    });
  });
});

test("always fails", () => {
  expect(1 + 1).toBe(3);
});

test.skip("skipped", () => {
  expect(true).toBe(false);
});

test.todo("todo test");

// An expected failure: passes because the body throws.
test.failing("expected failure that fails", () => {
  expect(1).toBe(2);
});

// Parametrized.
test.each([
  [1, 1, 2],
  [2, 3, 5],
])("adds %i + %i = %i", (a, b, sum) => {
  expect(a + b).toBe(sum);
});

// Fails on its first attempt and passes on the retry. The counter lives in
// /tmp; record.sh deletes it before the run.
test("flaky fails first then passes", () => {
  const counter = "/tmp/bun-sample-flaky";
  const previous = fs.existsSync(counter) ? Number(fs.readFileSync(counter, "utf8")) : 0;
  fs.writeFileSync(counter, String(previous + 1));
  expect(previous).toBeGreaterThan(0);
}, { retry: 2 });
