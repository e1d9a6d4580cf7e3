//! Line charts as inline SVG: no script, no library, readable from one run to thousands.
//!
//! A [`Chart`] holds [`Series`] of [`Point`]s (a value at a Unix-millisecond time);
//! [`line_chart`] groups the points into buckets ([`Bucket`]: one per run while there are few,
//! else per UTC day, else per ISO week), combines each bucket's points ([`Combine`]) and draws
//! one line per series over axes with round ticks in the chart's [`Unit`], a circle per bucket
//! with a tooltip, and optionally a trailing rolling average. A bucket without a point is a gap
//! in its line, not a zero.
//!
//! The markup only has classes and geometry: colours, strokes and sizes come from the
//! stylesheet (`site.css`, `.chart`), so themes can recolour it, and it needs no `style`
//! attribute (the pages' Content-Security-Policy allows none). Every text is escaped, and
//! the output is the same for the same chart.

use maud::{html, Markup};

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;
/// Up to this many distinct timestamps, every one is its own bucket ([`Bucket::Run`]).
pub const RUN_BUCKETS_MAX: usize = 120;
/// Up to this many UTC days from the first point's to the last's (both counted), buckets are
/// days ([`Bucket::Day`]); past it, ISO weeks.
pub const DAY_SPAN_MAX: i64 = 120;
/// The most buckets a chart shows (so the most circles per series): a longer weekly history
/// shows its latest this many weeks.
pub const BUCKETS_MAX: usize = 400;
/// Buckets in the trailing window of the rolling average.
pub const ROLLING_WINDOW: usize = 7;
/// Times are clamped to ± this (about 273,790 years around 1970), so no arithmetic overflows.
const MS_LIMIT: i64 = 8_640_000_000_000_000;
/// Values and weights are clamped to ± this, so no sum overflows to infinity.
const VALUE_LIMIT: f64 = 1e15;

// The drawing: a viewBox of W × H, the plot inside the margins.
const W: f64 = 800.0;
const H: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 30.0;
/// Room between the plot's edges and the first and last bucket.
const PAD: f64 = 8.0;
/// The most x labels: 6, or 5 of the longer weekly ones (`wk of 2026-11-02`).
const X_TICKS: usize = 6;
const X_TICKS_WEEKS: usize = 5;

/// A sample: `value` at `ms` (Unix milliseconds), with a `weight` for [`Combine::Mean`].
///
/// A rate is sent as `value` = the rate and `weight` = its denominator, so that the mean of a
/// bucket is Σ numerator / Σ denominator. Points whose value is not finite are left out; a
/// weight that is negative or not finite counts as 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub ms: i64,
    pub value: f64,
    pub weight: f64,
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Shown in the legend and the tooltips.
    pub name: String,
    /// The CSS class of its line, circles and legend swatch: `flaky`, `failed`, `passed`,
    /// `broken`, `duration`, `lost` have colours in `site.css`.
    pub class: &'static str,
    /// In any order.
    pub points: Vec<Point>,
}

/// How values are shown on the axis and in the tooltips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A number: `12`, `2.5`, `14k`, `1.2M`.
    Count,
    /// A share from 0 to 1, shown as a percentage: `3.1 %`.
    Ratio,
    /// Milliseconds, shown as `350 ms`, `1.2 s`, `3 min`, `1.5 h`, `2 d`.
    Duration,
}

/// How the points of one bucket make its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Σ value.
    Sum,
    /// Σ value·weight / Σ weight; a bucket whose weights are all 0 is a gap.
    Mean,
    /// The largest value.
    Max,
}

/// What a chart groups its points by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Each distinct timestamp (at most [`RUN_BUCKETS_MAX`] of them).
    Run,
    /// The UTC day.
    Day,
    /// The ISO week, from Monday 00:00 UTC.
    Week,
}

impl Bucket {
    /// `run`, `day` or `week` (the svg's `data-bucket`).
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Run => "run",
            Bucket::Day => "day",
            Bucket::Week => "week",
        }
    }

    /// The start of the bucket that holds `ms`.
    fn key(self, ms: i64) -> i64 {
        let day = ms.div_euclid(DAY_MS);
        match self {
            Bucket::Run => ms,
            Bucket::Day => day * DAY_MS,
            // 1970-01-01 was a Thursday, 3 days after a Monday.
            Bucket::Week => (day - (day + 3).rem_euclid(7)) * DAY_MS,
        }
    }

    fn step(self) -> i64 {
        match self {
            Bucket::Run => 1,
            Bucket::Day => DAY_MS,
            Bucket::Week => WEEK_MS,
        }
    }
}

/// A chart: its series share the axes, the buckets and the unit.
#[derive(Debug, Clone)]
pub struct Chart<'a> {
    /// The `id` of the `figure` (the svg's title is `{id}-title`).
    pub id: &'a str,
    pub title: &'a str,
    pub unit: Unit,
    pub combine: Combine,
    pub series: Vec<Series>,
    /// Also draw each series' trailing average over [`ROLLING_WINDOW`] buckets.
    pub rolling: bool,
}

