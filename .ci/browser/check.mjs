// Loads pages in Debian's headless Chromium through Playwright and reports what it saw, for the
// Rust browser tests (crates/flakiness-browser-test).
//
//   node .ci/browser/check.mjs PLAN.json
//
// PLAN.json: {"pages": [{"url": "...", "screenshot": "/abs/path.png" | null,
//   "count": [sel...], "text": [sel...], "attr": [[sel, name]...], "imagesLoaded": sel | null,
//   "type": [[sel, text]...] | null, "afterTypeCount": [sel...] | null,
//   "colorScheme": "light" | "dark" | null, "computed": [[sel, cssProperty]...],
//   "follow": [sel...]}]}
//
// Prints {"pages": [{url, status, dialogs, consoleErrors, csp, external, count, text, attr,
// images, afterType, computed, followed, error}]} on stdout and exits 0. A page that fails (navigation error, bad
// selector, ...) gets its message in `error`. Exits 2, with a message on stderr, only when the
// plan cannot be read or the browser cannot be launched.
//
// Never downloads a browser: playwright-core drives the executable in $CHROMIUM, else
// /usr/bin/chromium. Requests to any origin other than the page's own are recorded in `external`
// and aborted, so a test run never reaches the network.

import { readFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium } from 'playwright-core';

const NAV_TIMEOUT_MS = 30_000;
const ACTION_TIMEOUT_MS = 10_000;
const AFTER_TYPE_WAIT_MS = 300;

function fail(message) {
  process.stderr.write(`check.mjs: ${message}\n`);
  process.exitCode = 2;
}

function readPlan(path) {
  if (!path) throw new Error('usage: node check.mjs PLAN.json');
  const plan = JSON.parse(readFileSync(path, 'utf8'));
  if (!plan || !Array.isArray(plan.pages)) throw new Error(`${path}: no "pages" array`);
  return plan;
}

// Playwright's messages carry terminal colours; the report is read by tests, not a terminal.
function message(e) {
  return String(e?.message ?? e).replace(/\u001b\[[0-9;]*m/g, '');
}

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

// Whether a request leaves the page's own origin. Only network schemes count: data:, blob:,
// about: and the like never reach a host.
function isExternal(url, origin) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (!['http:', 'https:', 'ws:', 'wss:', 'ftp:'].includes(parsed.protocol)) return false;
  return parsed.origin !== origin;
}

