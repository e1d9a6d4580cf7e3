//! The pages, as HTML. Every text from a report or the store goes through maud's escaping;
//! output and messages lose their ANSI escapes first ([`plain`]).

use std::collections::BTreeSet;

use base64::Engine as _;
use flakiness_analyze::{short_commit, Analysis, Classification, Quarantine, TestAnalysis};
use flakiness_report::{
    Attachment, Report, ReportError, RunAttempt, Suite, SuiteType, Test, TestOutcome, TestStatus,
    TestStep,
};
use flakiness_store::{FailureKind, FailureRecord, Outcome, ResultRow};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};

use crate::{Counts, RunRow};

/// The stylesheet, served at `/static/site.css`.
pub const STYLE: &str = include_str!("site.css");
/// The script (the run page's search box), served at `/static/site.js`.
pub const SCRIPT: &str = include_str!("site.js");

/// Runs per page of a project's list.
pub const RUNS_PER_PAGE: usize = 50;

/// How a page gets its stylesheet and script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assets {
    /// From `/static/` (the server sends the Content-Security-Policy header).
    Linked,
    /// Inline, allowed by their hashes in a `<meta>` Content-Security-Policy: one
    /// self-contained file.
    Inline,
}

fn sha256_b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s.as_bytes()))
}

/// The policy of a self-contained page.
pub fn inline_csp() -> String {
    format!(
        "default-src 'none'; img-src data:; style-src 'sha256-{}'; script-src 'sha256-{}'; \
         base-uri 'none'; form-action 'none'",
        sha256_b64(STYLE),
        sha256_b64(SCRIPT)
    )
}

/// `s` without ANSI escape sequences (colours, cursor moves): shown as plain text.
pub fn plain(s: &str) -> String {
    if s.contains('\u{1b}') || s.contains('\u{9b}') {
        strip_ansi_escapes::strip_str(s)
    } else {
        s.to_string()
    }
}

/// `2026-11-23 20:44 UTC`.
pub fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// `1.5 s`, `2 min 3 s`, `120 ms`.
pub fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        let s = (ms / 1000.0).round() as u64;
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// A link of a served page; in a self-contained file ([`Assets::Inline`]), whose links stay
/// inside it, its label alone, as text.
fn link(assets: Assets, href: &str, label: Markup) -> Markup {
    match assets {
        Assets::Linked => html! { a href=(href) { (label) } },
        Assets::Inline => label,
    }
}

/// The frame of every page: `crumbs` are `(href, label)` links before the title.
pub fn layout(title: &str, crumbs: &[(String, String)], assets: Assets, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if assets == Assets::Inline {
                    meta http-equiv="Content-Security-Policy" content=(inline_csp());
                }
                title { (title) " · flakiness" }
                @match assets {
                    Assets::Linked => {
                        link rel="stylesheet" href="/static/site.css";
                        script src="/static/site.js" defer {}
                    }
                    Assets::Inline => {
                        style { (PreEscaped(STYLE)) }
                        script { (PreEscaped(SCRIPT)) }
                    }
                }
            }
            body {
                header {
                    nav.crumbs {
                        // A self-contained file has no other page to go to.
                        @if assets == Assets::Linked {
                            @for (href, label) in crumbs {
                                a href=(href) { (label) } " / "
                            }
                        }
                        span { (title) }
                    }
                }
                main { (body) }
            }
        }
    }
}

fn project_crumbs(org: &str, project: &str) -> Vec<(String, String)> {
    vec![
        ("/".into(), "projects".into()),
        (format!("/{org}/{project}"), format!("{org}/{project}")),
    ]
}

fn project_tabs(org: &str, project: &str, current: &str, assets: Assets) -> Markup {
    if assets == Assets::Inline {
        return html! {};
    }
    html! {
        nav.tabs {
            @for (path, label) in [("", "Runs"), ("/flaky", "Flaky tests")] {
                @if label == current {
                    span.current { (label) }
                } @else {
                    a href={ "/" (org) "/" (project) (path) } { (label) }
                }
            }
        }
    }
}

