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
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(JsonError::InvalidUtf8 {
            offset: e.valid_up_to(),
        });
    }
    let mut p = Parser {
        b: bytes,
        i: 0,
        max_depth,
    };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.i != bytes.len() {
        return Err(p.syntax("extra data after the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    max_depth: usize,
}

impl Parser<'_> {
    fn syntax(&self, what: &'static str) -> JsonError {
        JsonError::Syntax {
            offset: self.i,
            what,
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, word: &[u8]) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.b.get(self.i) {
            None => Err(self.syntax("expected a value, found the end")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'n') if self.eat(b"null") => Ok(Value::Null),
            Some(b't') if self.eat(b"true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat(b"false") => Ok(Value::Bool(false)),
            Some(b'N') if self.eat(b"NaN") => {
                Ok(Value::Number(Number::from_literal("NaN").unwrap()))
            }
            Some(b'I') if self.eat(b"Infinity") => {
                Ok(Value::Number(Number::from_literal("Infinity").unwrap()))
            }
            Some(b'-') if self.eat(b"-Infinity") => {
                Ok(Value::Number(Number::from_literal("-Infinity").unwrap()))
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.syntax("expected a value")),
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let len =
            number_literal_len(&self.b[self.i..]).ok_or_else(|| self.syntax("malformed number"))?;
        // Safe to index as str: the prefix is ASCII by construction.
        let text = std::str::from_utf8(&self.b[self.i..self.i + len]).expect("ASCII digits");
        let n = Number::from_literal(text).ok_or_else(|| self.syntax("malformed number"))?;
        self.i += len;
        Ok(Value::Number(n))
    }

    fn check_depth(&self, depth: usize) -> Result<(), JsonError> {
        if depth > self.max_depth {
            Err(JsonError::TooDeep {
                offset: self.i,
                limit: self.max_depth,
            })
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.check_depth(depth)?;
        self.i += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b"]") {
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            if self.eat(b",") {
                continue;
            }
            if self.eat(b"]") {
                return Ok(Value::Array(items));
            }
            return Err(self.syntax("expected ',' or ']'"));
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.check_depth(depth)?;
        self.i += 1; // '{'
        let mut map = Map::new();
        self.skip_ws();
        if self.eat(b"}") {
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            if self.b.get(self.i) != Some(&b'"') {
                return Err(self.syntax("expected a string key"));
            }
            let key = self.string()?;
            self.skip_ws();
            if !self.eat(b":") {
                return Err(self.syntax("expected ':'"));
            }
            self.skip_ws();
            let value = self.value(depth)?;
            map.insert(key, value);
            self.skip_ws();
            if self.eat(b",") {
                continue;
            }
            if self.eat(b"}") {
                return Ok(Value::Object(map));
            }
            return Err(self.syntax("expected ',' or '}'"));
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .b
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

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            // Copy the run of plain characters in one go.
            let start = self.i;
            while let Some(&c) = self.b.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            // The input was validated as UTF-8 and runs end at ASCII bytes.
            out.push_str(std::str::from_utf8(&self.b[start..self.i]).expect("validated UTF-8"));
            match self.b.get(self.i) {
                None => return Err(self.syntax("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let esc = *self
                        .b
                        .get(self.i)
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
                                    if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                                        return Err(JsonError::LoneSurrogate { offset: at });
                                    }
                                    self.i += 2;
                                    let second = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&second) {
                                        return Err(JsonError::LoneSurrogate { offset: at });
                                    }
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                                }
                                0xDC00..=0xDFFF => {
                                    return Err(JsonError::LoneSurrogate { offset: at })
                                }
                                other => other,
                            };
                            out.push(
                                char::from_u32(code)
                                    .ok_or(JsonError::LoneSurrogate { offset: at })?,
                            );
                        }
                        _ => return Err(self.syntax("invalid escape")),
                    }
                }
                Some(_) => return Err(self.syntax("control character in string")),
            }
        }
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

    #[test]
    fn duplicate_keys_last_wins_first_position() {
        let v = parse(br#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
        assert_eq!(v.to_python_json(), r#"{"a": 3, "b": 2}"#);
    }
}
