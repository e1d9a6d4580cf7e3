//! Compact JSON output, byte for byte what `serde_json::to_writer` writes, with a faster
//! string escape.
//!
//! serde_json looks at every byte of a string through a table before it copies it; the texts
//! of a report (messages, stacks, output) are most of its bytes, and that loop was the largest
//! cost of writing one. [`JsonWriter`] escapes strings with the SIMD kernel of
//! `json-escape-simd` into a buffer of its own and leaves everything else — punctuation and
//! numbers — to serde_json's own [`CompactFormatter`], so the output cannot drift from
//! serde_json's. Tests compare the two on every report in testdata, on every byte that JSON
//! escapes and on random strings.

use std::io;

use serde::ser::{self, Serialize};
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// Writes `value` as compact JSON: the same bytes as `serde_json::to_writer(writer, value)`.
pub fn to_writer<W: io::Write, T: ?Sized + Serialize>(
    writer: &mut W,
    value: &T,
) -> serde_json::Result<()> {
    JsonWriter::default().write(writer, value)
}

/// [`to_writer`] into a new buffer.
pub fn to_vec<T: ?Sized + Serialize>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(128);
    to_writer(&mut out, value)?;
    Ok(out)
}

/// Writes values as compact JSON through a buffer kept from one value to the next (the
/// buffer is handed to the writer whenever it holds [`FLUSH_AT`] bytes).
#[derive(Debug, Default)]
pub struct JsonWriter {
    buf: Vec<u8>,
}

/// Bytes buffered before they go to the writer: as much as a report directory's `BufWriter`
/// holds, so that it hands them on without a copy.
const FLUSH_AT: usize = 1 << 20;
/// Strings longer than this are escaped piece by piece straight into the buffer (the SIMD
/// kernel reserves six times its input).
const LONG_STRING: usize = 256 * 1024;
/// A buffer grown beyond this (by a long string) is given back after use.
const KEEP_CAPACITY: usize = 4 * 1024 * 1024;

impl JsonWriter {
    /// Writes `value` to `writer` as compact JSON: the same bytes as
    /// `serde_json::to_writer(writer, value)`.
    pub fn write<W: io::Write, T: ?Sized + Serialize>(
        &mut self,
        writer: &mut W,
        value: &T,
    ) -> serde_json::Result<()> {
        self.buf.clear();
        let mut ser = Writer {
            buf: &mut self.buf,
            out: writer,
        };
        let written = value.serialize(&mut ser).and_then(|()| ser.flush());
        self.buf.clear();
        if self.buf.capacity() > KEEP_CAPACITY {
            self.buf.shrink_to(FLUSH_AT * 2);
        }
        written
    }
}

struct Writer<'a, W> {
    buf: &'a mut Vec<u8>,
    out: &'a mut W,
}

impl<W: io::Write> Writer<'_, W> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn flush(&mut self) -> serde_json::Result<()> {
        self.out.write_all(self.buf).map_err(io)?;
        self.buf.clear();
        Ok(())
    }

    #[inline]
    fn maybe_flush(&mut self) -> serde_json::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    fn string(&mut self, s: &str) -> serde_json::Result<()> {
        if s.len() <= LONG_STRING {
            json_escape_simd::escape_into(s, self.buf);
        } else {
            self.buf.push(b'"');
            write_escaped(self.buf, s);
            self.buf.push(b'"');
        }
        self.maybe_flush()
    }

    /// A number or other scalar through serde_json's formatter (writing to a `Vec` cannot
    /// fail).
    #[inline]
    fn scalar(
        &mut self,
        write: impl FnOnce(&mut CompactFormatter, &mut Vec<u8>) -> io::Result<()>,
    ) -> serde_json::Result<()> {
        write(&mut CompactFormatter, self.buf).map_err(io)
    }
}