/// The list of projects.
pub fn projects_page(projects: &[(String, String)], assets: Assets) -> Markup {
    layout(
        "projects",
        &[],
        assets,
        html! {
            h1 { "Projects" }
            @if projects.is_empty() {
                p.empty { "No project yet: create an access token with "
                    code { "flakiness serve token create --project org/project" } "." }
            }
            ul #projects {
                @for (org, project) in projects {
                    li.project { (link(assets, &format!("/{org}/{project}"), html! { (org) "/" (project) })) }
                }
            }
        },
    )
}

/// Filters and page of a project's run list (the query string).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct RunFilter {
    /// `failed`, `flaky` or `passed` (a run's status: [`Counts::status`]).
    pub status: Option<String>,
    /// Runs with results in this environment.
    pub env: Option<String>,
    /// 1-based.
    pub page: Option<usize>,
}

impl RunFilter {
    fn keeps(&self, r: &RunRow) -> bool {
        let status = self
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_none_or(|s| r.counts.status() == s);
        let env = self
            .env
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_none_or(|e| r.environments.iter().any(|x| x == e));
        status && env
    }

    fn query(&self, page: usize) -> String {
        let mut q = form_urlencoded(&[
            ("status", self.status.as_deref().unwrap_or_default()),
            ("env", self.env.as_deref().unwrap_or_default()),
        ]);
        if !q.is_empty() {
            q.push('&');
        }
        format!("?{q}page={page}")
    }
}

fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", percent(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `s` percent-encoded for a URL's path segment or query value.
pub fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn counts_cells(c: &Counts) -> Markup {
    html! {
        td.n.passed {
            (c.passed)
            @if c.expected_failures > 0 { " " span.xfail { "(" (count_of(c.expected_failures, "expected failure", "expected failures")) ")" } }
        }
        td.n.failed {
            (c.failed)
            @if c.unexpected_passes > 0 { " " span.xpass { "(" (count_of(c.unexpected_passes, "unexpected pass", "unexpected passes")) ")" } }
        }
        td.n.flaky { (c.flaky) }
        td.n.skipped { (c.skipped) }
    }
}

/// A project's runs (`rows` newest first), filtered and paginated.
pub fn runs_page(
    org: &str,
    project: &str,
    rows: &[RunRow],
    filter: &RunFilter,
    assets: Assets,
) -> Markup {
    let environments: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.environments.iter().map(String::as_str))
        .collect();
    let kept: Vec<&RunRow> = rows.iter().filter(|r| filter.keeps(r)).collect();
    let pages = kept.len().div_ceil(RUNS_PER_PAGE).max(1);
    let page = filter.page.unwrap_or(1).clamp(1, pages);
    let shown = kept
        .iter()
        .skip((page - 1) * RUNS_PER_PAGE)
        .take(RUNS_PER_PAGE);
    let status = filter.status.as_deref().unwrap_or_default();
    let env = filter.env.as_deref().unwrap_or_default();
    let name = format!("{org}/{project}");
    layout(
        &name,
        &[("/".into(), "projects".into())],
        assets,
        html! {
            h1 { (name) }
            (project_tabs(org, project, "Runs", assets))
            form #filters method="get" {
                label { "Status "
                    select name="status" {
                        @for (v, label) in [("", "any"), ("failed", "failed"), ("flaky", "flaky"), ("passed", "passed")] {
                            option value=(v) selected[v == status] { (label) }
                        }
                    }
                }
                label { " Environment "
                    select name="env" {
                        option value="" selected[env.is_empty()] { "any" }
                        @for e in &environments {
                            option value=(e) selected[*e == env] { (e) }
                        }
                    }
                }
                " " button type="submit" { "Filter" }
            }
            p #run-count { (kept.len()) " of " (rows.len()) " runs" }
            table #runs {
                thead { tr {
                    th { "Run" } th { "Commit" } th { "Started" } th { "Duration" }
                    th.n { "Passed" } th.n { "Failed" } th.n { "Flaky" } th.n { "Skipped" }
                    th { "Environments" }
                } }
                tbody {
                    @for r in shown {
                        tr.run data-status=(r.counts.status()) {
                            td {
                                span class={ "dot " (r.counts.status()) } {}
                                (link(assets, &format!("/{org}/{project}/runs/{}", r.key), html! {
                                    (r.title.as_deref().filter(|t| !t.is_empty()).unwrap_or("run"))
                                }))
                                @if let Some(url) = r.url.as_deref().filter(|u| is_web_url(u) && assets == Assets::Linked) {
                                    " " a.ci href=(url) rel="noreferrer noopener" { "CI" }
                                }
                            }
                            td { code { (short_commit(&r.commit_id)) } }
                            td { (when(r.start_ms)) }
                            td.n { (duration(r.duration_ms as f64)) }
                            (counts_cells(&r.counts))
                            td { (r.environments.join(", ")) }
                        }
                    }
                }
            }
            nav.pages {
                @if page > 1 && assets == Assets::Linked {
                    a.prev href=(filter.query(page - 1)) { "← newer" } " "
                }
                span { "page " (page) " of " (pages) }
                @if page < pages && assets == Assets::Linked {
                    " " a.next href=(filter.query(page + 1)) { "older →" }
                }
            }
        },
    )
}

