//! The pages in real headless Chromium (Debian's `chromium`, driven by Playwright), against a
//! server seeded by our client with a simulated history: DOM counts, a flaky test's history
//! strip, an attachment image that loads, the search box, a test named like a script shown as
//! text, no request to another host, no policy violation; screenshots of each page under
//! `target/browser-screenshots/`.

mod common;

use common::{get_json, get_text, seed, start, XSS};
use flakiness_browser_test::{browse, skip_unless_available, Page};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_headless_chromium() {
    if skip_unless_available() {
        return;
    }
    let r = start("sqlite").await;
    let tmp = tempfile::tempdir().expect("tmp");
    let (hostile, full) = seed(&r, tmp.path(), 60).await;
    let analysis = get_json(&format!("{}/api/projects/acme/web/tests", r.base)).await;
    let tests = analysis["tests"].as_array().expect("tests");
    let flaky = tests
        .iter()
        .filter(|t| t["classification"] == "flaky")
        .count();
    assert!(flaky > 0);
    // The first listed test's strip as the analysis has it.
    let first = tests
        .iter()
        .find(|t| t["classification"] == "flaky" || t["classification"] == "broken")
        .expect("a listed test");
    let history = first["history"].as_str().expect("history").to_string();
    let test_page = {
        let html = get_text(&format!("{}/acme/web/flaky", r.base)).await;
        let at = html.find("href=\"/acme/web/tests/").expect("a test link") + 6;
        let end = at + html[at..].find('"').expect("end");
        html[at..end].to_string()
    };
    let shots =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screenshots");
    std::fs::create_dir_all(&shots).expect("mkdir");
    let shot = |name: &str| shots.join(format!("{name}.png"));
    let base = &r.base;
    let big = big_history().await;
    // Two runs of the simulated history, for their comparison.
    let compare = {
        let html = get_text(&format!("{}/acme/web/runs?page=2", r.base)).await;
        let keys: Vec<&str> = html
            .match_indices("href=\"/acme/web/runs/")
            .map(|(i, m)| {
                let rest = &html[i + m.len()..];
                &rest[..rest.find('"').expect("end")]
            })
            .take(2)
            .collect();
        format!("/acme/web/runs/{}/compare/{}", keys[1], keys[0])
    };
    let pages = vec![
        Page::new(format!("{base}/"))
            .count("li.project")
            .text("li.project .last .counts")
            .follow("li.project .name a")
            .screenshot(shot("projects")),
        Page::new(format!("{base}/acme/web/runs"))
            .count("tr.run")
            .count("tr.run[data-status=failed]")
            .text("#run-count")
            .text("tr.run td a")
            .follow("tr.run td a")
            .screenshot(shot("runs")),
        Page::new(format!("{base}/acme/web/flaky"))
            .count("tr.test[data-classification=flaky]")
            .count("#flaky tbody tr:first-child .strip i")
            .count("#flaky tbody tr:first-child .strip i.P")
            .count("#flaky tbody tr:first-child .strip i.F")
            .count("#flaky tbody tr:first-child .strip i.K")
            .count("svg#trend polyline")
            .count("#quarantine li")
            .screenshot(shot("flaky")),
        Page::new(format!("{base}{test_page}"))
            .count("#history tr.env")
            .count("#history .strip i")
            .count("#results tr.result")
            .count("#chart-duration svg.chart")
            .count("#chart-duration text.xtick")
            .count("#chart-flake-rate path.line")
            .follow("#results tr.result td a")
            .screenshot(shot("test")),
        Page::new(full.clone())
            .count("li.test")
            .images_loaded("img.attachment")
            .count("pre.attachment-text")
            .count("li.test a[href*='/tests/']")
            .follow("a.test-link")
            .follow("a.test-history")
            .follow("#compare-previous")
            .type_into("#search", "removes")
            .after_type_count("li.test")
            .screenshot(shot("run")),
        Page::new(hostile.clone())
            .text("li.test .title")
            .text("h1")
            .count("script")
            .screenshot(shot("hostile")),
        Page::new(format!("{base}/acme/web"))
            .count("tr.run")
            .text("#flaky-count")
            .text("#broken-count")
            .count("#chart-results svg.chart")
            .count("#chart-lost svg.chart")
            .follow("#all-runs")
            .screenshot(shot("overview")),
        Page::new(format!("{base}/acme/web"))
            .dark()
            .computed("body", "background-color")
            .computed("body", "color")
            .computed("#chart-results circle.pt.flaky", "fill")
            .screenshot(shot("overview-dark")),
        Page::new(format!("{base}{test_page}"))
            .dark()
            .computed("body", "background-color")
            .screenshot(shot("test-dark")),
        Page::new(format!("{}/{}", big.base, big.project))
            .count("#chart-results svg.chart")
            .attr("#chart-results svg.chart", "data-bucket")
            .attr("#chart-results svg.chart", "data-points")
            .count("#chart-results circle.pt")
            .count("#chart-results text.xtick")
            .count("#chart-results text.ytick")
            .count("#chart-results circle.pt title")
            .count("#chart-results path.avg")
            .text("#chart-results text.xtick")
            .screenshot(shot("overview-2000-runs")),
        Page::new(format!("{base}{compare}"))
            .count("table.compare")
            .count("h2 span.count")
            .follow("#run-a a")
            .follow("#run-b a")
            .screenshot(shot("compare")),
    ];
    let visited = browse(&pages).unwrap_or_else(|e| panic!("browser: {e}"));
    assert_eq!(visited.len(), pages.len());
    for v in &visited {
        assert_eq!(v.error, None, "{}", v.url);
        assert_eq!(v.status, Some(200), "{}", v.url);
        assert!(v.dialogs.is_empty(), "{}: dialogs {:?}", v.url, v.dialogs);
        assert!(v.csp.is_empty(), "{}: policy violations {:?}", v.url, v.csp);
        assert!(
            v.external.is_empty(),
            "{}: requests {:?}",
            v.url,
            v.external
        );
        assert!(
            v.console_errors.is_empty(),
            "{}: console {:?}",
            v.url,
            v.console_errors
        );
    }
    let count = |i: usize, sel: &str| -> usize {
        *visited[i]
            .count
            .get(sel)
            .unwrap_or_else(|| panic!("{sel} not counted"))
    };
    let text = |i: usize, sel: &str| -> String {
        visited[i]
            .text
            .get(sel)
            .cloned()
            .flatten()
            .unwrap_or_default()
    };
    assert_eq!(count(0, "li.project"), 1);
    // 62 runs, 50 a page.
    assert_eq!(count(1, "tr.run"), 50);
    assert!(count(1, "tr.run[data-status=failed]") > 0);
    assert!(text(1, "#run-count").contains("62 of 62 runs"));
    // Flaky tests: as many as the analysis; the first one's strip cell by cell.
    assert_eq!(count(2, "tr.test[data-classification=flaky]"), flaky);
    assert_eq!(
        count(2, "#flaky tbody tr:first-child .strip i"),
        history.chars().count()
    );
    for (class, c) in [("P", 'P'), ("F", 'F'), ("K", 'K')] {
        assert_eq!(
            count(2, &format!("#flaky tbody tr:first-child .strip i.{class}")),
            history.chars().filter(|h| *h == c).count(),
            "{class} cells of {history}"
        );
    }
    assert_eq!(count(2, "svg#trend polyline"), 2);
    assert!(count(2, "#quarantine li") > 0);
    // A test's page: both environments, a strip each.
    assert_eq!(count(3, "#history tr.env"), 2);
    assert!(count(3, "#history .strip i") > 0);
    // playwright-full: the image loads, the text is shown, the search keeps one test.
    assert_eq!(count(4, "li.test"), 2);
    assert_eq!(visited[4].images, Some((1, 1)));
    assert!(count(4, "pre.attachment-text") >= 1);
    assert_eq!(visited[4].after_type.get("li.test"), Some(&1));
    // The hostile names are text; the page's only script is ours.
    assert_eq!(text(5, "li.test .title"), XSS);
    assert!(text(5, "h1").contains(XSS));
    assert_eq!(count(5, "script"), 1);
    // Links lead to pages that exist, without policy violations.
    for v in &visited {
        for (sel, f) in &v.followed {
            assert_eq!(f.error, None, "{}: {sel}", v.url);
            assert_eq!(f.status, Some(200), "{}: {sel} → {:?}", v.url, f.url);
            assert!(f.csp.is_empty(), "{}: {sel}: {:?}", v.url, f.csp);
        }
    }
    // The projects page: the last run's counts as the JSON API has them.
    let api_runs = get_json(&format!("{}/api/projects/acme/web/runs", r.base)).await;
    let newest = &api_runs.as_array().expect("runs")[0]["counts"];
    let last = text(0, "li.project .last .counts");
    assert!(
        last.contains(&format!("{} failed", newest["failed"])),
        "{last} / {newest}"
    );
    // Runs are named by number: the newest is #62.
    assert!(
        text(1, "tr.run td a").starts_with("#62"),
        "{}",
        text(1, "tr.run td a")
    );
    // The test page: a row per run, charts with axes.
    assert!(count(3, "#results tr.result") > 0);
    assert_eq!(count(3, "#chart-duration svg.chart"), 1);
    assert!(count(3, "#chart-duration text.xtick") >= 1);
    assert!(count(3, "#chart-flake-rate path.line") >= 1);
    // The run page links each test and environment to its page.
    assert_eq!(
        count(4, "li.test a[href*='/tests/']"),
        6,
        "names, then each environment"
    );
    // The overview: counts of the analysis, the last 10 runs, two charts.
    let class_count = |c: &str| tests.iter().filter(|t| t["classification"] == c).count();
    assert_eq!(text(6, "#flaky-count"), class_count("flaky").to_string());
    assert_eq!(text(6, "#broken-count"), class_count("broken").to_string());
    assert_eq!(count(6, "tr.run"), 10);
    assert_eq!(count(6, "#chart-results svg.chart"), 1);
    assert_eq!(count(6, "#chart-lost svg.chart"), 1);
    // Dark mode: a dark background with light text.
    for i in [7, 8] {
        let bg = visited[i]
            .computed_of("body", "background-color")
            .unwrap_or_default();
        assert!(luminance(bg) < 0.2, "{}: background {bg}", visited[i].url);
    }
    let fg = visited[7].computed_of("body", "color").unwrap_or_default();
    assert!(luminance(fg) > 0.6, "text {fg}");
    // 2,000 runs: aggregated (by day or week), with both axes labelled and a title per point.
    let bucket = visited[9]
        .attr_of("#chart-results svg.chart", "data-bucket")
        .unwrap_or_default();
    assert!(bucket == "day" || bucket == "week", "{bucket}");
    let points: usize = visited[9]
        .attr_of("#chart-results svg.chart", "data-points")
        .and_then(|p| p.parse().ok())
        .unwrap_or_default();
    assert!(
        points > 10 && points <= 130,
        "{points} points for 2,000 runs"
    );
    assert_eq!(
        count(9, "#chart-results circle.pt"),
        2 * points,
        "two series"
    );
    assert_eq!(count(9, "#chart-results circle.pt title"), 2 * points);
    assert!(count(9, "#chart-results text.xtick") >= 3);
    assert!(count(9, "#chart-results text.ytick") >= 3);
    assert_eq!(
        count(9, "#chart-results path.avg"),
        2,
        "a rolling average per series"
    );
    let tick = text(9, "#chart-results text.xtick");
    assert!(tick.chars().any(|c| c.is_ascii_digit()), "a date: {tick}");
    // The comparison: a table per change, each with its count.
    assert_eq!(count(10, "table.compare"), 8);
    assert_eq!(count(10, "h2 span.count"), 8);
    for name in [
        "projects",
        "runs",
        "flaky",
        "test",
        "run",
        "hostile",
        "overview",
        "overview-dark",
        "test-dark",
        "overview-2000-runs",
    ] {
        let bytes = std::fs::read(shot(name)).expect("screenshot");
        assert!(bytes.starts_with(b"\x89PNG"), "{name}");
    }
}

