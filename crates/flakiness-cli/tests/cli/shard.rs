//! `flakiness shard` (spec/shard.md): plans from a real store filled by `analyze` with
//! simulated reports whose tests take known times, and from a real `flakiness serve` holding
//! the same reports; balance within the LPT bound, determinism, every test in one shard, new
//! tests round-robin, bad arguments.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde_json::Value;

use super::{flakiness, stdout, token_and_server};

/// What test `i` (`test_case_{i}`) takes per attempt: a few long ones, most short.
fn weight(i: u64) -> u64 {
    if i.is_multiple_of(11) {
        4_000 + i * 10
    } else {
        20 + (i * 37) % 900
    }
}

/// Sets every attempt's duration to its test's weight.
fn set_durations(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let i = o
                .get("title")
                .and_then(Value::as_str)
                .and_then(|t| t.strip_prefix("test_case_"))
                .and_then(|n| n.parse::<u64>().ok());
            if let (Some(i), Some(Value::Array(attempts))) = (i, o.get_mut("attempts")) {
                for a in attempts {
                    a["duration"] = Value::from(weight(i));
                }
            }
            for child in o.values_mut() {
                set_durations(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(set_durations),
        _ => {}
    }
}

/// Simulated runs as report directories under `dir`, with the tests' weights: their paths.
fn reports(dir: &Path) -> Vec<String> {
    let s = flakiness_sim::Scenario {
        runs: 12,
        tests: 60,
        ..flakiness_sim::Scenario::named("mixed").expect("mixed")
    };
    let mut dirs = Vec::new();
    for (i, report) in flakiness_sim::simulate(&s).reports.iter().enumerate() {
        let mut v = serde_json::to_value(report).expect("json");
        set_durations(&mut v);
        let run = dir.join(format!("run-{i:03}"));
        std::fs::create_dir_all(&run).expect("mkdir");
        std::fs::write(
            run.join("report.json"),
            serde_json::to_vec(&v).expect("json"),
        )
        .expect("write");
        dirs.push(run.to_str().expect("utf-8").to_string());
    }
    dirs
}

/// A store analyzed from the simulated reports: (reports folder, store path).
fn analyzed(tmp: &Path) -> (Vec<String>, String) {
    let dirs = reports(&tmp.join("reports"));
    let db = tmp.join("history.db").to_str().expect("utf-8").to_string();
    let reports = tmp.join("reports");
    let o = flakiness(&["analyze", reports.to_str().expect("utf-8"), "--db", &db]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    (dirs, db)
}

fn shard(args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["shard"];
    all.extend_from_slice(args);
    let o = flakiness(&all);
    (
        o.status.code(),
        stdout(&o),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// Every shard's JSON plan of `total` from the store `db` (or the server).
fn plans(source: &[&str], total: usize) -> Vec<Value> {
    (0..total)
        .map(|i| {
            let (t, i) = (total.to_string(), i.to_string());
            let mut args = vec!["--total", &t, "--index", &i, "--format", "json"];
            args.extend_from_slice(source);
            let (code, out, err) = shard(&args);
            assert_eq!(code, Some(0), "{err}");
            serde_json::from_str(&out).expect("JSON plan")
        })
        .collect()
}

#[test]
fn shard_plans_are_balanced_deterministic_and_cover_every_test() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (_, db) = analyzed(tmp.path());
    let store = ["--db", db.as_str()];
    let everything = plans(&store, 1);
    let all: Vec<String> = everything[0]["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .map(|t| t.as_str().expect("id").to_string())
        .collect();
    assert!(all.len() >= 50, "{}", all.len());
    // The expected duration of each test is its weight (every attempt took it).
    let ms_of = |id: &str| -> u64 {
        let n = id.rsplit("test_case_").next().expect("title");
        weight(n.parse().expect("number"))
    };
    let sum: u64 = all.iter().map(|t| ms_of(t)).sum();
    assert_eq!(everything[0]["expectedMs"], sum);
    let longest = all.iter().map(|t| ms_of(t)).max().expect("tests");
    for total in [2, 3, 5, 8] {
        let plans = plans(&store, total);
        // Every test in exactly one shard.
        let mut seen: Vec<String> = plans
            .iter()
            .flat_map(|p| p["tests"].as_array().expect("tests").clone())
            .map(|t| t.as_str().expect("id").to_string())
            .collect();
        seen.sort();
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(seen, expected, "{total} shards");
        // Each shard's own expected time is its tests' weights; all agree on the shards.
        for (i, p) in plans.iter().enumerate() {
            assert_eq!(p["shards"], plans[0]["shards"]);
            let own: u64 = p["tests"]
                .as_array()
                .expect("tests")
                .iter()
                .map(|t| ms_of(t.as_str().expect("id")))
                .sum();
            assert_eq!(p["expectedMs"], own);
            assert_eq!(p["shards"][i]["expectedMs"], own);
        }
        // Within the LPT bound: 4/3 of a lower bound of the best split.
        let lower = sum.div_ceil(total as u64).max(longest);
        let max = plans
            .iter()
            .map(|p| p["expectedMs"].as_u64().expect("ms"))
            .max()
            .expect("shards");
        assert!(3 * max <= 4 * lower, "{total}: {max} ms vs {lower} ms");
    }
    // Deterministic: the same plan again, in every form.
    for format in ["list", "pytest", "nextest", "json"] {
        let args = [
            "--total", "3", "--index", "1", "--format", format, "--db", &db,
        ];
        let (a, b) = (shard(&args), shard(&args));
        assert_eq!(a.0, Some(0), "{}", a.2);
        assert_eq!(a.1, b.1, "{format}");
        if format != "json" {
            assert!(
                a.2.contains("shard 1/3:") && a.2.contains("<- this one"),
                "{}",
                a.2
            );
        }
    }
    // The runners' forms.
    let pytest = shard(&[
        "--total", "2", "--index", "0", "--format", "pytest", "--db", &db,
    ])
    .1;
    assert!(
        pytest
            .lines()
            .all(|l| l.starts_with("tests/module_") && l.contains(".py::Test")),
        "{pytest}"
    );
    let nextest = shard(&[
        "--total", "2", "--index", "0", "--format", "nextest", "--db", &db,
    ])
    .1;
    assert!(nextest.starts_with("test(=test_case_"), "{nextest}");
    assert_eq!(
        nextest.trim().split(" | ").count(),
        pytest.lines().count(),
        "{nextest}"
    );
}

/// The same reports uploaded to `flakiness serve`: the plan from `--endpoint` is the plan from
/// the store.
#[test]
fn shard_from_a_server_is_the_plan_from_the_store() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (dirs, db) = analyzed(tmp.path());
    let (token, mut server, endpoint) = token_and_server(&tmp.path().join("server"));
    let mut args = vec!["upload", "--endpoint", &endpoint, "--access-token", &token];
    args.extend(dirs.iter().map(String::as_str));
    let up = flakiness(&args);
    let remote = ["--endpoint", endpoint.as_str(), "--project", "acme/web"];
    let served = plans(&remote, 3);
    let unknown = shard(&[
        "--total",
        "3",
        "--index",
        "0",
        "--endpoint",
        &endpoint,
        "--project",
        "acme/nope",
    ]);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        up.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert_eq!(served, plans(&["--db", &db], 3));
    assert_eq!(unknown.0, Some(7), "{}", unknown.2);
    assert!(unknown.2.contains("no project acme/nope"), "{}", unknown.2);
}

/// `--tests`: listed tests the history does not know are new, dealt round-robin; known tests
/// not listed are left out. Bad arguments: exit 2 with what is wrong; no history: exit 9.
#[test]
fn shard_new_tests_round_robin_and_bad_arguments() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (_, db) = analyzed(tmp.path());
    let known = plans(&["--db", &db], 1)[0]["tests"].clone();
    let known: Vec<&str> = known
        .as_array()
        .expect("tests")
        .iter()
        .map(|t| t.as_str().expect("id"))
        .collect();
    let mut listed: Vec<String> = known[..4].iter().map(|s| s.to_string()).collect();
    listed.extend((0..7).map(|i| format!("tests/new.py › test_new_{i}")));
    let file = tmp.path().join("tests.txt");
    std::fs::write(&file, listed.join("\n") + "\n").expect("write");
    let file = file.to_str().expect("utf-8");
    let plans = plans(&["--db", &db, "--tests", file], 3);
    let planned: BTreeSet<String> = plans
        .iter()
        .flat_map(|p| p["tests"].as_array().expect("tests").clone())
        .map(|t| t.as_str().expect("id").to_string())
        .collect();
    assert_eq!(planned, listed.iter().cloned().collect::<BTreeSet<_>>());
    let new: Vec<u64> = plans[0]["shards"]
        .as_array()
        .expect("shards")
        .iter()
        .map(|s| s["newTests"].as_u64().expect("n"))
        .collect();
    assert_eq!(new.iter().sum::<u64>(), 7);
    assert!(
        new.iter().max() <= Some(&(new.iter().min().expect("n") + 1)),
        "{new:?}"
    );

    let cases: HashMap<&str, (Vec<&str>, i32, &str)> = HashMap::from([
        (
            "zero",
            (vec!["--total", "0", "--index", "0"], 2, "at least 1"),
        ),
        (
            "past",
            (vec!["--total", "3", "--index", "3"], 2, "index is 0 to 2"),
        ),
        ("no index", (vec!["--total", "3"], 2, "--index")),
    ]);
    for (name, (args, code, says)) in cases {
        let mut args = args;
        args.extend(["--db", &db]);
        let (got, out, err) = shard(&args);
        assert_eq!(got, Some(code), "{name}: {err}");
        assert!(err.contains(says), "{name}: {err}");
        assert!(out.is_empty(), "{name}: {out}");
    }
    let missing = tmp.path().join("none.db");
    let (got, _, err) = shard(&[
        "--total",
        "2",
        "--index",
        "0",
        "--db",
        missing.to_str().expect("utf-8"),
    ]);
    assert_eq!(got, Some(9), "{err}");
    assert!(err.contains("no history store"), "{err}");
}
