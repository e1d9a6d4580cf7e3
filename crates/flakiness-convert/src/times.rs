//! Durations and timestamps as JUnit writers spell them.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Seconds as written in `time="…"`: `1.5`, `1,234.5` (thousands separators), `1E-07`,
/// integers. Missing, empty, negative or non-finite values give `None`, never NaN.
pub fn parse_duration_secs(s: &str) -> Option<f64> {
    let s = s.trim();
    // Most values have no separator: parsed as they are, without a copy.
    let v: f64 = if s.contains([',', '_']) {
        let cleaned: String = s.chars().filter(|c| *c != ',' && *c != '_').collect();
        cleaned.parse().ok()?
    } else {
        s.parse().ok()?
    };
    (v.is_finite() && v >= 0.0).then_some(v)
}

/// Widens the span `(start, end)` of what was read so far to hold `start..end`.
pub(crate) fn widen(span: &mut Option<(f64, f64)>, start: f64, end: f64) {
    *span = Some(match *span {
        Some((a, b)) => (a.min(start), b.max(end)),
        None => (start, end),
    });
}

/// Common time-zone abbreviations JUnit writers emit (TestNG, Ant) and their UTC offsets.
const ZONES: &[(&str, i32)] = &[
    ("UTC", 0),
    ("GMT", 0),
    ("Z", 0),
    ("EST", -5),
    ("EDT", -4),
    ("CST", -6),
    ("CDT", -5),
    ("MST", -7),
    ("MDT", -6),
    ("PST", -8),
    ("PDT", -7),
    ("CET", 1),
    ("CEST", 2),
    ("BST", 1),
    ("IST", 5),
    ("JST", 9),
];

/// A timestamp as Unix milliseconds: RFC 3339 with or without zone, `T` or a space between
/// date and time, fractional seconds, a date alone, or a trailing zone abbreviation (`MDT`).
/// A timestamp without zone is taken as UTC.
pub fn parse_timestamp_ms(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let normalized = s.replacen(' ', "T", 1);
    if let Ok(dt) = DateTime::parse_from_rfc3339(&normalized) {
        return Some(dt.timestamp_millis() as f64);
    }
    let (body, offset_h) = match s.rsplit_once(' ') {
        Some((body, zone)) => match ZONES.iter().find(|(z, _)| z.eq_ignore_ascii_case(zone)) {
            Some((_, h)) => (body, *h),
            None => (s, 0),
        },
        None => (s, 0),
    };
    let body = body.replacen(' ', "T", 1);
    // `FromStr` reads the common `YYYY-MM-DDTHH:MM:SS[.fff]` without interpreting a format
    // string (several times faster than `parse_from_str`); the formats below catch the rest.
    let naive = body
        .parse::<NaiveDateTime>()
        .ok()
        .into_iter()
        .chain(
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M",
            ]
            .iter()
            .filter_map(|f| NaiveDateTime::parse_from_str(&body, f).ok()),
        )
        .next()
        .or_else(|| {
            NaiveDate::parse_from_str(&body, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    let ms = naive.and_utc().timestamp_millis() - i64::from(offset_h) * 3_600_000;
    (ms >= 0).then_some(ms as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("1.5"), Some(1.5));
        assert_eq!(parse_duration_secs("1,234.5"), Some(1234.5));
        assert_eq!(parse_duration_secs(" 1_000.25 "), Some(1000.25));
        assert_eq!(parse_duration_secs(" 0.010\n"), Some(0.01));
        assert_eq!(parse_duration_secs("1 _5"), None);
        assert_eq!(parse_duration_secs("1E-07"), Some(1e-7));
        assert_eq!(parse_duration_secs("3"), Some(3.0));
        assert_eq!(parse_duration_secs(""), None);
        assert_eq!(parse_duration_secs("NaN"), None);
        assert_eq!(parse_duration_secs("-1"), None);
        assert_eq!(parse_duration_secs("abc"), None);
    }

    #[test]
    fn timestamps() {
        let t = 1_700_000_000_000.0; // 2023-11-14T22:13:20Z
        assert_eq!(parse_timestamp_ms("2023-11-14T22:13:20Z"), Some(t));
        assert_eq!(parse_timestamp_ms("2023-11-14T22:13:20"), Some(t));
        assert_eq!(parse_timestamp_ms("2023-11-14 22:13:20"), Some(t));
        assert_eq!(parse_timestamp_ms("2023-11-14T23:13:20+01:00"), Some(t));
        assert_eq!(
            parse_timestamp_ms("2023-11-14T22:13:20.250Z"),
            Some(t + 250.0)
        );
        assert_eq!(parse_timestamp_ms("2023-11-14T16:13:20 MDT"), Some(t));
        assert_eq!(parse_timestamp_ms("2023-11-14"), Some(1_699_920_000_000.0));
        assert_eq!(parse_timestamp_ms("yesterday"), None);
    }
}