// Runs in the page before any of its scripts: keeps every CSP violation.
function cspRecorder() {
  window.__csp = [];
  document.addEventListener(
    'securitypolicyviolation',
    (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
    true,
  );
}

/** What a visit reports before anything is seen. */
function emptyResult(url) {
  return {
    url,
    status: null,
    dialogs: [],
    consoleErrors: [],
    csp: [],
    external: [],
    count: {},
    text: {},
    attr: {},
    images: null,
    afterType: null,
    computed: {},
    followed: {},
    error: null,
  };
}

async function visit(browser, entry) {
  const url = String(entry.url);
  const origin = originOf(url);
  const result = emptyResult(url);
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    colorScheme: entry.colorScheme || 'light',
  });
  try {
    await context.route(
      (u) => isExternal(u.href, origin),
      (route) => route.abort('blockedbyclient'),
    );
    await context.addInitScript(cspRecorder);
    const page = await context.newPage();
    page.setDefaultTimeout(ACTION_TIMEOUT_MS);
    page.on('dialog', (dialog) => {
      result.dialogs.push(dialog.message());
      dialog.dismiss().catch(() => {});
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') result.consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => result.consoleErrors.push(`uncaught: ${message(err)}`));
    page.on('request', (req) => {
      if (isExternal(req.url(), origin)) result.external.push(req.url());
    });

    let response;
    try {
      response = await page.goto(url, { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
    } catch (e) {
      result.error = `navigation: ${message(e)}`;
      return result;
    }
    result.status = response ? response.status() : null;

    try {
      // Violations are reported in tasks of their own: let them run before reading.
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50)));
      result.csp = await page.evaluate(() => window.__csp || []);

      const counts = await page.evaluate(
        (sels) => sels.map((s) => document.querySelectorAll(s).length),
        entry.count || [],
      );
      (entry.count || []).forEach((sel, i) => (result.count[sel] = counts[i]));

      const texts = await page.evaluate(
        (sels) => sels.map((s) => document.querySelector(s)?.textContent ?? null),
        entry.text || [],
      );
      (entry.text || []).forEach((sel, i) => (result.text[sel] = texts[i]));

      const attrs = await page.evaluate(
        (pairs) => pairs.map(([s, a]) => document.querySelector(s)?.getAttribute(a) ?? null),
        entry.attr || [],
      );
      (entry.attr || []).forEach(([sel, name], i) => (result.attr[`${sel}|${name}`] = attrs[i]));

      const computed = await page.evaluate(
        (pairs) =>
          pairs.map(([s, p]) => {
            const e = document.querySelector(s);
            return e ? getComputedStyle(e).getPropertyValue(p) : null;
          }),
        entry.computed || [],
      );
      (entry.computed || []).forEach(([sel, prop], i) => (result.computed[`${sel}|${prop}`] = computed[i]));

      if (entry.imagesLoaded) {
        result.images = await page.evaluate((sel) => {
          const imgs = [...document.querySelectorAll(sel)].filter(
            (e) => e instanceof HTMLImageElement,
          );
          return {
            matched: imgs.length,
            loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
          };
        }, entry.imagesLoaded);
      }

      if (entry.screenshot) {
        mkdirSync(dirname(entry.screenshot), { recursive: true });
        await page.screenshot({ path: entry.screenshot, fullPage: true });
      }

      if (entry.type && entry.type.length > 0) {
        for (const [sel, text] of entry.type) await page.fill(sel, text);
        await page.waitForTimeout(AFTER_TYPE_WAIT_MS);
        const sels = entry.afterTypeCount || [];
        const visible = await page.evaluate(
          (sels) =>
            sels.map(
              (s) =>
                [...document.querySelectorAll(s)].filter(
                  (e) =>
                    (e.offsetParent !== null || e.getClientRects().length > 0) &&
                    getComputedStyle(e).visibility !== 'hidden',
                ).length,
            ),
          sels,
        );
        result.afterType = {};
        sels.forEach((sel, i) => (result.afterType[sel] = visible[i]));
      }

      // Links followed last, each from the page as loaded: the first match's href, its status.
      const hrefs = await page.evaluate(
        (sels) => sels.map((s) => document.querySelector(s)?.href ?? null),
        entry.follow || [],
      );
      for (const [i, sel] of (entry.follow || []).entries()) {
        const href = hrefs[i];
        const followed = { url: href, status: null, csp: [], error: null };
        result.followed[sel] = followed;
        if (!href) {
          followed.error = 'no link matches';
          continue;
        }
        try {
          const r = await page.goto(href, { waitUntil: 'load', timeout: NAV_TIMEOUT_MS });
          followed.status = r ? r.status() : null;
          await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50)));
          followed.csp = await page.evaluate(() => window.__csp || []);
        } catch (e) {
          followed.error = message(e);
        }
      }
    } catch (e) {
      result.error = message(e);
    }
    return result;
  } finally {
    await context.close().catch(() => {});
  }
}

async function main() {
  let plan;
  try {
    plan = readPlan(process.argv[2]);
  } catch (e) {
    return fail(`cannot read the plan: ${message(e)}`);
  }

  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  let browser;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      timeout: 60_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (e) {
    return fail(`cannot launch ${executablePath}: ${message(e)}`);
  }

  const pages = [];
  try {
    for (const entry of plan.pages) {
      try {
        pages.push(await visit(browser, entry));
      } catch (e) {
        pages.push({ ...emptyResult(String(entry?.url)), error: message(e) });
      }
    }
  } finally {
    await browser.close().catch(() => {});
  }
  process.stdout.write(`${JSON.stringify({ pages })}\n`);
}

await main();
