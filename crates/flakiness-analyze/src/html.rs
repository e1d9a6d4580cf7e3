//! One self-contained HTML page of an analysis: the ranked list with a history strip per test,
//! a flake-rate trend chart (inline SVG), incidents and failure patterns. No script, no
//! external request (a Content-Security-Policy says so), every text escaped.

use std::fmt::Write as _;

use crate::{short_commit, Analysis, Classification, TestAnalysis};

/// `s` with `& < > " '` escaped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{background:#f5f6f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.flaky{color:#9a6700}.broken{color:#cf222e}.stable{color:#1a7f37}.skipped{color:#6e7781}
.strip{white-space:nowrap;font-size:0}.strip i{display:inline-block;width:6px;height:14px;margin-right:1px}
.P{background:#2da44e}.F{background:#cf222e}.K{background:#d4a72c}.S{background:#c6cbd1}.I{background:#8250df}.C{background:#8c959f}.R{background:#fb8f44}.x{background:#eef0f2}
.ev{color:#57606a;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}
svg{background:#fafbfc;border:1px solid #e3e6ea}
";

/// The page.
pub fn render_html(a: &Analysis) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>Flaky test analysis</title><style>{STYLE}</style></head><body>\
         <h1>Flaky test analysis</h1><p id=\"counts\">{}</p>",
        escape(&a.counts_line())
    );
    trend(&mut h, a);
    let listed: Vec<&TestAnalysis> = a.listed().collect();
    let _ = write!(
        h,
        "<h2>Flaky and broken tests, new failures</h2>\
         <p class=\"legend\">latest runs, oldest first:<i class=\"P\"></i>passed<i class=\"K\"></i>flaky (retry)\
         <i class=\"F\"></i>failed<i class=\"S\"></i>skipped<i class=\"I\"></i>incident (set aside)\
         <i class=\"C\"></i>cancelled (set aside)<i class=\"R\"></i>fixed regression (set aside)<i class=\"x\"></i>no result</p>\
         <table id=\"tests\"><thead><tr><th>Class</th><th>Score</th><th>Confidence</th><th>Test</th>\
         <th>Environment</th><th>History</th></tr></thead><tbody>"
    );
    for t in &listed {
        let class = t.classification.as_str();
        let shown = if t.evidence.new_failure && t.classification == Classification::Stable {
            "new failure"
        } else {
            class
        };
        let _ = write!(
            h,
            "<tr class=\"test\"><td class=\"{class}\">{shown}</td><td class=\"n\">{:.2}</td><td class=\"n\">{:.2}</td>\
             <td>{}<div class=\"ev\">{}</div>",
            t.score,
            t.confidence,
            escape(&t.display_name()),
            escape(&t.evidence_line()),
        );
        if let Some(m) = t.examples.first() {
            let first: String = m
                .lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect();
            let _ = write!(h, "<div class=\"ev\">e.g. {}</div>", escape(&first));
        }
        let _ = write!(
            h,
            "</td><td>{}</td><td class=\"strip\">",
            escape(&t.environment)
        );
        for c in t.history.chars() {
            let cls = match c {
                'P' | 'F' | 'K' | 'S' | 'I' | 'C' | 'R' => c,
                _ => 'x',
            };
            let _ = write!(h, "<i class=\"{cls}\"></i>");
        }
        h.push_str("</td></tr>");
    }
    h.push_str("</tbody></table>");
    if !a.incidents.is_empty() {
        h.push_str(
            "<h2>Incidents</h2><p class=\"ev\">Runs where many tests of one environment failed with one error: \
             those failures are set aside.</p><table id=\"incidents\"><thead><tr><th>#</th><th>Run</th><th>Commit</th>\
             <th>Environment</th><th>Hit</th><th>Passed on retry</th><th>Error</th></tr></thead><tbody>",
        );
        for i in &a.incidents {
            let _ = write!(
                h,
                "<tr><td class=\"n\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td class=\"n\">{} of {}</td>\
                 <td class=\"n\">{}</td><td><code>{}</code>{}</td></tr>",
                i.id,
                escape(&i.source),
                escape(&short_commit(&i.commit_id)),
                escape(&i.environment),
                i.hit,
                i.ran,
                i.retry_passed,
                escape(&i.signature),
                i.cause.map(|c| format!(" ({})", escape(c))).unwrap_or_default()
            );
        }
        h.push_str("</tbody></table>");
    }
    if !a.patterns.is_empty() {
        h.push_str(
            "<h2>Failure patterns</h2><table id=\"patterns\"><thead><tr><th>Signature</th>\
             <th>Failures</th><th>Tests</th><th>Kind</th><th>For example</th></tr></thead><tbody>",
        );
        for p in a.patterns.iter().take(30) {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                escape(&p.signature),
                p.failures,
                p.tests,
                p.kind,
                escape(&p.example_tests.join("; "))
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</body></html>\n");
    h
}

/// The flake-rate trend under its heading.
fn trend(h: &mut String, a: &Analysis) {
    h.push_str("<h2>Flake-rate trend</h2>");
    h.push_str(&trend_svg(a));
}

/// A day of Unix milliseconds, `YYYY-MM-DD` (UTC).
fn day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The flake-rate trend as an inline SVG (`svg#trend`): per run, flaky and failed results per
/// result that ran, counted as the classification counts them (a failure of a flaky test is a
/// flaky result; incident and cancelled results are set aside), as two lines over axes with
/// percentages and dates; incident runs marked. Attributes only, no `style`.
pub fn trend_svg(a: &Analysis) -> String {
    let mut s = String::new();
    let h = &mut s;
    const W: f64 = 800.0;
    const H: f64 = 200.0;
    const LEFT: f64 = 52.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 24.0;
    const BOTTOM: f64 = 36.0;
    let n = a.trend.len();
    let _ = write!(
        h,
        "<svg id=\"trend\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" \
         role=\"img\" aria-label=\"flaky and failed results per result that ran, per run\">"
    );
    if n == 0 {
        h.push_str("</svg>");
        return s;
    }
    let rate = |x: u64, of: u64| if of == 0 { 0.0 } else { x as f64 / of as f64 };
    let top = a
        .trend
        .iter()
        .map(|p| rate(p.flaky, p.ran).max(rate(p.failed, p.ran)))
        .fold(0.0f64, f64::max)
        .max(0.01);
    // A round top for the axis: 1, 2 or 5 times a power of ten (in percent).
    let pct = top * 100.0;
    let mag = 10f64.powf(pct.log10().floor());
    let nice = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|v| *v >= pct - 1e-9)
        .unwrap_or(pct);
    let max = nice / 100.0;
    let x = |i: usize| {
        if n == 1 {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (W - LEFT - RIGHT) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| H - BOTTOM - (H - TOP - BOTTOM) * (v / max);
    // Axes, grid lines and labels.
    let _ = write!(
        h,
        "<g class=\"axes\" stroke=\"#8c959f\" stroke-width=\"1\">\
         <line x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{0}\"/>\
         <line x1=\"{LEFT}\" x2=\"{1}\" y1=\"{0}\" y2=\"{0}\"/></g>",
        H - BOTTOM,
        W - RIGHT
    );
    for k in 0..=4 {
        let v = max * k as f64 / 4.0;
        let yy = y(v);
        if k > 0 {
            let _ = write!(
                h,
                "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{0}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e3e6ea\"/>",
                W - RIGHT
            );
        }
        let label = v * 100.0;
        let text = if nice < 4.0 {
            format!("{label:.1}%")
        } else {
            format!("{label:.0}%")
        };
        let _ = write!(
            h,
            "<text class=\"ylabel\" x=\"{0}\" y=\"{1:.1}\" font-size=\"10\" text-anchor=\"end\">{text}</text>",
            LEFT - 4.0,
            yy + 3.0
        );
    }
    // Dates: the first run, the last, and up to three between.
    let ticks = n.min(5);
    let mut shown: Vec<usize> = (0..ticks)
        .map(|k| {
            if ticks == 1 {
                0
            } else {
                k * (n - 1) / (ticks - 1)
            }
        })
        .collect();
    shown.dedup();
    for (k, &i) in shown.iter().enumerate() {
        let anchor = if shown.len() > 1 && k == 0 {
            "start"
        } else if shown.len() > 1 && k == shown.len() - 1 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            h,
            "<line class=\"tick\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#8c959f\"/>\
             <text class=\"xlabel\" x=\"{0:.1}\" y=\"{3}\" font-size=\"10\" text-anchor=\"{anchor}\">{4}</text>",
            x(i),
            H - BOTTOM,
            H - BOTTOM + 4.0,
            H - BOTTOM + 16.0,
            escape(&day(a.trend[i].start_ms))
        );
    }
    let _ = write!(
        h,
        "<text x=\"{0}\" y=\"{1}\" font-size=\"10\" text-anchor=\"middle\">run start ({n} runs)</text>",
        LEFT + (W - LEFT - RIGHT) / 2.0,
        H - 4.0
    );
    for (i, p) in a.trend.iter().enumerate() {
        if p.incident {
            let _ = write!(
                h,
                "<line class=\"incident\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{TOP}\" y2=\"{1}\" stroke=\"#8250df\" stroke-dasharray=\"3 3\"/>",
                x(i),
                H - BOTTOM
            );
        }
    }
    for (field, color) in [("flaky", "#d4a72c"), ("failed", "#cf222e")] {
        let points: Vec<String> = a
            .trend
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let v = if field == "flaky" {
                    rate(p.flaky, p.ran)
                } else {
                    rate(p.failed, p.ran)
                };
                format!("{:.1},{:.1}", x(i), y(v))
            })
            .collect();
        let _ = write!(
            h,
            "<polyline class=\"{field}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{}\"/>",
            points.join(" ")
        );
    }
    let _ = write!(
        h,
        "<text x=\"{LEFT}\" y=\"14\" font-size=\"11\">share of the results that ran: \
         <tspan fill=\"#d4a72c\">flaky</tspan> · <tspan fill=\"#cf222e\">failed</tspan> · \
         <tspan fill=\"#8250df\">incident run</tspan></text></svg>"
    );
    s
}
