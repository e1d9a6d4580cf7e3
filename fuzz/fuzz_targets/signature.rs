//! Fuzz target: the analyzer's reading of untrusted error texts: the signature (at most 200
//! characters, the same text gives the same signature) and the infrastructure cause. No input
//! may panic.
#![no_main]

use flakiness_analyze::{infra_class, says_something, signature, MAX_SIGNATURE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (message, stack) = match text.split_once('\u{0}') {
        Some((m, s)) => (Some(m), Some(s)),
        None => (Some(text.as_ref()), None),
    };
    let sig = signature(message, stack);
    assert!(sig.chars().count() <= MAX_SIGNATURE);
    assert_eq!(sig, signature(message, stack));
    let _ = infra_class(message, stack);
    let _ = says_something(message, stack);
});
