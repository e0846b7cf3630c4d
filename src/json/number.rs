//! JSON numbers that keep their exact literal text.

use std::fmt;

/// A JSON number, stored as the literal text that represents it.
///
/// Keeping the text (rather than an `f64` or `i64`) is what lets NetGear
/// carry integers beyond 64 bits and Python's `NaN` / `Infinity` without loss,
/// and re-emit a received number exactly as the peer wrote it.
///
/// ```
/// use netgear::json::Number;
/// let big = Number::from_literal("1267650600228229401496703205376").unwrap();
/// assert!(big.is_integer());
/// assert_eq!(big.as_i64(), None); // too big for i64, but not lost
/// assert_eq!(Number::from(0.1).as_str(), "0.1");
/// assert_eq!(Number::from(1e16).as_str(), "1e+16"); // Python's repr
/// assert_eq!(Number::from(f64::NAN).as_str(), "NaN");
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(Box<str>);

impl Number {
    /// Checks `text` against the grammar Python's `json.loads` accepts
    /// (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, `NaN`, `Infinity`,
    /// `-Infinity`) and wraps it. Returns `None` for anything else.
    pub fn from_literal(text: &str) -> Option<Number> {
        if is_number_literal(text.as_bytes()) {
            Some(Number(text.into()))
        } else {
            None
        }
    }

    /// Wraps a literal the parser has already matched against the grammar.
    pub(crate) fn from_valid_literal(text: &str) -> Number {
        debug_assert!(is_number_literal(text.as_bytes()), "{text:?}");
        Number(text.into())
    }

    /// The literal text, exactly as it will be written on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for an integer literal (no fraction, no exponent, not NaN or
    /// Infinity): Python decodes those as `int`.
    pub fn is_integer(&self) -> bool {
        let b = self.0.as_bytes();
        !b.iter()
            .any(|c| matches!(c, b'.' | b'e' | b'E' | b'N' | b'I'))
    }

    /// The value as an `i64`, if it is an integer literal that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.is_integer().then(|| self.0.parse().ok()).flatten()
    }

    /// The value as a `u64`, if it is a non-negative integer literal that fits.
    pub fn as_u64(&self) -> Option<u64> {
        self.is_integer().then(|| self.0.parse().ok()).flatten()
    }

    /// The value as an `f64` (as Python's `float()` would read it; big
    /// integers are rounded, `NaN`/`Infinity` map to the IEEE values).
    pub fn as_f64(&self) -> f64 {
        match &*self.0 {
            "NaN" => f64::NAN,
            "Infinity" => f64::INFINITY,
            "-Infinity" => f64::NEG_INFINITY,
            s => s.parse().unwrap_or(f64::NAN),
        }
    }

    /// The name of the Python type `json.loads` produces for this literal.
    pub fn python_type(&self) -> &'static str {
        if self.is_integer() {
            "int"
        } else {
            "float"
        }
    }
}

/// The primitive a [`Number`] is exactly, for the serde conversions: the
/// one whose `Number::from` gives back the very same literal text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Exact {
    /// A negative integer that fits in 64 bits.
    I64(i64),
    /// A non-negative integer that fits in 64 bits.
    U64(u64),
    /// A negative integer that needs more than 64 bits but fits in 128.
    I128(i128),
    /// A non-negative integer that needs more than 64 bits but fits in 128.
    U128(u128),
    /// A float literal written the way Python's `repr` writes it
    /// (`NaN` and the infinities included).
    F64(f64),
    /// No primitive reproduces the text: an integer beyond 128 bits, `-0`,
    /// or a float not in repr form (`1.50`, `1E5`, `1e400`).
    Literal,
}

impl Number {
    /// Which primitive reproduces this literal exactly, if any. Python writes
    /// every number in that canonical form except integers beyond 128 bits,
    /// so [`Exact::Literal`] is rare on the wire.
    pub(crate) fn exact(&self) -> Exact {
        let text = self.as_str();
        if !self.is_integer() {
            let x = self.as_f64();
            return if python_float_repr(x) == text {
                Exact::F64(x)
            } else {
                Exact::Literal
            };
        }
        if text.starts_with('-') {
            if text == "-0" {
                Exact::Literal
            } else if let Ok(n) = text.parse::<i64>() {
                Exact::I64(n)
            } else {
                text.parse::<i128>().map_or(Exact::Literal, Exact::I128)
            }
        } else if let Ok(n) = text.parse::<u64>() {
            Exact::U64(n)
        } else {
            text.parse::<u128>().map_or(Exact::Literal, Exact::U128)
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(n: $t) -> Number {
                Number(n.to_string().into())
            }
        }
    )*};
}
from_integer!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl From<f64> for Number {
    /// Formats like Python's `repr(float)`, which is what `json.dumps` writes.
    fn from(x: f64) -> Number {
        Number(python_float_repr(x).into())
    }
}