fn io(e: io::Error) -> serde_json::Error {
    serde_json::Error::io(e)
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `v` is `"`, `\` or below 0x20 (exact for the word as a whole).
#[inline]
fn needs_escape(v: u64) -> bool {
    let quote = v ^ (LO * u64::from(b'"'));
    let backslash = v ^ (LO * u64::from(b'\\'));
    let zero_in = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let control = v.wrapping_sub(LO * 0x20) & !v & HI;
    (zero_in(quote) | zero_in(backslash) | control) != 0
}

/// serde_json's escape of one byte, or `None` when it is written as it is.
#[inline]
fn escape_of(b: u8) -> Option<CharEscape> {
    Some(match b {
        b'"' => CharEscape::Quote,
        b'\\' => CharEscape::ReverseSolidus,
        0x08 => CharEscape::Backspace,
        0x09 => CharEscape::Tab,
        0x0A => CharEscape::LineFeed,
        0x0C => CharEscape::FormFeed,
        0x0D => CharEscape::CarriageReturn,
        0x00..=0x1F => CharEscape::AsciiControl(b),
        _ => return None,
    })
}

/// The contents of a long JSON string (without its quotes), eight bytes at a time, appended
/// to `out`.
fn write_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Bytes before `start` are written; `i` is the next to look at.
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            if !needs_escape(u64::from_le_bytes(word)) {
                i += 8;
                continue;
            }
        }
        // A word with a byte to escape, or the tail: byte by byte up to the word's end.
        let end = (i + 8).min(bytes.len());
        while i < end {
            if let Some(escape) = escape_of(bytes[i]) {
                out.extend_from_slice(&bytes[start..i]);
                // Writing to a Vec cannot fail.
                let _ = CompactFormatter.write_char_escape(out, escape);
                start = i + 1;
            }
            i += 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
}

impl<'a, 'b, W: io::Write> ser::Serializer for &'a mut Writer<'b, W> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Compound<'a, 'b, W>;
    type SerializeTuple = Compound<'a, 'b, W>;
    type SerializeTupleStruct = Compound<'a, 'b, W>;
    type SerializeTupleVariant = Compound<'a, 'b, W>;
    type SerializeMap = Compound<'a, 'b, W>;
    type SerializeStruct = Compound<'a, 'b, W>;
    type SerializeStructVariant = Compound<'a, 'b, W>;

    fn serialize_bool(self, v: bool) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_bool(b, v))
    }
    fn serialize_i8(self, v: i8) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_i8(b, v))
    }
    fn serialize_i16(self, v: i16) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_i16(b, v))
    }
    fn serialize_i32(self, v: i32) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_i32(b, v))
    }
    fn serialize_i64(self, v: i64) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_i64(b, v))
    }
    fn serialize_i128(self, v: i128) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_i128(b, v))
    }
    fn serialize_u8(self, v: u8) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_u8(b, v))
    }
    fn serialize_u16(self, v: u16) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_u16(b, v))
    }
    fn serialize_u32(self, v: u32) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_u32(b, v))
    }
    fn serialize_u64(self, v: u64) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_u64(b, v))
    }
    fn serialize_u128(self, v: u128) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_u128(b, v))
    }
    fn serialize_f32(self, v: f32) -> serde_json::Result<()> {
        if v.is_finite() {
            self.scalar(|f, b| f.write_f32(b, v))
        } else {
            self.scalar(|f, b| f.write_null(b))
        }
    }
    fn serialize_f64(self, v: f64) -> serde_json::Result<()> {
        if v.is_finite() {
            self.scalar(|f, b| f.write_f64(b, v))
        } else {
            self.scalar(|f, b| f.write_null(b))
        }
    }
    fn serialize_char(self, v: char) -> serde_json::Result<()> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> serde_json::Result<()> {
        self.string(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> serde_json::Result<()> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> serde_json::Result<()> {
        self.serialize_unit()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> serde_json::Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> serde_json::Result<()> {
        self.scalar(|f, b| f.write_null(b))
    }
    fn serialize_unit_struct(self, _name: &'static str) -> serde_json::Result<()> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> serde_json::Result<()> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> serde_json::Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> serde_json::Result<()> {
        self.put(b"{");
        self.string(variant)?;
        self.put(b":");
        value.serialize(&mut *self)?;
        {
            self.put(b"}");
            Ok(())
        }
    }
    fn serialize_seq(self, _len: Option<usize>) -> serde_json::Result<Self::SerializeSeq> {
        compound(self, None, b"[", b"]")
    }
    fn serialize_tuple(self, len: usize) -> serde_json::Result<Self::SerializeTuple> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> serde_json::Result<Self::SerializeTupleStruct> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> serde_json::Result<Self::SerializeTupleVariant> {
        compound(self, Some(variant), b"[", b"]}")
    }
    fn serialize_map(self, _len: Option<usize>) -> serde_json::Result<Self::SerializeMap> {
        compound(self, None, b"{", b"}")
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> serde_json::Result<Self::SerializeStruct> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> serde_json::Result<Self::SerializeStructVariant> {
        compound(self, Some(variant), b"{", b"}}")
    }
}

/// Opens an array or object (`{"variant":` first, for an enum's variant): `close` ends it.
fn compound<'a, 'b, W: io::Write>(
    ser: &'a mut Writer<'b, W>,
    variant: Option<&str>,
    open: &[u8],
    close: &'static [u8],
) -> serde_json::Result<Compound<'a, 'b, W>> {
    if let Some(variant) = variant {
        ser.put(b"{");
        ser.string(variant)?;
        ser.put(b":");
    }
    ser.put(open);
    Ok(Compound {
        ser,
        first: true,
        close,
    })
}

/// An array or object being written: `close` ends it.
struct Compound<'a, 'b, W> {
    ser: &'a mut Writer<'b, W>,
    first: bool,
    close: &'static [u8],
}

impl<W: io::Write> Compound<'_, '_, W> {
    fn separate(&mut self) -> serde_json::Result<()> {
        if !std::mem::replace(&mut self.first, false) {
            self.ser.put(b",");
        }
        Ok(())
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> serde_json::Result<()> {
        self.separate()?;
        value.serialize(&mut *self.ser)
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> serde_json::Result<()> {
        self.separate()?;
        self.ser.string(key)?;
        self.ser.put(b":");
        value.serialize(&mut *self.ser)
    }

    fn close(self) -> serde_json::Result<()> {
        self.ser.put(self.close);
        self.ser.maybe_flush()
    }
}

/// The array-like compounds: each element after a comma.
macro_rules! elements {
    ($($trait:ident $method:ident),* $(,)?) => {
        $(impl<W: io::Write> ser::$trait for Compound<'_, '_, W> {
            type Ok = ();
            type Error = serde_json::Error;
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> serde_json::Result<()> {
                self.element(value)
            }
            fn end(self) -> serde_json::Result<()> {
                self.close()
            }
        })*
    };
}

elements! {
    SerializeSeq serialize_element,
    SerializeTuple serialize_element,
    SerializeTupleStruct serialize_field,
    SerializeTupleVariant serialize_field,
}

impl<W: io::Write> ser::SerializeMap for Compound<'_, '_, W> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> serde_json::Result<()> {
        self.separate()?;
        key.serialize(KeyWriter {
            ser: &mut *self.ser,
        })
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> serde_json::Result<()> {
        self.ser.put(b":");
        value.serialize(&mut *self.ser)
    }
    fn end(self) -> serde_json::Result<()> {
        self.close()
    }
}

/// The object-like compounds: `"key":value` after a comma.
macro_rules! fields {
    ($($trait:ident),* $(,)?) => {
        $(impl<W: io::Write> ser::$trait for Compound<'_, '_, W> {
            type Ok = ();
            type Error = serde_json::Error;
            fn serialize_field<T: ?Sized + Serialize>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> serde_json::Result<()> {
                self.field(key, value)
            }
            fn end(self) -> serde_json::Result<()> {
                self.close()
            }
        })*
    };
}

fields! { SerializeStruct, SerializeStructVariant }

/// A map key: a string, or a number or bool written as one (as serde_json does); anything
/// else is serde_json's "key must be a string" error.
struct KeyWriter<'a, 'b, W> {
    ser: &'a mut Writer<'b, W>,
}

fn key_must_be_a_string() -> serde_json::Error {
    ser::Error::custom("key must be a string")
}

impl<W: io::Write> KeyWriter<'_, '_, W> {
    fn quoted(
        self,
        write: impl FnOnce(&mut CompactFormatter, &mut Vec<u8>) -> io::Result<()>,
    ) -> serde_json::Result<()> {
        self.ser.put(b"\"");
        self.ser.scalar(write)?;
        self.ser.put(b"\"");
        Ok(())
    }
}

macro_rules! quoted_key {
    ($($method:ident $write:ident $ty:ty),* $(,)?) => {
        $(fn $method(self, v: $ty) -> serde_json::Result<()> {
            self.quoted(|f, b| f.$write(b, v))
        })*
    };
}

impl<W: io::Write> ser::Serializer for KeyWriter<'_, '_, W> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = ser::Impossible<(), serde_json::Error>;
    type SerializeTuple = ser::Impossible<(), serde_json::Error>;
    type SerializeTupleStruct = ser::Impossible<(), serde_json::Error>;
    type SerializeTupleVariant = ser::Impossible<(), serde_json::Error>;
    type SerializeMap = ser::Impossible<(), serde_json::Error>;
    type SerializeStruct = ser::Impossible<(), serde_json::Error>;
    type SerializeStructVariant = ser::Impossible<(), serde_json::Error>;

    fn serialize_str(self, v: &str) -> serde_json::Result<()> {
        self.ser.string(v)
    }
    fn serialize_char(self, v: char) -> serde_json::Result<()> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> serde_json::Result<()> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        value: &T,
    ) -> serde_json::Result<()> {
        value.serialize(self)
    }
    quoted_key! {
        serialize_bool write_bool bool,
        serialize_i8 write_i8 i8,
        serialize_i16 write_i16 i16,
        serialize_i32 write_i32 i32,
        serialize_i64 write_i64 i64,
        serialize_i128 write_i128 i128,
        serialize_u8 write_u8 u8,
        serialize_u16 write_u16 u16,
        serialize_u32 write_u32 u32,
        serialize_u64 write_u64 u64,
        serialize_u128 write_u128 u128,
    }
    fn serialize_f32(self, v: f32) -> serde_json::Result<()> {
        if !v.is_finite() {
            return Err(ser::Error::custom(
                "float key must be finite (got NaN or +/-inf)",
            ));
        }
        self.quoted(|f, b| f.write_f32(b, v))
    }
    fn serialize_f64(self, v: f64) -> serde_json::Result<()> {
        if !v.is_finite() {
            return Err(ser::Error::custom(
                "float key must be finite (got NaN or +/-inf)",
            ));
        }
        self.quoted(|f, b| f.write_f64(b, v))
    }
    fn serialize_bytes(self, _v: &[u8]) -> serde_json::Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> serde_json::Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> serde_json::Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> serde_json::Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> serde_json::Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> serde_json::Result<()> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _len: Option<usize>) -> serde_json::Result<Self::SerializeSeq> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _len: usize) -> serde_json::Result<Self::SerializeTuple> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> serde_json::Result<Self::SerializeTupleStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> serde_json::Result<Self::SerializeTupleVariant> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _len: Option<usize>) -> serde_json::Result<Self::SerializeMap> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> serde_json::Result<Self::SerializeStruct> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> serde_json::Result<Self::SerializeStructVariant> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(value: &(impl Serialize + ?Sized)) {
        let ours = to_vec(value).expect("ours");
        let theirs = serde_json::to_vec(value).expect("serde_json");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    #[test]
    fn every_byte_that_json_escapes_is_escaped_as_serde_json_does() {
        for b in 0u8..=0x7F {
            let c = char::from(b);
            for len in 0..20 {
                // The byte at every position of a word and of the tail.
                let s: String = (0..len)
                    .map(|i| if i == len / 2 { c } else { 'x' })
                    .collect();
                same(&s);
                same(&format!("{s}{c}"));
                same(&format!("{c}{s}"));
            }
        }
        same(&"ünïcödé — ✓ \u{7f} \u{2028} 😀");
    }

    #[test]
    fn values_of_every_kind() {
        let v = serde_json::json!({
            "a": [1, -2, 3.5, 1e300, -0.0, 12345678901234567890u64, null, true, false],
            "nested": {"k\"ey\n": {"x": []}, "empty": {}},
            "s": "line\nnext\t\"q\" \\ \u{1}",
        });
        same(&v);
        let mut keyed = std::collections::BTreeMap::new();
        keyed.insert(3u32, "three");
        keyed.insert(10u32, "ten");
        same(&keyed);
        same(&(1u8, 'c', Some(2.5f32), None::<i32>, f64::NAN, f32::INFINITY));
        same(&b"bytes"[..]);
    }

    #[test]
    fn long_strings_and_outputs_longer_than_the_buffer() {
        // Past LONG_STRING: escaped eight bytes at a time.
        let long = "ab\"c\n\\d\u{1}é✓ plain text run ".repeat(20_000);
        assert!(long.len() > LONG_STRING);
        same(&long);
        // Past FLUSH_AT many times over, through a writer that takes a few bytes at a time.
        let many: Vec<String> = (0..3000)
            .map(|i| format!("{i}\t\"x\"\n").repeat(150))
            .collect();
        let ours = {
            let mut out = Trickle(Vec::new());
            JsonWriter::default().write(&mut out, &many).expect("ours");
            out.0
        };
        assert!(ours.len() > 2 * FLUSH_AT);
        assert!(ours == serde_json::to_vec(&many).expect("serde_json"));
    }

    /// A writer that accepts at most 1,000 bytes per call.
    struct Trickle(Vec<u8>);
    impl io::Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(1000);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_valid_testdata_report_comes_out_as_serde_json_writes_it() {
        let fixtures = crate::valid_fixtures();
        assert!(!fixtures.is_empty());
        for (path, bytes) in fixtures {
            let report: crate::Report = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let ours = to_vec(&report).expect("ours");
            let theirs = serde_json::to_vec(&report).expect("serde_json");
            assert!(ours == theirs, "{}: the outputs differ", path.display());
        }
    }

    proptest! {
        #[test]
        fn random_strings_come_out_as_serde_json_writes_them(s in any::<String>()) {
            let ours = to_vec(&s).expect("ours");
            let theirs = serde_json::to_vec(&s).expect("serde_json");
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn random_ascii_with_controls(s in "[\\x00-\\x7f]{0,40}") {
            let ours = to_vec(&s).expect("ours");
            let theirs = serde_json::to_vec(&s).expect("serde_json");
            prop_assert_eq!(ours, theirs);
        }
    }
}
