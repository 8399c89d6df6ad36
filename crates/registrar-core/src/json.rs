//! Strict JSON parsing for request bodies: one object, unique member names, bounded nesting.
//!
//! RFC 8259 §4 leaves duplicate names "unpredictable"; two parsers that disagree on which
//! duplicate wins are a classic way to sneak a value past a validator, so duplicates are refused.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// How deep objects and arrays may nest; client metadata needs three levels (`jwks.keys[0]`).
pub const MAX_DEPTH: usize = 16;

/// Parses `body` as a JSON object, refusing duplicate member names and deep nesting.
/// The error is a lowercase sentence fit for an `error_description`.
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, String> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = StrictValue { depth: 0 }
        .deserialize(&mut deserializer)
        .map_err(|error| format!("the request body is not valid JSON: {error}"))?;
    deserializer
        .end()
        .map_err(|error| format!("the request body is not valid JSON: {error}"))?;
    match value {
        Value::Object(object) => Ok(object),
        _ => Err("the request body must be a JSON object".to_owned()),
    }
}

struct StrictValue {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl StrictValue {
    fn nested<E: de::Error>(&self) -> Result<StrictValue, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(StrictValue {
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = sequence.next_element_seed(self.nested()?)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self.nested()?)?;
            if object.insert(key.clone(), value).is_some() {
                return Err(de::Error::custom(format!("duplicate member \"{key}\"")));
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(body: &str) -> String {
        match parse_object(body.as_bytes()) {
            Ok(object) => format!("ok {}", object.len()),
            Err(error) => error,
        }
    }

    #[test]
    fn accepts_objects_and_refuses_everything_else() {
        assert_eq!(check(r#"{"a":1,"b":{"c":[1,2]}}"#), "ok 2");
        assert!(check(r#"{"a":1,"a":2}"#).contains("duplicate member \"a\""));
        assert!(check(r#"{"x":{"a":1,"a":2}}"#).contains("duplicate member"));
        assert_eq!(check("[1]"), "the request body must be a JSON object");
        assert_eq!(check("null"), "the request body must be a JSON object");
        assert!(check("{").starts_with("the request body is not valid JSON"));
        assert!(check(r#"{"a":1} x"#).starts_with("the request body is not valid JSON"));
        assert!(check("").starts_with("the request body is not valid JSON"));
        let deep = format!("{}1{}", r#"{"a":"#.repeat(40), "}".repeat(40));
        assert!(check(&deep).contains("nesting deeper than 16 levels"));
        let deep_array = format!(r#"{{"a":{}1{}}}"#, "[".repeat(5000), "]".repeat(5000));
        assert!(check(&deep_array).contains("nesting"));
    }
}
