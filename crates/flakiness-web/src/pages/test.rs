//! A test's page: its history in every environment, charts of its duration and flake rate,
//! its incidents and failure signatures, and a row per run it has a result in.

use std::collections::HashMap;

use flakiness_analyze::{Analysis, TestAnalysis};
use flakiness_store::{FailureRecord, Outcome};
use maud::{html, Markup};

use super::*;
use crate::chart::{line_chart, Chart, Combine, Point, Series, Unit};
use crate::history::Cell;
use crate::History;

/// Rows (runs) per page of a test's results.
pub const RESULTS_PER_PAGE: usize = 100;

/// A stored result's badge: "expected failure" (`badge xfail`) when it passed with an attempt
/// that failed as expected, "unexpected pass" (`badge failed xpass`) when an attempt passed
/// unexpectedly, else its outcome (the classes of the run page).
fn cell_badge(c: &Cell) -> Markup {
    let outcome = c.outcome.as_str();
    if c.unexpected_pass() {
        html! { span class={ "badge " (outcome) " xpass" } { "unexpected pass" } }
    } else if c.expected_failure() {
        html! { span class="badge xfail" { "expected failure" } }
    } else {
        html! { span class={ "badge " (outcome) } { (outcome) } }
    }
}

/// Flaky and failed results per result that ran: `(flaky, failed, ran)`.
fn flake_counts(cells: &[Cell]) -> (usize, usize, usize) {
    let ran = cells
        .iter()
        .filter(|c| c.outcome != Outcome::Skipped)
        .count();
    let flaky = cells.iter().filter(|c| c.outcome == Outcome::Flaky).count();
    let failed = cells
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .count();
    (flaky, failed, ran)
}

fn percent_of(n: usize, of: usize) -> String {
    if of == 0 {
        "–".into()
    } else {
        format!("{:.1} %", 100.0 * n as f64 / of as f64)
    }
}

