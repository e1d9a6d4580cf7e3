//! A test's page.

use flakiness_analyze::{Analysis, TestAnalysis};
use flakiness_store::{FailureKind, FailureRecord, ResultRow};
use maud::{html, Markup};

use super::*;

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
