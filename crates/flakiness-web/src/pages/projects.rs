//! The projects page: each project with its last run.

use maud::{html, Markup};

use super::*;
use crate::RunRow;

/// A project as the projects page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSummary {
    pub org: String,
    pub project: String,
    /// How many runs it has.
    pub runs: usize,
    /// Its newest run.
    pub last: Option<RunRow>,
}

/// The list of projects (`ul#projects`, one `li.project` each): its name (a link to its
/// overview), its number of runs and its last run with that run's counts.
pub fn projects_page(projects: &[ProjectSummary], assets: Assets) -> Markup {
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
                @for p in projects {
                    @let (org, project) = (&p.org, &p.project);
                    li.project data-status=(p.last.as_ref().map_or("none", |r| r.counts.status())) {
                        div.name {
                            @if let Some(r) = &p.last { span class={ "dot " (r.counts.status()) } {} }
                            (link(assets, &format!("/{org}/{project}"), html! { (org) "/" (project) }))
                            " " span.ev.run-total { (count_of(p.runs as u64, "run", "runs")) }
                        }
                        @if let Some(r) = &p.last {
                            div.last {
                                "Last run "
                                (link(assets, &format!("/{org}/{project}/runs/{}", r.key), html! { (r.name()) }))
                                " · " (when(r.start_ms)) " · " (commit_cell(&r.commit_id, r.url.as_deref(), assets))
                                " · " span.counts {
                                    span.passed { (r.counts.passed) " passed" } " · "
                                    span.failed { (r.counts.failed) " failed" } " · "
                                    span.flaky { (r.counts.flaky) " flaky" } " · "
                                    span.skipped { (r.counts.skipped) " skipped" }
                                }
                            }
                        } @else {
                            div.last.empty { "No run yet." }
                        }
                    }
                }
            }
        },
    )
}
