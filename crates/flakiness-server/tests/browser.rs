//! The pages in real headless Chromium (Debian's `chromium`, driven by Playwright), against a
//! server seeded by our client with a simulated history: DOM counts, a flaky test's history
//! strip, an attachment image that loads, the search box, a test named like a script shown as
//! text, no request to another host, no policy violation; screenshots of each page under
//! `target/browser-screenshots/`.

mod common;

use common::{get_json, seed, start, XSS};
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
        let html = reqwest::get(format!("{}/acme/web/flaky", r.base))
            .await
            .expect("get")
            .text()
            .await
            .expect("html");
        let at = html.find("href=\"/acme/web/tests/").expect("a test link") + 6;
        let end = at + html[at..].find('"').expect("end");
        html[at..end].to_string()
    };
    let shots =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/browser-screenshots");
    std::fs::create_dir_all(&shots).expect("mkdir");
    let shot = |name: &str| shots.join(format!("{name}.png"));
    let base = &r.base;
    let pages = vec![
        Page::new(format!("{base}/"))
            .count("li.project")
            .screenshot(shot("projects")),
        Page::new(format!("{base}/acme/web"))
            .count("tr.run")
            .count("tr.run[data-status=failed]")
            .text("#run-count")
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
            .screenshot(shot("test")),
        Page::new(full.clone())
            .count("li.test")
            .images_loaded("img.attachment")
            .count("pre.attachment-text")
            .type_into("#search", "removes")
            .after_type_count("li.test")
            .screenshot(shot("run")),
        Page::new(hostile.clone())
            .text("li.test .title")
            .text("h1")
            .count("script")
            .screenshot(shot("hostile")),
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
    for name in ["projects", "runs", "flaky", "test", "run", "hostile"] {
        let bytes = std::fs::read(shot(name)).expect("screenshot");
        assert!(bytes.starts_with(b"\x89PNG"), "{name}");
    }
}
