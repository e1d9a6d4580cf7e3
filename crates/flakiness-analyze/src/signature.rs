//! Error signatures: an error's first line with what changes from run to run (numbers, hex
//! ids, UUIDs, timestamps, IP addresses, paths) replaced by placeholders, so that the same failure reads the
//! same every time.

use std::sync::LazyLock;

use regex::Regex;

/// Longest signature kept (characters).
pub const MAX_SIGNATURE: usize = 200;

/// The replacements, in order (earlier ones protect their text from later ones).
static RULES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
            "<uuid>",
        ),
        (
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?",
            "<time>",
        ),
        (r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b", "<time>"),
        (r"(?:\b[A-Za-z]:)?(?:[\\/][\w.@+-]+){2,}[\\/]?", "<path>"),
        (r"\b\d{1,3}(?:\.\d{1,3}){3}\b", "<ip>"),
        (r"\b0x[0-9a-fA-F]+\b", "<hex>"),
        (r"\b(?:[0-9a-f]*\d[0-9a-f]*[a-f][0-9a-f]*|[0-9a-f]*[a-f][0-9a-f]*\d[0-9a-f]*)\b", "<hex>"),
        (r"\d+(?:\.\d+)?", "<n>"),
        (r"\s+", " "),
    ]
    .into_iter()
    .map(|(re, to)| (Regex::new(re).expect("the signature patterns compile"), to))
    .collect()
});

/// The signature of an error: its message's first non-blank line (else its stack's),
/// normalised, at most [`MAX_SIGNATURE`] characters; `(no message)` when there is neither.
pub fn signature(message: Option<&str>, stack: Option<&str>) -> String {
    let line = [message, stack]
        .into_iter()
        .flatten()
        .flat_map(str::lines)
        .map(str::trim)
        .find(|l| !l.is_empty());
    let Some(line) = line else {
        return "(no message)".to_string();
    };
    // Bounded before the expressions run.
    let line: String = line.chars().take(4 * MAX_SIGNATURE).collect();
    let mut s = line;
    for (re, to) in RULES.iter() {
        if let std::borrow::Cow::Owned(o) = re.replace_all(&s, *to) {
            s = o;
        }
    }
    s.trim().chars().take(MAX_SIGNATURE).collect()
}

#[cfg(test)]
mod tests {
    use super::signature;

    #[test]
    fn what_changes_between_runs_is_replaced() {
        let cases = [
            (
                "expected 3 but was 4 at 2024-05-02T10:00:00.123Z",
                "expected <n> but was <n> at <time>",
            ),
            (
                "Connection refused: /tmp/pytest-of-ci/pytest-17/db.sock (id 6f1c2a9e-0b3d-4c5e-9f00-1a2b3c4d5e6f)",
                "Connection refused: <path> (id <uuid>)",
            ),
            (
                "panic at 0x7ffd3a2b, object deadbeef01 freed",
                "panic at <hex>, object <hex> freed",
            ),
            ("Timeout   after\t30000 ms", "Timeout after <n> ms"),
            ("connect ECONNREFUSED 10.0.0.7:5432", "connect ECONNREFUSED <ip>:<n>"),
            (
                r"cannot open C:\Users\ci\AppData\x.tmp at 10:01:02",
                "cannot open <path> at <time>",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(signature(Some(input), None), want, "{input}");
        }
        // Words made of hex letters alone stay words.
        assert_eq!(
            signature(Some("added a bad face"), None),
            "added a bad face"
        );
    }

    #[test]
    fn the_first_line_speaks_else_the_stack_else_nothing() {
        assert_eq!(
            signature(Some("\n  AssertionError: x\n  more"), Some("at y")),
            "AssertionError: x"
        );
        assert_eq!(
            signature(None, Some("\nat foo (a.js:1:2)")),
            "at foo (a.js:<n>:<n>)"
        );
        assert_eq!(signature(Some("  "), None), "(no message)");
        assert_eq!(signature(Some(&"x".repeat(5000)), None).len(), 200);
    }
}
