//! Properties: every report the model can build round-trips and passes both engines; no input,
//! however broken, makes the validator panic.

use flakiness_report::*;
use flakiness_validate::{Engine, Options, Validator};
use proptest::prelude::*;
use serde_json::Value;

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 _./:-]{0,24}",
        any::<String>().prop_map(|s| s.chars().take(24).collect()),
    ]
}

fn nonempty() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_./-]{1,24}"
}

fn millis() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u64..10_000_000_000_000).prop_map(|n| n as f64),
        (0.0f64..1e7),
    ]
}

fn status() -> impl Strategy<Value = TestStatus> {
    prop_oneof![
        Just(TestStatus::Passed),
        Just(TestStatus::Failed),
        Just(TestStatus::TimedOut),
        Just(TestStatus::Skipped),
        Just(TestStatus::Interrupted),
    ]
}

fn location() -> impl Strategy<Value = Location> {
    (nonempty(), 0i64..100_000, 0i64..500).prop_map(|(f, l, c)| Location::new(f, l, c))
}

fn error() -> impl Strategy<Value = ReportError> {
    (
        proptest::option::of(location()),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(text()),
    )
        .prop_map(|(location, message, stack, value)| ReportError {
            location,
            message,
            stack,
            value,
            ..Default::default()
        })
}

fn attachment() -> impl Strategy<Value = Attachment> {
    (text(), proptest::collection::vec(any::<u8>(), 0..16)).prop_map(|(name, content)| Attachment {
        name,
        content_type: "application/octet-stream".into(),
        id: attachment_id_for(&content),
        ..Default::default()
    })
}

fn stdio() -> impl Strategy<Value = TimedStdioEntry> {
    use base64::Engine as _;
    (
        proptest::option::of(prop_oneof![Just(Stream::Stdout), Just(Stream::Stderr)]),
        proptest::option::of(millis()),
        prop_oneof![
            text().prop_map(|t| (Some(t), None)),
            proptest::collection::vec(any::<u8>(), 0..32).prop_map(|b| (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(b))
            )),
        ],
    )
        .prop_map(|(stream, dts, (text, buffer))| TimedStdioEntry {
            stream,
            dts: dts.map(DurationMs),
            text,
            buffer,
            ..Default::default()
        })
}

fn step() -> impl Strategy<Value = TestStep> {
    let leaf = (
        text(),
        proptest::option::of(millis()),
        proptest::option::of(error()),
    )
        .prop_map(|(title, duration, error)| TestStep {
            title,
            duration: duration.map(DurationMs),
            error,
            ..Default::default()
        });
    leaf.prop_recursive(3, 12, 3, |inner| {
        (
            text(),
            proptest::collection::vec(inner, 0..3),
            proptest::option::of(proptest::collection::vec(attachment(), 0..2)),
        )
            .prop_map(|(title, steps, attachments)| TestStep {
                title,
                steps: Some(steps),
                attachments,
                ..Default::default()
            })
    })
}

