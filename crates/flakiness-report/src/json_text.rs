//! JSON text as the official tooling reads it.
//!
//! JavaScript strings are sequences of UTF-16 code units, and `JSON.parse` accepts an escape of a
//! lone surrogate (`"\ud800"`, a high surrogate not followed by a low one, or a low one alone),
//! which a Rust `String` cannot hold and `serde_json` refuses. Our readers accept such a report:
//! each lone surrogate escape is read as U+FFFD (the replacement character), the choice
//! `spec/format.md` documents, and `flakiness validate` names each one in a warning.
//!
//! The replacement is done on the text, before parsing: `\ud800` and `\ufffd` are both six bytes,
//! so every offset, line and column in the file stays where it was.
//!
//! ```
//! use flakiness_report::json_text;
//!
//! let json = br#"{"title": "a\ud800b \ud83d\ude00"}"#;
//! assert_eq!(json_text::lone_surrogates(json).collect::<Vec<_>>(), [12]);
//! let value: serde_json::Value = json_text::from_slice(json)?;
//! assert_eq!(value["title"], "a\u{fffd}b \u{1f600}");
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::borrow::Cow;

use serde::de::DeserializeOwned;

/// The escape written in place of a lone surrogate's: U+FFFD, the replacement character.
pub const REPLACEMENT_ESCAPE: &[u8; 6] = b"\\ufffd";

/// Value of the four hex digits at `at`, if there are four.
fn hex4(json: &[u8], at: usize) -> Option<u16> {
    let digits = json.get(at..at + 4)?;
    let mut value = 0u16;
    for &d in digits {
        let v = (d as char).to_digit(16)?;
        value = (value << 4) | v as u16;
    }
    Some(value)
}

/// Byte offsets of the escapes (`\uXXXX`, six bytes each) of lone surrogates, in file order.
///
/// Escapes are read as a JSON parser reads them: `\\ud800` is an escaped backslash followed by
/// the text `ud800`, not an escape. Bytes outside strings are not told apart from strings: a
/// backslash there is a syntax error anyway, which the parser reports.
pub fn lone_surrogates(json: &[u8]) -> LoneSurrogates<'_> {
    LoneSurrogates { json, at: 0 }
}

/// Iterator returned by [`lone_surrogates`].
#[derive(Debug, Clone)]
pub struct LoneSurrogates<'a> {
    json: &'a [u8],
    at: usize,
}

impl Iterator for LoneSurrogates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let json = self.json;
        loop {
            let backslash = self.at + memchr::memchr(b'\\', json.get(self.at..)?)?;
            if json.get(backslash + 1) != Some(&b'u') {
                // Another escape (or a backslash at the end): skip the escaped byte.
                self.at = backslash + 2;
                continue;
            }
            let Some(unit) = hex4(json, backslash + 2) else {
                self.at = backslash + 2;
                continue;
            };
            self.at = backslash + 6;
            match unit {
                0xD800..=0xDBFF => {
                    let low = (json.get(backslash + 6) == Some(&b'\\')
                        && json.get(backslash + 7) == Some(&b'u'))
                    .then(|| hex4(json, backslash + 8))
                    .flatten();
                    if matches!(low, Some(0xDC00..=0xDFFF)) {
                        self.at = backslash + 12;
                        continue;
                    }
                    return Some(backslash);
                }
                0xDC00..=0xDFFF => return Some(backslash),
                _ => continue,
            }
        }
    }
}

/// The text with every lone surrogate escape replaced by [`REPLACEMENT_ESCAPE`]; borrowed when
/// there is none (one scan of the text for backslashes).
pub fn replace_lone_surrogates(json: &[u8]) -> Cow<'_, [u8]> {
    let mut found = lone_surrogates(json).peekable();
    if found.peek().is_none() {
        return Cow::Borrowed(json);
    }
    let mut owned = json.to_vec();
    for at in found {
        owned[at..at + 6].copy_from_slice(REPLACEMENT_ESCAPE);
    }
    Cow::Owned(owned)
}

/// `serde_json::from_slice`, reading a lone surrogate escape as U+FFFD.
pub fn from_slice<T: DeserializeOwned>(json: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(&replace_lone_surrogates(json))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(json: &str) -> Vec<usize> {
        lone_surrogates(json.as_bytes()).collect()
    }

    #[test]
    fn finds_lone_high_and_low_surrogates_only() {
        assert_eq!(found(r#""\ud800""#), [1]);
        assert_eq!(found(r#""\uDC00""#), [1]);
        assert_eq!(found(r#""\ud83d\ude00""#), Vec::<usize>::new());
        // A high surrogate followed by another high one: the first is lone, the pair is whole.
        assert_eq!(found(r#""\ud800\ud83d\ude00""#), [1]);
        // A low surrogate after a complete pair.
        assert_eq!(found(r#""\ud83d\ude00\ude00""#), [13]);
        // High surrogate followed by a non-surrogate escape, or by text.
        assert_eq!(found(r#""\ud800\u0041x\ud800x""#), [1, 14]);
        // At the very end of the input.
        assert_eq!(found(r#""\ud800"#), [1]);
    }

    #[test]
    fn escaped_backslashes_are_not_escapes() {
        assert_eq!(found(r#""\\ud800""#), Vec::<usize>::new());
        assert_eq!(found(r#""\\\ud800""#), [3]);
        assert_eq!(found(r#""\"\ud800""#), [3]);
        // Incomplete escapes are left to the parser.
        assert_eq!(found(r#""\ud8"#), Vec::<usize>::new());
        assert_eq!(found(r#""\uzzzz\udc00""#), [7]);
        assert_eq!(found("\\"), Vec::<usize>::new());
    }

    #[test]
    fn replacement_keeps_offsets_and_parses() {
        let json = r#"{"a\udc00":["\ud800", "ok \ud83d\ude00"]}"#;
        assert!(serde_json::from_str::<serde_json::Value>(json).is_err());
        let fixed = replace_lone_surrogates(json.as_bytes());
        assert_eq!(fixed.len(), json.len());
        let value: serde_json::Value = from_slice(json.as_bytes()).expect("parses");
        assert_eq!(
            value,
            serde_json::json!({"a\u{fffd}": ["\u{fffd}", "ok \u{1f600}"]})
        );
        assert!(matches!(
            replace_lone_surrogates(br#"{"a":"\u00e9"}"#),
            Cow::Borrowed(_)
        ));
    }
}
