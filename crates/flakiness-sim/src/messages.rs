//! Error messages and stacks of the simulated failures: infrastructure incidents (one message
//! line per incident, shared by every test it hits), flaky tests' own failures, regressions and
//! timeouts. Every stack names the failing test's file, function and line, so that two tests
//! failing with the same message still have different stacks, as in real reports.

use flakiness_report::ReportError;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// The ecosystem a message comes from: the shape of the stack around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Eco {
    Python,
    Node,
    Jvm,
    /// A CI runner's own message (no program stack of its own).
    Runner,
}

/// Infrastructure failures: a database, a cache or DNS gone, a full disk, a runner lost, a
/// browser missing. An incident fails every test it hits with one of these lines.
pub(crate) const INCIDENT_MESSAGES: &[(Eco, &str)] = &[
    (Eco::Python, "psycopg2.OperationalError: connection to server at \"localhost\" (127.0.0.1), port 5432 failed: Connection refused"),
    (Eco::Python, "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused."),
    (Eco::Python, "socket.gaierror: [Errno -3] Temporary failure in name resolution"),
    (Eco::Python, "OSError: [Errno 28] No space left on device"),
    (Eco::Python, "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.stripe.com', port=443): Max retries exceeded with url: /v1/charges (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f3a2c1d5e80>: Failed to establish a new connection: [Errno 101] Network is unreachable'))"),
    (Eco::Python, "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) FATAL:  the database system is starting up"),
    (Eco::Python, "botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: \"http://localhost:4566/test-bucket\""),
    (Eco::Python, "kafka.errors.NoBrokersAvailable: NoBrokersAvailable"),
    (Eco::Python, "playwright._impl._errors.Error: browserType.launch: Executable doesn't exist at /ms-playwright/chromium-1091/chrome-linux/chrome"),
    (Eco::Node, "Error: connect ECONNREFUSED 127.0.0.1:6379"),
    (Eco::Node, "Error: getaddrinfo ENOTFOUND registry.npmjs.org"),
    (Eco::Node, "Error: ENOSPC: no space left on device, write"),
    (Eco::Node, "FetchError: request to http://localhost:3000/api/health failed, reason: socket hang up"),
    (Eco::Node, "browserType.launch: Executable doesn't exist at /ms-playwright/chromium-1091/chrome-linux/chrome"),
    (Eco::Jvm, "java.net.ConnectException: Connection refused"),
    (Eco::Jvm, "java.net.UnknownHostException: repo.maven.apache.org: Temporary failure in name resolution"),
    (Eco::Jvm, "org.testcontainers.containers.ContainerLaunchException: Container startup failed for image postgres:15-alpine"),
    (Eco::Jvm, "java.lang.OutOfMemoryError: Java heap space"),
    (Eco::Runner, "The runner has lost communication with the server. Anything in your workflow that terminates the runner process, starves it for CPU/Memory, or blocks its network access can cause this error."),
    (Eco::Runner, "docker: Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit"),
];

/// Generic failures that several flaky tests share in real suites (each test still fails on
/// its own: these never co-fail systematically).
const SHARED_FLAKY_MESSAGES: &[&str] = &[
    "TimeoutError: page.waitForSelector: Timeout 5000ms exceeded.",
    "AssertionError: assert False",
    "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='localhost', port=8000): Read timed out. (read timeout=5)",
    "ConnectionResetError: [Errno 104] Connection reset by peer",
    "selenium.common.exceptions.StaleElementReferenceException: Message: stale element reference: stale element not found",
];

const RESOURCES: &[&str] = &[
    "the order to be confirmed",
    "the worker to pick up the job",
    "the websocket to open",
    "the cache to be warmed",
    "the export to finish",
    "the email to arrive",
];

const ELEMENTS: &[&str] = &[
    "#checkout-button",
    "[data-testid=\"save\"]",
    ".toast-success",
    "#login-form input[name=\"password\"]",
    "[data-testid=\"row-0\"]",
    "nav .user-menu",
];

const REGRESSION_MESSAGES: &[&str] = &[
    "KeyError: 'customer_id'",
    "AttributeError: 'NoneType' object has no attribute 'total'",
    "TypeError: unsupported operand type(s) for +: 'int' and 'NoneType'",
    "ValueError: invalid literal for int() with base 10: ''",
];

/// A line of the test's file: stable per test.
fn line_of(test: usize) -> usize {
    12 + (test * 53) % 380
}

/// A stack around `message` in the ecosystem's shape, naming the test's file and function.
pub(crate) fn stack(eco: Eco, file: &str, function: &str, test: usize, message: &str) -> String {
    let line = line_of(test);
    match eco {
        Eco::Python => format!(
            "{file}:{line}: in {function}\n    response = client.post(\"/api/orders\", json=payload)\ntests/conftest.py:41: in client\n    return make_client(settings)\nsrc/app/db.py:88: in connect\n    return pool.getconn()\nE   {message}"
        ),
        Eco::Node => format!(
            "{message}\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1595:16)\n    at async Context.{function} ({file}:{line}:7)\n    at async Promise.all (index 0)"
        ),
        Eco::Jvm => format!(
            "{message}\n\tat java.base/sun.nio.ch.Net.connect0(Native Method)\n\tat java.base/sun.nio.ch.Net.connect(Net.java:579)\n\tat com.example.{function}({file}:{line})\n\tat org.junit.platform.engine.support.hierarchical.ThrowableCollector.execute(ThrowableCollector.java:73)"
        ),
        Eco::Runner => format!("{file}:{line}: in {function}\n{message}"),
    }
}