/// A test's page (`test_id` is the store's id of the test in one environment): its
/// classification and flake rate, its history in every environment, a chart of its duration
/// and one of its flake rate over time, the incidents that touched it, its failure signatures,
/// and its results in this environment, a row per run, newest first, `RESULTS_PER_PAGE` a
/// page (`page` is 1-based). `failures` are its failures (`(run key, failure)`), for the first
/// error line of each run. `None` when the analysis has no such test.
#[allow(clippy::too_many_arguments)]
pub fn test_page(
    org: &str,
    project: &str,
    a: &Analysis,
    h: &History,
    test_id: i64,
    failures: &[(String, FailureRecord)],
    page: usize,
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
    // The first error of each run: its earliest failed attempt's message.
    let mut first_error: HashMap<&str, &FailureRecord> = HashMap::new();
    for (run, f) in failures {
        let e = first_error.entry(run.as_str()).or_insert(f);
        if f.attempt < e.attempt {
            *e = f;
        }
    }
    let cells = h.results(test_id);
    let (flaky, failed, ran) = flake_counts(cells);
    let start_of = |c: &Cell| h.runs.get(c.run as usize).map_or(0, |r| r.start_ms);
    let duration_chart = line_chart(&Chart {
        id: "chart-duration",
        title: "Duration",
        unit: Unit::Duration,
        combine: Combine::Mean,
        series: vec![Series {
            name: "duration".into(),
            class: "duration",
            points: cells
                .iter()
                .filter_map(|c| {
                    Some(Point {
                        ms: start_of(c),
                        value: c.duration_ms()? as f64,
                        weight: 1.0,
                    })
                })
                .collect(),
        }],
        rolling: true,
    });
    let rate = |outcome: Outcome| -> Vec<Point> {
        cells
            .iter()
            .filter(|c| c.outcome != Outcome::Skipped)
            .map(|c| Point {
                ms: start_of(c),
                value: f64::from(u8::from(c.outcome == outcome)),
                weight: 1.0,
            })
            .collect()
    };
    let rate_chart = line_chart(&Chart {
        id: "chart-flake-rate",
        title: "Flaky and failed share of its results",
        unit: Unit::Ratio,
        combine: Combine::Mean,
        series: vec![
            Series {
                name: "flaky".into(),
                class: "flaky",
                points: rate(Outcome::Flaky),
            },
            Series {
                name: "failed".into(),
                class: "failed",
                points: rate(Outcome::Failed),
            },
        ],
        rolling: true,
    });
    let pages = cells.len().div_ceil(RESULTS_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let shown = cells
        .iter()
        .rev()
        .skip((page - 1) * RESULTS_PER_PAGE)
        .take(RESULTS_PER_PAGE);
    let name = this.display_name();
    Some(layout(
        &name,
        &project_crumbs(org, project),
        assets,
        html! {
            h1 { (name) }
            (project_tabs(org, project, "", assets))
            dl.summary #test-summary {
                dt { "Environment" } dd { (this.environment) }
                dt { "Class" } dd class=(this.classification.as_str()) { (this.classification.as_str()) " " span.ev { (this.evidence_line()) } }
                dt { "Flake rate" } dd #flake-rate { (percent_of(flaky, ran)) " flaky, " (percent_of(failed, ran)) " failed, of " (ran) " results that ran" }
                dt { "Runs" } dd #result-count { (cells.len()) " with a result, " (when(this.evidence.first_seen_ms)) " to " (when(this.evidence.last_seen_ms)) }
            }
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
            h2 { "Duration in " (this.environment) }
            (duration_chart)
            h2 { "Flake rate in " (this.environment) }
            (rate_chart)
            h2 { "Incidents" }
            @if this.incidents.is_empty() { p.empty { "No incident touched it." } }
            @else {
                table #test-incidents {
                    thead { tr { th { "Run" } th { "Commit" } th.n { "Hit" } th { "Retry" } th { "Error" } } }
                    tbody {
                        @for ti in &this.incidents {
                            @if let Some(i) = a.incidents.get(ti.incident) {
                                @let run = h.runs.iter().find(|r| r.run_id == i.run_id);
                                tr.incident {
                                    td { @match run {
                                        Some(r) => (link(assets, &format!("/{org}/{project}/runs/{}", r.key), html! { (r.name()) " · " (when(i.start_ms)) })),
                                        None => (when(i.start_ms)),
                                    } }
                                    td { code { (flakiness_analyze::short_commit(&i.commit_id)) } }
                                    td.n { (i.hit) " of " (i.ran) }
                                    td { @if ti.retry_passed { "passed on retry" } @else { "failed" } }
                                    td { code { (i.signature) } @if let Some(c) = i.cause { " (" (c) ")" } }
                                }
                            }
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
            h2 { "Runs in " (this.environment) }
            @if cells.is_empty() { p.empty { "None stored." } }
            @else {
                table #results {
                    thead { tr { th { "Run" } th { "Commit" } th { "Started" } th.n { "Duration" } th { "Result" } th.n { "Attempts" } th { "First error" } } }
                    tbody {
                        @for c in shown {
                            @if let Some(r) = h.runs.get(c.run as usize) {
                                tr.result data-status=(c.outcome.as_str()) {
                                    td { (link(assets, &format!("/{org}/{project}/runs/{}", r.key), html! { (r.name()) })) }
                                    td { (commit_cell(&r.commit_id, r.url.as_deref(), assets)) }
                                    td { (when(r.start_ms)) }
                                    td.n { @if let Some(d) = c.duration_ms() { (duration(d as f64)) } }
                                    td { (cell_badge(c)) }
                                    td.n { (c.attempts) @if c.failed_attempts > 0 { " (" (c.failed_attempts) " failed)" } }
                                    td.first-error {
                                        @if let Some(f) = first_error.get(r.key.as_str()) {
                                            @if let Some(m) = f.message.as_deref() { code { (first_line(m, 160)) } }
                                            @else { (f.kind.as_str()) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                nav.pages {
                    @if page > 1 && assets == Assets::Linked {
                        a.prev href={ "?page=" (page - 1) } { "← newer" } " "
                    }
                    span { "page " (page) " of " (pages) }
                    @if page < pages && assets == Assets::Linked {
                        " " a.next href={ "?page=" (page + 1) } { "older →" }
                    }
                }
            }
        },
    ))
}
