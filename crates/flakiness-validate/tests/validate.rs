//! The validator on every fixture of testdata/, both engines, and on reports the model builds.

use std::fs;
use std::path::{Path, PathBuf};

use flakiness_validate::{discover, rules, Engine, Options, Outcome, Validator};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn validator(engine: Engine, strict: bool) -> Validator {
    Validator::new(Options {
        engine,
        strict,
        ..Options::default()
    })
    .expect("the generated schema compiles for both engines")
}

fn check(folder: &str) -> Vec<(PathBuf, Outcome, Outcome)> {
    let stream = validator(Engine::Stream, false);
    let schema = validator(Engine::JsonSchema, false);
    let files = discover(&repo().join("testdata").join(folder)).expect("fixtures");
    assert!(!files.is_empty());
    files
        .into_iter()
        .map(|f| {
            let a = stream.validate_file(&f).expect("readable");
            let b = schema.validate_file(&f).expect("readable");
            (f, a, b)
        })
        .collect()
}

fn name(p: &Path) -> String {
    let s = p.to_string_lossy();
    s.trim_end_matches("/report.json")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_string()
}

fn rules_of(o: &Outcome) -> Vec<&'static str> {
    o.errors.iter().map(|p| p.rule).collect()
}

/// The differential test: both engines give the same verdict, the same schema verdict and the
/// same semantic problems on every fixture.
#[test]
fn engines_agree_on_every_fixture() {
    let mut n = 0;
    for folder in [
        "reports/valid",
        "reports/invalid-schema",
        "reports/invalid-semantic",
        "reports/warnings",
        "malformed",
    ] {
        for (f, a, b) in check(folder) {
            assert_eq!(a.valid(), b.valid(), "{}", f.display());
            assert_eq!(
                a.schema_valid,
                b.schema_valid,
                "{}: {:?} vs {:?}",
                f.display(),
                a.errors,
                b.errors
            );
            let semantic = |o: &Outcome| {
                o.errors
                    .iter()
                    .filter(|p| p.rule != rules::SCHEMA)
                    .map(|p| (p.path.clone(), p.line, p.rule))
                    .collect::<Vec<_>>()
            };
            assert_eq!(semantic(&a), semantic(&b), "{}", f.display());
            let schema_paths = |o: &Outcome| {
                o.errors
                    .iter()
                    .filter(|p| p.rule == rules::SCHEMA)
                    .map(|p| (p.path.clone(), p.line, p.column))
                    .collect::<Vec<_>>()
            };
            assert_eq!(schema_paths(&a), schema_paths(&b), "{}", f.display());
            n += 1;
        }
    }
    assert!(n >= 60, "{n} fixtures");
}

#[test]
fn valid_fixtures_are_valid_without_warnings() {
    for (f, a, _) in check("reports/valid") {
        assert!(
            a.valid() && a.schema_valid,
            "{}: {:?}",
            f.display(),
            a.errors
        );
        assert!(a.warnings.is_empty(), "{}: {:?}", f.display(), a.warnings);
    }
}

#[test]
fn schema_fixtures_fail_the_schema_layer() {
    for (f, a, _) in check("reports/invalid-schema") {
        assert!(!a.schema_valid, "{}", f.display());
        assert!(rules_of(&a).contains(&rules::SCHEMA), "{}", f.display());
        for p in &a.errors {
            assert!(p.line >= 1 && p.column >= 1, "{}: {p:?}", f.display());
        }
    }
}

#[test]
fn semantic_fixtures_pass_the_schema_and_break_their_rule() {
    let expected = [
        ("attachment-id-", rules::ATTACHMENT_ID_UNSAFE),
        ("attachment-missing", rules::ATTACHMENT_MISSING),
        ("commit-id-not-hex", rules::COMMIT_ID_HEX),
        ("related-commit-id-not-hex", rules::COMMIT_ID_HEX),
        ("cpu-count-fractional", rules::INTEGER),
        ("environment-idx-fractional", rules::INTEGER),
        ("environment-idx-out-of-range", rules::ENVIRONMENT_IDX_RANGE),
        ("commit-id-20-emoji", rules::COMMIT_ID_HEX),
        ("stdio-buffer-not-base64", rules::STDIO_BASE64),
        ("stdio-text-and-buffer", rules::STDIO_TEXT_AND_BUFFER),
    ];
    let all = check("reports/invalid-semantic");
    assert!(all.len() >= 10);
    for (f, a, _) in all {
        let n = name(&f);
        let rule = expected
            .iter()
            .find(|(prefix, _)| n.starts_with(prefix))
            .map(|(_, r)| *r)
            .unwrap_or_else(|| panic!("no expected rule for fixture {n}"));
        assert!(a.schema_valid, "{n}: {:?}", a.errors);
        assert_eq!(rules_of(&a), vec![rule], "{n}: {:?}", a.errors);
    }
}

