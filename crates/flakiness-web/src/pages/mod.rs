//! The pages, as HTML. Every text from a report or the store goes through maud's escaping;
//! output and messages lose their ANSI escapes first ([`plain`]).

mod compare;
mod flaky;
mod overview;
mod projects;
mod run;
mod runs;
mod test;

pub use compare::{compare_page, duration_change};
pub use flaky::flaky_page;
pub use overview::{newly_flaky, overview_page, NewlyFlaky, WEEK_MS};
pub use projects::{projects_page, ProjectSummary};
pub use run::{run_page, AttachmentView, TestQuery};
pub use runs::{runs_page, RunFilter};
pub use test::test_page;

use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::{Digest, Sha256};

use crate::{Counts, RunRow};

/// The stylesheet, served at `/static/site.css`.
pub const STYLE: &str = include_str!("../site.css");

/// The script (the run page's search box), served at `/static/site.js`.
pub const SCRIPT: &str = include_str!("../site.js");

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
pub(crate) fn link(assets: Assets, href: &str, label: Markup) -> Markup {
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

pub(crate) fn project_crumbs(org: &str, project: &str) -> Vec<(String, String)> {
    vec![
        ("/".into(), "projects".into()),
        (format!("/{org}/{project}"), format!("{org}/{project}")),
    ]
}

pub(crate) fn project_tabs(org: &str, project: &str, current: &str, assets: Assets) -> Markup {
    if assets == Assets::Inline {
        return html! {};
    }
    html! {
        nav.tabs {
            @for (path, label) in [("", "Overview"), ("/runs", "Runs"), ("/flaky", "Flaky tests")] {
                @if label == current {
                    span.current { (label) }
                } @else {
                    a href={ "/" (org) "/" (project) (path) } { (label) }
                }
            }
        }
    }
}

/// Where a commit can be seen: on its forge when the run's CI URL is a GitHub, GitLab or
/// Bitbucket URL of a repository (`https://github.com/o/r/actions/runs/1` →
/// `https://github.com/o/r/commit/SHA`), else the CI URL itself; `None` without a web URL.
pub fn commit_url(commit: &str, ci_url: Option<&str>) -> Option<String> {
    let url = ci_url.filter(|u| is_web_url(u))?;
    let hex = !commit.is_empty() && commit.chars().all(|c| c.is_ascii_hexdigit());
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let mut parts = rest.split('/');
    let host = parts.next().unwrap_or_default().to_ascii_lowercase();
    let (owner, repo) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let scheme = &url[..url.len() - rest.len()];
    let forge = match host.as_str() {
        "github.com" => Some("commit"),
        "gitlab.com" => Some("-/commit"),
        "bitbucket.org" => Some("commits"),
        _ => None,
    };
    match forge {
        Some(path) if hex && !owner.is_empty() && !repo.is_empty() && repo != "-" => {
            Some(format!("{scheme}{host}/{owner}/{repo}/{path}/{commit}"))
        }
        _ => Some(url.to_string()),
    }
}

/// A commit's short id, linked where it can be seen ([`commit_url`]) on a served page.
pub(crate) fn commit_cell(commit: &str, ci_url: Option<&str>, assets: Assets) -> Markup {
    let short = flakiness_analyze::short_commit(commit);
    match commit_url(commit, ci_url).filter(|_| assets == Assets::Linked) {
        Some(href) => {
            html! { a.commit href=(href) rel="noreferrer noopener" title=(commit) { code { (short) } } }
        }
        None => html! { code title=(commit) { (short) } },
    }
}

/// The runs as table rows (`tr.run` with `data-status`): name (a link to the run), commit,
/// start, duration, counts, environments.
pub(crate) fn run_rows<'a>(
    org: &str,
    project: &str,
    rows: impl Iterator<Item = &'a RunRow>,
    assets: Assets,
) -> Markup {
    html! {
        table #runs {
            thead { tr {
                th { "Run" } th { "Commit" } th { "Started" } th { "Duration" }
                th.n { "Passed" } th.n { "Failed" } th.n { "Flaky" } th.n { "Skipped" }
                th { "Environments" }
            } }
            tbody {
                @for r in rows {
                    tr.run data-status=(r.counts.status()) data-number=(r.number) {
                        td {
                            span class={ "dot " (r.counts.status()) } {}
                            (link(assets, &format!("/{org}/{project}/runs/{}", r.key), html! { (r.name()) }))
                            @if let Some(url) = r.url.as_deref().filter(|u| is_web_url(u) && assets == Assets::Linked) {
                                " " a.ci href=(url) rel="noreferrer noopener" { "CI" }
                            }
                        }
                        td { (commit_cell(&r.commit_id, r.url.as_deref(), assets)) }
                        td { (when(r.start_ms)) }
                        td.n { (duration(r.duration_ms as f64)) }
                        (counts_cells(&r.counts))
                        td { (r.environments.join(", ")) }
                    }
                }
            }
        }
    }
}

pub(crate) fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
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

pub(crate) fn counts_cells(c: &Counts) -> Markup {
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

/// Only `http:` and `https:` URLs become links (never `javascript:`).
pub(crate) fn is_web_url(u: &str) -> bool {
    let l = u.trim_start().to_ascii_lowercase();
    l.starts_with("https://") || l.starts_with("http://")
}

/// `1 expected failure`, `2 expected failures`.
pub(crate) fn count_of(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn strip(history: &str) -> Markup {
    html! {
        span.strip {
            @for c in history.chars() {
                i class=(match c { 'P' | 'F' | 'K' | 'S' | 'I' | 'C' | 'R' => c, _ => 'x' }) title=(strip_label(c)) {}
            }
        }
    }
}

pub(crate) fn strip_label(c: char) -> &'static str {
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

pub(crate) fn legend() -> Markup {
    html! {
        p.legend { "latest runs, oldest first:"
            @for c in ['P', 'K', 'F', 'S', 'I', 'C', 'R', 'x'] { i class=(c) {} (strip_label(c)) }
        }
    }
}

pub(crate) fn first_line(s: &str, max: usize) -> String {
    plain(s.lines().next().unwrap_or_default())
        .chars()
        .take(max)
        .collect()
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
