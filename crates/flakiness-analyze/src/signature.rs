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

/// Causes of failure that come from the machine or the network rather than the test: when many
/// tests of one run and environment fail with one of these, it is one incident, whatever the
/// rest of their messages says. `(name, pattern)`, matched without case.
const INFRA_CLASSES: &[(&str, &str)] = &[
    (
        "connection refused",
        r"connection refused|econnrefused|actively refused|connectexception|cannot connect to the docker daemon",
    ),
    (
        "connection reset",
        r"connection reset|econnreset|connection aborted|econnaborted",
    ),
    (
        "name resolution failed",
        r"enotfound|eai_again|name or service not known|temporary failure in name resolution|nodename nor servname|could not resolve host|unknownhostexception|no such host is known|getaddrinfo failed|name resolution|no address associated with hostname|could not translate host name",
    ),
    (
        "network unreachable",
        r"network is unreachable|enetunreach|no route to host|ehostunreach",
    ),
    (
        "runner lost",
        r"lost communication with the server|received a shutdown signal|runner has been terminated",
    ),
    (
        "no space left on device",
        r"no space left on device|enospc|disk quota exceeded",
    ),
    (
        "out of memory",
        r"cannot allocate memory|enomem|oomkilled|javascript heap out of memory|java\.lang\.outofmemoryerror",
    ),
    (
        "browser missing",
        r"executable doesn't exist|browsertype\.launch|failed to launch (?:the )?browser|chrome not reachable|session not created",
    ),
    (
        "connection timed out",
        r"etimedout|connection timed out|connect timeout|connecttimeout",
    ),
];

static INFRA: LazyLock<(regex::RegexSet, Regex)> = LazyLock::new(|| {
    let patterns: Vec<String> = INFRA_CLASSES
        .iter()
        .map(|(_, p)| format!("(?i:{p})"))
        .collect();
    let set = regex::RegexSet::new(&patterns).expect("the infrastructure patterns compile");
    let any = Regex::new(&patterns.join("|")).expect("the infrastructure patterns compile");
    (set, any)
});

/// Bytes of a message (and of a stack) searched for an infrastructure cause.
const INFRA_SCAN: usize = 2048;

/// The infrastructure cause an error names (`connection refused`, `name resolution failed`,
/// `no space left on device`…), looked for in the first 2 KiB of its message and of its
/// stack; the first of [`INFRA_CLASSES`] that matches.
pub fn infra_class(message: Option<&str>, stack: Option<&str>) -> Option<&'static str> {
    let (set, any) = &*INFRA;
    for text in [message, stack].into_iter().flatten() {
        let mut end = text.len().min(INFRA_SCAN);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let text = &text[..end];
        // One pass of the combined expression rules most texts out.
        if !any.is_match(text) {
            continue;
        }
        if let Some(i) = set.matches(text).into_iter().next() {
            return Some(INFRA_CLASSES[i].0);
        }
    }
    None
}

/// Whether an error says anything: a message or a stack with a non-blank line. Errors that
/// say nothing (a cancelled attempt, a converter's placeholder) get no signature.
pub fn says_something(message: Option<&str>, stack: Option<&str>) -> bool {
    [message, stack]
        .into_iter()
        .flatten()
        .any(|t| t.chars().any(|c| !c.is_whitespace()))
}

#[cfg(test)]
mod tests {
    use super::{infra_class, says_something, signature};

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

    #[test]
    fn infrastructure_causes_are_named_whatever_surrounds_them() {
        let cases = [
            ("Error: connect ECONNREFUSED 127.0.0.1:6379", None, Some("connection refused")),
            (
                "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused.",
                None,
                Some("connection refused"),
            ),
            (
                "psycopg2.OperationalError: could not connect",
                Some("socket.gaierror: [Errno -3] Temporary failure in name resolution"),
                Some("name resolution failed"),
            ),
            ("getaddrinfo ENOTFOUND registry.npmjs.org", None, Some("name resolution failed")),
            (
                "The runner has lost communication with the server. Anything in your workflow",
                None,
                Some("runner lost"),
            ),
            ("OSError: [Errno 28] No space left on device", None, Some("no space left on device")),
            (
                "browserType.launch: Executable doesn't exist at /ms-playwright/chromium/chrome",
                None,
                Some("browser missing"),
            ),
            ("AssertionError: expected 3 but was 4", None, None),
            ("TimeoutError: page.waitForSelector: Timeout 5000ms exceeded.", None, None),
        ];
        for (message, stack, want) in cases {
            assert_eq!(infra_class(Some(message), stack), want, "{message}");
        }
        // Only the first 2 KiB are searched.
        let far = format!("{}connection refused", "x".repeat(4096));
        assert_eq!(infra_class(Some(&far), None), None);
        assert!(!says_something(Some(" \n "), None));
        assert!(!says_something(None, None));
        assert!(says_something(None, Some("at x")));
    }
}