#[test]
fn warning_fixtures_are_valid_unless_strict() {
    let strict = validator(Engine::Stream, true);
    for (f, a, _) in check("reports/warnings") {
        assert!(a.valid(), "{}: {:?}", f.display(), a.errors);
        assert!(!a.warnings.is_empty(), "{}", f.display());
        let s = strict.validate_file(&f).expect("readable");
        assert!(!s.valid(), "{}", f.display());
        assert_eq!(s.errors.len(), a.warnings.len());
    }
}

#[test]
fn malformed_input_gets_located_errors_and_no_panic() {
    let expected = [
        ("deep-nesting", "nesting deeper than 512 levels"),
        ("empty", "EOF while parsing a value"),
        ("invalid-utf8", "invalid UTF-8"),
        ("missing-attachments-dir", "there is no attachments/ folder"),
        ("nan-literal", "NaN and Infinity are not JSON numbers"),
        ("number-out-of-range", "number out of range"),
        ("root-number", "expected object, found number"),
        ("trailing-garbage", "trailing characters"),
        ("truncated", "EOF while parsing"),
        ("utf8-bom", "byte order mark"),
    ];
    let all = check("malformed");
    assert_eq!(all.len(), expected.len());
    for (f, a, _) in all {
        let n = name(&f);
        let (_, want) = expected
            .iter()
            .find(|(k, _)| n.trim_end_matches(".json") == *k)
            .unwrap_or_else(|| panic!("unexpected fixture {n}"));
        assert!(!a.valid(), "{n}");
        assert!(
            a.errors.iter().any(|p| p.message.contains(want)),
            "{n}: {:?}",
            a.errors
        );
        assert!(a.errors.iter().all(|p| p.line >= 1 && p.column >= 1), "{n}");
    }
}

#[test]
fn positions_point_at_the_value() {
    let v = validator(Engine::Stream, false);
    let text = "{\n  \"category\": \"junit\",\n  \"commitId\": \"0123456789abcdef0123456789abcdef01234567\",\n  \"environments\": [{\"name\": \"ci\"}],\n  \"startTimestamp\": 0,\n  \"duration\": 1,\n  \"tests\": [\n    {\"title\": \"é\", \"attempts\": [{\"status\": \"ok\"}]}\n  ]\n}\n";
    let o = v.validate_bytes(text.as_bytes());
    assert_eq!(o.errors.len(), 1, "{:?}", o.errors);
    let p = &o.errors[0];
    assert_eq!(p.path, "tests[0].attempts[0].status");
    // Columns count characters: the `é` before it is two bytes but one column.
    assert_eq!((p.line, p.column), (8, 44));
    assert_eq!(
        &text
            .lines()
            .nth(7)
            .expect("line")
            .chars()
            .skip(43)
            .collect::<String>()[..4],
        "\"ok\""
    );
}

#[test]
fn problems_are_bounded_and_counted() {
    let v = Validator::new(Options {
        max_problems: 5,
        ..Options::default()
    })
    .expect("compile");
    let tests: Vec<String> = (0..40)
        .map(|i| format!("{{\"title\": {i}, \"attempts\": []}}"))
        .collect();
    let text = format!(
        "{{\"category\":\"c\",\"commitId\":\"{}\",\"environments\":[{{\"name\":\"e\"}}],\"startTimestamp\":0,\"duration\":0,\"tests\":[{}]}}",
        "a".repeat(40),
        tests.join(",")
    );
    let o = v.validate_bytes(text.as_bytes());
    assert_eq!(o.errors.len(), 5);
    assert_eq!(o.errors_omitted, 35);
    assert!(!o.schema_valid);
}

