//! `GET /api/projects/{org}/{project}/quarantine?format=`: the quarantine list of the project's
//! current analysis, over real HTTP against a server seeded by our client with a simulated
//! history that has flaky tests.

use std::collections::BTreeSet;

use flakiness_analyze::{Quarantine, QuarantineFormat};

mod common;

use common::{get_json, seed, start, stores};

async fn get(url: &str) -> (u16, String, String) {
    let resp = reqwest::get(url).await.expect("get");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, resp.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quarantine_list_in_every_format() {
    for store in stores() {
        let r = start(store).await;
        let tmp = tempfile::tempdir().expect("tmp");
        seed(&r, tmp.path(), 60).await;
        let api = format!("{}/api/projects/acme/web/quarantine", r.base);

        // The file's JSON: the flaky tests of the analysis the API serves.
        let (status, content_type, json) = get(&format!("{api}?format=json")).await;
        assert_eq!(status, 200, "{store}: {json}");
        assert_eq!(content_type, "application/json", "{store}");
        let q: Quarantine = serde_json::from_str(&json).expect("a quarantine file");
        assert!(!q.tests.is_empty(), "{store}: the history has flaky tests");
        let analysis = get_json(&format!("{}/api/projects/acme/web/tests", r.base)).await;
        let flaky: BTreeSet<(String, Vec<String>, String)> = analysis["tests"]
            .as_array()
            .expect("tests")
            .iter()
            .filter(|t| t["classification"] == "flaky" && !t["evidence"]["lastFlakeMs"].is_null())
            .map(|t| {
                serde_json::from_value(t.clone())
                    .map(|k: Key| (k.file, k.title_path, k.environment))
            })
            .collect::<Result<_, _>>()
            .expect("keys");
        let listed: BTreeSet<(String, Vec<String>, String)> = q
            .tests
            .iter()
            .map(|e| (e.file.clone(), e.title_path.clone(), e.environment.clone()))
            .collect();
        assert_eq!(listed, flaky, "{store}");

        // Every form is the one `flakiness quarantine` prints for that list.
        for format in QuarantineFormat::ALL {
            let (status, content_type, body) = get(&format!("{api}?format={format}")).await;
            assert_eq!(status, 200, "{store}: {format}");
            let expected_type = match format {
                QuarantineFormat::Json => "application/json",
                _ => "text/plain; charset=utf-8",
            };
            assert_eq!(content_type, expected_type, "{store}: {format}");
            assert_eq!(body, q.render(format).expect("render"), "{store}: {format}");
        }
        let (_, _, nextest) = get(&format!("{api}?format=nextest")).await;
        assert!(nextest.starts_with("not (test(="), "{nextest}");
        // No format: the list, as `flakiness quarantine` prints by default.
        let (status, _, list) = get(&api).await;
        assert_eq!(status, 200);
        assert_eq!(list, q.render(QuarantineFormat::List).expect("list"));
        assert_eq!(list.lines().count(), q.tests.len());

        // An unknown format is 400 naming the formats; an unknown project 404.
        for bad in ["xml", "", "JSON"] {
            let (status, content_type, body) = get(&format!("{api}?format={bad}")).await;
            assert_eq!(status, 400, "{store}: {bad:?}");
            assert_eq!(content_type, "application/json");
            let error: serde_json::Value = serde_json::from_str(&body).expect("json");
            let message = error["error"].as_str().expect("error");
            assert!(
                message.contains("one of json, nextest, pytest, list"),
                "{message}"
            );
        }
        for path in ["acme/nope", "nobody/web"] {
            let (status, _, _) = get(&format!(
                "{}/api/projects/{path}/quarantine?format=nextest",
                r.base
            ))
            .await;
            assert_eq!(status, 404, "{store}: {path}");
        }
    }
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Key {
    file: String,
    title_path: Vec<String>,
    environment: String,
}