fn attempt(envs: u32) -> impl Strategy<Value = RunAttempt> {
    (
        proptest::option::of(0..envs),
        proptest::option::of(status()),
        proptest::option::of(status()),
        proptest::option::of(millis()),
        proptest::option::of(millis()),
        proptest::option::of(proptest::collection::vec(error(), 0..2)),
        proptest::option::of(proptest::collection::vec(stdio(), 0..3)),
        proptest::option::of(proptest::collection::vec(step(), 0..2)),
        proptest::option::of(proptest::collection::vec(attachment(), 0..2)),
        proptest::option::of((nonempty(), proptest::option::of(text()))),
    )
        .prop_map(
            |(
                env,
                status,
                expected,
                start,
                duration,
                errors,
                stdio,
                steps,
                attachments,
                annotation,
            )| RunAttempt {
                environment_idx: env,
                status,
                expected_status: expected,
                start_timestamp: start.map(UnixTimestampMs),
                duration: duration.map(DurationMs),
                errors,
                stdio,
                steps,
                attachments,
                annotations: annotation.map(|(kind, description)| {
                    vec![Annotation {
                        kind,
                        description,
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            },
        )
}

fn test(envs: u32) -> impl Strategy<Value = Test> {
    (
        text(),
        proptest::option::of(location()),
        proptest::option::of(proptest::collection::vec(text(), 0..3)),
        proptest::collection::vec(attempt(envs), 0..4),
    )
        .prop_map(|(title, location, tags, attempts)| Test {
            title,
            location,
            tags,
            attempts,
            ..Default::default()
        })
}

fn suite(envs: u32) -> impl Strategy<Value = Suite> {
    let kind = prop_oneof![
        Just(SuiteType::File),
        Just(SuiteType::Suite),
        Just(SuiteType::AnonymousSuite)
    ];
    let leaf = (
        kind.clone(),
        text(),
        proptest::collection::vec(test(envs), 0..3),
    )
        .prop_map(|(kind, title, tests)| Suite {
            kind,
            title,
            tests: Some(tests),
            ..Default::default()
        });
    leaf.prop_recursive(3, 16, 3, move |inner| {
        (
            kind.clone(),
            text(),
            proptest::collection::vec(inner, 0..3),
            proptest::option::of(location()),
        )
            .prop_map(|(kind, title, suites, location)| Suite {
                kind,
                title,
                suites: Some(suites),
                location,
                ..Default::default()
            })
    })
}

fn report() -> impl Strategy<Value = Report> {
    (1u32..4).prop_flat_map(|envs| {
        (
            nonempty(),
            "[0-9a-f]{40}",
            proptest::collection::vec(
                (
                    nonempty(),
                    proptest::option::of((text(), any::<bool>(), any::<i32>())),
                ),
                envs as usize,
            ),
            proptest::collection::vec(suite(envs), 0..3),
            proptest::collection::vec(test(envs), 0..3),
            millis(),
            millis(),
            proptest::option::of(proptest::collection::vec((millis(), 0.0f64..=100.0), 0..4)),
            proptest::option::of(0u32..256),
            proptest::option::of(("[a-z]{1,8}", text())),
        )
            .prop_map(
                |(category, commit, envs, suites, tests, start, duration, cpu, cpus, extra)| {
                    let mut r = Report::new(category, commit);
                    r.environments = envs
                        .into_iter()
                        .map(|(name, meta)| {
                            let mut e = Environment::new(name);
                            e.metadata = meta.map(
                                |(s, b, n)| serde_json::json!({"branch": s, "ci": b, "shard": n}),
                            );
                            e
                        })
                        .collect();
                    r.suites = Some(suites);
                    r.tests = Some(tests);
                    r.start_timestamp = UnixTimestampMs(start);
                    r.duration = DurationMs(duration);
                    r.cpu_avg = cpu.map(|v| {
                        v.into_iter()
                            .map(|(t, p)| TelemetrySample(DurationMs(t), p))
                            .collect()
                    });
                    r.cpu_count = cpus;
                    if let Some((k, v)) = extra {
                        r.extra.insert(format!("x-{k}"), Value::String(v));
                    }
                    r
                },
            )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn model_built_reports_round_trip_and_validate(r in report()) {
        let bytes = serde_json::to_vec_pretty(&r).expect("serialize");
        let back: Report = serde_json::from_slice(&bytes).expect("read back");
        prop_assert_eq!(&back, &r);
        for engine in [Engine::Stream, Engine::JsonSchema] {
            let v = Validator::new(Options { engine, ..Options::default() }).expect("compile");
            let o = v.validate_bytes(&bytes);
            prop_assert!(o.valid() && o.schema_valid, "{:?}: {:?}", engine, o.errors);
        }
    }

    #[test]
    fn broken_reports_never_panic_and_engines_agree(r in report(), cut in any::<prop::sample::Index>(), byte in any::<u8>(), mode in 0u8..3) {
        let mut bytes = serde_json::to_vec(&r).expect("serialize");
        let i = cut.index(bytes.len());
        match mode {
            0 => bytes.truncate(i),
            1 => bytes[i] = byte,
            _ => bytes.insert(i, byte),
        }
        let stream = Validator::new(Options::default()).expect("compile");
        let schema = Validator::new(Options { engine: Engine::JsonSchema, ..Options::default() }).expect("compile");
        let a = stream.validate_bytes(&bytes);
        let b = schema.validate_bytes(&bytes);
        prop_assert_eq!(a.schema_valid, b.schema_valid, "{:?} vs {:?}", a.errors, b.errors);
        prop_assert_eq!(a.valid(), b.valid());
        for p in a.errors.iter().chain(&a.warnings) {
            prop_assert!(p.line >= 1 && p.column >= 1);
        }
    }
}