/// Only `http:` and `https:` URLs become links (never `javascript:`).
fn is_web_url(u: &str) -> bool {
    let l = u.trim_start().to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://")
}

/// How the run page shows one attachment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachmentView {
    /// Where it downloads from; `None` when it is not there.
    pub href: Option<String>,
    /// An image's `src` (the `href`, or a `data:` URL).
    pub image: Option<String>,
    /// A text attachment's content, shown (cut to a bound).
    pub text: Option<String>,
}

/// Search over a run's tests: the query string of the run page.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct TestQuery {
    /// Shows only tests whose name contains it (case-insensitive).
    pub q: Option<String>,
}

struct RunCtx<'a> {
    report: &'a Report,
    attachment: &'a dyn Fn(&Attachment) -> AttachmentView,
    query: String,
    shown: usize,
}

fn status_of(outcome: TestOutcome) -> &'static str {
    match outcome {
        TestOutcome::Expected => "passed",
        TestOutcome::Unexpected => "failed",
        TestOutcome::Flaky => "flaky",
        TestOutcome::Skipped => "skipped",
    }
}

/// How a result stands against what was expected of it, beyond passed and failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expectation {
    /// Nothing to say: it was expected to pass (or was skipped).
    Plain,
    /// It ended as it was expected to, otherwise than passed (pytest's xfail, Playwright's
    /// `test.fail()`): as expected, so OK, but not a pass.
    ExpectedFailure,
    /// It passed, but was expected not to: not OK.
    UnexpectedPass,
}

impl Expectation {
    fn of_attempt(a: &RunAttempt) -> Self {
        let (status, expected) = (a.status(), a.expected_status());
        if status == TestStatus::Skipped {
            Expectation::Plain
        } else if status == TestStatus::Passed && expected != TestStatus::Passed {
            Expectation::UnexpectedPass
        } else if status != TestStatus::Passed && status == expected {
            Expectation::ExpectedFailure
        } else {
            Expectation::Plain
        }
    }

    /// A test's: an expected failure when it was as expected and an attempt failed as
    /// expected, an unexpected pass when it was unexpected and an attempt passed unexpectedly.
    fn of_test(t: &Test, outcome: TestOutcome) -> Self {
        let wanted = match outcome {
            TestOutcome::Expected => Expectation::ExpectedFailure,
            TestOutcome::Unexpected => Expectation::UnexpectedPass,
            TestOutcome::Flaky | TestOutcome::Skipped => return Expectation::Plain,
        };
        if t.attempts
            .iter()
            .any(|a| Expectation::of_attempt(a) == wanted)
        {
            wanted
        } else {
            Expectation::Plain
        }
    }

    /// The badge: `badge xfail` "expected failure", `badge failed xpass` "unexpected pass",
    /// else `badge CLASS` with `text`.
    fn badge(self, class: &str, text: &str) -> Markup {
        match self {
            Expectation::ExpectedFailure => {
                html! { span class="badge xfail" { "expected failure" } }
            }
            Expectation::UnexpectedPass => {
                html! { span class="badge failed xpass" { "unexpected pass" } }
            }
            Expectation::Plain => html! { span class={ "badge " (class) } { (text) } },
        }
    }
}

