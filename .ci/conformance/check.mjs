#!/usr/bin/env node
// Conformance check: compares the official Zod schema of the Flakiness Report format
// (@flakiness/flakiness-report) with `flakiness validate` on every fixture of testdata/reports/.
//
//   node .ci/conformance/check.mjs [--zod-only] REPO_ROOT FLAKINESS_BIN
//
// A fixture is `testdata/reports/<folder>/NAME.json` or `testdata/reports/<folder>/NAME/report.json`.
// The folder states what the fixture is meant to be:
//   valid/, invalid-semantic/, warnings/  -> accepted by the Zod schema
//   invalid-schema/                       -> rejected by the Zod schema
// The corpus check fails when a fixture sits in the wrong folder. Without --zod-only, the Zod
// verdict of every fixture must also equal the `schemaValid` our validator reports for it.
// With --zod-only, only the corpus check runs (FLAKINESS_BIN is ignored and may be omitted).
//
// The official schema run here is the registry's newest (0.34) with format 0.36's one change
// applied on top: an attempt may lack `startTimestamp` (isMissingAttemptStartTimestamp below).
// The other relaxation of that line, `environments: []`, came in 0.33 and is already in 0.34.
// String lengths: the official reporters and converters bundle a zod that counts UTF-16 code
// units (JavaScript's `length`); zod 4.5 and later count code points. package.json pins zod
// 4.4.3 (the version the 0.36 format repository builds with) and the check below refuses to run
// with a zod that counts otherwise.

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Schema } from '@flakiness/flakiness-report';
import { z } from 'zod';

// U+1F600 is two UTF-16 code units: the official tools refuse it where one character is allowed.
if (z.string().max(1).safeParse('\u{1F600}').success) {
  console.error('error: the installed zod counts string lengths in code points, the official tools in UTF-16 code units; run `npm ci --prefix .ci/conformance` (zod 4.4.3)');
  process.exit(2);
}

const FOLDERS = {
  'valid': true,
  'invalid-schema': false,
  'invalid-semantic': true,
  'warnings': true,
};

function usage(message) {
  if (message)
    console.error(`error: ${message}`);
  console.error('usage: node .ci/conformance/check.mjs [--zod-only] REPO_ROOT FLAKINESS_BIN');
  process.exit(2);
}

function parseArgs(argv) {
  let zodOnly = false;
  const positional = [];
  for (const arg of argv) {
    if (arg === '--zod-only')
      zodOnly = true;
    else if (arg === '-h' || arg === '--help')
      usage();
    else if (arg.startsWith('--'))
      usage(`unknown option ${arg}`);
    else
      positional.push(arg);
  }
  if (positional.length < 1 || positional.length > 2)
    usage('expected REPO_ROOT and FLAKINESS_BIN');
  if (!zodOnly && positional.length !== 2)
    usage('FLAKINESS_BIN is required unless --zod-only is given');
  return { zodOnly, repoRoot: path.resolve(positional[0]), bin: positional[1] };
}

// Code-unit order, independent of the locale.
const byName = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

// Canonical absolute path, used to match our validator's output with the fixtures.
function canonical(p, base) {
  const abs = path.resolve(base ?? process.cwd(), p);
  try {
    return fs.realpathSync(abs);
  } catch {
    return abs;
  }
}

// Lists the fixtures; problems with the layout of the corpus go to `problems`.
function collectFixtures(reportsDir, problems) {
  const fixtures = [];
  if (!fs.existsSync(reportsDir)) {
    problems.push(`${reportsDir}: does not exist`);
    return fixtures;
  }
  const top = fs.readdirSync(reportsDir, { withFileTypes: true }).sort((a, b) => byName(a.name, b.name));
  for (const entry of top) {
    if (entry.isFile() && (entry.name === 'README.md' || entry.name === '.gitattributes'))
      continue;
    if (!entry.isDirectory() || !(entry.name in FOLDERS)) {
      problems.push(`testdata/reports/${entry.name}: unexpected entry (expected one of ${Object.keys(FOLDERS).join(', ')}, README.md, .gitattributes)`);
      continue;
    }
    const folder = entry.name;
    const folderDir = path.join(reportsDir, folder);
    const entries = fs.readdirSync(folderDir, { withFileTypes: true }).sort((a, b) => byName(a.name, b.name));
    for (const e of entries) {
      const abs = path.join(folderDir, e.name);
      if (e.isFile() && e.name.endsWith('.json')) {
        fixtures.push({ id: `${folder}/${e.name}`, folder, reportPath: abs });
      } else if (e.isDirectory() && fs.existsSync(path.join(abs, 'report.json'))) {
        fixtures.push({ id: `${folder}/${e.name}/`, folder, reportPath: path.join(abs, 'report.json') });
      } else {
        problems.push(`testdata/reports/${folder}/${e.name}: neither NAME.json nor a directory holding report.json`);
      }
    }
  }
  return fixtures;
}

