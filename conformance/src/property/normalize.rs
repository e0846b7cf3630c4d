//! What a Python value becomes on the wire: the rules of `json.dumps`
//! followed by `json.loads`, computed here independently of netgear's own
//! conversions. The expected value of every message and return data.

use netgear::json::{Map, Number, Value};

use super::model::{float_number, PyValue};

/// The value a peer reads after vidgear (or netgear) sent `v`: tuples are
/// lists; a dict first merges keys Python holds equal (`1` and `True`: the
/// first key stays, the last value wins), then its keys become strings,
/// and keys that are then equal (`1` and `"1"`) collapse the way
/// `json.loads` collapses duplicates (the first position, the last value).
pub fn wire_value(v: &PyValue) -> Value {
    match v {
        PyValue::None => Value::Null,
        PyValue::Bool(b) => Value::Bool(*b),
        PyValue::Int(digits) => Value::Number(
            Number::from_literal(digits).expect("the generator writes integer literals"),
        ),
        PyValue::Float(bits) => Value::Number(float_number(*bits)),
        PyValue::Str(s) => Value::from(s.as_str()),
        PyValue::List(items) | PyValue::Tuple(items) => {
            Value::Array(items.iter().map(wire_value).collect())
        }
        PyValue::Dict(pairs) => {
            let mut merged: Vec<(&PyValue, &PyValue)> = Vec::new();
            for (k, v) in pairs {
                match merged
                    .iter_mut()
                    .find(|(seen, _)| python_equal_keys(seen, k))
                {
                    Some(slot) => slot.1 = v,
                    None => merged.push((k, v)),
                }
            }
            let mut map = Map::new();
            for (k, v) in merged {
                map.insert(key_text(k), wire_value(v));
            }
            Value::Object(map)
        }
    }
}

/// `json.dumps`'s text for a dict key.
fn key_text(k: &PyValue) -> String {
    match k {
        PyValue::Str(s) => s.clone(),
        PyValue::Int(d) => d.clone(),
        PyValue::Bool(true) => "true".into(),
        PyValue::Bool(false) => "false".into(),
        PyValue::None => "null".into(),
        other => panic!("the generator makes no {other:?} keys"),
    }
}

/// Python's `==` between two dict keys of the kinds the generator makes.
fn python_equal_keys(a: &PyValue, b: &PyValue) -> bool {
    let as_int = |v: &PyValue| match v {
        PyValue::Int(d) => Some(d.clone()),
        PyValue::Bool(b) => Some(if *b { "1" } else { "0" }.to_owned()),
        _ => None,
    };
    match (a, b) {
        (PyValue::Str(x), PyValue::Str(y)) => x == y,
        (PyValue::None, PyValue::None) => true,
        _ => match (as_int(a), as_int(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// Python's truthiness of a value read from JSON: `None`, `False`, zero,
/// and empty strings, lists and dicts are false (NaN is true).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => {
            if n.is_integer() {
                !n.as_str()
                    .trim_start_matches('-')
                    .trim_start_matches('0')
                    .is_empty()
            } else {
                n.as_f64() != 0.0
            }
        }
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: &str) -> PyValue {
        PyValue::Str(t.into())
    }
    fn i(t: &str) -> PyValue {
        PyValue::Int(t.into())
    }

    #[test]
    fn dict_keys_merge_as_python_then_collapse_as_json_loads() {
        // {1: 'a', True: 'b', '1': 'c', None: 'd', 'x': (2,)}
        let v = PyValue::Dict(vec![
            (i("1"), s("a")),
            (PyValue::Bool(true), s("b")),
            (s("1"), s("c")),
            (PyValue::None, s("d")),
            (s("x"), PyValue::Tuple(vec![i("2")])),
        ]);
        assert_eq!(
            wire_value(&v).to_python_json(),
            r#"{"1": "c", "null": "d", "x": [2]}"#
        );
    }

    #[test]
    fn truthiness_is_pythons() {
        let p = |t: &str| netgear::json::parse(t.as_bytes()).unwrap();
        for falsy in [
            "0", "-0", "0.0", "-0.0", "\"\"", "[]", "{}", "false", "null", "0e5",
        ] {
            assert!(!truthy(&p(falsy)), "{falsy}");
        }
        for t in ["NaN", "1e-300", "\" \"", "[0]", "{\"\": 0}", "true", "10"] {
            assert!(truthy(&p(t)), "{t}");
        }
    }
}
