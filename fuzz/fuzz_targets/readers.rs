//! Fuzz target: every reader of `flakiness_convert::FORMATS` (Go's test2json, GoogleTest JSON,
//! Catch2 XML, libtest and nextest JSON, cargo test text…) on arbitrary bytes. The first byte
//! picks the reader. No input may panic, and whatever a reader accepts must become a report our
//! validator accepts.
#![no_main]

use std::sync::OnceLock;

use flakiness_convert::{Limits, Metadata, FORMATS};
use flakiness_validate::{Options, Validator};
use libfuzzer_sys::fuzz_target;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| Validator::new(Options::default()).expect("compile"))
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, data)) = data.split_first() else {
        return;
    };
    let readers: Vec<_> = FORMATS.iter().filter_map(|f| f.reader).collect();
    let mut reader = readers[pick as usize % readers.len()]();
    let limits = Limits {
        max_output_bytes: 4096,
        ..Limits::default()
    };
    if reader
        .read(data, "fuzz.input", 1_700_000_000_000.0, &limits)
        .is_err()
    {
        return;
    }
    let meta = Metadata {
        commit_id: "0123456789abcdef0123456789abcdef01234567".into(),
        category: "fuzz".into(),
        env_name: "fuzz".into(),
        ..Metadata::default()
    };
    let report = reader.into_report(&meta, 1_700_000_000_000.0);
    let bytes = serde_json::to_vec(&report).expect("serialize");
    let o = validator().validate_bytes(&bytes);
    assert!(o.valid(), "{:?}", o.errors);
});
