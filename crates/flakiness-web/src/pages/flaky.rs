//! A project's flaky tests.

use flakiness_analyze::{short_commit, Analysis, Classification, Quarantine, TestAnalysis};
use maud::{html, Markup, PreEscaped};

use super::*;

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
