#!/usr/bin/env python3
"""Deterministic generator of Go test2json streams (`go test -json ./...`) for bench/go.sh.

The shape follows the recordings in testdata/inputs/go/ (Go 1.27): packages whose tests run in
order, table-driven subtests three levels deep, `t.Log` output, failures with
`file_test.go:NN: message` lines and continuation lines, skips, and, as gotestsum --rerun-fails
appends them, the reruns of the failed tests at the end of the stream.

    python3 bench/gen_go.py --target-mb 200 --out bench/out/go-200MB.json [--seed N]
"""

import argparse
import json
import random

WORDS = (
    "cache client config connect decode encode flush handler index lease merge parse "
    "queue reader retry router schema session shard snapshot stream token writer"
).split()


def event(out, t, action, pkg, test=None, output=None, elapsed=None):
    e = {"Time": t, "Action": action, "Package": pkg}
    if test is not None:
        e["Test"] = test
    if output is not None:
        e["Output"] = output
    if elapsed is not None:
        e["Elapsed"] = elapsed
    out.write(json.dumps(e, separators=(",", ":")))
    out.write("\n")


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.ms = 0

    def now(self):
        self.ms += self.rng.randint(0, 3)
        s, ms = divmod(self.ms, 1000)
        m, s = divmod(s, 60)
        h, m = divmod(m, 60)
        return "2026-12-07T%02d:%02d:%02d.%03d123456Z" % (h % 24, m, s, ms)

    def name(self):
        return "".join(w.capitalize() for w in self.rng.sample(WORDS, 2))

    def run_test(self, out, pkg, test, depth, failing):
        """One test (and its subtests); returns whether it failed."""
        event(out, self.now(), "run", pkg, test)
        event(out, self.now(), "output", pkg, test, "=== RUN   %s\n" % test)
        for _ in range(self.rng.randint(0, 3)):
            event(out, self.now(), "output", pkg, test,
                  "    %s_test.go:%d: %s %s ok\n" % (pkg.rsplit("/", 1)[-1], self.rng.randint(10, 900),
                                                    self.rng.choice(WORDS), self.rng.choice(WORDS)))
        failed = False
        if depth < 3 and self.rng.random() < 0.3:
            for i in range(self.rng.randint(2, 6)):
                sub = "%s/case_%d_%s" % (test, i, self.rng.choice(WORDS))
                failed |= self.run_test(out, pkg, sub, depth + 1, failing and i == 0)
        elif failing:
            failed = True
            base = pkg.rsplit("/", 1)[-1]
            event(out, self.now(), "output", pkg, test,
                  "    %s_test.go:%d: %s(%d) = %d, want %d\n" % (base, self.rng.randint(10, 900), self.name(),
                                                               self.rng.randint(0, 99), self.rng.randint(0, 99),
                                                               self.rng.randint(0, 99)))
            event(out, self.now(), "output", pkg, test, "        with a second line of detail\n")
        skipped = not failed and self.rng.random() < 0.02
        elapsed = round(self.rng.random() * 0.05, 2)
        if skipped:
            event(out, self.now(), "output", pkg, test, "    x_test.go:12: skipping in short mode\n")
        verb = "FAIL" if failed else ("SKIP" if skipped else "PASS")
        event(out, self.now(), "output", pkg, test, "%s--- %s: %s (%.2fs)\n" % ("    " * depth, verb, test, elapsed))
        event(out, self.now(), "fail" if failed else ("skip" if skipped else "pass"), pkg, test, elapsed=elapsed)
        return failed

    def package(self, out, pkg, tests, failing, rerun=False):
        failed = False
        for test in tests:
            failed |= self.run_test(out, pkg, test, 0, test in failing and not (rerun and self.rng.random() < 0.5))
        status = "FAIL" if failed else "ok  "
        event(out, self.now(), "output", pkg, None, "%s\t%s\t0.%03ds\n" % (status, pkg, self.rng.randint(1, 999)))
        event(out, self.now(), "fail" if failed else "pass", pkg, elapsed=0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target-mb", type=float, default=20)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    g = Gen(args.seed)
    target = int(args.target_mb * 1_000_000)
    reruns = []
    with open(args.out, "w") as out:
        n = 0
        while out.tell() < target * 0.97:
            pkg = "example.com/service/%s/%s%d" % (g.rng.choice(WORDS), g.rng.choice(WORDS), n)
            tests = ["Test%s%d" % (g.name(), i) for i in range(g.rng.randint(20, 80))]
            failing = {t for t in tests if g.rng.random() < 0.03}
            g.package(out, pkg, tests, failing)
            if failing:
                reruns.append((pkg, sorted(failing)))
            n += 1
        # gotestsum --rerun-fails: the failed tests again, appended.
        for pkg, tests in reruns:
            g.package(out, pkg, tests, set(tests), rerun=True)


if __name__ == "__main__":
    main()
