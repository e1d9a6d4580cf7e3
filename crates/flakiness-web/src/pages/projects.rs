//! The projects page.

use maud::{html, Markup};

use super::*;

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