/// `1 expected failure`, `2 expected failures`.
fn count_of(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A run: its summary, then its suites and tests as a tree with every attempt.
pub fn run_page(
    org: &str,
    project: &str,
    key: &str,
    report: &Report,
    query: &TestQuery,
    attachment: &dyn Fn(&Attachment) -> AttachmentView,
    assets: Assets,
) -> Markup {
    let mut counts = Counts::default();
    // Of the passed, the expected failures; of the failed, the unexpected passes.
    let (mut xfail, mut xpass) = (0u64, 0u64);
    for t in report.all_tests() {
        let outcome = t.test.outcome();
        match outcome {
            TestOutcome::Expected => counts.passed += 1,
            TestOutcome::Unexpected => counts.failed += 1,
            TestOutcome::Flaky => counts.flaky += 1,
            TestOutcome::Skipped => counts.skipped += 1,
        }
        match Expectation::of_test(t.test, outcome) {
            Expectation::ExpectedFailure => xfail += 1,
            Expectation::UnexpectedPass => xpass += 1,
            Expectation::Plain => {}
        }
    }
    let q = query.q.as_deref().unwrap_or_default().trim().to_lowercase();
    let mut ctx = RunCtx {
        report,
        attachment,
        query: q,
        shown: 0,
    };
    let title = report
        .title
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("run {key}"));
    let mut path = Vec::new();
    let tree = html! {
        ul.tree {
            @for t in report.tests.iter().flatten() {
                (test_item(&mut ctx, t, &path))
            }
            @for s in report.suites.iter().flatten() {
                (suite_item(&mut ctx, s, &mut path))
            }
        }
    };
    let crumbs = if org.is_empty() {
        Vec::new()
    } else {
        project_crumbs(org, project)
    };
    layout(
        &title,
        &crumbs,
        assets,
        html! {
            h1 { (title) }
            dl.summary {
                dt { "Commit" } dd { code { (report.commit_id) } }
                dt { "Started" } dd { (when(report.start_timestamp.0 as i64)) }
                dt { "Duration" } dd { (duration(report.duration.0)) }
                @if let Some(url) = report.url.as_deref() {
                    dt { "CI" } dd {
                        @if is_web_url(url) && assets == Assets::Linked { a href=(url) rel="noreferrer noopener" { (url) } }
                        @else { (url) }
                    }
                }
                dt { "Environments" } dd {
                    @for (i, e) in report.environments.iter().enumerate() {
                        @if i > 0 { ", " }
                        span.env { (e.name) }
                    }
                }
                dt { "Tests" } dd #test-counts {
                    span.passed { (counts.passed) " passed" }
                    @if xfail > 0 { " " span.xfail { "(" (count_of(xfail, "expected failure", "expected failures")) ")" } }
                    " · "
                    span.failed { (counts.failed) " failed" }
                    @if xpass > 0 { " " span.xpass { "(" (count_of(xpass, "unexpected pass", "unexpected passes")) ")" } }
                    " · "
                    span.flaky { (counts.flaky) " flaky" } " · "
                    span.skipped { (counts.skipped) " skipped" }
                }
            }
            form #search-form method="get" {
                input #search type="search" name="q" value=(query.q.as_deref().unwrap_or_default())
                    placeholder="Search tests by name" autocomplete="off";
                " " button type="submit" { "Search" }
                " " span #search-count {}
            }
            @if ctx.shown == 0 && !ctx.query.is_empty() {
                p.empty { "No test matches." }
            }
            (tree)
        },
    )
}

fn suite_item<'a>(ctx: &mut RunCtx<'_>, s: &'a Suite, path: &mut Vec<&'a str>) -> Markup {
    let before = ctx.shown;
    path.push(&s.title);
    let children = html! {
        @for t in s.tests.iter().flatten() { (test_item(ctx, t, path)) }
        @for c in s.suites.iter().flatten() { (suite_item(ctx, c, path)) }
    };
    path.pop();
    if ctx.shown == before && !ctx.query.is_empty() {
        return html! {};
    }
    let kind = match s.kind {
        SuiteType::File => "file",
        SuiteType::Suite => "suite",
        SuiteType::AnonymousSuite => "anonymous",
    };
    html! {
        li.suite data-kind=(kind) {
            details open {
                summary {
                    span.kind { (kind) } " " span.title { (s.title) }
                    @if let Some(l) = &s.location {
                        " " span.loc { (l.file) @if l.line > 0 { ":" (l.line) } }
                    }
                }
                ul { (children) }
            }
        }
    }
}

