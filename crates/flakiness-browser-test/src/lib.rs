//! # flakiness-browser-test
//!
//! A harness for integration tests that load pages in a real browser (not published): Debian's
//! headless Chromium, driven by Playwright (`playwright-core`) through `.ci/browser/check.mjs` at
//! the root of the repository.
//!
//! A test describes each [`Page`] to visit and what to read from it, [`browse`] visits them all in
//! one browser and returns what it saw as [`Visited`]: the HTTP status, the dialogs that opened
//! (an `alert` is a script that ran), console errors, CSP violations, requests to other origins,
//! and the counts, texts and attributes asked for.
//!
//! ```no_run
//! use flakiness_browser_test::{browse, skip_unless_available, Page};
//!
//! if skip_unless_available() {
//!     return;
//! }
//! let url = "http://127.0.0.1:8080/".to_string(); // a server the test started
//! let visited = browse(&[Page::new(url).count("li.item").text("h1")]).expect("browse");
//! assert_eq!(visited[0].count["li.item"], 3);
//! assert!(visited[0].dialogs.is_empty());
//! ```
//!
//! It needs `node`, the packages of `.ci/browser` (`npm ci --prefix .ci/browser`) and a Chromium
//! (`$CHROMIUM`, else `/usr/bin/chromium`); see [`available`]. Where they are missing the tests
//! skip, except in CI (`CI=true`), where they fail: see [`skip_unless_available`]. Playwright never
//! downloads a browser of its own here.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize};

/// The Chromium used when `$CHROMIUM` is unset: Debian's `chromium` package.
pub const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";

/// The script that drives the browser, relative to the root of the repository.
const CHECK_SCRIPT: &str = ".ci/browser/check.mjs";

/// The installed Playwright package, relative to the root of the repository.
const PLAYWRIGHT: &str = ".ci/browser/node_modules/playwright-core/package.json";

/// A page to visit, and what to read from it. Selectors are CSS selectors.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// The address to load; [`browse`] waits for its `load` event (30 s at most).
    pub url: String,
    /// Where to write a full-page PNG screenshot (taken before any typing); a relative path is
    /// taken from the current directory.
    pub screenshot: Option<PathBuf>,
    /// Selectors whose matches to count ([`Visited::count`]).
    pub count: Vec<String>,
    /// Selectors whose first match's `textContent` to read ([`Visited::text`]).
    pub text: Vec<String>,
    /// `(selector, attribute)` pairs whose value on the first match to read ([`Visited::attr`]).
    pub attr: Vec<(String, String)>,
    /// A selector of `<img>` elements to check for loaded images ([`Visited::images`]).
    pub images_loaded: Option<String>,
    /// `(selector, text)` pairs: inputs to fill, in order, after everything else was read.
    pub type_text: Vec<(String, String)>,
    /// Selectors whose *visible* matches to count ~300 ms after typing ([`Visited::after_type`]);
    /// ignored when nothing is typed.
    pub after_type_count: Vec<String>,
    /// The colour scheme the page is shown in (`prefers-color-scheme`): `light` unless set.
    pub color_scheme: Option<String>,
    /// `(selector, CSS property)` pairs whose computed value on the first match to read
    /// ([`Visited::computed`]).
    pub computed: Vec<(String, String)>,
    /// Selectors of links to follow, last, each from the page as loaded: the first match's
    /// `href` is loaded and its status kept ([`Visited::followed`]).
    pub follow: Vec<String>,
}

impl Page {
    /// A page at `url` from which nothing is read yet (its status, dialogs, console errors, CSP
    /// violations and external requests always are).
    pub fn new(url: impl Into<String>) -> Self {
        Page {
            url: url.into(),
            ..Page::default()
        }
    }

    /// Counts the elements matching `selector`.
    pub fn count(mut self, selector: impl Into<String>) -> Self {
        self.count.push(selector.into());
        self
    }

    /// Reads the `textContent` of the first element matching `selector`.
    pub fn text(mut self, selector: impl Into<String>) -> Self {
        self.text.push(selector.into());
        self
    }

    /// Reads the attribute `name` of the first element matching `selector`.
    pub fn attr(mut self, selector: impl Into<String>, name: impl Into<String>) -> Self {
        self.attr.push((selector.into(), name.into()));
        self
    }

    /// Checks that the `<img>` elements matching `selector` loaded.
    pub fn images_loaded(mut self, selector: impl Into<String>) -> Self {
        self.images_loaded = Some(selector.into());
        self
    }

    /// Writes a full-page PNG screenshot to `path`.
    pub fn screenshot(mut self, path: impl Into<PathBuf>) -> Self {
        self.screenshot = Some(path.into());
        self
    }

