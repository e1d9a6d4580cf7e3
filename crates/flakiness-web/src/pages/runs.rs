//! A project's runs.

use std::collections::BTreeSet;

use maud::{html, Markup};

use super::*;
use crate::RunRow;

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
        .take(RUNS_PER_PAGE)
        .copied();
    let status = filter.status.as_deref().unwrap_or_default();
    let env = filter.env.as_deref().unwrap_or_default();
    let name = format!("{org}/{project}");
    layout(
        &format!("runs of {name}"),
        &project_crumbs(org, project),
        assets,
        html! {
            h1 { "Runs" }
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
            (run_rows(org, project, shown, assets))
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
