//! Tiny sample crate used to record real `cargo test` / `cargo nextest` outputs
//! as converter test inputs. Several tests fail on purpose.

/// Adds two numbers.
///
/// ```
/// assert_eq!(cargo_sample::add(2, 2), 4);
/// ```
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

/// Multiplies two numbers. The doc-test below is wrong on purpose.
///
/// ```
/// assert_eq!(cargo_sample::mul(2, 3), 7);
/// ```
pub fn mul(a: i32, b: i32) -> i32 {
    a * b
}

/// Integer division; panics on a zero divisor.
pub fn div(a: i32, b: i32) -> i32 {
    if b == 0 {
        panic!("divide by zero");
    }
    a / b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_works() {
        assert_eq!(add(2, 2), 4);
    }

    #[test]
    fn assert_eq_fails() {
        assert_eq!(add(2, 2), 5);
    }

    #[test]
    fn plain_panic() {
        panic!();
    }

    #[test]
    fn panic_with_message() {
        println!("about to fail (stdout)");
        eprintln!("about to fail (stderr)");
        panic!("custom failure message: value was {}", 42);
    }

    #[test]
    #[ignore]
    fn ignored() {
        assert_eq!(add(1, 1), 2);
    }

    #[test]
    #[ignore = "needs a database"]
    fn ignored_with_reason() {
        assert_eq!(add(1, 1), 2);
    }

    #[test]
    #[should_panic(expected = "divide by zero")]
    fn should_panic_passes() {
        div(1, 0);
    }

    #[test]
    #[should_panic]
    fn should_panic_but_does_not() {
        div(4, 2);
    }

    #[test]
    fn prints_output() {
        println!("hello from stdout");
        eprintln!("hello from stderr");
        assert_eq!(mul(3, 3), 9);
    }

    /// Fails on its first attempt and passes on later ones. The counter file
    /// must be deleted before every recording run.
    #[test]
    fn flaky() {
        let path = "/tmp/flaky-sample-cargo";
        let count: u32 = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        std::fs::write(path, (count + 1).to_string()).unwrap();
        println!("flaky attempt {}", count + 1);
        assert!(count >= 1, "first attempt fails (attempt {})", count + 1);
    }

    mod nested {
        #[test]
        fn nested_passes() {
            assert!(super::super::div(9, 3) == 3);
        }
    }
}
