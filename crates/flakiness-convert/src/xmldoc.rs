//! The reading of one XML document that the readers of XML formats other than JUnit share
//! (Catch2, TRX): UTF-16 and byte order marks, the root element, nesting depth, text and
//! references, a DOCTYPE refused, encodings other than UTF-8 refused, a document cut short kept
//! up to where it ends. The format's own reading is an [`XmlDoc`].

use std::io::BufRead;

use quick_xml::errors::SyntaxError;
use quick_xml::events::{BytesStart, Event};

use crate::junit::ref_text;
use crate::{ConvertError, MAX_XML_DEPTH};

/// What a format makes of the events of one document.
pub(crate) trait XmlDoc {
    /// The root element (already checked to be one of the format's).
    fn root(&mut self, e: &BytesStart<'_>) -> Result<(), String>;
    /// An element inside the root opens.
    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), String>;
    /// An element closes (its local name).
    fn end(&mut self, tag: &[u8]);
    /// True when text is being kept: text is decoded only then.
    fn wants_text(&self) -> bool;
    /// Text, CDATA, or what a reference stands for.
    fn text(&mut self, text: &str);
}

/// How a format is named in the messages of [`read`].
pub(crate) struct XmlFormat {
    /// `a Catch2 XML file`.
    pub what: &'static str,
    /// The local names of its root elements.
    pub roots: &'static [&'static str],
    /// Who writes it: `Catch2`.
    pub writer: &'static str,
}

/// Reads one document into `doc`. Errors carry byte offsets from the start of the input.
pub(crate) fn read(
    r: &mut dyn BufRead,
    input: &str,
    format: &XmlFormat,
    doc: &mut dyn XmlDoc,
) -> Result<(), ConvertError> {
    let cannot = |e: std::io::Error| ConvertError::at(input, 0, format!("cannot read: {e}"));
    let head = r.fill_buf().map_err(cannot)?;
    if crate::is_utf16(head) || head.starts_with(&[b'<', 0]) {
        return Err(ConvertError::at(input, 0, crate::UTF16_MESSAGE.into()));
    }
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    r.consume(bom);
    let fail = |offset: u64, message: String| ConvertError::at(input, bom as u64 + offset, message);
    let mut reader = quick_xml::Reader::from_reader(r);
    reader.config_mut().expand_empty_elements = true;
    let mut buf = Vec::new();
    let mut depth = 0usize;
    let mut saw_root = false;
    loop {
        buf.clear();
        let at = reader.buffer_position();
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            // The writer was stopped while it wrote: what it wrote is kept.
            Err(quick_xml::Error::Syntax(
                SyntaxError::UnclosedTag
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedPIOrXmlDecl,
            )) if saw_root => break,
            Err(quick_xml::Error::Io(e)) => {
                return Err(fail(reader.error_position(), format!("cannot read: {e}")))
            }
            Err(e) => {
                return Err(fail(reader.error_position(), format!("malformed XML: {e}")));
            }
        };
        match event {
            Event::Start(e) => {
                depth += 1;
                if depth > MAX_XML_DEPTH {
                    return Err(fail(
                        at,
                        format!("elements nested deeper than {MAX_XML_DEPTH} levels"),
                    ));
                }
                if saw_root {
                    doc.start(&e).map_err(|m| fail(at, m))?;
                    continue;
                }
                let root = e.local_name();
                if !format.roots.iter().any(|r| r.as_bytes() == root.as_ref()) {
                    let root = String::from_utf8_lossy(root.as_ref()).into_owned();
                    let want: Vec<String> = format.roots.iter().map(|r| format!("<{r}>")).collect();
                    return Err(fail(
                        at,
                        format!(
                            "not {}: the root element is <{root}>, not {}",
                            format.what,
                            want.join(" or ")
                        ),
                    ));
                }
                saw_root = true;
                doc.root(&e).map_err(|m| fail(at, m))?;
            }
            Event::End(e) => {
                depth = depth.saturating_sub(1);
                doc.end(e.local_name().as_ref());
            }
            Event::Text(t) if doc.wants_text() => {
                let text = t
                    .xml_content()
                    .unwrap_or_else(|_| String::from_utf8_lossy(&t).replace("\r\n", "\n").into());
                doc.text(&text);
            }
            Event::CData(t) => doc.text(&String::from_utf8_lossy(&t)),
            // Character references and the five predefined entities are resolved; there is no
            // DTD (refused below), so any other entity stays as written.
            Event::GeneralRef(r) => doc.text(&ref_text(&r)),
            Event::DocType(_) => {
                return Err(fail(
                    at,
                    format!(
                        "a DOCTYPE is refused: {} never writes one, and its entities are never expanded",
                        format.writer
                    ),
                ));
            }
            Event::Decl(d) => check_encoding(&d, format.writer).map_err(|m| fail(at, m))?,
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(fail(0, format!("not {}: no element found", format.what)));
    }
    Ok(())
}

/// An XML document's bytes without a UTF-8 byte order mark, and the length of the mark
/// (offsets in errors count it); UTF-16 is refused.
pub(crate) fn xml_body<'a>(data: &'a [u8], input: &str) -> Result<(&'a [u8], u64), ConvertError> {
    if crate::is_utf16(data) || data.starts_with(&[b'<', 0]) {
        return Err(ConvertError::at(input, 0, crate::UTF16_MESSAGE.into()));
    }
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    Ok((body, (data.len() - body.len()) as u64))
}

/// Refuses an XML declaration naming an encoding other than UTF-8 (or its subset US-ASCII),
/// which `writer` (the runner) always writes.
pub(crate) fn check_encoding(
    d: &quick_xml::events::BytesDecl<'_>,
    writer: &str,
) -> Result<(), String> {
    if let Some(Ok(enc)) = d.encoding() {
        let enc = String::from_utf8_lossy(&enc).trim().to_ascii_lowercase();
        if !matches!(enc.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
            return Err(format!(
                "encoding {enc:?} is not supported: {writer} writes UTF-8"
            ));
        }
    }
    Ok(())
}
