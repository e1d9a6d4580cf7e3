//! A project's overview, its landing page: how it has been doing, in one screen.

use flakiness_analyze::{Analysis, Classification, TestAnalysis};
use flakiness_store::Outcome;
use maud::{html, Markup};

use super::*;
use crate::chart::{line_chart, Chart, Combine, Point, Series, Unit};
use crate::{Counts, History};

/// What "this week" is: the 7 days up to the project's newest run.
pub const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;

/// Runs in the "last runs" table of the overview.
pub const OVERVIEW_RUNS: usize = 10;

/// Failure patterns in the overview.
pub const OVERVIEW_PATTERNS: usize = 10;

/// A test that turned flaky in the last week: classified flaky, and its first flaky or failed
/// result came in the 7 days up to the newest run.
#[derive(Debug, Clone, PartialEq)]
pub struct NewlyFlaky<'a> {
    pub test: &'a TestAnalysis,
    /// Start of the run of its first flaky or failed result.
    pub since_ms: i64,
}

/// The flaky tests whose first flaky or failed result is in the week up to the newest run,
/// newest first.
pub fn newly_flaky<'a>(a: &'a Analysis, h: &History) -> Vec<NewlyFlaky<'a>> {
    let Some(newest) = h.runs.last() else {
        return Vec::new();
    };
    let from = newest.start_ms - WEEK_MS;
    let mut out: Vec<NewlyFlaky<'a>> = a
        .tests
        .iter()
        .filter(|t| t.classification == Classification::Flaky)
        .filter_map(|t| {
            let first = h
                .results(t.test_id)
                .iter()
                .find(|c| matches!(c.outcome, Outcome::Flaky | Outcome::Failed))?;
            let since_ms = h.runs.get(first.run as usize)?.start_ms;
            (since_ms > from).then_some(NewlyFlaky { test: t, since_ms })
        })
        .collect();
    out.sort_by(|x, y| {
        y.since_ms
            .cmp(&x.since_ms)
            .then_with(|| x.test.display_name().cmp(&y.test.display_name()))
            .then_with(|| x.test.environment.cmp(&y.test.environment))
    });
    out
}

/// The overview of a project: counts now, flaky and failed results over time, the time lost
/// to retries and failures, tests newly flaky this week, top failure patterns, last runs.
pub fn overview_page(
    org: &str,
    project: &str,
    a: &Analysis,
    h: &History,
    assets: Assets,
) -> Markup {
    let name = format!("{org}/{project}");
    let newest = h.runs.last().map_or(0, |r| r.start_ms);
    let week: Vec<&crate::RunRow> = h
        .runs
        .iter()
        .filter(|r| r.start_ms > newest - WEEK_MS)
        .collect();
    let lost_week: i64 = week.iter().map(|r| r.lost_ms).sum();
    let lost_all: i64 = h.runs.iter().map(|r| r.lost_ms).sum();
    let failed_week = week.iter().filter(|r| r.counts.failed > 0).count();
    let class_count = |c: Classification| a.tests.iter().filter(|t| t.classification == c).count();
    let newly = newly_flaky(a, h);
    let results_chart = {
        let per_run = |f: fn(&Counts) -> u64| -> Vec<Point> {
            h.runs
                .iter()
                .map(|r| Point {
                    ms: r.start_ms,
                    value: f(&r.counts) as f64,
                    weight: 1.0,
                })
                .collect()
        };
        line_chart(&Chart {
            id: "chart-results",
            title: "Flaky and failed results per run",
            unit: Unit::Count,
            combine: Combine::Mean,
            series: vec![
                Series {
                    name: "flaky".into(),
                    class: "flaky",
                    points: per_run(|c| c.flaky),
                },
                Series {
                    name: "failed".into(),
                    class: "failed",
                    points: per_run(|c| c.failed),
                },
            ],
            rolling: true,
        })
    };
    let lost_chart = line_chart(&Chart {
        id: "chart-lost",
        title: "Time lost to retries and failures",
        unit: Unit::Duration,
        combine: Combine::Sum,
        series: vec![Series {
            name: "failed attempts' time".into(),
            class: "lost",
            points: h
                .runs
                .iter()
                .map(|r| Point {
                    ms: r.start_ms,
                    value: r.lost_ms as f64,
                    weight: 1.0,
                })
                .collect(),
        }],
        rolling: true,
    });
    layout(
        &name,
        &[("/".into(), "projects".into())],
        assets,
        html! {
            h1 { (name) }
            (project_tabs(org, project, "Overview", assets))
            @if h.runs.is_empty() {
                p.empty { "No run yet: upload a report with " code { "flakiness upload" } "." }
            }
            ul #summary.cards {
                li.card { span.big { (h.runs.len()) } " runs" }
                li.card { span.big { (week.len()) } " runs in the last 7 days, " (failed_week) " failed" }
                li.card.flaky { span.big #flaky-count { (class_count(Classification::Flaky)) } " flaky tests" }
                li.card.failed { span.big #broken-count { (class_count(Classification::Broken)) } " broken tests" }
                li.card.flaky { span.big #newly-flaky-count { (newly.len()) } " newly flaky this week" }
                li.card.lost { span.big #lost-week { (duration(lost_week as f64)) } " lost this week (" (duration(lost_all as f64)) " in all)" }
            }
            p #counts.ev { (a.counts_line()) }
            h2 { "Flaky and failed results" }
            (results_chart)
            h2 { "Time lost to retries and failures" }
            p.ev { "The time the attempts that failed took: failures, and the failed tries of tests that passed on retry." }
            (lost_chart)
            h2 { "Newly flaky this week" }
            @if newly.is_empty() {
                p.empty { "No test turned flaky in the 7 days up to the latest run." }
            } @else {
                table #newly-flaky {
                    thead { tr { th { "Test" } th { "Environment" } th { "First flaky result" } th.n { "Score" } } }
                    tbody {
                        @for n in &newly {
                            tr.test {
                                td { (link(assets, &format!("/{org}/{project}/tests/{}", n.test.test_id), html! { (n.test.display_name()) }))
                                     div.ev { (n.test.evidence_line()) } }
                                td { (n.test.environment) }
                                td { (when(n.since_ms)) }
                                td.n { (format!("{:.2}", n.test.score)) }
                            }
                        }
                    }
                }
            }
            h2 { "Top failure patterns" }
            @if a.patterns.is_empty() {
                p.empty { "No failure pattern." }
            } @else {
                table #patterns {
                    thead { tr { th { "Signature" } th.n { "Failures" } th.n { "Tests" } th { "Kind" } th { "For example" } } }
                    tbody {
                        @for p in a.patterns.iter().take(OVERVIEW_PATTERNS) {
                            tr.pattern { td { code { (p.signature) } } td.n { (p.failures) } td.n { (p.tests) }
                                 td { (p.kind) } td { (p.example_tests.join("; ")) } }
                        }
                    }
                }
            }
            h2 { "Last runs" }
            (run_rows(org, project, h.runs.iter().rev().take(OVERVIEW_RUNS), assets))
            @if assets == Assets::Linked && h.runs.len() > OVERVIEW_RUNS {
                p { a #all-runs href={ "/" (org) "/" (project) "/runs" } { "All " (h.runs.len()) " runs →" } }
            }
        },
    )
}