fn test_item(ctx: &mut RunCtx<'_>, t: &Test, path: &[&str]) -> Markup {
    let mut name = path.join(" › ");
    if !name.is_empty() {
        name.push_str(" › ");
    }
    name.push_str(&t.title);
    let lower = name.to_lowercase();
    if !ctx.query.is_empty() && !lower.contains(&ctx.query) {
        return html! {};
    }
    ctx.shown += 1;
    let outcome = t.outcome();
    let status = status_of(outcome);
    let expectation = Expectation::of_test(t, outcome);
    let total: f64 = t.attempts.iter().map(RunAttempt::duration_ms).sum();
    html! {
        li.test data-name=(lower) data-status=(status) {
            details open[status == "failed" || status == "flaky"] {
                summary {
                    (expectation.badge(status, status)) " "
                    span.title { (t.title) }
                    @for tag in t.tags.iter().flatten() {
                        " " span.tag { @if !tag.starts_with('@') { "@" } (tag) }
                    }
                    " " span.dur { (duration(total)) }
                    @if t.attempts.len() > 1 { " " span.retries { (t.attempts.len()) " attempts" } }
                }
                @if let Some(l) = &t.location { div.loc { (l.file) ":" (l.line) ":" (l.column) } }
                @for (i, a) in t.attempts.iter().enumerate() { (attempt_block(ctx, i, a)) }
            }
        }
    }
}

fn attempt_block(ctx: &RunCtx<'_>, i: usize, a: &RunAttempt) -> Markup {
    let status = a.status();
    let env = ctx
        .report
        .environment_of(a)
        .map(|e| e.name.as_str())
        .unwrap_or("");
    let ok = a.is_expected();
    let expectation = Expectation::of_attempt(a);
    let class = if status == TestStatus::Skipped {
        "skipped"
    } else if ok {
        "passed"
    } else {
        "failed"
    };
    html! {
        div.attempt data-status=(status.as_str()) {
            div.head {
                "Attempt " (i + 1) " · "
                (expectation.badge(class, status.as_str()))
                @if expectation == Expectation::ExpectedFailure { " (" (status.as_str()) ", as expected)" }
                @else if a.expected_status() != TestStatus::Passed { " (expected " (a.expected_status().as_str()) ")" }
                " · " (duration(a.duration_ms()))
                @if !env.is_empty() { " · " span.env { (env) } }
            }
            @for e in a.errors.iter().flatten() { (error_block(e)) }
            @if let Some(list) = a.annotations.as_ref().filter(|l| !l.is_empty()) {
                ul.annotations {
                    @for n in list {
                        li { b { (n.kind) } @if let Some(d) = &n.description { ": " (plain(d)) } }
                    }
                }
            }
            @if let Some(steps) = a.steps.as_ref().filter(|s| !s.is_empty()) {
                details.steps { summary { (steps.len()) " steps" } (steps_list(ctx, steps)) }
            }
            (stdio_block(a))
            @if let Some(list) = a.attachments.as_ref().filter(|l| !l.is_empty()) {
                (attachments_list(ctx, list))
            }
        }
    }
}

fn error_block(e: &ReportError) -> Markup {
    html! {
        div.error {
            @if let Some(m) = &e.message { pre.message { (plain(m)) } }
            @else if let Some(v) = &e.value { pre.message { (plain(v)) } }
            @if let Some(l) = &e.location { div.loc { "at " (l.file) ":" (l.line) ":" (l.column) } }
            @if let Some(s) = &e.stack { details { summary { "stack" } pre.stack { (plain(s)) } } }
            @if let Some(s) = &e.snippet { pre.snippet { (plain(s)) } }
        }
    }
}