#[test]
fn environment_indexes_before_environments_are_checked_at_the_end() {
    let v = validator(Engine::Stream, false);
    let text = format!(
        "{{\"tests\":[{{\"title\":\"t\",\"attempts\":[{{\"environmentIdx\":1}},{{\"environmentIdx\":0}}]}}],\"category\":\"c\",\"commitId\":\"{}\",\"environments\":[{{\"name\":\"e\"}}],\"startTimestamp\":0,\"duration\":0}}",
        "a".repeat(40)
    );
    let o = v.validate_bytes(text.as_bytes());
    assert_eq!(rules_of(&o), vec![rules::ENVIRONMENT_IDX_RANGE]);
    assert_eq!(o.errors[0].path, "tests[0].attempts[0].environmentIdx");
}

/// Duplicate tests: same file (the test's own, else its file suite's), same suite titles (file
/// suites aside) and same title, with attempts in a shared environment; any other difference
/// makes another test.
#[test]
fn duplicate_tests_need_the_same_identity_and_a_shared_environment() {
    let v = validator(Engine::Stream, false);
    let test = |title: &str, envs: &[u32], file: Option<&str>| {
        let attempts: Vec<String> = envs
            .iter()
            .map(|e| format!("{{\"environmentIdx\":{e}}}"))
            .collect();
        let location = file.map_or(String::new(), |f| {
            format!(",\"location\":{{\"file\":\"{f}\",\"line\":1,\"column\":1}}")
        });
        format!(
            "{{\"title\":\"{title}\",\"attempts\":[{}]{location}}}",
            attempts.join(",")
        )
    };
    let report = |suites: String, tests: String| {
        format!(
            "{{\"category\":\"c\",\"commitId\":\"{}\",\"environments\":[{{\"name\":\"a\"}},{{\"name\":\"b\"}},{{\"name\":\"c\"}}],\"startTimestamp\":0,\"duration\":0,\"suites\":[{suites}],\"tests\":[{tests}]}}",
            "a".repeat(40)
        )
    };
    let suite = |kind: &str, title: &str, tests: &[String], children: &[String]| {
        format!(
            "{{\"type\":\"{kind}\",\"title\":\"{title}\",\"tests\":[{}],\"suites\":[{}]}}",
            tests.join(","),
            children.join(",")
        )
    };
    let warnings = |text: String| -> Vec<(String, String)> {
        let o = v.validate_bytes(text.as_bytes());
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        o.warnings
            .iter()
            .map(|w| (w.path.clone(), w.message.clone()))
            .collect()
    };

    // Root tests: the second shares environment 1 with the first, the third environment 2
    // with the second.
    let w = warnings(report(
        String::new(),
        [
            test("t", &[0, 1], None),
            test("t", &[2, 1], None),
            test("t", &[2], None),
            test("u", &[0], None),
            test("t", &[0], Some("other.rs")),
        ]
        .join(","),
    ));
    assert_eq!(
        w,
        [
            (
                "tests[1]".to_string(),
                "duplicate test: same file, suite path and title as tests[0] in environment 1"
                    .to_string()
            ),
            (
                "tests[2]".to_string(),
                "duplicate test: same file, suite path and title as tests[1] in environment 2"
                    .to_string()
            ),
        ]
    );

    // A file suite gives its title as the file; a test's own file wins; suite titles count.
    let inner = suite("suite", "S", &[test("t", &[0], None)], &[]);
    let w = warnings(report(
        [
            suite("file", "a.ts", &[], std::slice::from_ref(&inner)),
            suite("file", "b.ts", &[], std::slice::from_ref(&inner)),
            suite("suite", "S", &[test("t", &[0], Some("a.ts"))], &[]),
            suite(
                "file",
                "a.ts",
                &[],
                &[suite("suite", "T", &[test("t", &[0], None)], &[])],
            ),
        ]
        .join(","),
        String::new(),
    ));
    assert_eq!(
        w,
        [(
            "suites[2].tests[0]".to_string(),
            "duplicate test: same file, suite path and title as suites[0].suites[0].tests[0] in environment 0"
                .to_string()
        )]
    );
}

