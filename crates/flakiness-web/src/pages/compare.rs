//! Two runs of a project compared: what changed from run A to run B (spec/diff.md).

use flakiness_analyze::diff::{DiffRun, RunDiff, TestChange};
use flakiness_analyze::short_commit;
use flakiness_store::Outcome;
use maud::{html, Markup};

use super::*;

/// `1.2 s → 2.9 s (+142 %)`: a test's durations in A and B and the change (`from 0` when A's
/// is 0, `?` for a duration not known).
pub fn duration_change(c: &TestChange) -> String {
    let ms = |d: Option<i64>| d.map_or("?".to_string(), |d| duration(d as f64));
    let change = c
        .change_pct()
        .map_or("from 0".to_string(), |p| format!("{p:+.0} %"));
    format!(
        "{} → {} ({change})",
        ms(c.duration_ms_a),
        ms(c.duration_ms_b)
    )
}

/// The table's id of a section of [`RunDiff::sections`]: `newFailures` → `new-failures`.
fn table_id(name: &str) -> String {
    let mut id = String::with_capacity(name.len() + 2);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            id.push('-');
            id.push(c.to_ascii_lowercase());
        } else {
            id.push(c);
        }
    }
    id
}

fn outcome_badge(o: Option<Outcome>) -> Markup {
    match o {
        Some(o) => html! { span class={ "badge " (o.as_str()) } { (o.as_str()) } },
        None => html! { span.absent title="no result in this run" { "—" } },
    }
}

/// A run's name, linked to its page.
fn run_link(org: &str, project: &str, key: &str, r: &DiffRun, assets: Assets) -> Markup {
    let title = r
        .title
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| format!("run {key}"));
    let href = format!("/{org}/{project}/runs/{}", percent(key));
    link(assets, &href, html! { (title) })
}

fn run_facts(label: &str, id: &str, link: Markup, r: &DiffRun) -> Markup {
    let t = &r.totals;
    html! {
        dt { (label) }
        dd #(id) {
            (link) " · " code { (short_commit(&r.commit_id)) } " · " (when(r.start_ms)) " · "
            span.passed { (t.passed) " passed" } ", "
            span.failed { (t.failed) " failed" } ", "
            span.flaky { (t.flaky) " flaky" } ", "
            span.skipped { (t.skipped) " skipped" }
        }
    }
}

fn section(name: &str, heading: &str, list: &[TestChange]) -> Markup {
    let timed = name == "slower" || name == "faster";
    html! {
        h2 {
            (heading)
            " " span.count { "(" (list.len()) ")" }
        }
        table.compare #(table_id(name)) {
            thead { tr {
                th { "Test" } th { "Environment" } th { "A" } th { "B" }
                th { @if timed { "Duration" } @else { "Error" } }
            } }
            tbody {
                @for c in list {
                    tr.test {
                        td { (c.display_name()) }
                        td { (c.environment) }
                        td { (outcome_badge(c.outcome_a)) }
                        td {
                            (outcome_badge(c.outcome_b))
                            @if let (Some(n @ 2..), Some(failed)) = (c.attempts_b, c.failed_attempts_b) {
                                " " span.retries { (n) " attempts, " (failed) " failed" }
                            }
                        }
                        @if timed {
                            td.n { (duration_change(c)) }
                        } @else {
                            td { @if let Some(e) = &c.error { code { (first_line(e, 300)) } } }
                        }
                    }
                }
                @if list.is_empty() {
                    tr.none { td.empty colspan="5" { "None." } }
                }
            }
        }
    }
}

/// Run A (`key_a`) and run B (`key_b`) compared: both runs linked to their pages, then a
/// table per change (`table#new-failures`, `#fixed`, `#newly-flaky`, `#no-longer-flaky`,
/// `#slower`, `#faster`, `#added`, `#removed`; a `tr.test` per test), each headed by its count.
pub fn compare_page(
    org: &str,
    project: &str,
    key_a: &str,
    key_b: &str,
    d: &RunDiff,
    assets: Assets,
) -> Markup {
    let pct = d.options.slower_pct;
    let crumbs = if org.is_empty() {
        Vec::new()
    } else {
        project_crumbs(org, project)
    };
    layout(
        "compare runs",
        &crumbs,
        assets,
        html! {
            h1 { "Compare runs" }
            dl.summary #runs-compared {
                (run_facts("A", "run-a", run_link(org, project, key_a, &d.a, assets), &d.a))
                (run_facts("B", "run-b", run_link(org, project, key_b, &d.b, assets), &d.b))
                dt { "Still failing" } dd #still-failing { (d.still_failing) }
            }
            @if assets == Assets::Linked {
                form #slower-form method="get" {
                    label { "Slower or faster by more than "
                        input type="number" name="slower" min="0" step="any" value=(pct);
                        " %" }
                    " " button type="submit" { "Show" }
                    " " span.ev { "(tests of " (d.options.min_duration_ms) " ms or more in one of the runs)" }
                }
            }
            @for (name, list) in d.sections() {
                (section(name, &d.heading(name), list))
            }
        },
    )
}
