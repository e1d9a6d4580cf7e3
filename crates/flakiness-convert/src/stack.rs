//! Source locations named by stack traces and error messages, in the shapes the common test
//! runners print them, and the step that gives errors without a location the first frame that
//! names a file of the repository.

use std::borrow::Cow;

use flakiness_report::{Location, Report, ReportError, Suite, Test, TestStep};

/// Longest line number accepted (9 digits).
const MAX_LINE_DIGITS: usize = 9;

/// The frames a stack trace (or a message) names, in order, without repeats. Nothing is
/// filtered out: frames of the runtime and of frameworks are kept, the caller decides which
/// ones belong to its repository.
///
/// Understood shapes (one frame a line; the first one a line wins):
///
/// | Language | Frame |
/// |---|---|
/// | Java, Kotlin, Scala, Groovy | `at com.foo.BarTest.method(BarTest.java:42)` → `com/foo/BarTest.java:42` |
/// | C# | `at Foo.Bar() in /src/Bar.cs:line 42` |
/// | Python | `File "tests/test_x.py", line 12, in f`; pytest's `tests/test_x.py:12: AssertionError` |
/// | JavaScript, TypeScript | `at fn (/abs/file.test.ts:10:5)`, `at /x/y.js:3:7`, `file:///…` |
/// | Rust | `panicked at src/lib.rs:4:5:`, old `panicked at 'msg', src/lib.rs:4:5` |
/// | Dart | package:stack_trace's terse `test/a_test.dart 12:5  main.<fn>`, the VM's `#0 main.<fn> (file:///…/a_test.dart:12:5)` |
/// | Go, C, C++, gtest, Catch2, PHP, Ruby… | a word `path.ext:LINE[:COL]…` or `path.ext(LINE)` |
///
/// A column is `1` when the frame gives none.
pub fn stack_frames(text: &str) -> Vec<Location> {
    let mut out: Vec<Location> = Vec::new();
    for line in text.lines() {
        if let Some(f) = frame_of_line(line) {
            let loc = Location::new(f.file, f.line, f.column);
            if !out.contains(&loc) {
                out.push(loc);
            }
        }
    }
    out
}

/// A frame as a line names it: its file borrowed from the line unless it had to be built (a
/// JVM frame's package path), so that the frames of a stack can be tried one by one without
/// allocating.
#[derive(Debug)]
struct Frame<'a> {
    file: Cow<'a, str>,
    line: i64,
    column: i64,
}

impl<'a> Frame<'a> {
    fn new(file: impl Into<Cow<'a, str>>, line: i64, column: i64) -> Self {
        Frame {
            file: file.into(),
            line,
            column,
        }
    }
}

fn frame_of_line(line: &str) -> Option<Frame<'_>> {
    // Every form below has a line number: a line without a digit names no frame. (Looked for
    // from the end, where a frame's line and column are.)
    if !line.bytes().rev().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = line.trim();
    if let Some(f) = csharp(trimmed) {
        return Some(f);
    }
    if let Some(f) = python(trimmed) {
        return Some(f);
    }
    if let Some(rest) = trimmed.strip_prefix("at ") {
        if let Some(f) = jvm(rest) {
            return Some(f);
        }
        if let Some(f) = javascript(rest) {
            return Some(f);
        }
    }
    if let Some(f) = dart_terse(trimmed) {
        return Some(f);
    }
    static PANICKED: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new("panicked at "));
    if let Some(rest) = PANICKED
        .find(trimmed.as_bytes())
        .map(|at| &trimmed[at + "panicked at ".len()..])
    {
        // The location ends the old format (`'msg', FILE:L:C`) and is alone in the new one.
        if let Some(f) = rest.split_whitespace().rev().find_map(word_location) {
            return Some(f);
        }
    }
    trimmed.split_whitespace().find_map(word_location)
}