fn steps_list(ctx: &RunCtx<'_>, steps: &[TestStep]) -> Markup {
    html! {
        ul.steplist {
            @for s in steps {
                li.step {
                    span.title { (s.title) } " " span.dur { (duration(s.duration.map_or(0.0, |d| d.0))) }
                    @if let Some(e) = &s.error { (error_block(e)) }
                    @if let Some(list) = s.attachments.as_ref().filter(|l| !l.is_empty()) {
                        (attachments_list(ctx, list))
                    }
                    @if let Some(inner) = s.steps.as_ref().filter(|l| !l.is_empty()) {
                        (steps_list(ctx, inner))
                    }
                }
            }
        }
    }
}

fn stdio_block(a: &RunAttempt) -> Markup {
    let mut lines: Vec<(&str, String)> = Vec::new();
    for e in a.stdio.iter().flatten() {
        let stream = match e.stream {
            Some(flakiness_report::Stream::Stderr) => "stderr",
            _ => "stdout",
        };
        lines.push((stream, entry_text(e.text.as_deref(), e.buffer.as_deref())));
    }
    for (stream, list) in [("stdout", &a.stdout), ("stderr", &a.stderr)] {
        for e in list.iter().flatten() {
            lines.push((stream, entry_text(e.text.as_deref(), e.buffer.as_deref())));
        }
    }
    if lines.is_empty() {
        return html! {};
    }
    html! {
        details.stdio {
            summary { "output (" (lines.len()) ")" }
            pre { @for (stream, text) in &lines { span class=(stream) { (text) } } }
        }
    }
}

fn entry_text(text: Option<&str>, buffer: Option<&str>) -> String {
    match (text, buffer) {
        (Some(t), _) => plain(t),
        (None, Some(b)) => match base64::engine::general_purpose::STANDARD.decode(b) {
            Ok(bytes) => plain(&String::from_utf8_lossy(&bytes)),
            Err(_) => "[binary output]".into(),
        },
        (None, None) => String::new(),
    }
}

fn attachments_list(ctx: &RunCtx<'_>, list: &[Attachment]) -> Markup {
    html! {
        ul.attachments {
            @for a in list {
                @let view = (ctx.attachment)(a);
                li.attachment data-type=(a.content_type) {
                    @if let Some(src) = &view.image {
                        @if let Some(h) = &view.href {
                            a href=(h) { img.attachment src=(src) alt=(a.name); }
                        } @else {
                            img.attachment src=(src) alt=(a.name);
                        }
                        div.name { (a.name) }
                    } @else if let Some(text) = &view.text {
                        details open {
                            summary { (a.name) " " span.ct { (a.content_type) }
                                @if let Some(h) = &view.href { " " a href=(h) download=(a.name) { "download" } } }
                            pre.attachment-text { (plain(text)) }
                        }
                    } @else if let Some(h) = &view.href {
                        a.download href=(h) download=(a.name) { (a.name) } " " span.ct { (a.content_type) }
                    } @else {
                        span.missing { (a.name) " (not uploaded)" }
                    }
                }
            }
        }
    }
}

fn strip(history: &str) -> Markup {
    html! {
        span.strip {
            @for c in history.chars() {
                i class=(match c { 'P' | 'F' | 'K' | 'S' | 'I' | 'C' | 'R' => c, _ => 'x' }) title=(strip_label(c)) {}
            }
        }
    }
}

fn strip_label(c: char) -> &'static str {
    match c {
        'P' => "passed",
        'F' => "failed",
        'K' => "flaky",
        'S' => "skipped",
        'I' => "incident (set aside)",
        'C' => "cancelled (set aside)",
        'R' => "regression fixed later (set aside)",
        _ => "no result",
    }
}

fn legend() -> Markup {
    html! {
        p.legend { "latest runs, oldest first:"
            @for c in ['P', 'K', 'F', 'S', 'I', 'C', 'R', 'x'] { i class=(c) {} (strip_label(c)) }
        }
    }
}