/// The buckets for points at these times: [`Bucket::Run`] for at most
/// [`RUN_BUCKETS_MAX`] distinct times, else [`Bucket::Day`] when the first and the last fall
/// within [`DAY_SPAN_MAX`] UTC days (both counted), else [`Bucket::Week`].
pub fn bucket_for(points: &[i64]) -> Bucket {
    let mut times: Vec<i64> = points.iter().map(|&t| clamp_ms(t)).collect();
    times.sort_unstable();
    times.dedup();
    match (times.first(), times.last()) {
        (Some(&first), Some(&last)) if times.len() > RUN_BUCKETS_MAX => {
            if last.div_euclid(DAY_MS) - first.div_euclid(DAY_MS) < DAY_SPAN_MAX {
                Bucket::Day
            } else {
                Bucket::Week
            }
        }
        _ => Bucket::Run,
    }
}

fn clamp_ms(ms: i64) -> i64 {
    ms.clamp(-MS_LIMIT, MS_LIMIT)
}

/// The points of one series in one bucket.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    n: usize,
    sum: f64,
    max: f64,
    sum_vw: f64,
    sum_w: f64,
}

impl Acc {
    fn add(&mut self, value: f64, weight: f64) {
        self.max = if self.n == 0 {
            value
        } else {
            self.max.max(value)
        };
        self.n += 1;
        self.sum += value;
        self.sum_vw += value * weight;
        self.sum_w += weight;
    }

    fn value(&self, combine: Combine) -> Option<f64> {
        match combine {
            _ if self.n == 0 => None,
            Combine::Sum => Some(self.sum),
            Combine::Max => Some(self.max),
            Combine::Mean if self.sum_w > 0.0 => Some(self.sum_vw / self.sum_w),
            Combine::Mean => None,
        }
    }
}

/// A chart's buckets and each series' values in them.
#[derive(Debug)]
struct Plot {
    bucket: Bucket,
    /// The start of each bucket, oldest first; for days and weeks every one from the first to
    /// the last (a bucket no series has a point in is a gap).
    slots: Vec<i64>,
    /// Per series, per slot.
    accs: Vec<Vec<Acc>>,
    /// Per series, per slot: the bucket's value, `None` for a gap.
    values: Vec<Vec<Option<f64>>>,
    /// Per series, per slot: the rolling average where the bucket has a value.
    rolling: Vec<Vec<Option<f64>>>,
}

fn plot(chart: &Chart) -> Plot {
    let clean: Vec<Vec<(i64, f64, f64)>> = chart
        .series
        .iter()
        .map(|s| {
            s.points
                .iter()
                .filter(|p| p.value.is_finite())
                .map(|p| {
                    let w = if p.weight.is_finite() { p.weight } else { 0.0 };
                    (
                        clamp_ms(p.ms),
                        p.value.clamp(-VALUE_LIMIT, VALUE_LIMIT),
                        w.clamp(0.0, VALUE_LIMIT),
                    )
                })
                .collect()
        })
        .collect();
    let times: Vec<i64> = clean.iter().flatten().map(|p| p.0).collect();
    let bucket = bucket_for(&times);
    let slots: Vec<i64> = match bucket {
        Bucket::Run => {
            let mut t = times;
            t.sort_unstable();
            t.dedup();
            t
        }
        Bucket::Day | Bucket::Week => {
            let first = times.iter().map(|&t| bucket.key(t)).min().unwrap_or(0);
            let last = times.iter().map(|&t| bucket.key(t)).max().unwrap_or(0);
            let step = bucket.step();
            let count = (last - first) / step + 1;
            let shown = count.min(BUCKETS_MAX as i64);
            let start = last - (shown - 1) * step;
            (0..shown).map(|i| start + i * step).collect()
        }
    };
    let slot_of = |ms: i64| -> Option<usize> {
        match bucket {
            Bucket::Run => slots.binary_search(&ms).ok(),
            Bucket::Day | Bucket::Week => {
                let key = bucket.key(ms);
                let first = *slots.first()?;
                (key >= first).then(|| ((key - first) / bucket.step()) as usize)
            }
        }
    };
    let accs: Vec<Vec<Acc>> = clean
        .iter()
        .map(|points| {
            let mut accs = vec![Acc::default(); slots.len()];
            for &(ms, value, weight) in points {
                if let Some(acc) = slot_of(ms).and_then(|i| accs.get_mut(i)) {
                    acc.add(value, weight);
                }
            }
            accs
        })
        .collect();
    let values: Vec<Vec<Option<f64>>> = accs
        .iter()
        .map(|a| a.iter().map(|acc| acc.value(chart.combine)).collect())
        .collect();
    let rolling = accs
        .iter()
        .zip(&values)
        .map(|(accs, values)| rolling_average(accs, values, chart.combine))
        .collect();
    Plot {
        bucket,
        slots,
        accs,
        values,
        rolling,
    }
}

