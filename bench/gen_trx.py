#!/usr/bin/env python3
"""Writes a deterministic TRX document of about --target-mb MB (10^6 bytes) for bench/trx.sh.

The shape of `dotnet test --logger trx` (vstest's TRX logger): <Results> first, then
<TestDefinitions>. Assemblies of 40 classes, classes of 5-30 tests; every 7th test an MSTest
DataDrivenTest with 3-8 rows in <InnerResults>; 3% of results failed with a .NET stack trace,
2% NotExecuted, 30% with StdOut lines.
"""
import argparse
import random


def guid(rng):
    return "%08x-%04x-%04x-%04x-%012x" % (
        rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16),
        rng.getrandbits(16), rng.getrandbits(48))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target-mb", type=float, required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = random.Random(16)
    target = int(args.target_mb * 1e6)
    ns = "TTTTTTTT-0000-0000-0000-000000000000"
    results, defs = [], []
    size = 0
    t = 0.0
    a = 0
    while size < target * 1.1:
        asm = f"Acme.Service{a}.Tests"
        for c in range(40):
            cls = f"Acme.Service{a}.Tests.Feature{c}Tests"
            for m in range(rng.randint(5, 30)):
                method = f"Does_thing_{m}_when_state_{c}"
                tid, eid = guid(rng), guid(rng)
                rows = rng.randint(3, 8) if m % 7 == 0 else 0

                def result(name, exec_id, extra="", row=None, parent=None):
                    nonlocal t
                    r = rng.random()
                    outcome = "Failed" if r < 0.03 else "NotExecuted" if r < 0.05 else "Passed"
                    dur = rng.randint(1, 900000)
                    t += dur / 1e7
                    start = "2026-12-07T10:%02d:%09.6f+00:00" % (int(t // 60) % 60, t % 60)
                    attrs = (f'executionId="{exec_id}" testId="{tid}" testName="{name}" computerName="ci-host" '
                             f'duration="00:00:00.{dur:07d}" startTime="{start}" endTime="{start}" '
                             f'testType="13cdc9d9-ddb5-4fa4-a97d-d965ccfc6d4b" outcome="{outcome}" '
                             f'testListId="8c84fa94-04c1-424b-9868-57a2d4851a1d" relativeResultsDirectory="{exec_id}"')
                    if row is not None:
                        attrs += f' dataRowInfo="{row}" resultType="DataDrivenDataRow" parentExecutionId="{parent}"'
                    body = []
                    if rng.random() < 0.3:
                        lines = "&#xD;\n".join(f"step {i}: value={rng.randint(0, 10**6)}" for i in range(rng.randint(1, 12)))
                        body.append(f"<StdOut>{lines}</StdOut>")
                    if outcome == "Failed":
                        body.append(
                            "<ErrorInfo><Message>Assert.AreEqual failed. Expected:&lt;%d&gt;. Actual:&lt;%d&gt;.</Message>"
                            "<StackTrace>   at %s.%s() in /home/ci/acme/tests/%s/Feature%dTests.cs:line %d&#xD;\n"
                            "   at System.RuntimeMethodHandle.InvokeMethod(Object target, Void** arguments, Signature sig, Boolean isConstructor)</StackTrace></ErrorInfo>"
                            % (rng.randint(0, 99), rng.randint(0, 99), cls, method, asm, c, rng.randint(10, 900)))
                    if outcome == "NotExecuted":
                        body.append("<ErrorInfo><Message>skipped: not on this platform</Message></ErrorInfo>")
                    out = f"<Output>{''.join(body)}</Output>" if body else ""
                    return f"    <UnitTestResult {attrs}{extra}>{out}</UnitTestResult>\n" if out or extra else f"    <UnitTestResult {attrs} />\n"

                if rows:
                    inner = "".join(result(f"{method} ({r},{r * 2})", guid(rng), row=r, parent=eid) for r in range(1, rows + 1))
                    results.append(result(method, eid, extra=' resultType="DataDrivenTest"').replace(
                        "</UnitTestResult>\n", f"<InnerResults>\n{inner}</InnerResults></UnitTestResult>\n"))
                else:
                    results.append(result(method, eid))
                defs.append(
                    f'    <UnitTest name="{method}" storage="/home/ci/acme/tests/{asm.lower()}/bin/release/net8.0/{asm.lower()}.dll" id="{tid}">'
                    f'<Execution id="{eid}" /><TestMethod codeBase="/home/ci/acme/tests/{asm}/bin/Release/net8.0/{asm}.dll" '
                    f'adapterTypeName="executor://mstestadapter/v2" className="{cls}" name="{method}" /></UnitTest>\n')
                size += len(results[-1]) + len(defs[-1]) + 200
        a += 1
    with open(args.out, "w") as f:
        f.write('<?xml version="1.0" encoding="utf-8"?>\n<TestRun id="%s" name="bench" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">\n' % ns)
        # With the fraction of a second, as vstest always writes it (dorny's reader requires it).
        f.write('  <Times creation="2026-12-07T10:00:00.0000000Z" queuing="2026-12-07T10:00:00.0000000Z" start="2026-12-07T10:00:00.0000000Z" finish="2026-12-07T11:00:00.0000000Z" />\n')
        f.write('  <TestSettings name="default" id="%s"><Deployment runDeploymentRoot="ci_2026-12-07" /></TestSettings>\n  <Results>\n' % ns)
        f.writelines(results)
        f.write("  </Results>\n  <TestDefinitions>\n")
        f.writelines(defs)
        f.write("  </TestDefinitions>\n  <ResultSummary outcome=\"Failed\" />\n</TestRun>\n")


if __name__ == "__main__":
    main()
