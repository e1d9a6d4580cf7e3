// The TRX sample: a pass, a failure, a skip, a flaky test (fails on its first try,
// passes on the retry) and output.
const fs = require("fs");

jest.retryTimes(1);

describe("Calculator", () => {
  test("adds", () => {
    expect(1 + 2).toBe(3);
  });

  test("fails on purpose", () => {
    expect(2 * 2).toBe(5);
  });

  test.skip("is skipped", () => {});

  test("prints output", () => {
    console.log("hello from the test");
  });

  test("is flaky", () => {
    const f = process.env.FLAKY_COUNTER_FILE;
    const n = fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8")) : 0;
    fs.writeFileSync(f, String(n + 1));
    expect(n).toBeGreaterThan(0);
  });
});
