//! Fuzz target: the pytest readers (reportlog JSON lines and json-report) on arbitrary bytes.
//! No input may panic, and whatever they accept must become a report our validator accepts.
#![no_main]

use std::sync::OnceLock;

use flakiness_convert::{Limits, Metadata, PytestCollector};
use flakiness_validate::{Options, Validator};
use libfuzzer_sys::fuzz_target;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| Validator::new(Options::default()).expect("compile"))
}

fn check(c: PytestCollector) {
    let meta = Metadata {
        commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
        category: "pytest".into(),
        env_name: "fuzz".into(),
        ..Metadata::default()
    };
    let report = c.into_report(&meta, 1_700_000_000_000.0);
    let bytes = serde_json::to_vec(&report).expect("serialize");
    let o = validator().validate_bytes(&bytes);
    assert!(o.valid(), "{:?}", o.errors);
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_output_bytes: 4096,
        ..Limits::default()
    };
    let mut c = PytestCollector::default();
    if c.read_reportlog(data, "fuzz.jsonl", 1_700_000_000_000.0, &limits)
        .is_ok()
    {
        check(c);
    }
    let mut c = PytestCollector::default();
    if c.read_json_report(data, "fuzz.json", 1_700_000_000_000.0, &limits)
        .is_ok()
    {
        check(c);
    }
});
