//! The server's pages over real HTTP, against a server seeded by our client with a simulated
//! history, a report with attachments and a report with a hostile test name.

use std::path::{Path, PathBuf};

mod common;

use common::{get_json, seed, start, stores, XSS};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo")
}

async fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = reqwest::get(url).await.expect("get");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

fn links<'a>(html: &'a str, prefix: &str) -> Vec<&'a str> {
    html.match_indices(&format!("href=\"{prefix}"))
        .filter_map(|(i, _)| {
            let start = i + "href=\"".len();
            let end = start + html[start..].find('"')?;
            Some(&html[start..end])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_show_runs_tests_attachments_and_flaky_tests() {
    for store in stores() {
        let r = start(store).await;
        let tmp = tempfile::tempdir().expect("tmp");
        let (hostile_url, full_url) = seed(&r, tmp.path(), 60).await;

        // Projects.
        let (status, headers, html) = get(&format!("{}/", r.base)).await;
        assert_eq!(status, 200, "{store}");
        assert!(html.contains("href=\"/acme/web\""), "{store}");
        let csp = headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("script-src 'self'"), "{csp}");

        // The projects page: the project's last run and its counts, as the JSON API has them.
        let api = get_json(&format!("{}/api/projects/acme/web/runs", r.base)).await;
        let newest = &api.as_array().expect("runs")[0];
        assert!(html.contains("62 runs"), "{store}");
        let counts = &newest["counts"];
        assert!(
            html.contains(&format!(
                "<span class=\"failed\">{} failed</span> · <span class=\"flaky\">{} flaky</span>",
                counts["failed"], counts["flaky"]
            )),
            "{store}: {counts}"
        );
        assert!(html.contains(&format!(
            "/acme/web/runs/{}",
            newest["uploadId"].as_str().expect("id")
        )));

        // Runs: 62 in all, newest first, 50 a page, named by number; filters.
        let (_, _, html) = get(&format!("{}/acme/web/runs", r.base)).await;
        assert_eq!(html.matches("<tr class=\"run\"").count(), 50, "{store}");
        assert!(html.contains("62 of 62 runs"), "{store}");
        assert!(
            html.contains("data-number=\"62\""),
            "{store}: the newest is #62"
        );
        assert!(
            !html.contains(">run</a>"),
            "{store}: a run is never named \"run\""
        );
        let (_, _, page2) = get(&format!("{}/acme/web/runs?page=2", r.base)).await;
        assert_eq!(page2.matches("<tr class=\"run\"").count(), 12, "{store}");
        let api_failed = api
            .as_array()
            .expect("runs")
            .iter()
            .filter(|run| run["counts"]["failed"].as_u64().unwrap_or(0) > 0)
            .count();
        let (_, _, failed) = get(&format!("{}/acme/web/runs?status=failed", r.base)).await;
        assert!(
            failed.contains(&format!("{api_failed} of 62 runs")),
            "{store}: {api_failed} failed runs by the API"
        );
        let (_, _, windows) = get(&format!("{}/acme/web/runs?env=windows", r.base)).await;
        assert!(windows.contains("60 of 62 runs"), "{store}");

        // The hostile run: its test name is text, never markup.
        let (status, _, html) = get(&format!("{}{}", r.base, path_of(&hostile_url))).await;
        assert_eq!(status, 200);
        assert!(!html.contains(XSS), "{store}: a raw script in the page");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

        // playwright-full: the image is linked and served as an image, text shown.
        let (_, _, html) = get(&format!("{}{}", r.base, path_of(&full_url))).await;
        assert!(html.contains("<img class=\"attachment\""), "{store}");
        assert!(html.contains("class=\"attachment-text\""), "{store}");
        // Its tests link to their pages, whose heading names them.
        let history = links(&html, "/acme/web/tests/");
        assert_eq!(
            history.len(),
            6,
            "{store}: each test's name, then a link per environment (it ran in two)"
        );
        assert!(html.contains("class=\"test-history\""), "{store}");
        for link in &history {
            let (status, _, page) = get(&format!("{}{link}", r.base)).await;
            assert_eq!(status, 200, "{store}: {link}");
            assert!(page.contains("id=\"results\""), "{store}: {link}");
        }
        let img = links(&html, "/acme/web/runs/")
            .into_iter()
            .find(|l| l.contains("/attachments/c4d8a16bd4bfd4163fb259be3136c691"))
            .expect("image link")
            .to_string();
        let resp = reqwest::get(format!("{}{img}", r.base)).await.expect("img");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "image/png");
        assert!(resp.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .starts_with("sandbox"));
        let bytes = resp.bytes().await.expect("bytes");
        let expected = std::fs::read(repo().join(
            "testdata/reports/valid/playwright-full/attachments/c4d8a16bd4bfd4163fb259be3136c691",
        ))
        .expect("png");
        assert_eq!(bytes.as_ref(), expected.as_slice());
        let (status, _, _) = get(&format!(
            "{}/acme/web/runs/{}/attachments/..%2F..%2Fserver.db",
            r.base,
            path_of(&full_url).rsplit('/').next().expect("id")
        ))
        .await;
        assert_eq!(status, 404, "{store}");

        // Flaky tests: the analysis of the JSON API, as a page.
        let analysis = get_json(&format!("{}/api/projects/acme/web/tests", r.base)).await;
        let flaky = analysis["tests"]
            .as_array()
            .expect("tests")
            .iter()
            .filter(|t| t["classification"] == "flaky")
            .count();
        assert!(flaky > 0, "{store}: the simulated history has flaky tests");
        let (_, _, html) = get(&format!("{}/acme/web/flaky", r.base)).await;
        assert_eq!(
            html.matches("data-classification=\"flaky\"").count(),
            flaky,
            "{store}"
        );
        let incidents = analysis["incidents"].as_array().expect("incidents").len();
        assert!(incidents > 0, "{store}: the simulated history has outages");
        assert_eq!(html.matches("<tr class=\"incident\"").count(), incidents);
        let run_links = links(&html, "/acme/web/runs/");
        assert_eq!(
            run_links.len(),
            incidents,
            "{store}: each incident links to its run"
        );
        for link in run_links.iter().take(3) {
            let (status, _, _) = get(&format!("{}{link}", r.base)).await;
            assert_eq!(status, 200, "{store}: {link}");
        }
        assert!(html.contains("<svg id=\"trend\""));
        assert!(html.contains("id=\"quarantine\""));
        assert!(!html.contains(XSS), "{store}");

        // A test's page: its history in both environments, a row per run it ran in (the
        // analysis's strip covers every run of this short history), two charts.
        let test = links(&html, "/acme/web/tests/")
            .first()
            .expect("a test link")
            .to_string();
        let (status, _, page) = get(&format!("{}{test}", r.base)).await;
        assert_eq!(status, 200, "{store}");
        assert_eq!(page.matches("<tr class=\"env\"").count(), 2, "{store}");
        assert!(page.contains("class=\"strip\""));
        let id: i64 = test
            .rsplit('/')
            .next()
            .and_then(|s| s.parse().ok())
            .expect("id");
        let first = analysis["tests"]
            .as_array()
            .expect("tests")
            .iter()
            .find(|t| t["classification"] == "flaky" || t["classification"] == "broken")
            .expect("the first listed test");
        // Runs with a result for it, as the analysis counts them: a row each (one page).
        let with_result = first["evidence"]["runs"].as_u64().expect("runs") as usize;
        assert!(with_result > 0 && with_result <= 62, "{store}");
        assert_eq!(
            page.matches("<tr class=\"result\"").count(),
            with_result,
            "{store}: test {id}"
        );
        for c in ["chart-duration", "chart-flake-rate"] {
            assert!(page.contains(&format!("id=\"{c}\"")), "{store}: {c}");
        }
        assert!(!page.contains("NaN"), "{store}");

        // The overview: counts of the analysis, charts, the last runs.
        let (status, _, page) = get(&format!("{}/acme/web", r.base)).await;
        assert_eq!(status, 200, "{store}");
        let class_count = |c: &str| {
            analysis["tests"]
                .as_array()
                .expect("tests")
                .iter()
                .filter(|t| t["classification"] == c)
                .count()
        };
        assert!(
            page.contains(&format!("id=\"flaky-count\">{}<", class_count("flaky"))),
            "{store}"
        );
        assert!(
            page.contains(&format!("id=\"broken-count\">{}<", class_count("broken"))),
            "{store}"
        );
        assert_eq!(page.matches("<tr class=\"run\"").count(), 10, "{store}");
        let patterns = analysis["patterns"].as_array().expect("patterns").len();
        assert_eq!(
            page.matches("<tr class=\"pattern\"").count(),
            patterns.min(10)
        );
        for c in ["chart-results", "chart-lost"] {
            assert!(page.contains(&format!("id=\"{c}\"")), "{store}: {c}");
        }
        assert!(page.contains("href=\"/acme/web/runs\""), "{store}");
        // Time lost: the failed attempts' time of every run, as the JSON API sums it.
        let lost: i64 = api
            .as_array()
            .expect("runs")
            .iter()
            .map(|run| run["lostMs"].as_i64().expect("lostMs"))
            .sum();
        assert!(lost > 0, "{store}: retries took time");
        assert!(
            page.contains(&format!(
                " lost this week ({} in all)",
                flakiness_web::pages::duration(lost as f64)
            )),
            "{store}: {lost} ms"
        );
        assert!(!page.contains("NaN"), "{store}");

        // Unknown things are 404 pages.
        for path in [
            "/acme/nope",
            "/acme/web/runs/nope",
            "/acme/web/tests/999999",
            "/acme/web/tests/x",
        ] {
            let (status, _, _) = get(&format!("{}{path}", r.base)).await;
            assert_eq!(status, 404, "{store}: {path}");
        }
    }
}