/// `at Ns.Class.Method() in /path/File.cs:line 42`.
fn csharp(line: &str) -> Option<Frame<'_>> {
    // The forward search has a vector prefilter, the reverse one none: most lines have no
    // `:line ` at all, and the forward search tells that first.
    static LINE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(":line "));
    static LINE_REV: std::sync::LazyLock<memchr::memmem::FinderRev<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::FinderRev::new(":line "));
    LINE.find(line.as_bytes())?;
    let at = LINE_REV.rfind(line.as_bytes())?;
    let (head, tail) = (&line[..at], &line[at + ":line ".len()..]);
    let (_, path) = head.rsplit_once(" in ")?;
    let line_no = leading_number(tail)?;
    let path = path.trim();
    has_extension(path).then(|| Frame::new(path, line_no, 1))
}

/// package:stack_trace's terse frame: `test/a_test.dart 12:5  main.<fn>`,
/// `package:x/y.dart 3  f` (no column), `file:///C:/w/a_test.dart 7:1  f`.
fn dart_terse(line: &str) -> Option<Frame<'_>> {
    let mut words = line.split_whitespace();
    let path = strip_scheme(words.next()?);
    if !path.ends_with(".dart") || !has_extension(path) {
        return None;
    }
    let place = words.next()?;
    let (line_no, column) = match place.split_once(':') {
        Some((l, c)) if is_number(l) && is_number(c) => (leading_number(l)?, leading_number(c)?),
        None if is_number(place) => (leading_number(place)?, 1),
        _ => return None,
    };
    // `file:///C:/w/a.dart` keeps no slash before the drive.
    let b = path.as_bytes();
    let path = if b.len() > 3 && b[0] == b'/' && b[2] == b':' && b[1].is_ascii_alphabetic() {
        &path[1..]
    } else {
        path
    };
    Some(Frame::new(path, line_no, column))
}

/// `File "path", line 12, in f`.
fn python(line: &str) -> Option<Frame<'_>> {
    let rest = line.strip_prefix("File \"")?;
    let (path, rest) = rest.split_once('"')?;
    let rest = rest.trim_start().strip_prefix(',')?.trim_start();
    let rest = rest.strip_prefix("line ")?;
    let line_no = leading_number(rest)?;
    (!path.is_empty()).then(|| Frame::new(path, line_no, 1))
}

/// `com.foo.BarTest.method(BarTest.java:42)`: the file is the class's package path plus the
/// file name the frame gives.
fn jvm(rest: &str) -> Option<Frame<'_>> {
    let open = memchr::memchr(b'(', rest.as_bytes())?;
    let inner = rest[open + 1..].strip_suffix(')')?;
    if inner.bytes().any(|b| matches!(b, b'/' | b'\\' | b' ')) {
        return None;
    }
    let qualified = rest[..open].trim();
    let (file, line_no) = inner.split_once(':')?;
    if !has_extension(file) || !is_number(line_no) {
        return None;
    }
    let line_no = leading_number(line_no)?;
    // `java.base/java.lang.Thread.run`, `app//com.foo.Bar.m`: drop the module or loader.
    let qualified = qualified.rsplit('/').next().unwrap_or(qualified);
    let (class_path, _method) = qualified.rsplit_once('.')?;
    let package = class_path.rsplit_once('.').map_or("", |(p, _)| p);
    let path = if package.is_empty() {
        Cow::Borrowed(file)
    } else {
        Cow::Owned(format!("{}/{file}", package.replace('.', "/")))
    };
    Some(Frame::new(path, line_no, 1))
}

/// `fn (/abs/file.ts:10:5)`, `/x/y.js:3:7`, `async fn (file:///x.mjs:1:2)`.
fn javascript(rest: &str) -> Option<Frame<'_>> {
    let target = match (memchr::memrchr(b'(', rest.as_bytes()), rest.ends_with(')')) {
        (Some(open), true) => &rest[open + 1..rest.len() - 1],
        _ => rest.trim_start_matches("async ").trim(),
    };
    let target = strip_scheme(target);
    let (head, last) = rsplit_colon(target)?;
    let (path, line_no, column) = match rsplit_colon(head) {
        Some((path, line_no)) if is_number(line_no) && is_number(last) => {
            (path, leading_number(line_no)?, leading_number(last)?)
        }
        _ if is_number(last) => (head, leading_number(last)?, 1),
        _ => return None,
    };
    has_extension(path).then(|| Frame::new(path, line_no, column.max(1)))
}

/// `s` split at its last `:`.
fn rsplit_colon(s: &str) -> Option<(&str, &str)> {
    let at = memchr::memrchr(b':', s.as_bytes())?;
    Some((&s[..at], &s[at + 1..]))
}

