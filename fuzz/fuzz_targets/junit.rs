//! Fuzz target: the JUnit XML reader on arbitrary bytes. No input may panic, and whatever it
//! accepts must become a report our validator accepts.
#![no_main]

use std::sync::OnceLock;

use flakiness_convert::{junit_report, JunitCollector, Limits, Metadata};
use flakiness_validate::{Options, Validator};
use libfuzzer_sys::fuzz_target;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| Validator::new(Options::default()).expect("compile"))
}

fuzz_target!(|data: &[u8]| {
    let mut c = JunitCollector::default();
    let limits = Limits {
        max_output_bytes: 4096,
        ..Limits::default()
    };
    if c.read(data, "fuzz.xml", 1_700_000_000_000.0, &limits)
        .is_err()
    {
        return;
    }
    let meta = Metadata {
        commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
        category: "junit".into(),
        env_name: "fuzz".into(),
        ..Metadata::default()
    };
    let report = junit_report(c, &meta, 1_700_000_000_000.0);
    let bytes = serde_json::to_vec(&report).expect("serialize");
    let o = validator().validate_bytes(&bytes);
    assert!(o.valid(), "{:?}", o.errors);
});