impl From<f32> for Number {
    fn from(x: f32) -> Number {
        Number::from(f64::from(x))
    }
}

/// Python's `float.__repr__`: the shortest digits that round-trip, in fixed
/// notation when the decimal exponent lies in [-4, 16), otherwise in
/// scientific notation with a signed, at least two-digit exponent.
pub(crate) fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // ryu yields the shortest round-trip digits and, where two candidates
    // are equally near, the one Python's repr picks (-1085297024674930.2;
    // Rust's own `{:e}` prints ...930.3 there). Only the layout differs from
    // Python's, so take the digits and exponent and lay them out again.
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(x);
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = format!("{int_part}{frac_part}");
    // Position of the decimal point relative to the start of `digits`.
    let mut point = int_part.len() as i32 + exponent;
    let leading = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..leading);
    point -= leading as i32;
    let trimmed = digits.trim_end_matches('0').len();
    digits.truncate(trimmed);

    let mut out = String::with_capacity(24);
    if negative {
        out.push('-');
    }
    if digits.is_empty() {
        out.push_str("0.0");
        return out;
    }
    let n = digits.len() as i32;
    if -4 < point && point <= 16 {
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(&digits);
        } else if point >= n {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (point - n) as usize));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
    } else {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = point - 1;
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", e.abs()));
    }
    out
}

/// The number grammar of Python's `json` scanner, plus its three constants.
pub(crate) fn is_number_literal(b: &[u8]) -> bool {
    if matches!(b, b"NaN" | b"Infinity" | b"-Infinity") {
        return true;
    }
    number_literal_len(b) == Some(b.len())
}

/// Length of the longest prefix of `b` matching Python's number regex
/// (`-?(?:0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`), or `None` if none does.
pub(crate) fn number_literal_len(b: &[u8]) -> Option<usize> {
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut i = usize::from(b.first() == Some(&b'-'));
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i += digits(i),
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let d = digits(i + 1);
        if d > 0 {
            i += 1 + d;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        let d = digits(i + 1 + sign);
        if d > 0 {
            i += 1 + sign + d;
        }
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e300, "1.5e+300"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (123456789.125, "123456789.125"),
            (-2.5, "-2.5"),
            (1e22, "1e+22"),
            (9999999999999998.0, "9999999999999998.0"),
            (0.30000000000000004, "0.30000000000000004"),
            (-1085297024674930.2, "-1085297024674930.2"),
        ];
        for (x, want) in cases {
            assert_eq!(python_float_repr(*x), *want, "repr of {x:e}");
        }
    }

    #[test]
    fn literal_grammar() {
        for ok in [
            "0",
            "-0",
            "12",
            "1.5",
            "1e5",
            "1E+05",
            "-1.25e-3",
            "NaN",
            "Infinity",
            "-Infinity",
        ] {
            assert!(is_number_literal(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1e", "+1", "nan", "inf", "-NaN", "1.5.2", "0x10",
        ] {
            assert!(!is_number_literal(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn exact_primitive_reproduces_the_text() {
        let exact = |t: &str| Number::from_literal(t).unwrap().exact();
        assert_eq!(exact("-5"), Exact::I64(-5));
        assert_eq!(exact("5"), Exact::U64(5));
        assert_eq!(exact("18446744073709551616"), Exact::U128(1 << 64));
        assert_eq!(exact("-9223372036854775809"), Exact::I128(-(1 << 63) - 1));
        assert_eq!(exact("0.5"), Exact::F64(0.5));
        assert_eq!(exact("1e+16"), Exact::F64(1e16));
        assert!(matches!(exact("NaN"), Exact::F64(x) if x.is_nan()));
        assert_eq!(exact("-Infinity"), Exact::F64(f64::NEG_INFINITY));
        for literal in [
            "-0",
            "1.50",
            "1E5",
            "1e16",
            "1e400",
            "340282366920938463463374607431768211456",
        ] {
            assert_eq!(exact(literal), Exact::Literal, "{literal}");
        }
    }

    #[test]
    fn accessors() {
        let n = Number::from_literal("-42").unwrap();
        assert_eq!(n.as_i64(), Some(-42));
        assert_eq!(n.as_u64(), None);
        assert_eq!(n.python_type(), "int");
        let f = Number::from_literal("2.5e3").unwrap();
        assert_eq!(f.as_i64(), None);
        assert_eq!(f.as_f64(), 2500.0);
        assert_eq!(f.python_type(), "float");
        assert!(Number::from_literal("NaN").unwrap().as_f64().is_nan());
        assert_eq!(
            Number::from(u128::MAX).as_str(),
            "340282366920938463463374607431768211455"
        );
    }
}
