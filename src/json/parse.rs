//! A parser for the JSON Python's `json.loads` accepts.

use super::number::number_literal_len;
use super::{Map, Number, Value};

/// Default nesting limit for arrays and objects. Python's own decoder fails
/// somewhere near 1000 levels (its recursion limit); 128 is ample for any
/// real message and keeps the parser's stack use small and bounded.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// Why a byte string is not Python-dialect JSON. `offset` is the byte
/// position where the problem was noticed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The bytes are not UTF-8 (pyzmq encodes JSON as UTF-8).
    #[error("JSON is not valid UTF-8 (at byte {offset})")]
    InvalidUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// A grammar violation.
    #[error("invalid JSON at byte {offset}: {what}")]
    Syntax {
        /// Byte offset.
        offset: usize,
        /// What was expected or found.
        what: &'static str,
    },
    /// Arrays/objects nested deeper than the configured limit.
    #[error("JSON nests deeper than {limit} levels (at byte {offset})")]
    TooDeep {
        /// Byte offset.
        offset: usize,
        /// The limit in force.
        limit: usize,
    },
    /// A `\uD800`-style escape that is not half of a surrogate pair: Python
    /// strings can hold one, Rust strings cannot.
    #[error("JSON string holds a lone surrogate escape (at byte {offset})")]
    LoneSurrogate {
        /// Byte offset.
        offset: usize,
    },
}

/// Parses `bytes` with the [`DEFAULT_MAX_DEPTH`] nesting limit.
///
/// ```
/// let v = netgear::json::parse(b"[1, NaN, -Infinity]").unwrap();
/// assert_eq!(v.to_python_json(), "[1, NaN, -Infinity]");
/// assert!(netgear::json::parse(b"[1,]").is_err());
/// ```
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    parse_with_depth(bytes, DEFAULT_MAX_DEPTH)
}

/// Parses `bytes`, refusing nesting deeper than `max_depth`.
pub fn parse_with_depth(bytes: &[u8], max_depth: usize) -> Result<Value, JsonError> {
    let mut reader = Reader::new(bytes, max_depth)?;
    let value = reader.value()?;
    reader.finish()?;
    Ok(value)
}

/// The bytes that end a run of plain characters in a string: the closing
/// quote, a backslash, and the control characters a string may not hold raw.
/// A table, because strings (every key of every header) are most of what a
/// NetGear header is made of, and one lookup per byte is the cheapest test.
const ENDS_RUN: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = true;
        c += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// A cursor over one JSON text, for decoders that read a document value by
