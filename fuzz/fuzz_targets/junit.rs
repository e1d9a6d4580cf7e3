//! Fuzz target: the JUnit XML reader on arbitrary bytes. No input may panic, whatever it
//! accepts must become a report our validator accepts, and reading it streaming (root suites
//! handed out as they end) must give the same report unless the reader asks to read again.
#![no_main]

use std::sync::OnceLock;

use std::ops::ControlFlow;

use flakiness_convert::{junit_report, JunitCollector, Limits, Metadata, RootSink};
use flakiness_report::Suite;
use flakiness_validate::{Options, Validator};
use libfuzzer_sys::fuzz_target;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| Validator::new(Options::default()).expect("compile"))
}

struct Collect(Vec<Suite>);

impl RootSink for Collect {
    fn root_suite(&mut self, suite: Suite) -> ControlFlow<()> {
        self.0.push(suite);
        ControlFlow::Continue(())
    }
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

    let mut streaming = JunitCollector::default();
    let mut out = Collect(Vec::new());
    streaming
        .read_streaming(data, "fuzz.xml", 1_700_000_000_000.0, &limits, &mut out)
        .expect("the streaming read accepts what the whole read accepts");
    if !streaming.needs_rereading() {
        let mut streamed = junit_report(streaming, &meta, 1_700_000_000_000.0);
        let mut suites = out.0;
        suites.extend(streamed.suites.take().into_iter().flatten());
        streamed.suites = (!suites.is_empty()).then_some(suites);
        assert_eq!(streamed, report, "streaming changed the report");
    }

    let bytes = serde_json::to_vec(&report).expect("serialize");
    let o = validator().validate_bytes(&bytes);
    assert!(o.valid(), "{:?}", o.errors);
});
