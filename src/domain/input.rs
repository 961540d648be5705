//! A POST or PUT body as the engine reads it: the attributes of one JSON
//! object, parsed straight from the request's bytes, with names and strings
//! borrowed from them wherever JSON needs no unescaping. No JSON tree is
//! built for scalar values, which are nearly all a body holds; a fraction,
//! an array or an object keeps its JSON value, for the message that
//! refuses it.
//!
//! The attributes come in name order, each name once: as in a JSON parser's
//! map, the last value sent for a name is the one read. A body wrapped as
//! `{"data": {...}}` is unwrapped (API.md section 2).

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::validate::{Scalar, describe};

/// One attribute's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<'a> {
    Null,
    Bool(bool),
    /// A whole number within `i64`: written `7`, `7.0` or `7e0` (JSON Schema
    /// counts all three as integers, API.md section 7).
    Int(i64),
    Str(Cow<'a, str>),
    /// The object under `data` when a body might be wrapped.
    Object(Input<'a>),
    /// Anything else: a fraction, a number outside `i64`, an array, or an
    /// object.
    Other(Value),
}

/// The attributes of a body, in name order, each name once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Input<'a> {
    fields: Vec<(Cow<'a, str>, Field<'a>)>,
}

/// Why a body is not one JSON object.
#[derive(Debug)]
pub enum InputError {
    /// Not JSON at all (serde_json's error: what, and where).
    Syntax(serde_json::Error),
    /// JSON, but not an object: "an array", "a string", "a number", "a
    /// boolean" or "null".
    NotObject(&'static str),
}

impl<'a> Input<'a> {
    /// Parses `bytes` as one JSON object, bare or wrapped as
    /// `{"data": {...}}`.
    pub fn parse(bytes: &'a [u8]) -> Result<Input<'a>, InputError> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let top = de.deserialize_any(TopVisitor).map_err(InputError::Syntax)?;
        de.end().map_err(InputError::Syntax)?;
        match top {
            Top::Object(mut input) => {
                if let [(name, Field::Object(_))] = input.fields.as_slice()
                    && name == "data"
                    && let Some((_, Field::Object(inner))) = input.fields.pop()
                {
                    return Ok(inner);
                }
                Ok(input)
            }
            Top::NotObject(kind) => Err(InputError::NotObject(kind)),
        }
    }

    /// The value sent for `name`.
    pub fn get(&self, name: &str) -> Option<&Field<'a>> {
        self.fields
            .binary_search_by(|(k, _)| k.as_ref().cmp(name))
            .ok()
            .map(|i| &self.fields[i].1)
    }

    /// The attributes, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Field<'a>)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The body as a JSON object (for a message that shows it).
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_value()))
                .collect(),
        )
    }

    /// Sorts by name and keeps the last value of a name sent twice.
    fn from_sent(mut sent: Vec<(Cow<'a, str>, Field<'a>)>) -> Input<'a> {
        if !sent.is_sorted_by(|a, b| a.0 < b.0) {
            sent.sort_by(|a, b| a.0.cmp(&b.0)); // stable: a repeated name keeps its order
            let mut fields: Vec<(Cow<'a, str>, Field<'a>)> = Vec::with_capacity(sent.len());
            for (k, v) in sent {
                match fields.last_mut() {
                    Some(last) if last.0 == k => last.1 = v,
                    _ => fields.push((k, v)),
                }
            }
            sent = fields;
        }
        Input { fields: sent }
    }
}

impl Field<'_> {
    /// The value as validation converts it.
    pub fn scalar(&self) -> Scalar<'_> {
        match self {
            Field::Null => Scalar::Null,
            Field::Bool(b) => Scalar::Bool(*b),
            Field::Int(i) => Scalar::Int(*i),
            Field::Str(s) => Scalar::Str(s),
            Field::Object(input) => Scalar::Other(describe(&input.to_value())),
            Field::Other(v) => Scalar::Other(describe(v)),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Field::Null => Value::Null,
            Field::Bool(b) => Value::Bool(*b),
            Field::Int(i) => Value::from(*i),
            Field::Str(s) => Value::String(s.to_string()),
            Field::Object(input) => input.to_value(),
            Field::Other(v) => v.clone(),
        }
    }
}

/// Equal fields hash alike, whatever their spelling in the body (key
/// order, spacing, escapes).
impl Hash for Field<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self).hash(h);
        match self {
            Field::Null => {}
            Field::Bool(b) => b.hash(h),
            Field::Int(i) => i.hash(h),
            Field::Str(s) => s.hash(h),
            Field::Object(input) => input.hash(h),
            Field::Other(v) => v.hash(h),
        }
    }
}

impl Hash for Input<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.fields.len().hash(h);
        for (k, v) in &self.fields {
            k.hash(h);
            v.hash(h);
        }
    }
}

/// A whole number written with a fraction or an exponent (`7.0`, `7e0`),
/// within `i64`.
pub fn whole(f: f64) -> Option<i64> {
    // i64::MAX is not exactly representable: 2^63 is the first value outside.
    let in_range = (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f);
    #[allow(clippy::cast_possible_truncation)]
    (f.fract() == 0.0 && in_range).then_some(f as i64)
}

