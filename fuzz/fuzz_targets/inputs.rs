//! Fuzz target: what the converter reads of an input before any format (format detection,
//! the UTF-16 check) and how an error is placed in it (line and column, from memory and
//! streamed in constant memory). No input may panic; on valid UTF-8 both placements agree.
#![no_main]

use flakiness_convert::{detect, is_utf16, ConvertError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = detect(data);
    let _ = is_utf16(data);
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    // The first byte chooses where the error is.
    let offset = u64::from(first) * rest.len() as u64 / 255;
    let error = || ConvertError {
        input: "fuzz".into(),
        line: 0,
        column: 0,
        offset,
        message: "m".into(),
    };
    let streamed = error().locate_in(rest);
    assert!(streamed.line >= 1 && streamed.column >= 1);
    if std::str::from_utf8(rest).is_ok() {
        let in_memory = error().locate(rest);
        assert_eq!(
            (in_memory.line, in_memory.column),
            (streamed.line, streamed.column)
        );
    }
});
