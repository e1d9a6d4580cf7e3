//! Fuzz target: the report parser and validator on arbitrary bytes.
//!
//! Both engines must agree on the schema verdict (string lengths in UTF-16 code units, lone
//! surrogate escapes read as U+FFFD), no input may panic, and every report the model can read
//! must survive a write → read unchanged.
#![no_main]

use std::sync::OnceLock;

use flakiness_validate::{Engine, Options, Validator};
use libfuzzer_sys::fuzz_target;

fn validators() -> &'static (Validator, Validator) {
    static V: OnceLock<(Validator, Validator)> = OnceLock::new();
    V.get_or_init(|| {
        let stream = Validator::new(Options::default()).expect("compile");
        let schema = Validator::new(Options {
            engine: Engine::JsonSchema,
            ..Options::default()
        })
        .expect("compile");
        (stream, schema)
    })
}

fuzz_target!(|data: &[u8]| {
    let (stream, schema) = validators();
    let a = stream.validate_bytes(data);
    let b = schema.validate_bytes(data);
    assert_eq!(
        a.schema_valid, b.schema_valid,
        "{:?} vs {:?}",
        a.errors, b.errors
    );
    assert_eq!(a.valid(), b.valid());
    // Lone surrogate escapes: replaced in place (offsets kept), none left, each warned about.
    let fixed = flakiness_report::json_text::replace_lone_surrogates(data);
    assert_eq!(fixed.len(), data.len());
    assert_eq!(flakiness_report::json_text::lone_surrogates(&fixed).count(), 0);
    if let Ok(report) = flakiness_report::json_text::from_slice::<flakiness_report::Report>(data) {
        let written = serde_json::to_vec(&report).expect("serialize");
        let again: flakiness_report::Report = serde_json::from_slice(&written).expect("re-read");
        assert_eq!(again, report);
    }
});
