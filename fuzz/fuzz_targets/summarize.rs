//! Fuzz target: reading a report one test at a time (`flakiness_analyze::summarize_json`, the
//! server's finish and the analyzer) on arbitrary bytes. No input may panic, and whatever the
//! model reads whole must summarise to the same record read one test at a time.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let streamed = flakiness_analyze::summarize_json(data, "fuzz", "h");
    if let Ok(report) = serde_json::from_slice::<flakiness_report::Report>(data) {
        let whole = flakiness_analyze::summarize(&report, "fuzz", "h");
        match streamed {
            Ok(record) => assert_eq!(record, whole),
            Err(e) => panic!("the model read it, the stream did not: {e}"),
        }
    }
});