/// At each bucket with a value, the average over it and the [`ROLLING_WINDOW`] − 1 before it:
/// for [`Combine::Mean`] the weighted mean of all their points (Σ value·weight / Σ weight),
/// else the mean of the values of the buckets that have one (gaps are not zeros).
fn rolling_average(accs: &[Acc], values: &[Option<f64>], combine: Combine) -> Vec<Option<f64>> {
    (0..values.len())
        .map(|i| {
            values[i]?;
            let window = i.saturating_sub(ROLLING_WINDOW - 1)..=i;
            match combine {
                Combine::Mean => {
                    let (vw, w) = accs[window]
                        .iter()
                        .fold((0.0, 0.0), |(vw, w), a| (vw + a.sum_vw, w + a.sum_w));
                    (w > 0.0).then(|| vw / w)
                }
                Combine::Sum | Combine::Max => {
                    let shown: Vec<f64> = values[window].iter().flatten().copied().collect();
                    (!shown.is_empty()).then(|| shown.iter().sum::<f64>() / shown.len() as f64)
                }
            }
        })
        .collect()
}

/// The y axis: its lowest and highest ticks and the step between ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    lo: f64,
    hi: f64,
    step: f64,
}

impl Scale {
    /// Round ticks (5 or 6 intervals at most) from `lo` to `hi`, 0 always included.
    fn new(unit: Unit, lo: f64, hi: f64) -> Scale {
        let (lo, mut hi) = (lo.min(0.0), hi.max(0.0));
        let least = match unit {
            Unit::Count => 1.0,
            Unit::Ratio => 0.01,
            Unit::Duration => 1000.0,
        };
        if hi - lo < least {
            hi = lo + least;
        }
        let raw = (hi - lo) / 5.0;
        let step = match unit {
            Unit::Count => nice(raw).max(1.0),
            Unit::Ratio => nice(raw),
            Unit::Duration => DURATION_STEPS
                .iter()
                .map(|&s| s as f64)
                .find(|&s| s >= raw)
                .unwrap_or_else(|| nice(raw / DAY_MS as f64) * DAY_MS as f64),
        };
        Scale {
            lo: (lo / step).floor() * step,
            hi: (hi / step).ceil() * step,
            step,
        }
    }

    fn ticks(&self) -> Vec<f64> {
        let n = ((self.hi - self.lo) / self.step).round().clamp(1.0, 20.0) as usize;
        (0..=n).map(|k| self.lo + self.step * k as f64).collect()
    }

    fn y(&self, v: f64) -> f64 {
        H - BOTTOM - (H - BOTTOM - TOP) * (v - self.lo) / (self.hi - self.lo)
    }
}

/// Round steps for a duration axis, in milliseconds (past a day: 1, 2, 5 × 10ᵏ days).
const DURATION_STEPS: [i64; 27] = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, // ms
    1_000, 2_000, 5_000, 10_000, 15_000, 30_000, // s
    60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, // min
    3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, // h
];

/// The least of 1, 2, 5 × 10ᵏ that is at least `raw` (> 0).
fn nice(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&v| v >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag)
}

/// `x` with up to `decimals` decimals, without trailing zeros, never `-0`.
fn trimmed(x: f64, decimals: usize) -> String {
    let mut s = format!("{x:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// `12`, `2.5`, `14k`, `1.2M`.
fn count_text(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{}M", trimmed(v / 1e6, 1))
    } else if a >= 1e4 {
        format!("{}k", trimmed(v / 1e3, 1))
    } else {
        trimmed(v, 1)
    }
}

/// `350 ms`, `1.2 s`, `3 min`, `1.5 h`, `2 d`, with up to `decimals` decimals.
fn duration_text(ms: f64, decimals: usize) -> String {
    let a = ms.abs();
    let (v, unit) = if a < 1000.0 {
        return format!("{} ms", trimmed(ms, 0));
    } else if a < 60_000.0 {
        (ms / 1000.0, "s")
    } else if a < 3_600_000.0 {
        (ms / 60_000.0, "min")
    } else if a < DAY_MS as f64 {
        (ms / 3_600_000.0, "h")
    } else {
        (ms / DAY_MS as f64, "d")
    };
    format!("{} {unit}", trimmed(v, decimals))
}

/// A value in a tooltip.
fn value_text(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Count => count_text(v),
        Unit::Ratio => format!("{} %", trimmed(v * 100.0, 1)),
        Unit::Duration => duration_text(v, 1),
    }
}

/// A y tick's label: as many decimals as the step needs.
fn tick_text(unit: Unit, v: f64, step: f64) -> String {
    match unit {
        Unit::Count => count_text(v),
        Unit::Ratio => {
            let pct = step * 100.0;
            let decimals = if pct >= 1.0 {
                0
            } else {
                (-pct.log10()).ceil().clamp(0.0, 6.0) as usize
            };
            format!("{} %", trimmed(v * 100.0, decimals))
        }
        Unit::Duration => {
            if v == 0.0 {
                "0".into()
            } else {
                duration_text(v, 2)
            }
        }
    }
}

fn utc(ms: i64, format: &str) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

/// The bucket in a tooltip: `2026-11-03 14:05`, `2026-11-03`, `week of 2026-11-02`.
fn bucket_text(bucket: Bucket, key: i64) -> String {
    match bucket {
        Bucket::Run => utc(key, "%Y-%m-%d %H:%M"),
        Bucket::Day => utc(key, "%Y-%m-%d"),
        Bucket::Week => format!("week of {}", utc(key, "%Y-%m-%d")),
    }
}

