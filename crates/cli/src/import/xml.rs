//! The XML exports (SIECLE's `BEE_ELEVES`, STSWeb's `STS_EDT`) read into a small tree of
//! elements, each with the line it starts on, so that an error can name the element, its
//! line and the value. The files are small (a lycée's SIECLE export is a few MB), so a tree
//! is simpler than a streaming reader and fast enough.
//!
//! The national exports are ISO-8859-1 (or -15); the declaration says so, and the bytes are
//! turned into UTF-8 before parsing. UTF-8 files are read as they are.

use super::LineError;
use quick_xml::events::Event as XmlEvent;
use quick_xml::Reader;

/// Deeper than any export; a guard against hostile files (the tree is dropped recursively).
const MAX_DEPTH: usize = 64;

#[derive(Debug, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    /// The element's own text, trimmed.
    pub text: String,
    pub children: Vec<Element>,
    /// 1-based line of the start tag.
    pub line: usize,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child so named, if it has any.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.as_str())
            .filter(|t| !t.is_empty())
    }

    /// The elements at `path` (`"DONNEES/INDIVIDUS/INDIVIDU"`) below this one.
    pub fn at_path<'a>(&'a self, path: &'a str) -> Vec<&'a Element> {
        let mut current = vec![self];
        for part in path.split('/') {
            current = current
                .into_iter()
                .flat_map(|e| e.children_named(part))
                .collect();
        }
        current
    }

    /// How an error names the element: `<ELEVE ELEVE_ID="4012">`.
    pub fn describe(&self, key: &str) -> String {
        match self.attr(key) {
            Some(v) => format!("<{} {key}=\"{v}\">", self.name),
            None => format!("<{}>", self.name),
        }
    }
}

/// Line numbers of byte offsets, counted incrementally as the reader advances.
struct Lines<'a> {
    text: &'a [u8],
    offset: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        if offset >= self.offset {
            self.line += self.text[self.offset..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
        } else {
            self.line = 1 + self.text[..offset].iter().filter(|b| **b == b'\n').count();
        }
        self.offset = offset;
        self.line
    }
}

/// Parses a whole document and returns its root element, or the first error with its line.
pub fn parse(bytes: &[u8]) -> Result<Element, LineError> {
    let text = to_utf8(bytes)?;
    let fail = |line: usize, reason: String| LineError { line, reason };
    let mut reader = Reader::from_str(&text);
    reader.config_mut().trim_text(true);
    let mut lines = Lines {
        text: text.as_bytes(),
        offset: 0,
        line: 1,
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
            fail(lines.at(at), format!("the XML is not well-formed: {e}"))
        })?;
        let after = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        // Where the event began: a tag's `<`, found back from its end (`>` or `/>`).
        let began = match &event {
            XmlEvent::Start(s) => after.saturating_sub(s.len() + 2),
            XmlEvent::Empty(s) => after.saturating_sub(s.len() + 3),
            _ => after,
        };
        let line = lines.at(began);
        match event {
            XmlEvent::Start(start) | XmlEvent::Empty(start) if root.is_some() => {
                return Err(fail(
                    line,
                    format!(
                        "<{}> comes after the end of the root element",
                        String::from_utf8_lossy(start.name().as_ref())
                    ),
                ));
            }
            XmlEvent::Empty(start) => {
                let element = element_of(&start, line)?;
                close(&mut stack, &mut root, element);
            }
            XmlEvent::Start(start) => {
                let element = element_of(&start, line)?;
                if stack.len() >= MAX_DEPTH {
                    return Err(fail(
                        line,
                        format!("<{}> is nested more than {MAX_DEPTH} deep", element.name),
                    ));
                }
                stack.push(element);
            }
            XmlEvent::End(_) => {
                // quick-xml checks that the end tag matches the open one.
                if let Some(mut element) = stack.pop() {
                    let trimmed = element.text.trim();
                    if trimmed.len() != element.text.len() {
                        element.text = trimmed.to_owned();
                    }
                    close(&mut stack, &mut root, element);
                }
            }
            XmlEvent::Text(t) => {
                let value = t
                    .decode()
                    .map_err(|e| fail(line, format!("text is not readable: {e}")))?;
                push_text(&mut stack, &value, line)?;
            }
            XmlEvent::CData(t) => {
                let value = t
                    .decode()
                    .map_err(|e| fail(line, format!("text is not readable: {e}")))?;
                push_text(&mut stack, &value, line)?;
            }
            XmlEvent::GeneralRef(r) => {
                let value = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => {
                        let name = r.decode().unwrap_or_default();
                        match name.as_ref() {
                            "amp" => "&".into(),
                            "lt" => "<".into(),
                            "gt" => ">".into(),
                            "quot" => "\"".into(),
                            "apos" => "'".into(),
                            other => return Err(fail(line, format!("unknown entity &{other};"))),
                        }
                    }
                };
                push_text(&mut stack, &value, line)?;
            }
            XmlEvent::Eof => break,
            XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::DocType(_) | XmlEvent::Comment(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        let end = lines.at(text.len());
        return Err(fail(
            end,
            format!(
                "the file ends inside <{}> opened on line {}: it is truncated",
                open.name, open.line
            ),
        ));
    }
    root.ok_or_else(|| fail(1, "the file holds no XML element".into()))
}