/// A word `path.ext:LINE`, `path.ext:LINE:COL…` or `path.ext(LINE)…`, with quotes, brackets and
/// similar punctuation around it ignored.
fn word_location(word: &str) -> Option<Frame<'_>> {
    let word = word.trim_start_matches(['(', '"', '\'', '[', '<', '{', '`']);
    let word = strip_scheme(word);
    let bytes = word.as_bytes();
    for i in memchr::memchr2_iter(b':', b'(', bytes) {
        let b = bytes[i];
        let path = &word[..i];
        if !has_extension(path) {
            continue;
        }
        let rest = &word[i + 1..];
        let Some(line_no) = leading_number(rest) else {
            continue;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let after = &rest[digits..];
        if b == b'(' {
            if !after.starts_with(')') {
                continue;
            }
            return Some(Frame::new(path, line_no, 1));
        }
        let column = after
            .strip_prefix(':')
            .and_then(leading_number)
            .unwrap_or(1)
            .max(1);
        return Some(Frame::new(path, line_no, column));
    }
    None
}

fn strip_scheme(s: &str) -> &str {
    s.strip_prefix("file://").unwrap_or(s)
}

/// The number a string starts with (1 to 9 digits, at least 1).
fn leading_number(s: &str) -> Option<i64> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > MAX_LINE_DIGITS {
        return None;
    }
    s[..digits].parse::<i64>().ok().filter(|&n| n >= 1)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_LINE_DIGITS && s.bytes().all(|b| b.is_ascii_digit())
}

/// True when the last part of a path has a name and an extension of 1 to 10 letters or digits
/// (`foo_test.go`, `BarTest.java`, `x.test.ts`).
fn has_extension(path: &str) -> bool {
    let b = path.as_bytes();
    let name_at = b
        .iter()
        .rposition(|&c| c == b'/' || c == b'\\')
        .map_or(0, |i| i + 1);
    let name = &b[name_at..];
    let Some(dot) = memchr::memrchr(b'.', name) else {
        return false;
    };
    let (stem, ext) = (&name[..dot], &name[dot + 1..]);
    !stem.is_empty()
        && !stem.ends_with(b".")
        && (1..=10).contains(&ext.len())
        && ext.iter().all(u8::is_ascii_alphanumeric)
        && ext.iter().any(u8::is_ascii_alphabetic)
        && !b
            .iter()
            .any(|c| matches!(c, b'<' | b'>' | b'"' | b'|' | b'*' | b'?'))
}

/// Gives every error of the report that has no location (attempt errors, step errors at any
/// depth, unattributed errors) the first frame of its stack — of its message when the stack
/// names none — for which `resolve` returns a path: the location becomes that path with the
/// frame's line and column. `resolve` maps a frame's file as written (absolute, relative, a
/// Java package path…) to a repository path, or `None` when the file is not the repository's.
pub fn locate_errors(report: &mut Report, mut resolve: impl FnMut(&str) -> Option<String>) {
    let resolve: &mut dyn FnMut(&str) -> Option<String> = &mut resolve;
    for t in report.tests.iter_mut().flatten() {
        test(t, resolve);
    }
    for s in report.suites.iter_mut().flatten() {
        suite(s, resolve);
    }
    for e in report.unattributed_errors.iter_mut().flatten() {
        error(e, resolve);
    }
}

/// [`locate_errors`] for one suite (a root suite streamed out on its own).
pub fn locate_suite_errors(s: &mut Suite, mut resolve: impl FnMut(&str) -> Option<String>) {
    suite(s, &mut resolve);
}

fn suite(s: &mut Suite, resolve: &mut dyn FnMut(&str) -> Option<String>) {
    for t in s.tests.iter_mut().flatten() {
        test(t, resolve);
    }
    for c in s.suites.iter_mut().flatten() {
        suite(c, resolve);
    }
}

fn test(t: &mut Test, resolve: &mut dyn FnMut(&str) -> Option<String>) {
    for a in &mut t.attempts {
        for e in a.errors.iter_mut().flatten() {
            error(e, resolve);
        }
        if let Some(s) = &mut a.steps {
            steps(s, resolve);
        }
    }
}

