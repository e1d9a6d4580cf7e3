#!/usr/bin/env python3
"""Report directories of RUNS runs of TESTS pytest-like tests with varied durations, for the
`flakiness shard` benchmark: python3 bench/gen_shard.py OUT [TESTS] [RUNS]."""
import json, os, random, sys

out = sys.argv[1]
tests = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
rng = random.Random(18)
base = [int(rng.lognormvariate(4.5, 1.5)) for _ in range(tests)]
for run in range(runs):
    files = {}
    for i in range(tests):
        f = f"tests/pkg_{i % 100:02}/test_mod_{i // 100 % 40:02}.py"
        ms = max(0, int(base[i] * rng.uniform(0.8, 1.2)))
        files.setdefault(f, []).append({"title": f"TestC{i % 9}::test_{i}", "attempts": [{"status": "passed", "duration": ms}]})
    report = {
        "category": "pytest",
        "commitId": f"{run:040x}",
        "environments": [{"name": "pytest"}],
        "startTimestamp": 1_717_171_200_000 + run * 3_600_000,
        "duration": 1000,
        "suites": [{"type": "file", "title": f, "location": {"file": f, "line": 0, "column": 0}, "tests": t} for f, t in sorted(files.items())],
    }
    d = os.path.join(out, f"run-{run}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "report.json"), "w") as fh:
        json.dump(report, fh)