#[test]
fn duplicate_keys_are_json_errors_in_both_engines() {
    let text = format!(
        "{{\"category\":\"c\",\"commitId\":\"{}\",\"environments\":[{{\"name\":\"e\",\"metadata\":{{\"a b\":[1]}}}}],\"startTimestamp\":0,\"duration\":0,\"duration\":1}}",
        "a".repeat(40)
    );
    for engine in [Engine::Stream, Engine::JsonSchema] {
        let o = validator(engine, false).validate_bytes(text.as_bytes());
        assert_eq!(
            rules_of(&o),
            vec![rules::JSON],
            "{engine:?}: {:?}",
            o.errors
        );
        assert!(o.errors[0].message.contains("duplicate key `duration`"));
        assert!(!o.schema_valid);
        // Metadata keys that are not identifiers are quoted in paths.
        assert_eq!(o.warnings[0].path, "environments[0].metadata[\"a b\"]");
    }
}

/// Large files are mapped and their UTF-8 checked beside the walk: the verdicts must not change.
#[test]
fn large_files_are_checked_like_small_ones() {
    let tmp = tempfile::tempdir().expect("tmp");
    let head = format!(
        "{{\"category\":\"c\",\"commitId\":\"{}\",\"environments\":[{{\"name\":\"e\"}}],\"startTimestamp\":0,\"duration\":0,\n\"title\":\"",
        "a".repeat(40)
    );
    let filler = "x".repeat(17 << 20);
    let good = format!("{head}{filler}\",\n\"duration\":-1}}").replace(",\"duration\":0,", ",");
    let path = tmp.path().join("big.json");
    fs::write(&path, &good).expect("write");
    let v = validator(Engine::Stream, false);
    let o = v.validate_file(&path).expect("read");
    assert_eq!(rules_of(&o), vec![rules::SCHEMA], "{:?}", o.errors);
    assert_eq!(
        (
            o.errors[0].path.as_str(),
            o.errors[0].line,
            o.errors[0].column
        ),
        ("duration", 3, 12)
    );

    let mut bad = good.into_bytes();
    let at = head.len() + 1000;
    bad[at] = 0xFF;
    fs::write(&path, &bad).expect("write");
    let o = v.validate_file(&path).expect("read");
    assert_eq!(rules_of(&o), vec![rules::JSON], "{:?}", o.errors);
    assert_eq!(o.errors[0].message, "invalid UTF-8");
    let line_start = bad[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("newline")
        + 1;
    assert_eq!(
        (o.errors[0].line, o.errors[0].column),
        (2, at - line_start + 1)
    );
}

/// A report whose `field` is set by `set`, as JSON text.
fn report_with(set: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut v = serde_json::json!({
        "category": "pytest",
        "commitId": "5c4821749cf6a260dc8210598dd97db4e58d1a1a",
        "relatedCommitIds": ["5c4821749cf6a260dc8210598dd97db4e58d1a1a"],
        "environments": [{"name": "linux"}],
        "tests": [{"title": "t", "attempts": [{"attachments": [
            {"name": "log", "contentType": "text/plain", "id": "log.txt"}]}]}],
        "startTimestamp": 0,
        "duration": 0
    });
    set(&mut v);
    serde_json::to_vec(&v).expect("serialises")
}

/// Every length limit of the official schema counts UTF-16 code units (JavaScript's `length`):
/// a character outside the BMP counts twice. At the limit passes, one code unit over fails,
/// in both engines, and the error names the field.
#[test]
fn string_limits_count_utf16_code_units() {
    const EMOJI: &str = "\u{1F600}";
    type Setter = fn(&mut serde_json::Value, String);
    let limits: [(&str, usize, usize, Setter); 5] = [
        ("category", 1, 100, |v, s| v["category"] = s.into()),
        ("environments[0].name", 1, 512, |v, s| {
            v["environments"][0]["name"] = s.into()
        }),
        ("tests[0].attempts[0].attachments[0].id", 1, 1024, |v, s| {
            v["tests"][0]["attempts"][0]["attachments"][0]["id"] = s.into()
        }),
        ("commitId", 40, 40, |v, s| v["commitId"] = s.into()),
        ("relatedCommitIds[0]", 40, 40, |v, s| {
            v["relatedCommitIds"][0] = s.into()
        }),
    ];
    for engine in [Engine::Stream, Engine::JsonSchema] {
        let v = validator(engine, false);
        for (path, min, max, set) in limits {
            // Exactly `max` code units in max/2 characters: accepted by the schema.
            let at = v.validate_bytes(&report_with(|r| set(r, EMOJI.repeat(max / 2))));
            assert!(
                at.schema_valid,
                "{engine:?} {path} at the limit: {:?}",
                at.errors
            );
            // One code unit over, fewer characters than the limit: refused.
            for over in [EMOJI.repeat(max / 2 + 1), "x".repeat(max - 1) + EMOJI] {
                let o = v.validate_bytes(&report_with(|r| set(r, over.clone())));
                assert!(
                    !o.schema_valid,
                    "{engine:?} {path}: {} chars accepted",
                    over.chars().count()
                );
                let p = o
                    .errors
                    .iter()
                    .find(|p| p.rule == rules::SCHEMA)
                    .expect("schema error");
                assert_eq!(p.path, path, "{engine:?}");
                assert!(
                    p.message.contains("UTF-16"),
                    "{engine:?} {path}: {}",
                    p.message
                );
            }
            // A minimum is counted the same way: one astral character is two code units.
            if min == 1 {
                let o = v.validate_bytes(&report_with(|r| set(r, EMOJI.into())));
                assert!(o.schema_valid, "{engine:?} {path}: {:?}", o.errors);
            }
        }
    }
}

/// `"\ud800"` is valid JSON for JSON.parse: accepted, read as U+FFFD, named in a warning that
/// points at the escape (its path and line:column), in both engines; the model reads it too.
#[test]
fn lone_surrogates_are_accepted_with_a_warning() {
    let text = "{\"category\":\"c\",\"commitId\":\"5c4821749cf6a260dc8210598dd97db4e58d1a1a\",\n\
        \"environments\":[{\"name\":\"l\",\"metadata\":{\"k\\udc00\":\"v\"}}],\n\
        \"tests\":[{\"title\":\"a\\ud800\\ud83d\\ude00\",\"attempts\":[{}]}],\"startTimestamp\":0,\"duration\":0}";
    for engine in [Engine::Stream, Engine::JsonSchema] {
        for strict in [false, true] {
            let o = validator(engine, strict).validate_bytes(text.as_bytes());
            assert!(o.schema_valid, "{engine:?}: {:?}", o.errors);
            let problems = if strict { &o.errors } else { &o.warnings };
            let got: Vec<_> = problems
                .iter()
                .map(|p| (p.rule, p.path.as_str(), p.line, p.column))
                .collect();
            assert_eq!(
                got,
                [
                    (
                        rules::LONE_SURROGATE,
                        "environments[0].metadata[\"k\u{fffd}\"]",
                        2,
                        43
                    ),
                    (rules::LONE_SURROGATE, "tests[0].title", 3, 21),
                ],
                "{engine:?} strict={strict}"
            );
            assert!(
                problems[1].message.contains("\\ud800"),
                "{}",
                problems[1].message
            );
            assert_eq!(o.valid(), !strict);
        }
    }
    let report: flakiness_report::Report =
        flakiness_report::json_text::from_slice(text.as_bytes()).expect("the model reads it");
    assert_eq!(
        report.tests.as_deref().unwrap_or_default()[0].title,
        "a\u{fffd}\u{1f600}"
    );
}

/// `environments: []` is valid since format 0.33: a warning (attempts then name environment 0
/// of none), an error only for an index other than 0.
#[test]
fn an_empty_environment_list_is_a_warning() {
    let v = validator(Engine::Stream, false);
    let o = v.validate_bytes(&report_with(|r| r["environments"] = serde_json::json!([])));
    assert!(o.valid(), "{:?}", o.errors);
    assert_eq!(
        o.warnings.iter().map(|p| p.rule).collect::<Vec<_>>(),
        [rules::ENVIRONMENTS_EMPTY]
    );
    let o = v.validate_bytes(&report_with(|r| {
        r["environments"] = serde_json::json!([]);
        r["tests"][0]["attempts"][0]["environmentIdx"] = 1.into();
    }));
    assert_eq!(rules_of(&o), [rules::ENVIRONMENT_IDX_RANGE]);
    assert_eq!(o.errors[0].path, "tests[0].attempts[0].environmentIdx");
}