/// The counts of a comparison page: for each table, its `tr.test` rows and the count of its
/// heading (`span.count`).
fn compare_counts(html: &str) -> Vec<(String, usize, usize)> {
    let ids = [
        "new-failures",
        "fixed",
        "newly-flaky",
        "no-longer-flaky",
        "slower",
        "faster",
        "added",
        "removed",
    ];
    ids.iter()
        .map(|id| {
            let start = html
                .find(&format!("id=\"{id}\""))
                .unwrap_or_else(|| panic!("no table {id}"));
            let rows = html[start..][..html[start..].find("</table>").expect("end")]
                .matches("<tr class=\"test\"")
                .count();
            // The heading just before the table.
            let head = &html[..start];
            let count = &head[head.rfind("<span class=\"count\">(").expect("count") + 21..];
            let count = count[..count.find(')').expect(")")]
                .parse()
                .expect("a number");
            (id.to_string(), rows, count)
        })
        .collect()
}

/// The comparison of two runs: its counts are `flakiness_analyze::diff::diff` of the two
/// reports the JSON API serves; the run page links to its comparison with the previous run;
/// unknown runs are 404 pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compare_page_is_the_diff_of_the_two_reports() {
    use flakiness_analyze::diff::{diff, DiffOptions};
    for store in stores() {
        let r = start(store).await;
        let tmp = tempfile::tempdir().expect("tmp");
        seed(&r, tmp.path(), 12).await;
        let runs = get_json(&format!("{}/api/projects/acme/web/runs", r.base)).await;
        let keys: Vec<String> = runs
            .as_array()
            .expect("runs")
            .iter()
            .map(|run| run["uploadId"].as_str().expect("uploadId").to_string())
            .collect();
        assert_eq!(keys.len(), 14, "{store}");
        let record = |key: String| {
            let base = r.base.clone();
            async move {
                let bytes = reqwest::get(format!("{base}/api/projects/acme/web/runs/{key}/report"))
                    .await
                    .expect("get")
                    .bytes()
                    .await
                    .expect("report");
                let report: flakiness_report::Report =
                    flakiness_report::json_text::from_slice(&bytes).expect("a report");
                flakiness_analyze::summarize(&report, &key, "")
            }
        };
        // Neighbours (newest first: B is the newer), the newest against the oldest (the
        // hostile report: every test added or removed), and 0 % for slower.
        let last = keys.len() - 1;
        let mut pairs: Vec<(usize, usize, Option<f64>)> =
            (0..4).map(|i| (i + 1, i, None)).collect();
        pairs.push((last, 0, None));
        pairs.push((3, 2, Some(0.0)));
        let mut changes = 0;
        for &(a, b, pct) in &pairs {
            let opts = DiffOptions {
                slower_pct: pct.unwrap_or(20.0),
                ..DiffOptions::default()
            };
            let d = diff(
                &record(keys[a].clone()).await,
                &record(keys[b].clone()).await,
                &opts,
            );
            let query = pct.map_or(String::new(), |p| format!("?slower={p}"));
            let url = format!(
                "{}/acme/web/runs/{}/compare/{}{query}",
                r.base, keys[a], keys[b]
            );
            let (status, headers, html) = get(&url).await;
            assert_eq!(status, 200, "{store}: {url}");
            assert!(headers["content-security-policy"]
                .to_str()
                .expect("csp")
                .contains("default-src 'none'"));
            let expected: Vec<(String, usize, usize)> = d
                .sections()
                .iter()
                .map(|(name, list)| {
                    let id = match *name {
                        "newFailures" => "new-failures",
                        "newlyFlaky" => "newly-flaky",
                        "noLongerFlaky" => "no-longer-flaky",
                        other => other,
                    };
                    (id.to_string(), list.len(), list.len())
                })
                .collect();
            assert_eq!(compare_counts(&html), expected, "{store}: {url}");
            assert!(
                html.contains(&format!("id=\"still-failing\">{}<", d.still_failing)),
                "{store}"
            );
            assert!(!html.contains(XSS), "{store}");
            changes += d.sections().iter().map(|(_, l)| l.len()).sum::<usize>();
            if a == last {
                // The hostile run shares no test with a simulated one.
                assert!(!d.added.is_empty() && !d.removed.is_empty(), "{store}");
            }
        }
        assert!(changes > 0, "{store}: the pairs changed nothing");

        // The run page links to the comparison of the run before it (A) with it (B).
        for (i, key) in keys.iter().enumerate() {
            let (_, _, html) = get(&format!("{}/acme/web/runs/{key}", r.base)).await;
            let link = links(&html, "/acme/web/runs/")
                .into_iter()
                .find(|l| l.contains("/compare/"))
                .map(str::to_string);
            if i == last {
                assert_eq!(link, None, "{store}: the oldest run has none");
                continue;
            }
            assert!(html.contains("id=\"compare-previous\""), "{store}");
            let link = link.expect("a comparison link");
            assert_eq!(
                link,
                format!("/acme/web/runs/{}/compare/{key}", keys[i + 1]),
                "{store}"
            );
            if i < 2 {
                let (status, _, _) = get(&format!("{}{link}", r.base)).await;
                assert_eq!(status, 200, "{store}: {link}");
            }
        }

        // Unknown runs and projects are 404 pages; a bad percentage is a 400.
        let (a, b) = (&keys[1], &keys[0]);
        for path in [
            format!("/acme/web/runs/nope/compare/{b}"),
            format!("/acme/web/runs/{a}/compare/nope"),
            format!("/acme/nope/runs/{a}/compare/{b}"),
        ] {
            let (status, _, html) = get(&format!("{}{path}", r.base)).await;
            assert_eq!(status, 404, "{store}: {path}");
            assert!(html.contains("Not found"), "{store}: {path}");
        }
        for bad in ["-5", "fast", "NaN"] {
            let (status, _, _) = get(&format!(
                "{}/acme/web/runs/{a}/compare/{b}?slower={bad}",
                r.base
            ))
            .await;
            assert_eq!(status, 400, "{store}: {bad}");
        }
    }
}

