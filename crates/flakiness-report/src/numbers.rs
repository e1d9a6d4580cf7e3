//! Number types of the format and the schema helpers for numeric fields.
//!
//! The format's numbers are JavaScript numbers: `1.5` is a valid duration. Durations and
//! timestamps are therefore `f64` underneath, written back as integers when they are whole, so a
//! report read and written again keeps its text (`1700000000000`, not `1700000000000.0`).

use std::time::Duration;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::Stream;

/// Keyword added to the generated schema on numeric fields that the model stores as integers.
/// JSON Schema tools ignore it; our validator reports a non-integer there as a semantic error.
pub const INTEGER_KEYWORD: &str = "x-integer";

fn serialize_number<S: Serializer>(value: f64, serializer: S) -> Result<S::Ok, S::Error> {
    // 2^53: beyond it f64 no longer holds every integer, so it is written as a float. Below
    // it, a conversion to i64 and back tells a whole number (`fract` calls `trunc`, a function
    // on a CPU without SSE4.1, for each of millions of numbers).
    if value.abs() < 9_007_199_254_740_992.0 && (value as i64) as f64 == value {
        serializer.serialize_i64(value as i64)
    } else {
        serializer.serialize_f64(value)
    }
}

macro_rules! millis_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub f64);

        impl $name {
            /// From whole milliseconds.
            pub fn from_millis(ms: u64) -> Self {
                Self(ms as f64)
            }
            /// The value in milliseconds.
            pub fn as_millis_f64(self) -> f64 {
                self.0
            }
        }

        impl From<u64> for $name {
            fn from(ms: u64) -> Self {
                Self::from_millis(ms)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_number(self.0, serializer)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({"type": "number", "minimum": 0})
            }
        }
    };
}

millis_type!(
    /// A duration in milliseconds (non-negative, may be fractional).
    DurationMs
);
millis_type!(
    /// A point in time as Unix milliseconds (non-negative, may be fractional).
    UnixTimestampMs
);

impl From<Duration> for DurationMs {
    fn from(d: Duration) -> Self {
        Self(d.as_secs_f64() * 1000.0)
    }
}

impl From<std::time::SystemTime> for UnixTimestampMs {
    fn from(t: std::time::SystemTime) -> Self {
        let ms = t
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0);
        Self(ms.floor())
    }
}

impl Stream {
    /// The number written in JSON: 1 for stdout, 2 for stderr.
    pub fn as_number(self) -> u8 {
        match self {
            Stream::Stdout => 1,
            Stream::Stderr => 2,
        }
    }
}

impl Serialize for Stream {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.as_number())
    }
}

impl<'de> Deserialize<'de> for Stream {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = f64::deserialize(deserializer)?;
        if n == 1.0 {
            Ok(Stream::Stdout)
        } else if n == 2.0 {
            Ok(Stream::Stderr)
        } else {
            Err(serde::de::Error::custom(format_args!(
                "invalid stream {n}, expected 1 (stdout) or 2 (stderr)"
            )))
        }
    }
}

impl JsonSchema for Stream {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Stream".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"enum": [1, 2]})
    }
}

pub(crate) fn integer(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "number", "x-integer": true})
}

pub(crate) fn non_negative_integer(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "number", "minimum": 0, "x-integer": true})
}

pub(crate) fn percent(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "number", "minimum": 0, "maximum": 100})
}

pub(crate) fn any_json(_: &mut SchemaGenerator) -> Schema {
    json_schema!(true)
}

/// A whole JSON number, however written: `3`, `-3` or `3.0` (JavaScript reads them alike, and
/// the validator accepts them in integer fields, so every reader of the model does too).
struct Whole(i128);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Whole;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Whole, E> {
                Ok(Whole(i128::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Whole, E> {
                Ok(Whole(i128::from(v)))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Whole, E> {
                // Whole and within what an i128 holds exactly enough for our fields (u64).
                if v.is_finite() && v.fract() == 0.0 && v.abs() <= 1.9e19 {
                    Ok(Whole(v as i128))
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
                }
            }
        }
        deserializer.deserialize_any(V)
    }
}

fn fit<T: TryFrom<i128>, E: serde::de::Error>(v: i128) -> Result<T, E> {
    T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
}

/// `deserialize_with` of an integer field: any whole number ([`Whole`]) that fits.
pub(crate) fn whole<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
    fit(Whole::deserialize(d)?.0)
}

/// [`whole`] for an optional field.
pub(crate) fn whole_opt<'de, D: Deserializer<'de>, T: TryFrom<i128>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<Whole>::deserialize(d)?
        .map(|w| fit(w.0))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole numbers below 2^53 are written as integers, every other as a float: the rule as
    /// `fract` says it.
    #[test]
    fn whole_numbers_are_written_as_integers() {
        let two = |e: i32| 2f64.powi(e);
        let mut values = vec![
            0.0,
            0.5,
            1.0,
            1_700_000_000_000.0,
            1e15 + 0.5,
            two(52) + 1.0,
            two(53) - 1.0,
            two(53),
            two(63),
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
        ];
        values.extend(values.clone().iter().map(|v| -v));
        for v in values {
            let expected = if v.fract() == 0.0 && v.abs() < two(53) {
                (v as i64).to_string()
            } else {
                serde_json::to_string(&v).expect("json")
            };
            let written = serde_json::to_string(&DurationMs(v)).expect("json");
            assert_eq!(written, expected, "{v:e}");
        }
    }
}
