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

/// An infrastructure failure: its ecosystem, its message line, the library frames of its stack.
pub(crate) type Cause = (Eco, &'static str, &'static str);

/// Infrastructure failures: a database, a cache or DNS gone, a full disk, a runner lost, a
/// browser missing. An incident fails every test it hits with one of these lines. Each comes
/// with the library frames between the test and the error, in its ecosystem's form.
pub(crate) const INCIDENT_MESSAGES: &[Cause] = &[
    (
        Eco::Python,
        "psycopg2.OperationalError: connection to server at \"localhost\" (127.0.0.1), port 5432 failed: Connection refused",
        "tests/conftest.py:41: in db\n    conn = psycopg2.connect(settings.DATABASE_URL)\n/opt/hostedtoolcache/Python/3.12.4/x64/lib/python3.12/site-packages/psycopg2/__init__.py:122: in connect\n    conn = _connect(dsn, connection_factory=connection_factory, **kwasync)",
    ),
    (
        Eco::Python,
        "redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused.",
        "src/app/cache.py:57: in get\n    value = self.client.get(key)\n/opt/hostedtoolcache/Python/3.12.4/x64/lib/python3.12/site-packages/redis/connection.py:707: in connect\n    raise ConnectionError(self._error_message(e))",
    ),
    (
        Eco::Python,
        "socket.gaierror: [Errno -3] Temporary failure in name resolution",
        "src/app/clients/payments.py:33: in charge\n    resp = self.session.post(self.url, json=body, timeout=10)\n/usr/lib/python3.12/socket.py:963: in getaddrinfo\n    for res in _socket.getaddrinfo(host, port, family, type, proto, flags):",
    ),
    (
        Eco::Python,
        "OSError: [Errno 28] No space left on device",
        "tests/conftest.py:88: in workdir\n    shutil.copytree(FIXTURES, path)\n/usr/lib/python3.12/shutil.py:260: in copyfile\n    fdst.write(buf)",
    ),
    (
        Eco::Python,
        "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.stripe.com', port=443): Max retries exceeded with url: /v1/charges (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f3a2c1d5e80>: Failed to establish a new connection: [Errno 101] Network is unreachable'))",
        "src/app/clients/payments.py:33: in charge\n    resp = self.session.post(self.url, json=body, timeout=10)\n/opt/hostedtoolcache/Python/3.12.4/x64/lib/python3.12/site-packages/requests/adapters.py:519: in send\n    raise ConnectionError(e, request=request)",
    ),
    (
        Eco::Python,
        "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) FATAL:  the database system is starting up",
        "tests/conftest.py:52: in session\n    connection = engine.connect()\n/opt/hostedtoolcache/Python/3.12.4/x64/lib/python3.12/site-packages/sqlalchemy/engine/base.py:146: in __init__\n    self._dbapi_connection = engine.raw_connection()",
    ),
    (
        Eco::Python,
        "botocore.exceptions.EndpointConnectionError: Could not connect to the endpoint URL: \"http://localhost:4566/test-bucket\"",
        "tests/conftest.py:97: in bucket\n    s3.create_bucket(Bucket=\"test-bucket\")\n/opt/hostedtoolcache/Python/3.12.4/x64/lib/python3.12/site-packages/botocore/endpoint.py:279: in _send\n    return self.http_session.send(request)",
    ),
    (
        Eco::Python,
        "kafka.errors.NoBrokersAvailable: NoBrokersAvailable",
        "tests/conftest.py:120: in producer\n    return KafkaProducer(bootstrap_servers=\"localhost:9092\")\n/opt/hostedtoolcache/Python/3.12.4/x64/lib/python3.12/site-packages/kafka/client_async.py:900: in check_version\n    raise Errors.NoBrokersAvailable()",
    ),
    (
        Eco::Python,
        "playwright._impl._errors.Error: browserType.launch: Executable doesn't exist at /ms-playwright/chromium-1091/chrome-linux/chrome",
        "tests/conftest.py:23: in browser\n    browser = playwright.chromium.launch()\n/opt/hostedtoolcache/Python/3.12.4/x64/lib/python3.12/site-packages/playwright/_impl/_browser_type.py:94: in launch\n    Browser, from_channel(await self._channel.send(\"launch\", params))",
    ),
    (
        Eco::Node,
        "Error: connect ECONNREFUSED 127.0.0.1:6379",
        "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1595:16)",
    ),
    (
        Eco::Node,
        "Error: getaddrinfo ENOTFOUND registry.npmjs.org",
        "    at GetAddrInfoReqWrap.onlookup [as oncomplete] (node:dns:107:26)",
    ),
    (
        Eco::Node,
        "Error: ENOSPC: no space left on device, write",
        "    at Object.writeSync (node:fs:927:3)\n    at Object.writeFileSync (node:fs:2326:26)",
    ),
    (
        Eco::Node,
        "FetchError: request to http://localhost:3000/api/health failed, reason: socket hang up",
        "    at ClientRequest.<anonymous> (node_modules/node-fetch/lib/index.js:1501:11)\n    at ClientRequest.emit (node:events:519:28)",
    ),
    (
        Eco::Node,
        "browserType.launch: Executable doesn't exist at /ms-playwright/chromium-1091/chrome-linux/chrome",
        "    at Object._setupBrowser (node_modules/playwright/lib/index.js:240:32)",
    ),
    (
        Eco::Jvm,
        "java.net.ConnectException: Connection refused",
        "\tat java.base/sun.nio.ch.Net.connect0(Native Method)\n\tat java.base/sun.nio.ch.Net.connect(Net.java:579)",
    ),
    (
        Eco::Jvm,
        "java.net.UnknownHostException: repo.maven.apache.org: Temporary failure in name resolution",
        "\tat java.base/java.net.Inet6AddressImpl.lookupAllHostAddr(Native Method)\n\tat java.base/java.net.InetAddress.getAllByName0(InetAddress.java:1533)",
    ),
    (
        Eco::Jvm,
        "org.testcontainers.containers.ContainerLaunchException: Container startup failed for image postgres:15-alpine",
        "\tat org.testcontainers.containers.GenericContainer.doStart(GenericContainer.java:359)\n\tat org.testcontainers.containers.GenericContainer.start(GenericContainer.java:330)",
    ),
    (
        Eco::Jvm,
        "java.lang.OutOfMemoryError: Java heap space",
        "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n\tat java.base/java.util.ArrayList.grow(ArrayList.java:237)",
    ),
    (
        Eco::Runner,
        "The runner has lost communication with the server. Anything in your workflow that terminates the runner process, starves it for CPU/Memory, or blocks its network access can cause this error.",
        "",
    ),
    (
        Eco::Runner,
        "docker: Error response from daemon: toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
        "",
    ),
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

/// A stack around `message` in the ecosystem's shape: the test's frame (its file, function
/// and line), then `frames` (the library's, already in that shape).
pub(crate) fn stack(
    eco: Eco,
    file: &str,
    function: &str,
    test: usize,
    frames: &str,
    message: &str,
) -> String {
    let line = line_of(test);
    match eco {
        Eco::Python => format!(
            "{file}:{line}: in {function}\n    response = client.post(\"/api/orders\", json=payload)\n{frames}\nE   {message}"
        ),
        Eco::Node => format!(
            "{message}\n{frames}\n    at async Context.{function} ({file}:{line}:7)\n    at async Promise.all (index 0)"
        ),
        Eco::Jvm => format!(
            "{message}\n{frames}\n\tat com.example.{function}({file}:{line})\n\tat org.junit.platform.engine.support.hierarchical.ThrowableCollector.execute(ThrowableCollector.java:73)"
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
