#!/usr/bin/env python3
"""The job summary, annotations and outputs of the flakiness GitHub Action (action/run.sh).

Reads the converted report (and the analysis of `flakiness analyze --format json`, and the
quarantine file, when given); appends Markdown to $GITHUB_STEP_SUMMARY, prints `::error` and
`::warning` workflow commands for failed and flaky tests, appends the outputs to $GITHUB_OUTPUT,
writes the flaky list, and writes to --verdict why `fail-on` fails the step (empty when it
does not). Everything is computed before anything is written.

A test's identity and outcome are the analysis's (spec/identity.md): its file (its own
location's, else its innermost file suite's), the titles of its suites that are not files (the
anonymous ones left out) and its title, per environment; skipped attempts count for nothing,
expected and unexpected attempts together make it flaky.
"""

import argparse
import json
import os
import secrets
import sys

# Annotations of each kind printed at most (GitHub shows 10 a step, 50 a job).
MAX_ANNOTATIONS = 50
# Rows of each table in the summary at most.
MAX_ROWS = 50


def results(report):
    """Yields one dict per test and environment: file, title_path, environment, outcome,
    location (file, line, column) and the first error's message and location."""
    envs = [e.get("name", "") for e in report.get("environments") or []]

    def env_name(i):
        return envs[i] if i < len(envs) else f"#{i}"

    def test(t, file, path):
        attempts = t.get("attempts") or []
        order = []
        for a in attempts:
            e = a.get("environmentIdx", 0)
            if e not in order:
                order.append(e)
        loc = t.get("location")
        for e in order:
            mine = [a for a in attempts if a.get("environmentIdx", 0) == e]
            expected = unexpected = 0
            # The first error of an unexpected attempt (reruns may record only the last's).
            error = None
            for a in mine:
                status = a.get("status", "passed")
                if status == "skipped":
                    continue
                if status == a.get("expectedStatus", "passed"):
                    expected += 1
                    continue
                unexpected += 1
                errors = [e for e in a.get("errors") or [] if e.get("message") or e.get("stack")]
                if errors and (error is None or error.get("placeholder")):
                    error = errors[0]
                elif error is None:
                    error = {"message": status, "placeholder": True}
            if expected == 0 and unexpected == 0:
                outcome = "skipped"
            elif unexpected == 0:
                outcome = "passed"
            elif expected == 0:
                outcome = "failed"
            else:
                outcome = "flaky"
            yield {
                "file": loc["file"] if loc else (file or ""),
                "title_path": path + [t.get("title", "")],
                "environment": env_name(e),
                "outcome": outcome,
                "location": loc,
                "error": error,
            }

    def suite(s, file, path):
        if s.get("type") == "file":
            loc = s.get("location")
            file = loc["file"] if loc else s.get("title", "")
        elif s.get("title"):
            path = path + [s["title"]]
        for t in s.get("tests") or []:
            yield from test(t, file, path)
        for c in s.get("suites") or []:
            yield from suite(c, file, path)

    for t in report.get("tests") or []:
        yield from test(t, None, [])
    for s in report.get("suites") or []:
        yield from suite(s, None, [])


def display_name(file, title_path):
    return " › ".join(([file] if file else []) + list(title_path))


def cell(s):
    """Text safe in a Markdown table cell."""
    s = "".join(c if c >= " " or c == "\t" else " " for c in str(s))
    return (
        s.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
    )


def gh_data(s):
    return str(s).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def gh_property(s):
    return gh_data(s).replace(":", "%3A").replace(",", "%2C")


def first_line(error):
    if not error:
        return ""
    text = error.get("message") or error.get("stack") or ""
    line = next((l.strip() for l in text.splitlines() if l.strip()), "")
    return line[:300]


def annotation(kind, title, file, line, col, message):
    props = []
    if file:
        props.append(f"file={gh_property(file)}")
        if line:
            props.append(f"line={int(line)}")
            if col:
                props.append(f"col={int(col)}")
    props.append(f"title={gh_property(title)}")
    return f"::{kind} {','.join(props)}::{gh_data(message)}"


