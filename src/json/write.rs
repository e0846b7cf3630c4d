//! A writer that produces exactly what Python's `json.dumps` produces.

use super::Value;

/// Serialises `value` like `json.dumps(value)` with default arguments:
/// `", "` and `": "` separators, ASCII-only output.
///
/// ```
/// use netgear::json::{parse, to_python_json};
/// let v = parse("{\"t\": \"h\u{e9}llo \u{1f3a5}\"}".as_bytes()).unwrap();
/// assert_eq!(to_python_json(&v), r#"{"t": "h\u00e9llo \ud83c\udfa5"}"#);
/// ```
pub fn to_python_json(value: &Value) -> String {
    let mut out = Vec::with_capacity(64);
    write_python_json(value, &mut out);
    // Every byte written is ASCII.
    String::from_utf8(out).expect("ASCII output")
}

/// Appends the `json.dumps` text of `value` to `out`.
pub fn write_python_json(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.as_str().as_bytes()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_python_json(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(b", ");
                }
                write_string(k, out);
                out.extend_from_slice(b": ");
                write_python_json(v, out);
            }
            out.push(b'}');
        }
    }
}

/// `ensure_ascii=True` string escaping: printable ASCII passes through,
/// everything else becomes an escape, astral characters a surrogate pair.
pub(crate) fn write_string(s: &str, out: &mut Vec<u8>) {
    // Most strings on the wire (keys, dtypes, patterns) are printable ASCII
    // with nothing to escape: copy those in one go.
    if s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
    {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let u16_escape = |unit: u16, out: &mut Vec<u8>| {
        out.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[usize::from((unit >> shift) & 0xf)]);
        }
    };
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            ' '..='~' => out.push(c as u8),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    u16_escape(*unit, out);
                }
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_ensure_ascii() {
        let mut out = Vec::new();
        write_string("q\"b\\\n\r\t\u{8}\u{c}\u{1}\u{7f}é€🎥 ~", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""q\"b\\\n\r\t\b\f\u0001\u007f\u00e9\u20ac\ud83c\udfa5 ~""#
        );
    }
}
