//! A run's results packed into one value: the embedded store keeps one row per run instead of
//! one per result, so that ingest writes a few KB per run and analysis reads them back in one
//! pass (spec/analyze.md, "The history store").
//!
//! The value is a format byte ([`FORMAT`]) followed by one postcard record per result, by test
//! id: the difference from the previous test id, the outcome code, attempts, failed attempts,
//! the duration, then (format 2) the expected failures and the unexpected passes, then (format
//! 3) the failed attempts' duration (all variable-length integers, so a result takes about 11
//! bytes). Format 1 values (written before schema version 4) read with no expected failure and
//! no unexpected pass, format 1 and 2 values (before schema version 5) with no failed duration.

use serde::{Deserialize, Serialize};

use crate::{Outcome, ResultRow, RunTotals, TestResult};

/// The version of the packing written; formats 1 and 2 are read too, a value of another version
/// is refused as damaged.
pub(crate) const FORMAT: u8 = 3;

#[derive(Serialize, Deserialize)]
struct Packed {
    test_delta: u64,
    outcome: u8,
    attempts: u32,
    failed_attempts: u32,
    duration_ms: Option<i64>,
}

/// What format 2 adds after each [`Packed`] record.
#[derive(Serialize, Deserialize)]
struct Marks {
    expected_failures: u32,
    unexpected_passes: u32,
}

/// What format 3 adds after [`Marks`]: the time lost to failed attempts.
#[derive(Serialize, Deserialize)]
struct Lost {
    failed_duration_ms: Option<i64>,
}

/// One result to pack: (test id, outcome, attempts, failed attempts, duration, expected
/// failures, unexpected passes, failed duration).
pub(crate) type Unpacked = (i64, Outcome, u32, u32, Option<i64>, u32, u32, Option<i64>);

/// A result to pack: `r` of the test `test_id`.
pub(crate) fn unpacked(test_id: i64, r: &TestResult) -> Unpacked {
    (
        test_id,
        r.outcome,
        r.attempts,
        r.failed_attempts,
        r.duration_ms,
        r.expected_failures,
        r.unexpected_passes,
        r.failed_duration_ms,
    )
}

/// A stored result as [`Unpacked`] (for tests).
#[cfg(test)]
pub(crate) fn of_row(r: &ResultRow) -> Unpacked {
    let ResultRow {
        test_id: t,
        outcome: o,
        attempts: a,
        failed_attempts: f,
        duration_ms: d,
        expected_failures: x,
        unexpected_passes: p,
        failed_duration_ms: l,
        ..
    } = *r;
    (t, o, a, f, d, x, p, l)
}

/// Packs `rows` (sorted here by test id; ids are unique) and counts them as [`RunTotals`].
pub(crate) fn pack(run_id: i64, rows: &mut [Unpacked]) -> (Vec<u8>, RunTotals) {
    rows.sort_unstable_by_key(|r| r.0);
    let mut out = Vec::with_capacity(1 + rows.len() * 8);
    out.push(FORMAT);
    let mut totals = RunTotals {
        run_id,
        ran: 0,
        failed: 0,
        flaky: 0,
        expected_failures: 0,
        unexpected_passes: 0,
        failed_duration_ms: 0,
    };
    let mut previous = 0i64;
    for &(test_id, outcome, attempts, failed_attempts, duration_ms, xfail, xpass, lost) in
        rows.iter()
    {
        // A `Packed`, `Marks` and `Lost` record, as postcard writes them (written here
        // directly: about a million results per ingest of 2,000 runs).
        put_varint(&mut out, test_id.wrapping_sub(previous) as u64);
        previous = test_id;
        out.push(outcome.code() as u8);
        put_varint(&mut out, u64::from(attempts));
        put_varint(&mut out, u64::from(failed_attempts));
        put_optional_signed(&mut out, duration_ms);
        put_varint(&mut out, u64::from(xfail));
        put_varint(&mut out, u64::from(xpass));
        put_optional_signed(&mut out, lost);
        totals.failed_duration_ms += lost.unwrap_or(0);
        totals.expected_failures += u64::from(xfail > 0);
        totals.unexpected_passes += u64::from(xpass > 0);
        totals.ran += u64::from(outcome != Outcome::Skipped);
        totals.failed += u64::from(outcome == Outcome::Failed);
        totals.flaky += u64::from(outcome == Outcome::Flaky);
    }
    (out, totals)
}