function formatPath(p) {
  if (!p || p.length === 0)
    return '(root)';
  return '/' + p.map(k => String(k).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

function formatIssue(issue) {
  return `${issue.code} at ${formatPath(issue.path)}: ${issue.message}`;
}

// True for the issue the registry's 0.34 schema raises for an attempt without `startTimestamp`,
// which format 0.36 made optional: path `…/attempts/N/startTimestamp` and no such key in the input.
function isMissingAttemptStartTimestamp(issue, input) {
  const p = issue.path;
  if (p.length < 3)
    return false;
  if (p[p.length - 1] !== 'startTimestamp' || typeof p[p.length - 2] !== 'number' || p[p.length - 3] !== 'attempts')
    return false;
  let node = input;
  for (const key of p.slice(0, -1)) {
    if (node === null || typeof node !== 'object')
      return false;
    node = node[key];
  }
  return node !== null && typeof node === 'object' && !Array.isArray(node) && !Object.hasOwn(node, 'startTimestamp');
}

// The official verdict: { valid, issues, ignored } where `issues` are the remaining Zod issues
// (or a JSON parse error) and `ignored` counts the dropped startTimestamp issues.
function zodVerdict(reportPath) {
  const bytes = fs.readFileSync(reportPath);
  let input;
  try {
    // Strict decoding: invalid UTF-8 and a leading BOM make the file invalid, as for JSON.parse.
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    input = JSON.parse(text);
  } catch (e) {
    return { valid: false, issues: [`JSON parse error: ${e.message}`], ignored: 0 };
  }
  const result = Schema.Report.safeParse(input);
  if (result.success)
    return { valid: true, issues: [], ignored: 0 };
  const kept = result.error.issues.filter(issue => !isMissingAttemptStartTimestamp(issue, input));
  return {
    valid: kept.length === 0,
    issues: kept.map(formatIssue),
    ignored: result.error.issues.length - kept.length,
  };
}

function verdictName(valid) {
  return valid ? 'valid' : 'invalid';
}

function folderProblem(fixture, zod) {
  const expected = FOLDERS[fixture.folder];
  if (zod.valid === expected)
    return null;
  if (expected)
    return `in ${fixture.folder}/ but rejected by the Zod schema (${zod.issues[0]}); move it to invalid-schema/ or fix it`;
  return `in invalid-schema/ but accepted by the Zod schema; it breaks no rule of the official schema (move it to invalid-semantic/ or warnings/, or fix it)`;
}

// Runs `FLAKINESS_BIN validate --format json DIR`; returns { byPath, extras } or { error }.
function runOurs(bin, reportsDir) {
  const args = ['validate', '--format', 'json', reportsDir];
  const run = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const cmd = `${bin} ${args.join(' ')}`;
  if (run.error)
    return { error: `${cmd}: ${run.error.message}` };
  if (run.signal)
    return { error: `${cmd}: killed by signal ${run.signal}\n${run.stderr}` };
  if (run.status !== 0 && run.status !== 1)
    return { error: `${cmd}: exit code ${run.status} (expected 0 or 1)\n${run.stderr}` };
  let output;
  try {
    output = JSON.parse(run.stdout);
  } catch (e) {
    return { error: `${cmd}: stdout is not JSON: ${e.message}\n${run.stdout.slice(0, 2000)}` };
  }
  if (!output || typeof output !== 'object' || !Array.isArray(output.reports))
    return { error: `${cmd}: stdout has no "reports" array` };
  const byPath = new Map();
  for (const report of output.reports) {
    if (!report || typeof report.path !== 'string')
      return { error: `${cmd}: a report entry has no "path" string: ${JSON.stringify(report)}` };
    const key = canonical(report.path);
    if (byPath.has(key))
      return { error: `${cmd}: ${report.path} is reported twice` };
    byPath.set(key, report);
  }
  return { byPath };
}

function formatOurError(e) {
  if (!e || typeof e !== 'object')
    return JSON.stringify(e);
  const where = e.line != null ? `${e.line}:${e.column ?? '?'} ` : '';
  const rule = e.rule ? `[${e.rule}] ` : '';
  const at = e.path != null && e.path !== '' ? ` at ${e.path}` : '';
  return `${where}${rule}${e.message}${at}`;
}

function main() {
  const { zodOnly, repoRoot, bin } = parseArgs(process.argv.slice(2));
  const reportsDir = path.join(repoRoot, 'testdata', 'reports');
  const problems = [];
  const fixtures = collectFixtures(reportsDir, problems);
  let passed = 0;
  let failed = 0;

  for (const p of problems) {
    console.log(`FAIL     ${p}`);
    failed++;
  }

  let ours = null;
  if (!zodOnly) {
    ours = runOurs(bin, reportsDir);
    if (ours.error) {
      console.log(`FAIL     ${ours.error}`);
      failed++;
    }
  }

  const seen = new Set();
  const width = Math.max(0, ...fixtures.map(f => f.id.length));
  for (const fixture of fixtures) {
    const zod = zodVerdict(fixture.reportPath);
    const zodText = `zod=${verdictName(zod.valid)}`;
    const wrongFolder = folderProblem(fixture, zod);
    const notes = [];
    if (zod.ignored)
      notes.push(`ignored ${zod.ignored} missing attempt startTimestamp`);

    if (zodOnly) {
      const status = wrongFolder ? 'FAIL    ' : 'ok      ';
      const first = zod.issues.length ? `  first issue: ${zod.issues[0]}` : '';
      const extra = notes.length ? `  (${notes.join('; ')})` : '';
      console.log(`${status} ${fixture.id.padEnd(width)}  ${zodText}${first}${extra}`);
      if (wrongFolder)
        console.log(`         wrong folder: ${wrongFolder}`);
      wrongFolder ? failed++ : passed++;
      continue;
    }

    const key = canonical(fixture.reportPath);
    seen.add(key);
    const lines = [];
    let ourText = 'ours=?';
    let ok = !wrongFolder;
    let mismatch = false;
    if (wrongFolder)
      lines.push(`wrong folder: ${wrongFolder}`);
    if (ours.error) {
      ok = false;
      ourText = 'ours=(no output)';
    } else {
      const entry = ours.byPath.get(key);
      if (!entry) {
        ok = false;
        ourText = 'ours=(missing)';
        lines.push(`not in the output of flakiness validate (expected path ${fixture.reportPath})`);
      } else if (typeof entry.schemaValid !== 'boolean') {
        ok = false;
        ourText = 'ours=?';
        lines.push(`"schemaValid" is not a boolean: ${JSON.stringify(entry.schemaValid)}`);
      } else {
        ourText = `ours=${verdictName(entry.schemaValid)}`;
        if (entry.schemaValid !== zod.valid) {
          ok = false;
          mismatch = true;
          lines.push(`first zod issue: ${zod.issues[0] ?? '(none)'}`);
          const errors = Array.isArray(entry.errors) ? entry.errors : [];
          if (errors.length === 0)
            lines.push('our errors: (none)');
          for (const e of errors)
            lines.push(`our error: ${formatOurError(e)}`);
        }
      }
    }
    const status = ok ? 'ok      ' : mismatch ? 'MISMATCH' : 'FAIL    ';
    const extra = notes.length ? `  (${notes.join('; ')})` : '';
    console.log(`${status} ${fixture.id.padEnd(width)}  ${zodText}  ${ourText}${extra}`);
    for (const line of lines)
      console.log(`         ${line}`);
    ok ? passed++ : failed++;
  }

  if (ours && !ours.error) {
    for (const [key, entry] of ours.byPath) {
      if (!seen.has(key)) {
        console.log(`FAIL     unexpected report in the output of flakiness validate: ${entry.path}`);
        failed++;
      }
    }
  }

  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