/// Relative luminance (0 black, 1 white) of a CSS `rgb(r, g, b)` / `rgba(...)` colour.
fn luminance(css: &str) -> f64 {
    let inner = css
        .trim()
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')');
    let c: Vec<f64> = inner
        .split([',', ' ', '/'])
        .filter(|s| !s.is_empty())
        .take(3)
        .filter_map(|s| s.parse::<f64>().ok())
        .collect();
    if c.len() < 3 {
        return -1.0;
    }
    (0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]) / 255.0
}

/// A served folder of 2,000 simulated runs (`flakiness show`'s pages): its base URL and the
/// project's path.
struct Big {
    base: String,
    project: String,
    _dir: tempfile::TempDir,
}

async fn big_history() -> Big {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path().to_path_buf();
    let project = tokio::task::spawn_blocking(move || {
        let s = flakiness_sim::Scenario {
            runs: 2000,
            tests: 4,
            ..flakiness_sim::Scenario::named("mixed").expect("mixed")
        };
        let folder = root.join("big");
        for (i, report) in flakiness_sim::simulate(&s).reports.iter().enumerate() {
            common::write_report(&folder.join(format!("run-{i:04}")), report);
        }
        flakiness_web::folder::FolderProject::open(&[folder]).expect("open")
    })
    .await
    .expect("join");
    let path = format!("{}/{}", project.org, project.name);
    let catalog = flakiness_web::folder::FolderCatalog(std::sync::Arc::new(project));
    let app = flakiness_web::router(std::sync::Arc::new(catalog));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Big {
        base,
        project: path,
        _dir: dir,
    }
}