/// The project's flaky tests: the ranked list with history strips, the trend, the
/// quarantine, incidents and failure patterns. `run_keys` maps store run ids to the runs' keys
/// (incidents link to their run).
pub fn flaky_page(
    org: &str,
    project: &str,
    a: &Analysis,
    run_keys: &std::collections::HashMap<i64, String>,
    assets: Assets,
) -> Markup {
    let listed: Vec<&TestAnalysis> = a.listed().collect();
    let quarantine = Quarantine::of_analysis(a);
    let name = format!("{org}/{project}");
    layout(
        &format!("flaky tests of {name}"),
        &project_crumbs(org, project),
        assets,
        html! {
            h1 { "Flaky tests" }
            (project_tabs(org, project, "Flaky tests", assets))
            p #counts { (a.counts_line()) }
            h2 { "Flake-rate trend" }
            (PreEscaped(flakiness_analyze::trend_svg(a)))
            h2 { "Flaky and broken tests, new failures" }
            (legend())
            table #flaky {
                thead { tr { th { "Class" } th.n { "Score" } th.n { "Confidence" } th { "Test" } th { "Environment" } th { "History" } } }
                tbody {
                    @for t in &listed {
                        @let class = t.classification.as_str();
                        tr.test data-classification=(class) {
                            td class=(class) {
                                @if t.evidence.new_failure && t.classification == Classification::Stable { "new failure" }
                                @else { (class) }
                            }
                            td.n { (format!("{:.2}", t.score)) }
                            td.n { (format!("{:.2}", t.confidence)) }
                            td {
                                (link(assets, &format!("/{org}/{project}/tests/{}", t.test_id), html! { (t.display_name()) }))
                                div.ev { (t.evidence_line()) }
                                @if let Some(m) = t.examples.first() {
                                    div.ev { "e.g. " (first_line(m, 200)) }
                                }
                            }
                            td { (t.environment) }
                            td { (strip(&t.history)) }
                        }
                    }
                }
            }
            @if listed.is_empty() { p.empty { "No flaky or broken test." } }
            h2 { "Quarantine" }
            p.ev { "Flaky tests to quarantine now (" code { "flakiness analyze --quarantine FILE" } " keeps the list between runs)." }
            ul #quarantine {
                @for q in &quarantine.tests {
                    li { (q.file) @for p in &q.title_path { " › " (p) } " [" (q.environment) "] " span.ev { (q.reason) } }
                }
            }
            @if !a.incidents.is_empty() {
                h2 { "Incidents" }
                table #incidents {
                    thead { tr { th { "Run" } th { "Commit" } th { "Environment" } th.n { "Hit" } th.n { "Passed on retry" } th { "Error" } } }
                    tbody {
                        @for i in &a.incidents {
                            tr.incident { td {
                                    @match run_keys.get(&i.run_id).filter(|_| assets == Assets::Linked) {
                                        Some(key) => a href={ "/" (org) "/" (project) "/runs/" (key) } { (when(i.start_ms)) },
                                        None => (when(i.start_ms)),
                                    }
                                } td { code { (short_commit(&i.commit_id)) } }
                                 td { (i.environment) } td.n { (i.hit) " of " (i.ran) } td.n { (i.retry_passed) }
                                 td { code { (i.signature) } @if let Some(c) = i.cause { " (" (c) ")" } } }
                        }
                    }
                }
            }
            @if !a.patterns.is_empty() {
                h2 { "Failure patterns" }
                table #patterns {
                    thead { tr { th { "Signature" } th.n { "Failures" } th.n { "Tests" } th { "Kind" } th { "For example" } } }
                    tbody {
                        @for p in a.patterns.iter().take(30) {
                            tr { td { code { (p.signature) } } td.n { (p.failures) } td.n { (p.tests) }
                                 td { (p.kind) } td { (p.example_tests.join("; ")) } }
                        }
                    }
                }
            }
        },
    )
}

fn first_line(s: &str, max: usize) -> String {
    plain(s.lines().next().unwrap_or_default())
        .chars()
        .take(max)
        .collect()
}

/// A stored result's badge: "expected failure" (`badge xfail`) when it passed with an attempt
/// that failed as expected, "unexpected pass" (`badge failed xpass`) when an attempt passed
/// unexpectedly, else its outcome (the classes of the run page).
fn result_badge(r: &ResultRow) -> Markup {
    let outcome = r.outcome.as_str();
    if r.unexpected_passes > 0 && r.outcome != Outcome::Passed {
        html! { span class={ "badge " (outcome) " xpass" } { "unexpected pass" } }
    } else if r.expected_failures > 0 && r.outcome == Outcome::Passed {
        html! { span class="badge xfail" { "expected failure" } }
    } else {
        html! { span class={ "badge " (outcome) } { (outcome) } }
    }
}