fn element_of(
    start: &quick_xml::events::BytesStart<'_>,
    line: usize,
) -> Result<Element, LineError> {
    let fail = |reason: String| LineError { line, reason };
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| fail(format!("<{name}> has a malformed attribute: {e}")))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr
            .unescape_value()
            .map_err(|e| fail(format!("<{name}> attribute {key}: {e}")))?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attrs,
        line,
        ..Element::default()
    })
}

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn push_text(stack: &mut [Element], value: &str, line: usize) -> Result<(), LineError> {
    match stack.last_mut() {
        Some(open) => {
            // Text split by entity references arrives in pieces: keep it whole.
            open.text.push_str(value);
            Ok(())
        }
        None if value.trim().is_empty() => Ok(()),
        None => Err(LineError {
            line,
            reason: "text outside the root element".into(),
        }),
    }
}

/// The document as UTF-8: ISO-8859-1/-15 and windows-1252 declared files are transcoded.
fn to_utf8(bytes: &[u8]) -> Result<String, LineError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).to_ascii_lowercase();
    let declared = head
        .find("encoding=")
        .and_then(|i| head.get(i + 9..))
        .and_then(|rest| {
            let quote = rest.chars().next()?;
            let rest = rest.get(1..)?;
            rest.find(quote).map(|end| rest[..end].to_owned())
        });
    match declared.as_deref() {
        None | Some("utf-8" | "utf8") => match std::str::from_utf8(bytes) {
            Ok(text) => Ok(text.to_owned()),
            Err(e) => {
                let line = 1 + bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count();
                Err(LineError {
                    line,
                    reason: format!(
                        "byte {} is not UTF-8 (the file declares no other encoding)",
                        e.valid_up_to()
                    ),
                })
            }
        },
        Some("iso-8859-1" | "latin1" | "latin-1" | "iso-8859-15" | "windows-1252") => {
            let fifteen = declared.as_deref() == Some("iso-8859-15");
            Ok(bytes.iter().map(|b| latin(*b, fifteen)).collect())
        }
        Some(other) => Err(LineError {
            line: 1,
            reason: format!("encoding {other:?} is not supported (UTF-8 or ISO-8859-1/15)"),
        }),
    }
}

fn latin(byte: u8, fifteen: bool) -> char {
    if fifteen {
        // The eight places where ISO-8859-15 differs from ISO-8859-1.
        match byte {
            0xA4 => return '€',
            0xA6 => return 'Š',
            0xA8 => return 'š',
            0xB4 => return 'Ž',
            0xB8 => return 'ž',
            0xBC => return 'Œ',
            0xBD => return 'œ',
            0xBE => return 'Ÿ',
            _ => {}
        }
    }
    char::from(byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_keep_their_line_text_and_attributes() {
        let doc = "<?xml version=\"1.0\"?>\n<A>\n  <B X=\"1\">t&amp;u</B>\n  <C/>\n</A>\n";
        let root = parse(doc.as_bytes()).unwrap();
        assert_eq!(root.name, "A");
        let b = root.child("B").unwrap();
        assert_eq!(
            (b.line, b.text.as_str(), b.attr("X")),
            (3, "t&u", Some("1"))
        );
        assert_eq!(root.child("C").unwrap().line, 4);
        assert!(root.child("C").unwrap().children.is_empty());
    }

    #[test]
    fn latin1_is_transcoded() {
        let mut doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><A>L".to_vec();
        doc.push(0xE9);
        doc.extend_from_slice(b"a</A>");
        assert_eq!(parse(&doc).unwrap().text, "Léa");
    }

    #[test]
    fn truncated_and_mismatched_documents_name_the_line() {
        let err = parse(b"<A>\n<B>\n<C>x</C>\n").unwrap_err();
        assert!(
            err.reason.contains("ends inside <B> opened on line 2"),
            "{err}"
        );
        let err = parse(b"<A>\n<B></C>\n</A>").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }
}