def where(r):
    """File, line and column of a result: its first error's location, else the test's."""
    for loc in ((r["error"] or {}).get("location"), r["location"]):
        if loc and loc.get("file"):
            return loc["file"], loc.get("line"), loc.get("column")
    return r["file"], None, None


def location_text(r):
    file, line, _ = where(r)
    return f"{file}:{line}" if file and line else file


def table(header, rows, more):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows[:MAX_ROWS]:
        out.append("| " + " | ".join(cell(c) for c in row) + " |")
    if len(rows) > MAX_ROWS:
        out.append(f"\n…and {len(rows) - MAX_ROWS} more {more}.")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--report", required=True)
    p.add_argument("--analysis")
    p.add_argument("--history")
    p.add_argument("--quarantine")
    p.add_argument("--fail-on", required=True, choices=["failed", "flaky", "broken", "nothing"])
    p.add_argument("--annotations", default="true", choices=["true", "false"])
    p.add_argument("--flaky-list", required=True)
    p.add_argument("--verdict", required=True)
    a = p.parse_args()

    with open(a.report, encoding="utf-8") as f:
        report = json.load(f)
    rs = list(results(report))
    by = {k: [r for r in rs if r["outcome"] == k] for k in ("passed", "failed", "flaky", "skipped")}
    counts = {k: len(v) for k, v in by.items()}

    analysis = None
    if a.analysis:
        with open(a.analysis, encoding="utf-8") as f:
            analysis = json.load(f)
    history = analysis["tests"] if analysis else []
    hist_flaky = [t for t in history if t.get("classification") == "flaky"]
    hist_broken = [t for t in history if t.get("classification") == "broken"]

    quarantined = []
    if a.quarantine and os.path.exists(a.quarantine):
        with open(a.quarantine, encoding="utf-8") as f:
            quarantined = json.load(f).get("tests") or []

    # The summary.
    report_dir = os.path.dirname(a.report) or "."
    title = report.get("title") or os.path.basename(os.path.abspath(report_dir))
    md = [f"## Flakiness: {cell(title)}\n"]
    md.append(
        table(
            ["Tests", "Passed", "Failed", "Flaky", "Skipped"],
            [[len(rs), counts["passed"], counts["failed"], counts["flaky"], counts["skipped"]]],
            "",
        )
    )
    if by["failed"]:
        md.append(f"### Failed ({counts['failed']})\n")
        md.append(
            table(
                ["Test", "Environment", "Location", "Error"],
                [
                    [display_name(r["file"], r["title_path"]), r["environment"], location_text(r), first_line(r["error"])]
                    for r in by["failed"]
                ],
                "failed tests",
            )
        )
    if by["flaky"]:
        md.append(f"### Flaky in this run ({counts['flaky']}): failed, then passed\n")
        md.append(
            table(
                ["Test", "Environment", "Location", "Error of the failed attempt"],
                [
                    [display_name(r["file"], r["title_path"]), r["environment"], location_text(r), first_line(r["error"])]
                    for r in by["flaky"]
                ],
                "flaky tests",
            )
        )
    if analysis is not None:
        md.append("### Over the history\n")
        md.append(
            f"{analysis.get('runs', 0)} run(s) of this history: {len(hist_flaky)} flaky, "
            f"{len(hist_broken)} broken, {len(analysis.get('incidents') or [])} incident(s).\n"
        )
        listed = hist_flaky + hist_broken
        if listed:
            md.append(
                table(
                    ["Class", "Test", "File", "Environment", "Why"],
                    [
                        [
                            t.get("classification", ""),
                            " › ".join(t.get("titlePath") or []),
                            t.get("file", ""),
                            t.get("environment", ""),
                            t.get("why", ""),
                        ]
                        for t in listed
                    ],
                    "tests",
                )
            )
    if a.quarantine:
        md.append(f"### Quarantined ({len(quarantined)})\n")
        if quarantined:
            md.append(
                table(
                    ["Test", "Environment", "Clean runs", "Why"],
                    [
                        [
                            display_name(q.get("file", ""), q.get("titlePath") or []),
                            q.get("environment", ""),
                            q.get("cleanRuns", 0),
                            q.get("reason", ""),
                        ]
                        for q in quarantined
                    ],
                    "quarantined tests",
                )
            )
        else:
            md.append("No test is in quarantine.\n")
    summary = "\n".join(md) + "\n"

    # The annotations.
    notes = []
    if a.annotations == "true":
        for r in by["failed"][:MAX_ANNOTATIONS]:
            file, line, col = where(r)
            notes.append(
                annotation(
                    "error",
                    f"Failed: {display_name('', r['title_path'])} [{r['environment']}]",
                    file,
                    line,
                    col,
                    first_line(r["error"]) or "failed",
                )
            )
        warnings = []
        for r in by["flaky"]:
            file, line, col = where(r)
            warnings.append(
                annotation(
                    "warning",
                    f"Flaky in this run: {display_name('', r['title_path'])} [{r['environment']}]",
                    file,
                    line,
                    col,
                    "failed, then passed: " + (first_line(r["error"]) or "failed"),
                )
            )
        warned = {(r["file"], tuple(r["title_path"]), r["environment"]) for r in by["flaky"]}
        for t in hist_flaky + hist_broken:
            if (t.get("file", ""), tuple(t.get("titlePath") or []), t.get("environment", "")) in warned:
                continue
            kind = "Flaky" if t.get("classification") == "flaky" else "Broken"
            warnings.append(
                annotation(
                    "warning",
                    f"{kind} test: {' › '.join(t.get('titlePath') or [])} [{t.get('environment', '')}]",
                    t.get("file", ""),
                    None,
                    None,
                    t.get("why", ""),
                )
            )
        notes.extend(warnings[:MAX_ANNOTATIONS])

    # The flaky list: flaky in this run, then called flaky by the analysis.
    flaky_lines = []
    for name in [f"{display_name(r['file'], r['title_path'])} [{r['environment']}]" for r in by["flaky"]] + [
        f"{display_name(t.get('file', ''), t.get('titlePath') or [])} [{t.get('environment', '')}]" for t in hist_flaky
    ]:
        if name not in flaky_lines:
            flaky_lines.append(name)

    verdict = ""
    if a.fail_on != "nothing" and counts["failed"]:
        verdict = f"{counts['failed']} test(s) failed"
    elif a.fail_on == "flaky" and (counts["flaky"] or hist_flaky or hist_broken):
        verdict = (
            f"{counts['flaky']} test(s) flaky in this run, {len(hist_flaky)} flaky and "
            f"{len(hist_broken)} broken over the history"
        )
    elif a.fail_on == "broken" and hist_broken:
        verdict = f"{len(hist_broken)} test(s) broken over the history"

    outputs = {
        "report-dir": report_dir,
        "tests": len(rs),
        "passed": counts["passed"],
        "failed": counts["failed"],
        "flaky": counts["flaky"],
        "skipped": counts["skipped"],
        "flaky-history": len(hist_flaky) if analysis is not None else "",
        "broken-history": len(hist_broken) if analysis is not None else "",
        "flaky-list": a.flaky_list,
        "analysis": a.analysis or "",
        "history": a.history or "",
    }
    delimiter = "flakiness_" + secrets.token_hex(8)
    output_text = "".join(f"{k}<<{delimiter}\n{v}\n{delimiter}\n" for k, v in outputs.items())

    # Now write: the files the outputs name first, then the outputs and summary.
    for path, text in ((a.flaky_list, "".join(l + "\n" for l in flaky_lines)), (a.verdict, verdict)):
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
    with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as f:
        f.write(summary)
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as f:
        f.write(output_text)
    for n in notes:
        print(n)
    print(
        f"flakiness: {len(rs)} tests: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['flaky']} flaky, {counts['skipped']} skipped",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
