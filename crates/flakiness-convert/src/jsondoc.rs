//! Helpers of the readers of single-document JSON reports (RSpec, Mocha, mochawesome).

use serde::de::DeserializeOwned;

use crate::{push_bounded, ConvertError, Limits};

pub(crate) use crate::tree::{Key, TestTree};

/// The one JSON document of an input, read as `T`.
///
/// Runners that write their report to standard output share it with the tests' own output
/// (`mocha --reporter json > out.json`, `rspec --format json > out.json` with `puts` in the
/// tests, SimpleCov's summary after RSpec's): the document is the object that starts a line,
/// text before it and after it is skipped. Every line that starts with `{` is tried, in order;
/// the first that reads as `T` is the document. When none does, the error is the one that got
/// furthest into the input (the document that is there, broken), said with `what` (`not an
/// RSpec JSON report`).
pub(crate) fn json_document<T: DeserializeOwned>(
    data: &[u8],
    input: &str,
    what: &str,
) -> Result<T, ConvertError> {
    let bom = if data.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut candidates = Vec::new();
    if let Some(first) = data[bom..].iter().position(|b| !b.is_ascii_whitespace()) {
        if data[bom + first] == b'{' {
            candidates.push(bom + first);
        }
    }
    let mut furthest: Option<(usize, String)> = None;
    let mut tried = 0usize;
    let mut next_line = 0usize;
    loop {
        // The candidates are found lazily: most inputs are the document alone.
        let at = if tried < candidates.len() {
            candidates[tried]
        } else {
            let mut found = None;
            while let Some(nl) = memchr::memchr(b'\n', &data[next_line..]) {
                let start = next_line + nl + 1;
                next_line = start;
                if data.get(start) == Some(&b'{') && !candidates.contains(&start) {
                    found = Some(start);
                    break;
                }
            }
            match found {
                Some(s) => {
                    candidates.push(s);
                    s
                }
                None => break,
            }
        };
        tried += 1;
        let slice = &data[at..];
        let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<T>();
        match stream.next() {
            Some(Ok(doc)) => return Ok(doc),
            Some(Err(e)) => {
                let offset = at + offset_of(slice, e.line(), e.column());
                if furthest.as_ref().is_none_or(|(o, _)| offset > *o) {
                    furthest = Some((offset, e.to_string()));
                }
            }
            None => {}
        }
    }
    Err(match furthest {
        Some((offset, e)) => {
            ConvertError::at(input, offset as u64, format!("{what} ({e})")).locate(data)
        }
        None => ConvertError::at_start(input, &format!("{what}: no JSON object found")),
    })
}

/// The byte offset of a 1-based line and column (as serde_json gives them).
fn offset_of(data: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match memchr::memchr(b'\n', &data[start..]) {
            Some(i) => start += i + 1,
            None => return data.len(),
        }
    }
    (start + column.saturating_sub(1)).min(data.len())
}

/// `text` cut to the output limit.
pub(crate) fn bounded(text: &str, limits: &Limits) -> String {
    let mut s = String::new();
    push_bounded(&mut s, text, limits.max_output_bytes);
    s
}

/// The offset of the first occurrence of `needle` (as a JSON string) in `data`, 0 when absent:
/// where an error about a value read from the document is said.
pub(crate) fn offset_of_string(data: &[u8], needle: &str) -> u64 {
    let quoted = serde_json::to_string(needle).unwrap_or_default();
    memchr::memmem::find(data, quoted.as_bytes()).unwrap_or(0) as u64
}

/// A duration in seconds, as milliseconds, when it is one.
pub(crate) fn seconds_ms(s: Option<f64>) -> Option<f64> {
    s.filter(|s| s.is_finite() && *s >= 0.0).map(|s| s * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::json_document;

    #[derive(serde::Deserialize, Debug)]
    struct Doc {
        stats: u32,
    }

    #[test]
    fn the_document_is_found_among_other_output() {
        let d: Doc = json_document(b"{\"stats\": 1}", "x", "not it").expect("alone");
        assert_eq!(d.stats, 1);
        let text = b"hello\n{\"logged\": true}\n{\n  \"stats\": 2\n}\nCoverage: 90%\n";
        let d: Doc = json_document(text, "x", "not it").expect("among output");
        assert_eq!(d.stats, 2);
        let e = json_document::<Doc>(b"log\n{\"a\": 1}\n{\n  \"stats\": [\n", "x", "not it")
            .expect_err("broken");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.to_string().starts_with("x:4:"), "{e}");
        let e = json_document::<Doc>(b"plain text\n", "x", "not it").expect_err("none");
        assert!(e.to_string().contains("no JSON object"), "{e}");
    }
}