/// A test's page: its history in every environment, its failure signatures with counts, its
/// latest results (`(run key, result)`) and failures (`(run key, failure)`).
pub fn test_page(
    org: &str,
    project: &str,
    a: &Analysis,
    test_id: i64,
    results: &[(String, ResultRow)],
    failures: &[(String, FailureRecord)],
    assets: Assets,
) -> Option<Markup> {
    let this = a.tests.iter().find(|t| t.test_id == test_id)?;
    let mut same: Vec<&TestAnalysis> = a
        .tests
        .iter()
        .filter(|t| t.file == this.file && t.title_path == this.title_path)
        .collect();
    same.sort_by(|x, y| x.environment.cmp(&y.environment));
    let mut signatures: Vec<(String, usize)> = Vec::new();
    for t in &same {
        for s in &t.signatures {
            match signatures.iter_mut().find(|(sig, _)| *sig == s.signature) {
                Some(e) => e.1 += s.count,
                None => signatures.push((s.signature.clone(), s.count)),
            }
        }
    }
    signatures.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    let name = this.display_name();
    Some(layout(
        &name,
        &project_crumbs(org, project),
        assets,
        html! {
            h1 { (name) }
            (project_tabs(org, project, "", assets))
            h2 { "History" }
            (legend())
            table #history {
                thead { tr { th { "Environment" } th { "Class" } th.n { "Score" } th { "Evidence" } th { "Latest runs" } } }
                tbody {
                    @for t in &same {
                        tr.env data-environment=(t.environment) {
                            td {
                                @if t.test_id == test_id { b { (t.environment) } }
                                @else { (link(assets, &format!("/{org}/{project}/tests/{}", t.test_id), html! { (t.environment) })) }
                            }
                            td class=(t.classification.as_str()) { (t.classification.as_str()) }
                            td.n { (format!("{:.2}", t.score)) }
                            td.ev { (t.evidence_line()) }
                            td { (strip(&t.history)) }
                        }
                    }
                }
            }
            h2 { "Failure signatures" }
            @if signatures.is_empty() { p.empty { "No failure outside incidents." } }
            @else {
                table #signatures {
                    thead { tr { th { "Signature" } th.n { "Failures" } } }
                    tbody { @for (s, n) in &signatures { tr { td { code { (s) } } td.n { (n) } } } }
                }
            }
            h2 { "Latest results in " (this.environment) }
            @if results.is_empty() { p.empty { "None stored." } }
            @else {
                table #results {
                    thead { tr { th { "Run" } th { "Result" } th.n { "Attempts" } th.n { "Failed" } } }
                    tbody {
                        @for (run, r) in results {
                            tr.result data-status=(r.outcome.as_str()) {
                                td { (link(assets, &format!("/{org}/{project}/runs/{run}"), html! { "run" })) }
                                td { (result_badge(r)) }
                                td.n { (r.attempts) }
                                td.n { (r.failed_attempts) }
                            }
                        }
                    }
                }
            }
            h2 { "Latest failures in " (this.environment) }
            @if failures.is_empty() { p.empty { "None stored." } }
            @else {
                table #failures {
                    thead { tr { th { "Run" } th.n { "Attempt" } th { "Kind" } th { "Message" } } }
                    tbody {
                        @for (run, f) in failures {
                            tr {
                                td { (link(assets, &format!("/{org}/{project}/runs/{run}"), html! { "run" })) }
                                td.n { (f.attempt + 1) }
                                td {
                                    @if f.kind == FailureKind::UnexpectedPass { span class="badge failed xpass" { "unexpected pass" } }
                                    @else { (f.kind.as_str()) }
                                }
                                td { @if let Some(m) = &f.message { pre.message { (plain(m)) } } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// A page that says what is missing.
pub fn not_found(what: &str, assets: Assets) -> Markup {
    layout(
        "not found",
        &[("/".into(), "projects".into())],
        assets,
        html! { h1 { "Not found" } p { (what) } },
    )
}