/// An unsigned integer as postcard writes it: LEB128, seven bits a byte, lowest first.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// An `Option<i64>` as postcard writes it: `0`, or `1` then the value zigzag-encoded as a
/// [`put_varint`].
fn put_optional_signed(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
        }
    }
}

/// Decodes one record of `T` from the front of `rest`, which moves past it.
fn take<T: serde::de::DeserializeOwned>(run_id: i64, rest: &mut &[u8]) -> Result<T, String> {
    let (value, tail) = postcard::take_from_bytes::<T>(rest)
        .map_err(|e| format!("run {run_id}: results do not decode: {e}"))?;
    *rest = tail;
    Ok(value)
}

/// Calls `f` on each result packed in `bytes`, by test id. A value that does not decode says
/// what is wrong.
pub(crate) fn unpack(
    run_id: i64,
    bytes: &[u8],
    f: &mut dyn FnMut(ResultRow),
) -> Result<(), String> {
    let Some((&format, mut rest)) = bytes.split_first() else {
        return Err(format!("run {run_id}: empty results value"));
    };
    if !(1..=FORMAT).contains(&format) {
        return Err(format!(
            "run {run_id}: results packed in format {format}, this build reads 1 to {FORMAT}"
        ));
    }
    let mut test_id = 0i64;
    while !rest.is_empty() {
        let p: Packed = take(run_id, &mut rest)?;
        let marks = match format {
            1 => Marks {
                expected_failures: 0,
                unexpected_passes: 0,
            },
            _ => take(run_id, &mut rest)?,
        };
        let lost = match format {
            1 | 2 => Lost {
                failed_duration_ms: None,
            },
            _ => take(run_id, &mut rest)?,
        };
        test_id = test_id.wrapping_add(p.test_delta as i64);
        let outcome = Outcome::from_code(i64::from(p.outcome))
            .ok_or_else(|| format!("run {run_id}: unknown outcome code {}", p.outcome))?;
        f(ResultRow {
            test_id,
            run_id,
            outcome,
            attempts: p.attempts,
            failed_attempts: p.failed_attempts,
            duration_ms: p.duration_ms,
            failed_duration_ms: lost.failed_duration_ms,
            expected_failures: marks.expected_failures,
            unexpected_passes: marks.unexpected_passes,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The results packed in `bytes`, as packed.
    fn read(bytes: &[u8]) -> Vec<Unpacked> {
        let mut back = Vec::new();
        unpack(5, bytes, &mut |r| back.push(of_row(&r))).expect("decodes");
        back
    }

    #[test]
    fn packed_results_come_back_by_test_id_with_totals() {
        let mut rows = vec![
            (900, Outcome::Flaky, 3, 2, Some(1_500), 0, 1, Some(1_200)),
            (7, Outcome::Passed, 1, 0, None, 1, 0, None),
            (i64::MAX, Outcome::Skipped, 0, 0, Some(-1), 0, 0, Some(0)),
            (8, Outcome::Failed, 2, 2, Some(40), 0, 2, Some(40)),
        ];
        let (bytes, totals) = pack(5, &mut rows);
        assert_eq!((totals.ran, totals.failed, totals.flaky), (3, 1, 1));
        assert_eq!((totals.expected_failures, totals.unexpected_passes), (1, 2));
        assert_eq!(totals.failed_duration_ms, 1_240);
        assert_eq!(read(&bytes), rows);
        assert!(bytes.len() < 60, "{} bytes", bytes.len());
    }

    /// A value of format 1 (schema versions 2 and 3) reads with no expected failure, no
    /// unexpected pass and no failed duration.
    #[test]
    fn format_1_values_read_without_marks() {
        // Format 1: test 7 passed (1 attempt, none failed, no duration), test 8 failed (2, 2,
        // 5 ms).
        assert_eq!(
            read(&[1, 7, 0, 1, 0, 0, 1, 1, 2, 2, 1, 10]),
            [
                (7, Outcome::Passed, 1, 0, None, 0, 0, None),
                (8, Outcome::Failed, 2, 2, Some(5), 0, 0, None)
            ]
        );
    }

    /// A value of format 2 (schema version 4) reads with its marks and no failed duration.
    #[test]
    fn format_2_values_read_without_failed_durations() {
        // Format 2: test 7 passed (1 attempt, none failed, no duration, 1 expected failure),
        // test 8 failed (2, 2, 5 ms, 2 unexpected passes).
        assert_eq!(
            read(&[2, 7, 0, 1, 0, 0, 1, 0, 1, 1, 2, 2, 1, 10, 0, 2]),
            [
                (7, Outcome::Passed, 1, 0, None, 1, 0, None),
                (8, Outcome::Failed, 2, 2, Some(5), 0, 2, None)
            ]
        );
    }

    /// What `pack` wrote when postcard wrote each record: the bytes must stay these.
    fn pack_with_postcard(rows: &[Unpacked]) -> Vec<u8> {
        let mut out = vec![FORMAT];
        let mut previous = 0i64;
        for &(test_id, outcome, attempts, failed_attempts, duration_ms, xfail, xpass, lost) in rows
        {
            let record = Packed {
                test_delta: test_id.wrapping_sub(previous) as u64,
                outcome: outcome.code() as u8,
                attempts,
                failed_attempts,
                duration_ms,
            };
            previous = test_id;
            out = postcard::to_extend(&record, out).expect("packed");
            let marks = Marks {
                expected_failures: xfail,
                unexpected_passes: xpass,
            };
            out = postcard::to_extend(&marks, out).expect("marks");
            let lost = Lost {
                failed_duration_ms: lost,
            };
            out = postcard::to_extend(&lost, out).expect("lost");
        }
        out
    }

    /// The records are written byte for byte as postcard writes them, at every width of the
    /// integers and both ends of their ranges.
    #[test]
    fn records_are_written_as_postcard_writes_them() {
        let signed = [
            None,
            Some(0),
            Some(1),
            Some(-1),
            Some(63),
            Some(64),
            Some(-64),
            Some(-65),
            Some(99_999),
            Some(-99_999),
            Some(i64::MAX),
            Some(i64::MIN),
        ];
        let unsigned = [0u32, 1, 127, 128, 16_383, 16_384, 2_097_152, u32::MAX];
        let outcomes = [
            Outcome::Passed,
            Outcome::Failed,
            Outcome::Flaky,
            Outcome::Skipped,
        ];
        let mut rows: Vec<Unpacked> = Vec::new();
        let mut id = -5i64;
        for (i, &d) in signed.iter().enumerate() {
            for (j, &u) in unsigned.iter().enumerate() {
                id += (i * j) as i64 * 977 + 1;
                let other = unsigned[(i + j) % unsigned.len()];
                // (Summed in the run's totals: no extremes.)
                let lost = signed[(i * 7 + j) % (signed.len() - 2)];
                rows.push((id, outcomes[(i + j) % 4], u, other, d, other, u, lost));
            }
        }
        rows.push((i64::MAX, Outcome::Passed, 1, 0, None, 0, 0, None));
        let expected = pack_with_postcard(&rows);
        let (bytes, _) = pack(1, &mut rows);
        assert_eq!(bytes, expected);
        assert_eq!(read(&bytes), rows);
    }

    #[test]
    fn damaged_values_are_errors_not_panics() {
        let (bytes, _) = pack(
            1,
            &mut [(3, Outcome::Failed, 1, 1, Some(99_999), 0, 1, Some(99_999))],
        );
        for cut in 0..bytes.len() {
            let mut n = 0;
            let r = unpack(1, &bytes[..cut], &mut |_| n += 1);
            assert!(r.is_err() || cut == 1, "cut at {cut}");
        }
        let mut wrong = bytes.clone();
        wrong[0] = 9;
        assert!(unpack(1, &wrong, &mut |_| {})
            .expect_err("format")
            .contains("format 9"));
        let mut bad_outcome = bytes.clone();
        bad_outcome[2] = 7;
        assert!(unpack(1, &bad_outcome, &mut |_| {})
            .expect_err("outcome")
            .contains("outcome code 7"));
    }
}