/// An error with a message and a stack.
pub(crate) fn error(message: String, stack: String) -> ReportError {
    ReportError {
        message: Some(message),
        stack: Some(stack),
        ..Default::default()
    }
}

/// One way a flaky test fails.
#[derive(Debug, Clone, PartialEq)]
enum FlakyFailure {
    /// `assert <got> == <want>`: `want` is the test's, `got` varies.
    Assert { want: u32 },
    /// Waiting for something that took too long, after a varying time.
    Wait { resource: &'static str },
    /// An element not found.
    Element { selector: &'static str },
    /// A value that is sometimes off by a few: `expected <want> items, got <got>`.
    Count { noun: &'static str, want: u32 },
    /// A generic message shared with other tests.
    Shared(&'static str),
}

/// The ways one flaky test fails (one to three), the first the most frequent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FlakyMessages(Vec<FlakyFailure>);

impl FlakyMessages {
    /// Draws a test's ways of failing.
    pub(crate) fn draw(rng: &mut ChaCha8Rng) -> Self {
        let n = rng.random_range(1..=3usize);
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let f = match rng.random_range(0..10u32) {
                0 | 1 => FlakyFailure::Assert {
                    want: rng.random_range(1..200),
                },
                2 | 3 => FlakyFailure::Wait {
                    resource: RESOURCES[rng.random_range(0..RESOURCES.len())],
                },
                4 | 5 => FlakyFailure::Element {
                    selector: ELEMENTS[rng.random_range(0..ELEMENTS.len())],
                },
                6 | 7 => FlakyFailure::Count {
                    noun: ["rows", "events", "messages", "files"][rng.random_range(0..4)],
                    want: rng.random_range(2..50),
                },
                _ => FlakyFailure::Shared(
                    SHARED_FLAKY_MESSAGES[rng.random_range(0..SHARED_FLAKY_MESSAGES.len())],
                ),
            };
            v.push(f);
        }
        FlakyMessages(v)
    }

    /// One failure of the test: which way (the first half of the time), with varying numbers.
    pub(crate) fn error(
        &self,
        file: &str,
        function: &str,
        test: usize,
        rng: &mut ChaCha8Rng,
    ) -> ReportError {
        let k = if self.0.len() == 1 || rng.random_bool(0.5) {
            0
        } else {
            rng.random_range(1..self.0.len())
        };
        let line = line_of(test) + 3 * k;
        let (message, code) = match &self.0[k] {
            FlakyFailure::Assert { want } => {
                let got = want + rng.random_range(1..4);
                (
                    format!("AssertionError: assert {got} == {want}"),
                    "assert summary.total == expected_total".to_string(),
                )
            }
            FlakyFailure::Wait { resource } => (
                format!(
                    "TimeoutError: timed out after {} ms waiting for {resource}",
                    rng.random_range(2_000..15_000u32)
                ),
                "wait_until(lambda: done(), timeout=timeout)".to_string(),
            ),
            FlakyFailure::Element { selector } => (
                format!(
                    "selenium.common.exceptions.NoSuchElementException: Message: no such element: Unable to locate element: {{\"method\":\"css selector\",\"selector\":\"{}\"}}",
                    selector.replace('"', "\\\"")
                ),
                format!("driver.find_element(By.CSS_SELECTOR, '{selector}').click()"),
            ),
            FlakyFailure::Count { noun, want } => {
                let got = want.saturating_sub(rng.random_range(1..=(*want).min(3)));
                (
                    format!("AssertionError: expected {want} {noun}, got {got}"),
                    format!("assert len({noun}) == {want}, f\"expected {want} {noun}, got {{len({noun})}}\""),
                )
            }
            FlakyFailure::Shared(m) => (m.to_string(), "page.wait_for_selector(\".ready\")".to_string()),
        };
        let stack = format!("{file}:{line}: in {function}\n    {code}\nE   {message}");
        error(message, stack)
    }
}

/// The error of a regression: the same every time for a test.
pub(crate) fn regression_error(file: &str, function: &str, test: usize) -> ReportError {
    let message = REGRESSION_MESSAGES[test % REGRESSION_MESSAGES.len()].to_string();
    let line = line_of(test) + 7;
    error(
        message.clone(),
        format!("{file}:{line}: in {function}\n    invoice = build_invoice(order)\nsrc/app/billing.py:214: in build_invoice\n    return Invoice(total=order.total + shipping)\nE   {message}"),
    )
}

/// The time limit of a test's timeouts, in ms.
pub(crate) fn timeout_limit(test: usize) -> u32 {
    [10_000, 30_000, 60_000][test % 3]
}

/// The error of a test that exceeded its time limit (a slow code path).
pub(crate) fn timeout_error(file: &str, function: &str, test: usize) -> ReportError {
    let limit = timeout_limit(test);
    let message = format!("TimeoutError: test exceeded {limit} ms");
    let line = line_of(test) + 5;
    error(
        message.clone(),
        format!("{file}:{line}: in {function}\n    report = service.generate_report(account)\nsrc/app/reports.py:131: in generate_report\n    rows = self._load_rows(account)\nsrc/app/reports.py:97: in _load_rows\n    time.sleep(backoff)\nE   {message}"),
    )
}