/// value instead of building it whole (the NetGear headers: see
/// `wire::decode`). [`parse_with_depth`] is this reader asked for one value.
///
/// The text is checked to be UTF-8 once, up front; every string is then a
/// slice of it, which is why a string without escapes costs no copy until a
/// caller wants to own it. Whitespace is skipped before every token, so a
/// method is always called with the cursor on a token or at the end.
pub(crate) struct Reader<'a> {
    text: &'a str,
    i: usize,
    /// Arrays and objects open around the cursor.
    depth: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`, or the position of their first
    /// invalid UTF-8 sequence.
    pub(crate) fn new(bytes: &'a [u8], max_depth: usize) -> Result<Reader<'a>, JsonError> {
        let text = std::str::from_utf8(bytes).map_err(|e| JsonError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })?;
        let mut reader = Reader {
            text,
            i: 0,
            depth: 0,
            max_depth,
        };
        reader.skip_ws();
        Ok(reader)
    }

    /// Checks that nothing but whitespace follows the value just read.
    pub(crate) fn finish(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.i == self.text.len() {
            Ok(())
        } else {
            Err(self.syntax("extra data after the value"))
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.i).copied()
    }

    fn syntax(&self, what: &'static str) -> JsonError {
        JsonError::Syntax {
            offset: self.i,
            what,
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, word: &[u8]) -> bool {
        if self.bytes()[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// Reads one whole value (of any kind) at the cursor.
    pub(crate) fn value(&mut self) -> Result<Value, JsonError> {
        let value = match self.peek() {
            None => return Err(self.syntax("expected a value, found the end")),
            Some(b'{') => self.object()?,
            Some(b'[') => self.array()?,
            Some(b'"') => Value::String(self.string()?.into_owned()),
            Some(b'n') if self.eat(b"null") => Value::Null,
            Some(b't') if self.eat(b"true") => Value::Bool(true),
            Some(b'f') if self.eat(b"false") => Value::Bool(false),
            Some(b'N') if self.eat(b"NaN") => Value::Number(Number::from_valid_literal("NaN")),
            Some(b'I') if self.eat(b"Infinity") => {
                Value::Number(Number::from_valid_literal("Infinity"))
            }
            Some(b'-') if self.eat(b"-Infinity") => {
                Value::Number(Number::from_valid_literal("-Infinity"))
            }
            Some(b'-' | b'0'..=b'9') => Value::Number(Number::from_valid_literal(self.number()?)),
            Some(_) => return Err(self.syntax("expected a value")),
        };
        self.skip_ws();
        Ok(value)
    }

    /// The literal of the number at the cursor.
    fn number(&mut self) -> Result<&'a str, JsonError> {
        let len = number_literal_len(&self.bytes()[self.i..])
            .ok_or_else(|| self.syntax("malformed number"))?;
        // The literal is ASCII, so both ends are character boundaries.
        let literal = &self.text[self.i..self.i + len];
        self.i += len;
        Ok(literal)
    }

    /// Enters an array or object (the cursor is on its bracket).
    fn open(&mut self) -> Result<(), JsonError> {
        if self.depth >= self.max_depth {
            return Err(JsonError::TooDeep {
                offset: self.i,
                limit: self.max_depth,
            });
        }
        self.depth += 1;
        self.i += 1;
        self.skip_ws();
        Ok(())
    }

    /// After a member or element: `,` (true: another follows) or the
    /// closing bracket (false: the container is done and left).
    fn next_or_close(&mut self, close: u8, what: &'static str) -> Result<bool, JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.skip_ws();
                Ok(true)
            }
            Some(c) if c == close => {
                self.i += 1;
                self.depth -= 1;
                self.skip_ws();
                Ok(false)
            }
            _ => Err(self.syntax(what)),
        }
    }

    fn array(&mut self) -> Result<Value, JsonError> {
        self.open()?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value()?);
            if !self.next_or_close(b']', "expected ',' or ']'")? {
                return Ok(Value::Array(items));
            }
        }
    }

    fn object(&mut self) -> Result<Value, JsonError> {
        let mut map = Map::new();
        self.members(|reader, key| {
            let value = reader.value()?;
            map.insert(key.into_owned(), value);
            Ok(())
        })?;
        Ok(Value::Object(map))
    }

    /// Reads the object at the cursor member by member: `visit` gets the
    /// reader (on the member's value, which it must read, with [`value`] or
    /// one of the typed readers) and the key. Keys come in document order;
    /// a repeated key is visited again (a visitor that overwrites keeps the
    /// last value, as Python does).
    ///
    /// [`value`]: Reader::value
    pub(crate) fn members<F>(&mut self, mut visit: F) -> Result<(), JsonError>
    where
        F: FnMut(&mut Reader<'a>, std::borrow::Cow<'a, str>) -> Result<(), JsonError>,
    {
        self.open()?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            self.skip_ws();
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a string key"));
            }
            let key = self.string()?;
            self.skip_ws();
            if !self.eat(b":") {
                return Err(self.syntax("expected ':'"));
            }
            self.skip_ws();
            visit(self, key)?;
            if !self.next_or_close(b'}', "expected ',' or '}'")? {
                return Ok(());
            }
        }
    }

    /// True when the cursor is on an object.
    pub(crate) fn at_object(&self) -> bool {
        self.peek() == Some(b'{')
    }

    /// Reads a `true` or `false` at the cursor; anything else is left unread.
    pub(crate) fn bool(&mut self) -> Option<bool> {
        let b = if self.eat(b"true") {
            true
        } else if self.eat(b"false") {
            false
        } else {
            return None;
        };
        self.skip_ws();
        Some(b)
    }

    /// Reads a string without escapes at the cursor, as a slice of the
    /// text; anything else is left unread.
    pub(crate) fn plain_str(&mut self) -> Option<&'a str> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.i + 1;
        let len = self.bytes()[start..]
            .iter()
            .position(|&c| ENDS_RUN[usize::from(c)])?;
        if self.bytes()[start + len] != b'"' {
            return None;
        }
        self.i = start + len + 1;
        self.skip_ws();
        Some(&self.text[start..start + len])
    }

    /// Reads an array of at most `max_len` integers written as plain digits
    /// (no sign, fraction or exponent) that each fit in `usize`; anything
    /// else is left unread, for [`Reader::value`] to read as it is.
    pub(crate) fn plain_uint_array(&mut self, max_len: usize) -> Option<Vec<usize>> {
        let start = self.i;
        let read = self.try_plain_uint_array(max_len);
        if read.is_none() {
            self.i = start;
        }
        read
    }

    fn try_plain_uint_array(&mut self, max_len: usize) -> Option<Vec<usize>> {
        if self.peek() != Some(b'[') || self.depth >= self.max_depth {
            return None;
        }
        self.i += 1;
        self.skip_ws();
        let mut items = Vec::with_capacity(4);
        if self.peek() == Some(b']') {
            self.i += 1;
            self.skip_ws();
            return Some(items);
        }
        loop {
            let literal = self.number().ok()?;
            if items.len() == max_len || !literal.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            items.push(literal.parse().ok()?);
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.skip_ws();
                }
                b']' => {
                    self.i += 1;
                    self.skip_ws();
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .bytes()
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.syntax("short \\u escape"))?;
        let mut v = 0u32;
        for &d in digits {
            let n = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.syntax("bad hex digit in \\u escape"))?;
            v = v * 16 + n;
        }
        self.i += 4;
        Ok(v)
    }

    /// The string at the cursor (on its opening quote): borrowed from the
    /// text when it has no escapes, built otherwise.
    fn string(&mut self) -> Result<std::borrow::Cow<'a, str>, JsonError> {
        self.i += 1; // opening quote
        let mut out: Option<String> = None;
        loop {
            // A run of plain characters; it ends at an ASCII byte (or the
            // end), so both ends are character boundaries.
            let start = self.i;
            let run = self.bytes()[start..]
                .iter()
                .position(|&c| ENDS_RUN[usize::from(c)])
                .unwrap_or(self.text.len() - start);
            self.i += run;
            let plain = &self.text[start..self.i];
            match self.peek() {
                None => return Err(self.syntax("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(match out {
                        None => std::borrow::Cow::Borrowed(plain),
                        Some(mut s) => {
                            s.push_str(plain);
                            std::borrow::Cow::Owned(s)
                        }
                    });
                }
                Some(b'\\') => {
                    let out = out.get_or_insert_with(String::new);
                    out.push_str(plain);
                    self.escape(out)?;
                }
                Some(_) => return Err(self.syntax("control character in string")),
            }
        }
    }

    /// Decodes the escape at the cursor (on its backslash) onto `out`.
    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        self.i += 1;
        let esc = self
            .peek()
            .ok_or_else(|| self.syntax("unterminated escape"))?;
        self.i += 1;
        match esc {
            b'"' => out.push('"'),
            b'\\' => out.push('\\'),
            b'/' => out.push('/'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'n' => out.push('\n'),
            b'r' => out.push('\r'),
            b't' => out.push('\t'),
            b'u' => {
                let at = self.i - 2;
                let first = self.hex4()?;
                let code = match first {
                    0xD800..=0xDBFF => {
                        if self.bytes().get(self.i..self.i + 2) != Some(b"\\u") {
                            return Err(JsonError::LoneSurrogate { offset: at });
                        }
                        self.i += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(JsonError::LoneSurrogate { offset: at });
                        }
                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(JsonError::LoneSurrogate { offset: at }),
                    other => other,
                };
                out.push(char::from_u32(code).ok_or(JsonError::LoneSurrogate { offset: at })?);
            }
            _ => return Err(self.syntax("invalid escape")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_python_dialect() {
        let v = parse(b" {\"a\" : [1, -2.5e3, NaN, Infinity, -Infinity, true, false, null], \"b\": \"\\u00e9\\ud83c\\udfa5\\n\"} ").unwrap();
        assert_eq!(
            v.to_python_json(),
            r#"{"a": [1, -2.5e3, NaN, Infinity, -Infinity, true, false, null], "b": "\u00e9\ud83c\udfa5\n"}"#
        );
    }

    #[test]
    fn rejects_what_python_rejects() {
        for bad in [
            &b""[..],
            b"[",
            b"[1,]",
            b"{\"a\" 1}",
            b"{1: 2}",
            b"tru",
            b"nan",
            b"01",
            b"1.",
            b"\"a\x01\"",
            b"\"\\x\"",
            b"[] []",
            b"{\"a\": 1,}",
            b"\"\\u12\"",
            b"'a'",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn typed_errors() {
        assert_eq!(
            parse(b"\"\xff\"").unwrap_err(),
            JsonError::InvalidUtf8 { offset: 1 }
        );
        assert_eq!(
            parse(b"\"\\ud800\"").unwrap_err(),
            JsonError::LoneSurrogate { offset: 1 }
        );
        assert_eq!(
            parse(b"\"\\udc00x\"").unwrap_err(),
            JsonError::LoneSurrogate { offset: 1 }
        );
        assert!(matches!(
            parse(b"[1 2]").unwrap_err(),
            JsonError::Syntax { offset: 3, .. }
        ));
    }

    #[test]
    fn depth_limit_is_enforced_without_recursion_blowup() {
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse(deep.as_bytes()),
            Err(JsonError::TooDeep { limit: 128, .. })
        ));
        let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(parse(ok.as_bytes()).is_ok());
        let over = format!("{}{}", "[".repeat(129), "]".repeat(129));
        assert!(parse(over.as_bytes()).is_err());
        assert!(parse_with_depth(over.as_bytes(), 200).is_ok());
    }

    /// spec/04 §4.6 rule 7. With a linear search per member (as this map
    /// once had) these 200 000 keys took minutes; hashed, well under a
    /// second even unoptimised. No clock is read: a regression shows as a
    /// test that does not finish.
    #[test]
    fn an_object_with_very_many_keys_is_read_in_linear_time() {
        let n = 200_000;
        let mut text = String::from("{");
        for i in 0..n {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&format!("\"k{i}\": {i}"));
        }
        text.push('}');
        let Value::Object(map) = parse(text.as_bytes()).unwrap() else {
            panic!("not an object")
        };
        assert_eq!(map.len(), n);
        assert_eq!(map.get("k199999").and_then(Value::as_i64), Some(199_999));
    }

    #[test]
    fn duplicate_keys_last_wins_first_position() {
        let v = parse(br#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
        assert_eq!(v.to_python_json(), r#"{"a": 3, "b": 2}"#);
    }
}
