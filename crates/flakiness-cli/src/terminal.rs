//! What reaches the terminal from inputs or the network (a report's test names, a server's
//! error body, a file name, an XML element name) is printed with its control characters
//! escaped: an `ESC [31m`, an `ESC ] 0;title BEL` or a bell in someone else's text never drives
//! the terminal. Newlines and tabs are kept.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write as _;

/// `s` with every control character but newline and tab written as `\u{1b}` (C0, DEL and C1
/// controls).
pub fn safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_unsafe(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// One line on stderr, made [`safe`]: what `eprintln!` does in this crate.
pub fn eprint_line(args: std::fmt::Arguments<'_>) {
    let text = args.to_string();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", safe(&text));
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn escapes_are_shown_not_obeyed() {
        assert_eq!(safe("plain\ttext\nline"), "plain\ttext\nline");
        assert_eq!(safe("\u{1b}[31mred"), "\\u{1b}[31mred");
        assert_eq!(safe("\u{1b}]0;title\u{7}"), "\\u{1b}]0;title\\u{7}");
        assert_eq!(safe("a\rb\u{9b}c\u{7f}"), "a\\u{d}b\\u{9b}c\\u{7f}");
    }
}