/// The path of a web URL.
fn path_of(url: &str) -> String {
    let after = url.split_once("://").map_or(url, |(_, rest)| rest);
    after[after.find('/').unwrap_or(after.len())..].to_string()
}

/// With a read token, the pages and the read API need it (a cookie set by `?token=`, or a
/// bearer header); uploads do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_token_guards_the_pages_and_the_read_api() {
    let dir = tempfile::tempdir().expect("tmp");
    let read = "read-token-0123456789abcdef";
    let (_server, base, token) = common::serve(flakiness_server::ServerConfig {
        data_dir: dir.path().join("data"),
        read_token: Some(flakiness_server::ReadToken(read.into())),
        ..flakiness_server::ServerConfig::default()
    })
    .await;
    let running = common::Running {
        _dir: tempfile::tempdir().expect("tmp"),
        _db: None,
        server: _server,
        base: base.clone(),
        token,
    };
    // Uploads need no read token.
    let web = common::upload_dir(
        &running,
        &repo().join("testdata/reports/valid/playwright-full"),
    )
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let run = path_of(&web);
    for path in [
        "/",
        "/acme/web",
        run.as_str(),
        "/api/projects",
        "/api/projects/acme/web/quarantine?format=nextest",
        "/static/site.css",
    ] {
        let r = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 403, "{path} without the token");
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth("wrong-token-0123456789")
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 403, "{path} with a wrong token");
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth(read)
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200, "{path} with the token");
    }
    let r = client
        .get(format!("{base}{run}?token={read}"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], run.as_str());
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    let r = client
        .get(format!("{base}{run}"))
        .header("cookie", cookie.split(';').next().expect("pair"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 200);
    assert!(r.text().await.expect("html").contains("class=\"tree\""));

    // Issue 14, item 2: the redirect goes to a path of ours, never to another host.
    let r = client
        .get(format!("{base}//evil.example/?token={read}"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().expect("location");
    assert_eq!(location, "/evil.example/");
    // Item 4: the scheme of the bearer header is case-insensitive, as the upload API's.
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = client
            .get(format!("{base}/acme/web"))
            .header("authorization", format!("{scheme} {read}"))
            .send()
            .await
            .expect("get");
        assert_eq!(r.status(), 200, "{scheme}");
    }
    // Item 4: error answers carry the pages' security headers: the gate's 403, the 404 of
    // an unknown path, axum's 400 for a bad query.
    let secure = |r: &reqwest::Response, what: &str| {
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
        assert_eq!(h["x-frame-options"], "DENY", "{what}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
        assert!(h.contains_key("content-security-policy"), "{what}");
    };
    let r = client
        .get(format!("{base}/acme/web"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 403);
    secure(&r, "403");
    let r = client
        .get(format!("{base}/no/such/page/here/at/all"))
        .bearer_auth(read)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 404);
    secure(&r, "404");
    let r = client
        .get(format!("{base}/acme/web/runs?page=not-a-number"))
        .bearer_auth(read)
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), 400);
    secure(&r, "400");
}