enum Top<'a> {
    Object(Input<'a>),
    NotObject(&'static str),
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Top<'de>, A::Error> {
        object(map, true).map(Top::Object)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Top::NotObject("an array"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Top<'de>, E> {
        Ok(Top::NotObject("a string"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Top<'de>, E> {
        Ok(Top::NotObject("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Top<'de>, E> {
        Ok(Top::NotObject("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Top<'de>, E> {
        Ok(Top::NotObject("a number"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Top<'de>, E> {
        Ok(Top::NotObject("a boolean"))
    }

    fn visit_unit<E>(self) -> Result<Top<'de>, E> {
        Ok(Top::NotObject("null"))
    }
}

/// The attributes of an object; `top`: the body's own object, whose `data`
/// may hold the wrapped body.
fn object<'de, A: MapAccess<'de>>(mut map: A, top: bool) -> Result<Input<'de>, A::Error> {
    let mut sent = Vec::with_capacity(map.size_hint().unwrap_or(16));
    while let Some(name) = map.next_key_seed(NameSeed)? {
        let wrapped = top && name == "data";
        let value = map.next_value_seed(FieldSeed { wrapped })?;
        sent.push((name, value));
    }
    Ok(Input::from_sent(sent))
}

/// An attribute name, borrowed when it has no escape.
struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(StrVisitor)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s))
    }
}

/// One attribute's value; `wrapped`: an object here is read as a body.
struct FieldSeed {
    wrapped: bool,
}

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = Field<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Field<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldSeed {
    type Value = Field<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Field<'de>, E> {
        Ok(Field::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Field<'de>, E> {
        Ok(Field::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Field<'de>, E> {
        Ok(Field::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Field<'de>, E> {
        Ok(i64::try_from(u).map_or_else(|_| Field::Other(Value::from(u)), Field::Int))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Field<'de>, E> {
        Ok(whole(f).map_or_else(|| Field::Other(Value::from(f)), Field::Int))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Field<'de>, A::Error> {
        let v = serde::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Field::Other(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field<'de>, A::Error> {
        if self.wrapped {
            return object(map, false).map(Field::Object);
        }
        let v = serde::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Field::Other(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Input<'_> {
        Input::parse(s.as_bytes()).unwrap()
    }

    /// What the engine read before it had its own parser: serde_json's map.
    fn as_serde(s: &str) -> Value {
        let Value::Object(mut map) = serde_json::from_str::<Value>(s).unwrap() else {
            panic!("not an object: {s}");
        };
        if map.len() == 1
            && matches!(map.get("data"), Some(Value::Object(_)))
            && let Some(inner) = map.remove("data")
        {
            return inner;
        }
        Value::Object(map)
    }

    #[test]
    fn reads_what_a_json_parser_reads() {
        for body in [
            r#"{"Name": "x", "Every": 1, "IsInactive": false, "Notes": null}"#,
            r#"{"b": 1, "a": 2, "c": 3}"#,
            r#"{"a": 1, "b": 2, "a": 3}"#,
            r#"{"Name": "tab\there \"q\" \u00e9", "Ünïcode": "日本"}"#,
            r#"{"data": {"Name": "x", "Every": 2}}"#,
            r#"{"data": {"Name": "x"}, "Other": 1}"#,
            r#"{"data": 1}"#,
            r#"{"data": {"a": 1}, "data": {"b": 2}}"#,
            r#"{"List": [1, {"x": 2}], "Obj": {"y": [3]}, "Big": 18446744073709551615}"#,
            "{ }",
            "\n {\"Spaced\"\t:\r\n 1 } \n",
        ] {
            assert_eq!(parse(body).to_value(), as_serde(body), "{body}");
        }
    }

    #[test]
    fn whole_numbers_in_any_spelling_are_integers() {
        let input =
            parse(r#"{"a": 7, "b": 7.0, "c": 7e0, "d": -3, "e": 1.5, "f": 9223372036854775808}"#);
        assert_eq!(input.get("a"), Some(&Field::Int(7)));
        assert_eq!(input.get("b"), Some(&Field::Int(7)));
        assert_eq!(input.get("c"), Some(&Field::Int(7)));
        assert_eq!(input.get("d"), Some(&Field::Int(-3)));
        assert!(matches!(input.get("e"), Some(Field::Other(_))));
        assert!(matches!(input.get("f"), Some(Field::Other(_))));
        assert_eq!(input.get("g"), None);
    }

    #[test]
    fn names_and_strings_without_escapes_are_borrowed() {
        let input = parse(r#"{"Name": "plain", "Esc": "a\nb"}"#);
        let (name, field) = input.iter().find(|(k, _)| *k == "Name").unwrap();
        assert_eq!(name, "Name");
        assert!(matches!(field, Field::Str(Cow::Borrowed("plain"))));
        assert!(matches!(input.get("Esc"), Some(Field::Str(Cow::Owned(s))) if s == "a\nb"));
    }

    #[test]
    fn refuses_what_is_not_one_object() {
        for (body, kind) in [
            ("[1, 2]", "an array"),
            (r#""x""#, "a string"),
            ("1.5", "a number"),
            ("true", "a boolean"),
            ("null", "null"),
        ] {
            assert!(
                matches!(Input::parse(body.as_bytes()), Err(InputError::NotObject(k)) if k == kind),
                "{body}"
            );
        }
        for body in [
            "{\"a\": 1,}",
            "{\"a\": 1} x",
            "{\"a\": tru}",
            "",
            "{\"a\": \"\\x\"}",
        ] {
            let Err(InputError::Syntax(e)) = Input::parse(body.as_bytes()) else {
                panic!("parsed: {body}");
            };
            let serde = serde_json::from_str::<Value>(body).unwrap_err();
            assert_eq!(e.to_string(), serde.to_string(), "{body}");
        }
    }

    #[test]
    fn equal_bodies_hash_alike() {
        let digest = |s: &str| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            parse(s).hash(&mut h);
            h.finish()
        };
        assert_eq!(
            digest(r#"{"a": 1, "b": "x"}"#),
            digest("{\"b\":\"\\u0078\",\"a\":1}")
        );
        assert_ne!(digest(r#"{"a": 1}"#), digest(r#"{"a": "1"}"#));
    }
}
