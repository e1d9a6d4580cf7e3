//! A run: its suites, tests, attempts and attachments.

use base64::Engine as _;
use flakiness_report::{
    Attachment, Report, ReportError, RunAttempt, Suite, SuiteType, Test, TestOutcome, TestStatus,
    TestStep,
};
use maud::{html, Markup};

use super::*;
use crate::Counts;

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

/// Where a test of a run page links to: the page of the test `(file, title path,
/// environment)` (its identity in the history store, spec/identity.md), when there is one.
pub type TestLink<'a> = &'a dyn Fn(&str, &[String], &str) -> Option<String>;

struct RunCtx<'a> {
    report: &'a Report,
    attachment: &'a dyn Fn(&Attachment) -> AttachmentView,
    test_link: TestLink<'a>,
    query: String,
    shown: usize,
}

/// Where a test is in its run, as the history store names it: the innermost file suite's
/// file, and the titles of the enclosing suites that are neither file suites nor anonymous.
#[derive(Default)]
struct Place<'a> {
    file: Option<&'a str>,
    path: Vec<&'a str>,
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

/// A run: its summary, then its suites and tests as a tree with every attempt. `previous` is
/// the key of the project's run just before it (by start time): a served page links to their
/// comparison (`a#compare-previous`), a self-contained one never does.
#[allow(clippy::too_many_arguments)]
pub fn run_page(
    org: &str,
    project: &str,
    key: &str,
    previous: Option<&str>,
    report: &Report,
    query: &TestQuery,
    attachment: &dyn Fn(&Attachment) -> AttachmentView,
    test_link: TestLink<'_>,
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
        test_link,
        query: q,
        shown: 0,
    };
    let title = report
        .title
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("run {key}"));
    let mut path = Vec::new();
    let mut place = Place::default();
    let tree = html! {
        ul.tree {
            @for t in report.tests.iter().flatten() {
                (test_item(&mut ctx, t, &path, &place))
            }
            @for s in report.suites.iter().flatten() {
                (suite_item(&mut ctx, s, &mut path, &mut place))
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
            @if let Some(prev) = previous.filter(|_| assets == Assets::Linked && !org.is_empty()) {
                p.compare {
                    a #compare-previous href={ "/" (org) "/" (project) "/runs/" (percent(prev)) "/compare/" (percent(key)) } {
                        "Compare with the previous run"
                    }
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

fn suite_item<'a>(
    ctx: &mut RunCtx<'_>,
    s: &'a Suite,
    path: &mut Vec<&'a str>,
    place: &mut Place<'a>,
) -> Markup {
    let before = ctx.shown;
    path.push(&s.title);
    let outer = place.file;
    let in_path = s.kind != SuiteType::File && !s.title.is_empty();
    if s.kind == SuiteType::File {
        place.file = Some(
            s.location
                .as_ref()
                .map_or(s.title.as_str(), |l| l.file.as_str()),
        );
    } else if in_path {
        place.path.push(&s.title);
    }
    let children = html! {
        @for t in s.tests.iter().flatten() { (test_item(ctx, t, path, place)) }
        @for c in s.suites.iter().flatten() { (suite_item(ctx, c, path, place)) }
    };
    if in_path {
        place.path.pop();
    }
    place.file = outer;
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

/// The test's pages, one per environment it ran in (in the order of its attempts):
/// `(environment, href)`.
fn test_pages(ctx: &RunCtx<'_>, t: &Test, place: &Place<'_>) -> Vec<(String, String)> {
    let file = t
        .location
        .as_ref()
        .map(|l| l.file.as_str())
        .or(place.file)
        .unwrap_or_default();
    let mut title_path: Vec<String> = place.path.iter().map(|s| s.to_string()).collect();
    title_path.push(t.title.clone());
    let mut envs: Vec<u32> = Vec::new();
    for a in &t.attempts {
        if !envs.contains(&a.environment_idx()) {
            envs.push(a.environment_idx());
        }
    }
    envs.into_iter()
        .filter_map(|e| {
            let name = ctx
                .report
                .environments
                .get(e as usize)
                .map_or_else(|| format!("#{e}"), |env| env.name.clone());
            let href = (ctx.test_link)(file, &title_path, &name)?;
            Some((name, href))
        })
        .collect()
}

fn test_item(ctx: &mut RunCtx<'_>, t: &Test, path: &[&str], place: &Place<'_>) -> Markup {
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
    let pages = test_pages(ctx, t, place);
    html! {
        li.test data-name=(lower) data-status=(status) {
            details open[status == "failed" || status == "flaky"] {
                summary {
                    (expectation.badge(status, status)) " "
                    // The name links to the test's page in the first environment it ran in.
                    span.title {
                        @match pages.first() {
                            Some((_, href)) => a.test-link href=(href) title="this test's history" { (t.title) },
                            None => (t.title),
                        }
                    }
                    @for tag in t.tags.iter().flatten() {
                        " " span.tag { @if !tag.starts_with('@') { "@" } (tag) }
                    }
                    " " span.dur { (duration(total)) }
                    @if t.attempts.len() > 1 { " " span.retries { (t.attempts.len()) " attempts" } }
                    // Its other environments' pages.
                    @if pages.len() > 1 {
                        @for (env, href) in &pages {
                            " " a.test-history href=(href) title="this test's history in this environment" { (env) }
                        }
                    }
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
