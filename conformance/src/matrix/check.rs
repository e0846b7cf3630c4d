//! Expected values, computed independently of the code under test.

use netgear::json::Value;
use sha2::{Digest, Sha256};

/// sha256 (hex) of a synthetic frame whose flat element i is
/// `(offset + i) mod 251` cast to `dtype` (little-endian bytes).
pub fn synthetic_sha256(offset: u64, shape: &[usize], dtype: &str) -> String {
    let n: usize = shape.iter().product();
    let mut hasher = Sha256::new();
    let mut buf = Vec::with_capacity(8 * 4096);
    for i in 0..n {
        let v = ((offset + i as u64) % 251) as u8;
        match dtype {
            "bool" => buf.push(u8::from(v != 0)),
            "uint8" | "int8" => buf.push(v),
            "uint16" | "int16" => buf.extend_from_slice(&u16::from(v).to_le_bytes()),
            "uint32" | "int32" => buf.extend_from_slice(&u32::from(v).to_le_bytes()),
            "uint64" | "int64" => buf.extend_from_slice(&u64::from(v).to_le_bytes()),
            "float16" => buf.extend_from_slice(&half::f16::from_f32(f32::from(v)).to_le_bytes()),
            "float32" => buf.extend_from_slice(&f32::from(v).to_le_bytes()),
            "float64" => buf.extend_from_slice(&f64::from(v).to_le_bytes()),
            other => panic!("synthetic frames of {other} are not defined"),
        }
        if buf.len() >= 8 * 4096 - 8 {
            hasher.update(&buf);
            buf.clear();
        }
    }
    hasher.update(&buf);
    hex::encode(hasher.finalize())
}

pub fn parse_shape(text: &str) -> Vec<usize> {
    text.split(',')
        .map(|d| d.trim().parse().expect("shape in the matrix"))
        .collect()
}

/// Equality of decoded JSON: integers by their digits, floats by value
/// (NaN equals NaN, -0.0 differs from 0.0), everything else structurally.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_integer() && y.is_integer() {
                x.as_str() == y.as_str()
            } else if x.is_integer() != y.is_integer() {
                false
            } else {
                let (fx, fy) = (x.as_f64(), y.as_f64());
                (fx.is_nan() && fy.is_nan()) || fx.to_bits() == fy.to_bits()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && same(v1, v2))
        }
        _ => a == b,
    }
}

/// A short rendering of a value for failure messages.
pub fn show(v: &Value) -> String {
    let text = v.to_python_json();
    if text.len() > 160 {
        format!("{}… ({} bytes)", &text[..160], text.len())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value() {
        let p = |t: &str| netgear::json::parse(t.as_bytes()).unwrap();
        assert!(same(&p("[NaN, 1e+16]"), &p("[NaN, 1e16]")));
        assert!(!same(&p("0.0"), &p("-0.0")));
        assert!(!same(&p("1"), &p("1.0")));
        assert!(same(
            &p("1267650600228229401496703205376"),
            &p("1267650600228229401496703205376")
        ));
    }
}