    /// Fills the input matching `selector` with `text` (Playwright's `page.fill`).
    pub fn type_into(mut self, selector: impl Into<String>, text: impl Into<String>) -> Self {
        self.type_text.push((selector.into(), text.into()));
        self
    }

    /// Shows the page in the dark colour scheme (`prefers-color-scheme: dark`).
    pub fn dark(mut self) -> Self {
        self.color_scheme = Some("dark".into());
        self
    }

    /// Reads the computed value of the CSS property `name` on the first match of `selector`.
    pub fn computed(mut self, selector: impl Into<String>, name: impl Into<String>) -> Self {
        self.computed.push((selector.into(), name.into()));
        self
    }

    /// Follows the first link matching `selector` (after everything else was read).
    pub fn follow(mut self, selector: impl Into<String>) -> Self {
        self.follow.push(selector.into());
        self
    }

    /// Counts the visible elements matching `selector` after typing.
    pub fn after_type_count(mut self, selector: impl Into<String>) -> Self {
        self.after_type_count.push(selector.into());
        self
    }
}

/// What the browser saw on one [`Page`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Visited {
    /// The page's address, as asked.
    pub url: String,
    /// The HTTP status of the main response; `None` when the navigation failed.
    pub status: Option<u16>,
    /// The message of every dialog (`alert`, `confirm`, ...) that opened; each was dismissed.
    pub dialogs: Vec<String>,
    /// Console messages of type error, then uncaught exceptions (as `uncaught: MESSAGE`).
    pub console_errors: Vec<String>,
    /// CSP violations, each as `DIRECTIVE BLOCKED-URI` (e.g. `script-src-elem inline`).
    pub csp: Vec<String>,
    /// Requests to any origin other than the page's own; they were aborted.
    pub external: Vec<String>,
    /// For each of [`Page::count`]: how many elements matched.
    pub count: BTreeMap<String, usize>,
    /// For each of [`Page::text`]: the first match's `textContent`; `None` when nothing matched.
    pub text: BTreeMap<String, Option<String>>,
    /// For each of [`Page::attr`], keyed `selector|attribute` (see [`Visited::attr_of`]): the
    /// attribute's value; `None` when nothing matched or the attribute is absent.
    pub attr: BTreeMap<String, Option<String>>,
    /// For [`Page::images_loaded`]: `(matched <img>, loaded ones)`, an image being loaded when
    /// it is `complete` with a `naturalWidth` above 0.
    #[serde(deserialize_with = "images")]
    pub images: Option<(usize, usize)>,
    /// For each of [`Page::after_type_count`]: how many visible elements matched after typing.
    /// Empty when nothing was typed.
    #[serde(deserialize_with = "null_as_default")]
    pub after_type: BTreeMap<String, usize>,
    /// For each of [`Page::computed`], keyed `selector|property`: the computed value; `None`
    /// when nothing matched.
    #[serde(default)]
    pub computed: BTreeMap<String, Option<String>>,
    /// For each of [`Page::follow`]: what loading the link gave.
    #[serde(default)]
    pub followed: BTreeMap<String, Followed>,
    /// Why the page could not be (entirely) read: a navigation error, a bad selector, an input
    /// that could not be filled, ... What was read before it is kept.
    pub error: Option<String>,
}

/// A link that [`Page::follow`] followed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Followed {
    /// The link's absolute `href`; `None` when no link matched.
    pub url: Option<String>,
    /// The HTTP status of the page it led to.
    pub status: Option<u16>,
    /// CSP violations on that page.
    pub csp: Vec<String>,
    /// Why it could not be followed.
    pub error: Option<String>,
}

impl Visited {
    /// The computed value read for [`Page::computed`]`(selector, property)`, if any.
    pub fn computed_of(&self, selector: &str, property: &str) -> Option<&str> {
        self.computed
            .get(&format!("{selector}|{property}"))
            .and_then(|v| v.as_deref())
    }

    /// The value read for [`Page::attr`]`(selector, name)`, if any.
    pub fn attr_of(&self, selector: &str, name: &str) -> Option<&str> {
        self.attr
            .get(&format!("{selector}|{name}"))
            .and_then(|v| v.as_deref())
    }
}

fn images<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(usize, usize)>, D::Error> {
    #[derive(Deserialize)]
    struct Images {
        matched: usize,
        loaded: usize,
    }
    Ok(Option::<Images>::deserialize(d)?.map(|i| (i.matched, i.loaded)))
}

fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One page of the plan that `check.mjs` reads.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanPage<'a> {
    url: &'a str,
    screenshot: Option<PathBuf>,
    count: &'a [String],
    text: &'a [String],
    attr: &'a [(String, String)],
    images_loaded: Option<&'a str>,
    #[serde(rename = "type")]
    type_text: Option<&'a [(String, String)]>,
    after_type_count: Option<&'a [String]>,
    color_scheme: Option<&'a str>,
    computed: &'a [(String, String)],
    follow: &'a [String],
}

#[derive(Serialize)]
struct Plan<'a> {
    pages: Vec<PlanPage<'a>>,
}

#[derive(Deserialize)]
struct Outcome {
    pages: Vec<Visited>,
}

fn plan_json(pages: &[Page]) -> Result<String, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    let plan = Plan {
        pages: pages
            .iter()
            .map(|p| PlanPage {
                url: &p.url,
                screenshot: p.screenshot.as_ref().map(|s| cwd.join(s)),
                count: &p.count,
                text: &p.text,
                attr: &p.attr,
                images_loaded: p.images_loaded.as_deref(),
                type_text: (!p.type_text.is_empty()).then_some(p.type_text.as_slice()),
                after_type_count: (!p.type_text.is_empty())
                    .then_some(p.after_type_count.as_slice()),
                color_scheme: p.color_scheme.as_deref(),
                computed: &p.computed,
                follow: &p.follow,
            })
            .collect(),
    };
    serde_json::to_string(&plan).map_err(|e| format!("the plan: {e}"))
}

fn parse_outcome(stdout: &str, expected: usize) -> Result<Vec<Visited>, String> {
    let outcome: Outcome = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("check.mjs printed no result ({e}): {stdout}"))?;
    if outcome.pages.len() != expected {
        return Err(format!(
            "check.mjs reported {} pages for {expected}",
            outcome.pages.len()
        ));
    }
    Ok(outcome.pages)
}

/// The root of the repository: the nearest ancestor of this crate holding `.ci/browser`.
fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|d| d.join(CHECK_SCRIPT).is_file())
        .map_or_else(|| manifest.join("../.."), Path::to_path_buf)
}

/// The Chromium to drive: `$CHROMIUM` when set and not empty, else [`DEFAULT_CHROMIUM`].
fn chromium() -> PathBuf {
    match std::env::var_os("CHROMIUM") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(DEFAULT_CHROMIUM),
    }
}

/// Whether browser tests can run here: `Ok` when `node` runs, `.ci/browser`'s
/// `playwright-core` is installed and a Chromium executable exists (`$CHROMIUM`, else
/// `/usr/bin/chromium`); otherwise why not.
pub fn available() -> Result<(), String> {
    match Command::new("node")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => {}
        Ok(out) => return Err(format!("`node --version` failed: {}", out.status)),
        Err(e) => return Err(format!("node is not installed (`node --version`: {e})")),
    }
    let root = repo_root();
    if !root.join(CHECK_SCRIPT).is_file() {
        return Err(format!("{} is missing", root.join(CHECK_SCRIPT).display()));
    }
    if !root.join(PLAYWRIGHT).is_file() {
        return Err(format!(
            "playwright-core is not installed in {}: run `npm ci --prefix .ci/browser`",
            root.join(".ci/browser").display()
        ));
    }
    let chromium = chromium();
    if !chromium.is_file() {
        return Err(format!(
            "no Chromium at {} (set CHROMIUM, or `apt-get install chromium`)",
            chromium.display()
        ));
    }
    Ok(())
}

/// Whether a browser test should return at once: when [`available`] says no, prints
/// `skipping browser test: REASON` on stderr and returns `true`.
///
/// # Panics
///
/// When the browser is not available and `CI` is `true`: CI must run the browser tests.
pub fn skip_unless_available() -> bool {
    match available() {
        Ok(()) => false,
        Err(reason) => {
            let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
            assert!(!ci, "browser tests must run in CI (CI=true): {reason}");
            eprintln!("skipping browser test: {reason}");
            true
        }
    }
}