fn steps(list: &mut [TestStep], resolve: &mut dyn FnMut(&str) -> Option<String>) {
    for s in list {
        if let Some(e) = &mut s.error {
            error(e, resolve);
        }
        if let Some(children) = &mut s.steps {
            steps(children, resolve);
        }
    }
}

fn error(e: &mut ReportError, resolve: &mut dyn FnMut(&str) -> Option<String>) {
    if e.location.is_some() {
        return;
    }
    let found = [e.stack.as_deref(), e.message.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|text| {
            // Frames are parsed lazily: the first that names a repository file wins.
            text.lines()
                .filter_map(frame_of_line)
                .find_map(|f| resolve(&f.file).map(|file| Location::new(file, f.line, f.column)))
        });
    e.location = found;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(text: &str) -> Vec<(String, i64, i64)> {
        stack_frames(text)
            .into_iter()
            .map(|l| (l.file, l.line, l.column))
            .collect()
    }

    fn f(file: &str, line: i64, column: i64) -> (String, i64, i64) {
        (file.to_string(), line, column)
    }

    #[test]
    fn java_kotlin_scala() {
        let stack = "org.opentest4j.AssertionFailedError: this test has failed
\tat org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:42)
\tat org.test.sample.SampleTestSuite.a test that fails(SampleTestSuite.kt:16)
\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)
\tat corrupt.core.Main$Companion.initAndRun(Main.kt:244)
\tat corrupt.core.Main.initAndRun(Main.kt)
\tat app//com.acme.CartSpec.$anonfun$new$1(CartSpec.scala:12)
\tat Default.main(Default.java:3)
\t... 23 more";
        assert_eq!(
            frames(stack),
            [
                f("org/junit/jupiter/api/AssertionUtils.java", 42, 1),
                f("org/test/sample/SampleTestSuite.kt", 16, 1),
                f("java/lang/reflect/Method.java", 580, 1),
                f("corrupt/core/Main.kt", 244, 1),
                f("com/acme/CartSpec.scala", 12, 1),
                f("Default.java", 3, 1),
            ]
        );
    }

    #[test]
    fn python_tracebacks_and_pytest() {
        let traceback = r#"Traceback (most recent call last):
  File "/usr/lib/python3.12/unittest/case.py", line 58, in testPartExecutor
    yield
  File "tests/test_x.py", line 12, in test_f
    self.assertEqual(1, 2)
  File "<frozen importlib._bootstrap>", line 1, in <module>
AssertionError: 1 != 2"#;
        assert_eq!(
            frames(traceback),
            [
                f("/usr/lib/python3.12/unittest/case.py", 58, 1),
                f("tests/test_x.py", 12, 1),
                f("<frozen importlib._bootstrap>", 1, 1),
            ]
        );
        let pytest = "def test_rsh_events():
>       self.do_test_rsh_events(3)

test_spark.py:821:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _
test_spark.py:836: in do_test_rsh_events
    events=events)
E   assert 1 == 2