/// The x ticks: the first bucket, the last, and evenly between them, 6 at most (5 weeks); labelled
/// `2026-11-03` (runs of one day: `Nov 3 14:05`) or `wk of 2026-11-02`.
fn x_ticks(bucket: Bucket, slots: &[i64]) -> Vec<(usize, String)> {
    let n = slots.len();
    let k = n.min(if bucket == Bucket::Week {
        X_TICKS_WEEKS
    } else {
        X_TICKS
    });
    let mut at: Vec<usize> = (0..k)
        .map(|j| if k == 1 { 0 } else { j * (n - 1) / (k - 1) })
        .collect();
    at.dedup();
    let label = |format: &str| -> Vec<(usize, String)> {
        at.iter()
            .map(|&i| {
                let text = utc(slots[i], format);
                match bucket {
                    Bucket::Week => (i, format!("wk of {text}")),
                    Bucket::Run | Bucket::Day => (i, text),
                }
            })
            .collect()
    };
    let days = label("%Y-%m-%d");
    if bucket == Bucket::Run && days.windows(2).any(|w| w[0].1 == w[1].1) {
        label("%b %-d %H:%M")
    } else {
        days
    }
}

/// `x,y` with one decimal.
fn xy(x: f64, y: f64) -> String {
    format!("{x:.1},{y:.1}")
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// The path through `points` (slot index, y): a gap in `points` starts a new subpath
/// (`M`), so the line breaks there; a step of at most `join` slots is drawn.
fn path(points: &[(usize, f64)], x: &impl Fn(usize) -> f64, join: usize) -> String {
    let mut d = String::new();
    let mut last: Option<usize> = None;
    for &(i, y) in points {
        let cmd = match last {
            Some(l) if i - l <= join => 'L',
            _ => 'M',
        };
        if !d.is_empty() {
            d.push(' ');
        }
        d.push(cmd);
        d.push_str(&xy(x(i), y));
        last = Some(i);
    }
    d
}

fn count_of(n: usize) -> String {
    if n == 1 {
        "1 run".into()
    } else {
        format!("{n} runs")
    }
}

/// A line chart as a `figure.chart` holding an inline `svg.chart` (or, with no point at all,
/// a `p.empty` "No data yet.").
///
/// The svg has a `title`, axes (`g.axes`), grid lines (`line.grid`) and y tick labels
/// (`text.ytick`) at round steps of the unit, date labels on the x axis (`text.xtick`), a
/// `path.line.{class}` per series with points (broken at gaps), a `circle.pt.{class}` per
/// bucket with a value holding a `title` tooltip (`2026-11-03: 12 flaky (5 runs)`), and when
/// [`Chart::rolling`] a dashed `path.avg.{class}` per series. `data-bucket` says the
/// [`Bucket`], `data-points` how many buckets of the first series have a value. The legend
/// (`ul.legend`, in the `figcaption`) has a swatch (`i.swatch.{class}`) per series.
///
/// ```
/// use flakiness_web::chart::{line_chart, Chart, Combine, Point, Series, Unit};
///
/// let day = 86_400_000;
/// let chart = Chart {
///     id: "flake-rate",
///     title: "Flaky results per result that ran",
///     unit: Unit::Ratio,
///     combine: Combine::Mean,
///     series: vec![Series {
///         name: "flaky".into(),
///         class: "flaky",
///         // 3 flaky results of 100, then 1 of 50.
///         points: vec![
///             Point { ms: 0, value: 0.03, weight: 100.0 },
///             Point { ms: day, value: 0.02, weight: 50.0 },
///         ],
///     }],
///     rolling: false,
/// };
/// let html = line_chart(&chart).into_string();
/// assert!(html.contains(r#"<figure class="chart" id="flake-rate">"#));
/// assert!(html.contains(r#"data-bucket="run""#));
/// assert!(html.contains("1970-01-02 00:00: 2 % flaky"));
/// ```
pub fn line_chart(chart: &Chart) -> Markup {
    let p = plot(chart);
    let title_id = format!("{}-title", chart.id);
    let legend = html! {
        figcaption {
            span.chart-title { (chart.title) }
            ul.legend {
                @for s in &chart.series {
                    li { i class=(format!("swatch {}", s.class)) {} (s.name) }
                }
                @if chart.rolling {
                    li { i.swatch.avg {} "rolling average (" (ROLLING_WINDOW) " buckets)" }
                }
                @if p.bucket == Bucket::Week && p.slots.len() >= BUCKETS_MAX {
                    li.note { "the latest " (BUCKETS_MAX) " weeks" }
                }
            }
        }
    };
    if p.slots.is_empty() {
        return html! {
            figure.chart id=(chart.id) {
                figcaption { span.chart-title { (chart.title) } }
                p.empty { "No data yet." }
            }
        };
    }
    let all = p.values.iter().chain(&p.rolling).flatten().flatten();
    let lo = all.clone().copied().fold(0.0f64, f64::min);
    let hi = all.copied().fold(0.0f64, f64::max);
    let scale = Scale::new(chart.unit, lo, hi);
    let n = p.slots.len();
    let x = |i: usize| -> f64 {
        if n == 1 {
            (LEFT + W - RIGHT) / 2.0
        } else {
            LEFT + PAD + (W - LEFT - RIGHT - 2.0 * PAD) * i as f64 / (n - 1) as f64
        }
    };
    let plotted = |values: &[Option<f64>]| -> Vec<(usize, f64)> {
        values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, scale.y(v))))
            .collect()
    };
    let first_points = p.values.first().map_or(0, |v| v.iter().flatten().count());
    let base = H - BOTTOM;
    html! {
        figure.chart id=(chart.id) {
            (legend)
            svg.chart viewBox=(format!("0 0 {W} {H}")) role="img" aria-labelledby=(title_id)
                data-bucket=(p.bucket.as_str()) data-points=(first_points) {
                title id=(title_id) { (chart.title) }
                g.grid {
                    @for v in scale.ticks() {
                        line.grid x1=(LEFT) x2=(W - RIGHT) y1=(f1(scale.y(v))) y2=(f1(scale.y(v))) {}
                    }
                }
                g.axes {
                    line x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(base) {}
                    line x1=(LEFT) x2=(W - RIGHT) y1=(base) y2=(base) {}
                    @for (i, _) in x_ticks(p.bucket, &p.slots) {
                        line x1=(f1(x(i))) x2=(f1(x(i))) y1=(base) y2=(base + 4.0) {}
                    }
                }
                g.yticks {
                    @for v in scale.ticks() {
                        text.ytick x=(LEFT - 6.0) y=(f1(scale.y(v) + 4.0)) text-anchor="end" {
                            (tick_text(chart.unit, v, scale.step))
                        }
                    }
                }
                g.xticks {
                    @let ticks = x_ticks(p.bucket, &p.slots);
                    @for (k, (i, label)) in ticks.iter().enumerate() {
                        @let anchor = if ticks.len() == 1 { "middle" } else if k == 0 { "start" } else if k + 1 == ticks.len() { "end" } else { "middle" };
                        @let tx = match anchor { "start" => x(*i) - PAD, "end" => x(*i) + PAD, _ => x(*i) };
                        text.xtick x=(f1(tx)) y=(base + 18.0) text-anchor=(anchor) { (label) }
                    }
                }
                @if chart.rolling {
                    @for (s, avg) in chart.series.iter().zip(&p.rolling) {
                        @let points = plotted(avg);
                        @if !points.is_empty() {
                            path class=(format!("avg {}", s.class)) fill="none" stroke="currentColor"
                                d=(path(&points, &x, ROLLING_WINDOW)) {}
                        }
                    }
                }
                @for (s, values) in chart.series.iter().zip(&p.values) {
                    @let points = plotted(values);
                    @if !points.is_empty() {
                        path class=(format!("line {}", s.class)) fill="none" stroke="currentColor"
                            d=(path(&points, &x, 1)) {}
                    }
                }
                @for ((s, values), accs) in chart.series.iter().zip(&p.values).zip(&p.accs) {
                    g class=(format!("pts {}", s.class)) {
                        @for (i, v) in values.iter().enumerate() {
                            @if let Some(v) = v {
                                circle class=(format!("pt {}", s.class)) cx=(f1(x(i))) cy=(f1(scale.y(*v))) r="3" {
                                    title {
                                        (bucket_text(p.bucket, p.slots[i])) ": " (value_text(chart.unit, *v)) " " (s.name)
                                        @if p.bucket != Bucket::Run || accs[i].n > 1 { " (" (count_of(accs[i].n)) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = DAY_MS;
    /// 2026-11-02, a Monday, 00:00 UTC.
    const MONDAY: i64 = 1_793_577_600_000;

    fn series(name: &str, class: &'static str, points: Vec<(i64, f64, f64)>) -> Series {
        Series {
            name: name.into(),
            class,
            points: points
                .into_iter()
                .map(|(ms, value, weight)| Point { ms, value, weight })
                .collect(),
        }
    }

    fn chart(unit: Unit, combine: Combine, series: Vec<Series>) -> Chart<'static> {
        Chart {
            id: "c1",
            title: "Flaky results",
            unit,
            combine,
            series,
            rolling: true,
        }
    }

    fn render(c: &Chart) -> String {
        let html = line_chart(c).into_string();
        assert!(!html.contains("NaN"), "{html}");
        assert!(!html.contains("inf"), "{html}");
        assert!(!html.contains("style="), "{html}");
        html
    }

    /// A chart of one series of counts, summed.
    fn sums(class: &'static str, points: Vec<(i64, f64, f64)>) -> String {
        render(&chart(
            Unit::Count,
            Combine::Sum,
            vec![series("a", class, points)],
        ))
    }

    fn count(html: &str, needle: &str) -> usize {
        html.matches(needle).count()
    }

    /// The `d` of the first `path` with this class.
    fn d_of<'h>(html: &'h str, class: &str) -> &'h str {
        let at = html
            .find(&format!("<path class=\"{class}\""))
            .expect("path");
        let rest = &html[at..];
        let start = rest.find(" d=\"").expect("d") + 4;
        let end = rest[start..].find('"').expect("end");
        &rest[start..start + end]
    }

    #[test]
    fn buckets_by_run_up_to_120_timestamps_then_day_then_week() {
        let runs: Vec<i64> = (0..120).map(|i| MONDAY + i * 60_000).collect();
        assert_eq!(bucket_for(&runs), Bucket::Run);
        // Repeated times count once.
        let twice: Vec<i64> = runs.iter().chain(&runs).copied().collect();
        assert_eq!(bucket_for(&twice), Bucket::Run);
        let mut more = runs.clone();
        more.push(MONDAY + 120 * 60_000);
        assert_eq!(bucket_for(&more), Bucket::Day);
        // 121 times over days 0 to 119 (120 days): days; over days 0 to 120: weeks.
        let mut span: Vec<i64> = (0..120).map(|i| MONDAY + i * DAY + 3_600_000).collect();
        span.push(MONDAY + 119 * DAY + 86_399_999);
        assert_eq!(span.len(), 121);
        assert_eq!(bucket_for(&span), Bucket::Day);
        span.push(MONDAY + 120 * DAY);
        assert_eq!(bucket_for(&span), Bucket::Week);
        assert_eq!(bucket_for(&[]), Bucket::Run);
    }

    #[test]
    fn weeks_start_on_monday_utc() {
        assert_eq!(Bucket::Week.key(MONDAY), MONDAY);
        assert_eq!(Bucket::Week.key(MONDAY + 7 * DAY - 1), MONDAY);
        assert_eq!(Bucket::Week.key(MONDAY - 1), MONDAY - 7 * DAY);
        assert_eq!(utc(MONDAY, "%a %Y-%m-%d %H:%M"), "Mon 2026-11-02 00:00");
        // Before 1970 too: 1969-12-29 was a Monday.
        assert_eq!(Bucket::Week.key(-1), -3 * DAY);
        assert_eq!(Bucket::Day.key(-1), -DAY);
    }

    #[test]
    fn mean_is_weighted_for_rates() {
        // Day buckets: 121 runs over 3 days. Day 0: 1 flaky of 10 and 0 of 30 (2.5 %, not
        // the 5 % of the plain mean).
        let mut points = vec![
            (MONDAY + 1000, 0.1, 10.0),
            (MONDAY + 2000, 0.0, 30.0),
            (MONDAY + 3000, 0.0, 0.0),
        ];
        points.extend((0..118).map(|i| (MONDAY + DAY + i * 60_000, 0.5, 2.0)));
        let c = chart(
            Unit::Ratio,
            Combine::Mean,
            vec![series("flaky", "flaky", points)],
        );
        let p = plot(&c);
        assert_eq!(p.bucket, Bucket::Day);
        assert_eq!(p.slots.len(), 2);
        assert_eq!(p.values[0][0], Some(0.025));
        assert_eq!(p.values[0][1], Some(0.5));
        // The rolling average weighs the window's points: (1 + 118) / (40 + 236).
        let avg = p.rolling[0][1].expect("avg");
        assert!((avg - 119.0 / 276.0).abs() < 1e-12, "{avg}");
        let html = render(&c);
        assert!(
            html.contains("<title>2026-11-02: 2.5 % flaky (3 runs)</title>"),
            "{html}"
        );
        assert!(
            html.contains("<title>2026-11-03: 50 % flaky (118 runs)</title>"),
            "{html}"
        );
        assert!(html.contains("data-bucket=\"day\""));
        assert!(html.contains("data-points=\"2\""));
    }

    #[test]
    fn sum_max_and_all_zero_weights() {
        let pts = vec![
            (MONDAY, 2.0, 0.0),
            (MONDAY, 5.0, 0.0),
            (MONDAY + 1, 1.0, 0.0),
        ];
        let sum = plot(&chart(
            Unit::Count,
            Combine::Sum,
            vec![series("a", "flaky", pts.clone())],
        ));
        assert_eq!(sum.values[0], vec![Some(7.0), Some(1.0)]);
        let max = plot(&chart(
            Unit::Count,
            Combine::Max,
            vec![series("a", "flaky", pts.clone())],
        ));
        assert_eq!(max.values[0], vec![Some(5.0), Some(1.0)]);
        // A rate with no denominator is no data, not 0 %.
        let mean = chart(Unit::Ratio, Combine::Mean, vec![series("a", "flaky", pts)]);
        assert_eq!(plot(&mean).values[0], vec![None, None]);
        let html = render(&mean);
        assert!(html.contains("data-points=\"0\""));
        assert!(!html.contains("<circle"));
    }

    #[test]
    fn gaps_break_the_line() {
        // Runs: the second series has no point at the middle run.
        let a: Vec<(i64, f64, f64)> = (0..5).map(|i| (MONDAY + i * 1000, 1.0, 1.0)).collect();
        let b: Vec<(i64, f64, f64)> = a.iter().copied().filter(|p| p.0 != MONDAY + 2000).collect();
        let html = render(&chart(
            Unit::Count,
            Combine::Sum,
            vec![series("a", "passed", a), series("b", "failed", b)],
        ));
        let da = d_of(&html, "line passed");
        assert_eq!((count(da, "M"), count(da, "L")), (1, 4), "{da}");
        let db = d_of(&html, "line failed");
        assert_eq!((count(db, "M"), count(db, "L")), (2, 2), "{db}");
        assert_eq!(count(&html, "<circle class=\"pt failed\""), 4);
        // Days: nothing on days 40 to 49 of 0 to 99.
        let days: Vec<(i64, f64, f64)> = (0..100)
            .filter(|d| !(40..50).contains(d))
            .flat_map(|d| (0..2).map(move |k| (MONDAY + d * DAY + k * 1000, 1.0, 1.0)))
            .collect();
        let html = sums("flaky", days);
        assert!(html.contains("data-bucket=\"day\""));
        assert!(html.contains("data-points=\"90\""));
        let d = d_of(&html, "line flaky");
        assert_eq!((count(d, "M"), count(d, "L")), (2, 88), "{d}");
        // The average spans gaps shorter than its window only.
        let d = d_of(&html, "avg flaky");
        assert_eq!(count(d, "M"), 2, "{d}");
        assert_eq!(count(&html, "<circle"), 90);
    }

    #[test]
    fn two_thousand_runs_over_400_days_are_weeks() {
        let points: Vec<(i64, f64, f64)> = (0..2000)
            .map(|i| (MONDAY + i * 400 * DAY / 2000, (i % 7) as f64 / 10.0, 20.0))
            .collect();
        let c = Chart {
            id: "rate",
            title: "Flake rate",
            unit: Unit::Ratio,
            combine: Combine::Mean,
            series: vec![
                series("flaky", "flaky", points.clone()),
                series("failed", "failed", points),
            ],
            rolling: true,
        };
        let html = render(&c);
        assert!(html.contains("data-bucket=\"week\""));
        let circles = count(&html, "<circle class=\"pt flaky\"");
        assert!((50..=60).contains(&circles), "{circles}");
        assert!(html.contains(&format!("data-points=\"{circles}\"")));
        assert_eq!(count(&html, "<path class=\"avg "), 2);
        assert!(html.contains("<title>week of 2026-11-02: "), "{html}");
        assert!(html.contains(">wk of 2026-11-02</text>"), "{html}");
        assert_eq!(count(&html, "class=\"xtick\""), 5);
        assert!(html.contains(" (35 runs)</title>"), "{html}");
    }

    #[test]
    fn a_long_weekly_history_shows_its_latest_weeks() {
        let points: Vec<(i64, f64, f64)> = (0..1000)
            .map(|i| (MONDAY - i * 3 * DAY, 1.0, 1.0))
            .collect();
        let html = sums("lost", points);
        assert_eq!(count(&html, "<circle"), BUCKETS_MAX);
        assert!(html.contains("the latest 400 weeks"));
    }

    #[test]
    fn ticks_id_title_and_legend() {
        let points: Vec<(i64, f64, f64)> = (0..30)
            .map(|i| (MONDAY + i * 3_600_000, 800.0 + 97.0 * i as f64, 1.0))
            .collect();
        let c = Chart {
            id: "dur",
            title: "Duration <p95>",
            unit: Unit::Duration,
            combine: Combine::Max,
            series: vec![series("duration", "duration", points)],
            rolling: false,
        };
        let html = render(&c);
        assert!(
            html.starts_with("<figure class=\"chart\" id=\"dur\">"),
            "{html}"
        );
        assert!(html.contains("aria-labelledby=\"dur-title\""));
        assert!(html.contains("<title id=\"dur-title\">Duration &lt;p95&gt;</title>"));
        assert!(html.contains("role=\"img\""));
        assert!(html.contains("<g class=\"axes\">"));
        assert!(
            html.contains(
                "<text class=\"ytick\" x=\"58\" y=\"214.0\" text-anchor=\"end\">0</text>"
            ),
            "{html}"
        );
        let yticks = count(&html, "class=\"ytick\"");
        assert!((2..=8).contains(&yticks), "{yticks}");
        for tick in ["0", "1 s", "2 s", "3 s", "4 s"] {
            assert!(
                html.contains(&format!("text-anchor=\"end\">{tick}</text>")),
                "{tick}: {html}"
            );
        }
        let xticks = count(&html, "class=\"xtick\"");
        assert!((4..=8).contains(&xticks), "{xticks}");
        // 30 runs of one day: the x labels carry the time.
        assert!(html.contains(">Nov 2 00:00</text>"), "{html}");
        assert!(
            html.contains("<title>2026-11-02 05:00: 1.3 s duration</title>"),
            "{html}"
        );
        assert!(html.contains("<i class=\"swatch duration\"></i>duration"));
        assert!(!html.contains("rolling average"));
        assert!(!html.contains("class=\"avg"));
        assert!(html.contains("data-bucket=\"run\" data-points=\"30\""));
    }

    #[test]
    fn one_point() {
        for unit in [Unit::Count, Unit::Ratio, Unit::Duration] {
            for value in [0.0, 0.5, 7.0] {
                let c = chart(
                    unit,
                    Combine::Mean,
                    vec![series("flaky", "flaky", vec![(MONDAY, value, 1.0)])],
                );
                let html = render(&c);
                assert!(html.contains("data-points=\"1\""));
                assert_eq!(count(&html, "<circle"), 1);
                assert_eq!(count(&html, "class=\"xtick\""), 1);
                assert!(html.contains("<path class=\"line flaky\""));
                assert!(html.contains("<path class=\"avg flaky\""));
            }
        }
    }

    #[test]
    fn no_points() {
        for list in [vec![], vec![series("flaky", "flaky", vec![])]] {
            let html = render(&chart(Unit::Count, Combine::Sum, list));
            assert!(
                html.contains("<p class=\"empty\">No data yet.</p>"),
                "{html}"
            );
            assert!(!html.contains("<svg"));
            assert!(html.contains("<figure class=\"chart\" id=\"c1\">"));
            assert!(html.contains("<span class=\"chart-title\">Flaky results</span>"));
        }
    }

    #[test]
    fn names_and_titles_are_escaped() {
        let mut c = chart(
            Unit::Count,
            Combine::Sum,
            vec![series("<b>", "failed", vec![(MONDAY, 3.0, 1.0)])],
        );
        c.title = "a \"b\" <i>";
        c.id = "x\"y";
        let html = render(&c);
        assert!(!html.contains("<b>"));
        assert!(!html.contains("<i>"));
        assert!(html.contains("&lt;b&gt;"));
        assert!(
            html.contains("2026-11-02 00:00: 3 &lt;b&gt;</title>"),
            "{html}"
        );
        assert!(html.contains("id=\"x&quot;y\""));
    }

    #[test]
    fn wild_input_draws_no_nan() {
        let points = vec![
            (i64::MIN, 1.0, 1.0),
            (i64::MAX, f64::MAX, f64::INFINITY),
            (0, f64::NAN, 1.0),
            (5, f64::INFINITY, 1.0),
            (6, -3.0, -1.0),
            (7, 2.0, f64::NAN),
        ];
        for combine in [Combine::Sum, Combine::Mean, Combine::Max] {
            for unit in [Unit::Count, Unit::Ratio, Unit::Duration] {
                render(&chart(
                    unit,
                    combine,
                    vec![series("a", "flaky", points.clone())],
                ));
            }
        }
        // Many points at the extremes: weeks, the latest 400.
        let many: Vec<(i64, f64, f64)> = (0..300)
            .map(|i| {
                (
                    if i % 2 == 0 {
                        -8_000_000_000_000_000 + i
                    } else {
                        8_000_000_000_000_000 - i
                    },
                    i as f64,
                    1.0,
                )
            })
            .collect();
        let html = sums("flaky", many);
        assert!(html.contains("data-bucket=\"week\""));
        assert!(count(&html, "<circle") <= BUCKETS_MAX);
    }

    #[test]
    fn output_is_deterministic() {
        let points: Vec<(i64, f64, f64)> = (0..500)
            .map(|i| (MONDAY + i * 7_777_777, 1.0, 2.0))
            .collect();
        let c = chart(
            Unit::Ratio,
            Combine::Mean,
            vec![series("a", "flaky", points)],
        );
        assert_eq!(render(&c), render(&c));
    }

    #[test]
    fn formats() {
        assert_eq!(value_text(Unit::Duration, 350.0), "350 ms");
        assert_eq!(value_text(Unit::Duration, 1234.0), "1.2 s");
        assert_eq!(value_text(Unit::Duration, 180_000.0), "3 min");
        assert_eq!(value_text(Unit::Duration, 5_400_000.0), "1.5 h");
        assert_eq!(value_text(Unit::Duration, 2.0 * DAY as f64), "2 d");
        assert_eq!(value_text(Unit::Ratio, 0.031), "3.1 %");
        assert_eq!(value_text(Unit::Ratio, 0.0), "0 %");
        assert_eq!(value_text(Unit::Count, 12.0), "12");
        assert_eq!(value_text(Unit::Count, 2.24), "2.2");
        assert_eq!(value_text(Unit::Count, 14_000.0), "14k");
        assert_eq!(value_text(Unit::Count, 1_250_000.0), "1.2M");
        assert_eq!(value_text(Unit::Count, -0.01), "0");
        assert_eq!(tick_text(Unit::Ratio, 0.005, 0.005), "0.5 %");
        assert_eq!(tick_text(Unit::Ratio, 0.02, 0.01), "2 %");
        assert_eq!(tick_text(Unit::Duration, 4_500_000.0, 900_000.0), "1.25 h");
        let s = Scale::new(Unit::Ratio, 0.0, 0.031);
        assert_eq!(s.ticks().len(), 5, "{s:?}");
        assert!((s.step - 0.01).abs() < 1e-12, "{s:?}");
        let s = Scale::new(Unit::Count, 0.0, 3.0);
        assert_eq!(s.ticks(), vec![0.0, 1.0, 2.0, 3.0]);
        let s = Scale::new(Unit::Duration, 0.0, 130_000.0);
        assert_eq!(s.step, 30_000.0);
        let s = Scale::new(Unit::Duration, 0.0, 40.0 * DAY as f64);
        assert_eq!(s.step, 10.0 * DAY as f64);
        let s = Scale::new(Unit::Count, 0.0, 0.0);
        assert_eq!(s.ticks(), vec![0.0, 1.0]);
    }
}