/// Visits `pages` in order in one headless Chromium, and returns what it saw on each, in the
/// same order. A page that fails has its [`Visited::error`] set; `Err` is for the harness itself
/// (not [`available`], the browser would not start, `check.mjs` failed or timed out).
pub fn browse(pages: &[Page]) -> Result<Vec<Visited>, String> {
    available()?;
    let root = repo_root();
    let mut plan = tempfile::NamedTempFile::new().map_err(|e| format!("plan file: {e}"))?;
    plan.write_all(plan_json(pages)?.as_bytes())
        .and_then(|()| plan.flush())
        .map_err(|e| format!("plan file: {e}"))?;
    // Output goes to files, not pipes, so that waiting with a deadline cannot block on a full
    // pipe.
    let mut stdout = tempfile::tempfile().map_err(|e| format!("stdout file: {e}"))?;
    let mut stderr = tempfile::tempfile().map_err(|e| format!("stderr file: {e}"))?;
    let clone = |f: &File| f.try_clone().map_err(|e| format!("output file: {e}"));
    let mut child = Command::new("node")
        .arg(root.join(CHECK_SCRIPT))
        .arg(plan.path())
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(clone(&stdout)?)
        .stderr(clone(&stderr)?)
        .spawn()
        .map_err(|e| format!("node {CHECK_SCRIPT}: {e}"))?;

    // Each page may take its 30 s navigation plus a few 10 s actions; the launch up to 60 s.
    let page_count = u32::try_from(pages.len()).unwrap_or(u32::MAX);
    let deadline =
        Instant::now() + Duration::from_secs(90).saturating_mul(page_count.saturating_add(1));
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                // Killing node closes Chromium's pipe, and Chromium exits with it.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("node {CHECK_SCRIPT} timed out"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("node {CHECK_SCRIPT}: {e}")),
        }
    };

    let read = |f: &mut File| -> Result<String, String> {
        let mut text = String::new();
        f.seek(SeekFrom::Start(0))
            .and_then(|_| f.read_to_string(&mut text))
            .map_err(|e| format!("output of {CHECK_SCRIPT}: {e}"))?;
        Ok(text)
    };
    let out = read(&mut stdout)?;
    let err = read(&mut stderr)?;
    if !status.success() {
        return Err(format!(
            "node {CHECK_SCRIPT} failed ({status}): {}",
            err.trim()
        ));
    }
    parse_outcome(&out, pages.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_has_the_fields_check_mjs_reads() {
        let pages = [
            Page::new("http://127.0.0.1:1/")
                .count("li")
                .text("h1")
                .attr("a", "href")
                .images_loaded("img")
                .screenshot("/tmp/s.png")
                .type_into("#q", "abc")
                .after_type_count("tr")
                .dark()
                .computed("body", "color")
                .follow("a.next"),
            Page::new("http://127.0.0.1:1/b"),
        ];
        let plan: serde_json::Value =
            serde_json::from_str(&plan_json(&pages).expect("plan")).expect("json");
        assert_eq!(
            plan,
            serde_json::json!({"pages": [
                {"url": "http://127.0.0.1:1/", "screenshot": "/tmp/s.png", "count": ["li"],
                 "text": ["h1"], "attr": [["a", "href"]], "imagesLoaded": "img",
                 "type": [["#q", "abc"]], "afterTypeCount": ["tr"], "colorScheme": "dark",
                 "computed": [["body", "color"]], "follow": ["a.next"]},
                {"url": "http://127.0.0.1:1/b", "screenshot": null, "count": [], "text": [],
                 "attr": [], "imagesLoaded": null, "type": null, "afterTypeCount": null,
                 "colorScheme": null, "computed": [], "follow": []},
            ]})
        );
    }

    #[test]
    fn a_relative_screenshot_path_is_made_absolute() {
        let plan: serde_json::Value =
            serde_json::from_str(&plan_json(&[Page::new("u").screenshot("s.png")]).expect("plan"))
                .expect("json");
        let path = plan["pages"][0]["screenshot"].as_str().expect("a path");
        assert!(Path::new(path).is_absolute(), "{path}");
    }

    #[test]
    fn the_result_is_parsed() {
        let out = r#"{"pages":[
            {"url":"u","status":200,"dialogs":["1"],"consoleErrors":["e"],"csp":["img-src x"],
             "external":["http://x/"],"count":{"li":3},"text":{"h1":"T","p":null},
             "attr":{"a|href":"/x","a|title":null},"images":{"matched":2,"loaded":1},
             "afterType":{"tr":4},"error":null},
            {"url":"v","status":null,"dialogs":[],"consoleErrors":[],"csp":[],"external":[],
             "count":{},"text":{},"attr":{},"images":null,"afterType":null,"error":"boom"}]}"#;
        let visited = parse_outcome(out, 2).expect("parsed");
        assert_eq!(visited[0].status, Some(200));
        assert_eq!(visited[0].count["li"], 3);
        assert_eq!(visited[0].text["p"], None);
        assert_eq!(visited[0].attr_of("a", "href"), Some("/x"));
        assert_eq!(visited[0].attr_of("a", "title"), None);
        assert_eq!(visited[0].images, Some((2, 1)));
        assert_eq!(visited[0].after_type["tr"], 4);
        assert_eq!(visited[1].images, None);
        assert!(visited[1].after_type.is_empty());
        assert_eq!(visited[1].error.as_deref(), Some("boom"));
        assert!(parse_outcome(out, 3).is_err());
        assert!(parse_outcome("", 0).is_err());
    }
}