tests/test_x.py:12: AssertionError";
        assert_eq!(
            frames(pytest),
            [
                f("test_spark.py", 821, 1),
                f("test_spark.py", 836, 1),
                f("tests/test_x.py", 12, 1),
            ]
        );
    }

    #[test]
    fn javascript_and_typescript() {
        let stack = "Error: expect(received).toBe(expected)
    at expect.toBe (example.spec.ts:12:15)
    at Object.anonymous (/home/ci/repo/tests/example.spec.ts:15:20)
    at async Promise.all (index 0)
    at /home/ci/repo/node_modules/jest-circus/build/utils.js:298:28
    at new Promise (<anonymous>)
    at file:///home/ci/repo/src/util.mjs:3:7
    at run (C:\\work\\repo\\src\\win.test.js:7:9)";
        assert_eq!(
            frames(stack),
            [
                f("example.spec.ts", 12, 15),
                f("/home/ci/repo/tests/example.spec.ts", 15, 20),
                f(
                    "/home/ci/repo/node_modules/jest-circus/build/utils.js",
                    298,
                    28
                ),
                f("/home/ci/repo/src/util.mjs", 3, 7),
                f("C:\\work\\repo\\src\\win.test.js", 7, 9),
            ]
        );
    }

    #[test]
    fn go_frames_and_messages() {
        let out = "=== RUN   TestPut
    store_test.go:42: got 1, want 2
--- FAIL: TestPut (0.00s)
panic: boom [recovered]
goroutine 7 [running]:
example.com/store.TestGet(0xc000102000)
\t/home/u/p/store/store_test.go:57 +0x1d
testing.tRunner(0xc000102000, 0x5b2c38)
\t/usr/local/go/src/testing/testing.go:1689 +0xfb";
        assert_eq!(
            frames(out),
            [
                f("store_test.go", 42, 1),
                f("/home/u/p/store/store_test.go", 57, 1),
                f("/usr/local/go/src/testing/testing.go", 1689, 1),
            ]
        );
    }

    #[test]
    fn rust_panics() {
        let new = "thread 'tests::fails' panicked at src/lib.rs:4:5:
assertion `left == right` failed
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";
        assert_eq!(frames(new), [f("src/lib.rs", 4, 5)]);
        let old = "thread 'main' panicked at 'boom: x.rs:1:1', tests/basic.rs:19:5";
        assert_eq!(frames(old), [f("tests/basic.rs", 19, 5)]);
        let backtrace = "   3: core::panicking::panic_fmt
             at /rustc/ded5c06cf21d2b93bffd5d884aa6e96934ee4234/library/core/src/panicking.rs:80:14
   4: basic::flaky
             at ./tests/basic.rs:43:9";
        assert_eq!(
            frames(backtrace),
            [
                f(
                    "/rustc/ded5c06cf21d2b93bffd5d884aa6e96934ee4234/library/core/src/panicking.rs",
                    80,
                    14
                ),
                f("./tests/basic.rs", 43, 9),
            ]
        );
    }

    #[test]
    fn csharp_frames() {
        let stack = "   at Acme.Tests.CartTests.AddsItem() in /src/Acme.Tests/CartTests.cs:line 42
   at System.RuntimeMethodHandle.InvokeMethod(Object target, Span`1& arguments, Signature sig, Boolean isConstructor)
   at Acme.Tests.Util.Check() in C:\\src\\Acme.Tests\\Util.cs:line 7";
        assert_eq!(
            frames(stack),
            [
                f("/src/Acme.Tests/CartTests.cs", 42, 1),
                f("C:\\src\\Acme.Tests\\Util.cs", 7, 1),
            ]
        );
    }

    #[test]
    fn c_cpp_gtest_catch2_msvc() {
        let text = "/home/ivan/prj/tst/tests/failed/checks.cpp:15: error: check_eq(1, 2)
tests/failed/main.cpp:58: error: check_eq(3628800, 3628801)
../src/math_test.cc:123: Failure
Expected equality of these values:
src\\widget.cpp(31): error: Value of: ok";
        assert_eq!(
            frames(text),
            [
                f("/home/ivan/prj/tst/tests/failed/checks.cpp", 15, 1),
                f("tests/failed/main.cpp", 58, 1),
                f("../src/math_test.cc", 123, 1),
                f("src\\widget.cpp", 31, 1),
            ]
        );
    }

    #[test]
    fn php_and_ruby() {
        let php = "Failed asserting that false is true.

/app/tests/Unit/CartTest.php:42
#0 /app/vendor/phpunit/phpunit/src/Framework/TestCase.php(1617): Tests\\Unit\\CartTest->testAdd()";
        assert_eq!(
            frames(php),
            [
                f("/app/tests/Unit/CartTest.php", 42, 1),
                f(
                    "/app/vendor/phpunit/phpunit/src/Framework/TestCase.php",
                    1617,
                    1
                ),
            ]
        );
        let ruby = "expected: 2
     got: 1
# ./spec/cart_spec.rb:10:in `block (2 levels) in <top (required)>'
# /usr/lib/ruby/gems/3.2.0/gems/rspec-core-3.12.2/lib/rspec/core/example.rb:263:in `instance_exec'";
        assert_eq!(
            frames(ruby),
            [
                f("./spec/cart_spec.rb", 10, 1),
                f(
                    "/usr/lib/ruby/gems/3.2.0/gems/rspec-core-3.12.2/lib/rspec/core/example.rb",
                    263,
                    1
                ),
            ]
        );
    }

    #[test]
    fn dart_terse_and_vm_frames() {
        let terse = "package:matcher                 expect
test/calc_test.dart 15:7  main.<fn>.<fn>.<fn>
package:dart_sample/calc.dart 5:5  divide
test\\main_test.dart 24  main.<fn>
file:///C:/w/app/test/b_test.dart 3:1  main
dart:isolate  _RawReceivePortImpl._handleMessage
===== asynchronous gap ===========================";
        assert_eq!(
            frames(terse),
            [
                f("test/calc_test.dart", 15, 7),
                f("package:dart_sample/calc.dart", 5, 5),
                f("test\\main_test.dart", 24, 1),
                f("C:/w/app/test/b_test.dart", 3, 1),
            ]
        );
        let vm = "#0      fail (package:test_api/src/frontend/expect.dart:155:31)
#4      main.<anonymous closure>.<anonymous closure> (file:///home/u/app/test/a_test.dart:112:34)
<asynchronous suspension>
#5      _rootRun (dart:async/zone.dart:1399)";
        assert_eq!(
            frames(vm),
            [
                f("package:test_api/src/frontend/expect.dart", 155, 31),
                f("/home/u/app/test/a_test.dart", 112, 34),
                f("dart:async/zone.dart", 1399, 1),
            ]
        );
    }

    #[test]
    fn frames_repeat_once_and_noise_is_no_frame() {
        let text = "at 12:30:45 the server on example:8080 said 1.5:3
see version v1.2 http://host:80/x
x.go:3: a
x.go:3: a again";
        assert_eq!(frames(text), [f("x.go", 3, 1)]);
        assert!(frames("").is_empty());
        assert!(frames("::::(((( at ( at ) :1: .x:2 a.:3").is_empty());
    }

    #[test]
    fn errors_get_the_first_frame_in_the_repository() {
        use flakiness_report::{RunAttempt, TestStatus};
        let repo = ["src/test/java/com/acme/CartTest.java", "tests/test_x.py"];
        let resolve = |f: &str| {
            let f = f.trim_start_matches("./");
            repo.iter()
                .find(|r| {
                    r.ends_with(f) && (r.len() == f.len() || r[..r.len() - f.len()].ends_with('/'))
                })
                .map(|r| r.to_string())
        };
        let mut attempt = RunAttempt::with_status(TestStatus::Failed);
        attempt.errors = Some(vec![
            ReportError {
                message: Some("boom".into()),
                stack: Some(
                    "java.lang.AssertionError: boom
\tat org.junit.Assert.fail(Assert.java:89)
\tat com.acme.CartTest.addsItem(CartTest.java:42)"
                        .into(),
                ),
                ..Default::default()
            },
            ReportError {
                location: Some(Location::new("kept.py", 1, 1)),
                stack: Some("tests/test_x.py:3: AssertionError".into()),
                ..Default::default()
            },
            ReportError::message("tests/test_x.py:7: in helper"),
            ReportError::message("nothing here"),
        ]);
        attempt.steps = Some(vec![TestStep {
            title: "outer".into(),
            steps: Some(vec![TestStep {
                title: "inner".into(),
                error: Some(ReportError {
                    stack: Some("File \"tests/test_x.py\", line 9, in f".into()),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }]);
        let mut suite = Suite::new(flakiness_report::SuiteType::Suite, "s");
        suite.tests = Some(vec![Test::new("t").with_attempts([attempt])]);
        let mut report = Report::new("junit", "0".repeat(40));
        report.suites = Some(vec![suite]);
        report.unattributed_errors = Some(vec![ReportError::message(
            "at com.acme.CartTest.setUp(CartTest.java:5)",
        )]);
        locate_errors(&mut report, resolve);
        let mut got = Vec::new();
        report.for_each_location_mut(|l| got.push((l.file.clone(), l.line, l.column)));
        assert_eq!(
            got,
            [
                f("src/test/java/com/acme/CartTest.java", 42, 1),
                f("kept.py", 1, 1),
                f("tests/test_x.py", 7, 1),
                f("tests/test_x.py", 9, 1),
                f("src/test/java/com/acme/CartTest.java", 5, 1),
            ]
        );
    }
}
