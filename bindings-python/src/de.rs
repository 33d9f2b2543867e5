//! A serde `Deserializer` over Python objects with JSON's data model and nothing more:
//! `None` is null, `bool` a boolean, `int` and `float` numbers, `str` a string, `list`
//! and `tuple` arrays, `dict` (or any mapping) with `str` keys an object. No
//! truthiness, no coercion: a value of the wrong type is rejected exactly as the same
//! JSON would be, by the core's own serde definitions. No JSON text is built.
//!
//! Reading a string's text costs a temporary UTF-8 copy under the stable ABI of Python
//! 3.9, so the words of the request format (its field names and the names of actions,
//! risk levels and resource types) are recognised by identity first: Python interns
//! them when they are written as literals, and [`words`] holds the same interned
//! objects. Any other string, or the same word built at run time, is read as text;
//! either way the deserializer sees the same `&str`.

use govdata::model::{Action, ResourceKind, ScenarioRisk};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::fmt;

/// Why a Python value does not fit.
#[derive(Debug)]
pub struct DeError(String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
}

impl From<PyErr> for DeError {
    fn from(e: PyErr) -> Self {
        DeError(e.to_string())
    }
}

type Result<T> = std::result::Result<T, DeError>;

/// Reads a `T` from a Python value.
pub fn from_py<'de, T: de::Deserialize<'de>>(obj: &Bound<'_, PyAny>) -> Result<T> {
    T::deserialize(Depythonizer(obj))
}

/// The deserializer of one Python value.
pub struct Depythonizer<'a, 'py>(&'a Bound<'py, PyAny>);

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".to_owned())
}

/// How a value that does not fit is named in an error (serde's wording for JSON).
fn unexpected<'a>(obj: &Bound<'_, PyAny>) -> de::Unexpected<'a> {
    if obj.is_none() {
        de::Unexpected::Unit
    } else if obj.is_instance_of::<PyBool>() {
        de::Unexpected::Other("a boolean")
    } else if obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>() {
        de::Unexpected::Other("a number")
    } else if obj.is_instance_of::<PyString>() {
        de::Unexpected::Other("a string")
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        de::Unexpected::Seq
    } else if obj.is_instance_of::<PyDict>() {
        de::Unexpected::Map
    } else {
        de::Unexpected::Other("a value with no JSON form")
    }
}

/// The field names of the request format and its closed vocabularies, by the identity
/// of their interned Python strings.
struct Words {
    /// Open addressing on the object's address; `None` marks an empty slot.
    slots: Vec<Option<(usize, &'static str)>>,
    /// Keeps the interned strings (and so their addresses) alive.
    _objects: Vec<Py<PyString>>,
}

const WORD_SLOTS: usize = 256;

impl Words {
    fn build(py: Python<'_>) -> Words {
        const FIELDS: &[&str] = &[
            // Request
            "principal",
            "action",
            "resource",
            "context",
            // Resource
            "type",
            "id",
            // Context
            "purpose",
            "legal_basis",
            "intended_use",
            "scenario_risk",
            "channel",
            "approval",
            "grantee",
            "recipient_department",
            "audit_department",
            // Channel
            "encrypted",
            "authenticated",
            "integrity_checked",
        ];
        let all = FIELDS
            .iter()
            .copied()
            .chain(Action::ALL.iter().map(|a| a.as_str()))
            .chain(ScenarioRisk::ALL.iter().map(|r| r.as_str()))
            .chain(ResourceKind::ALL.iter().map(|k| k.as_str()));
        let mut words = Words {
            slots: vec![None; WORD_SLOTS],
            _objects: Vec::new(),
        };
        for word in all {
            let obj = PyString::intern(py, word);
            let addr = obj.as_ptr() as usize;
            let mut i = slot_of(addr);
            while let Some((a, _)) = words.slots[i] {
                if a == addr {
                    break;
                }
                i = (i + 1) % WORD_SLOTS;
            }
            words.slots[i] = Some((addr, word));
            words._objects.push(obj.unbind());
        }
        words
    }

    fn get(&self, s: &Bound<'_, PyString>) -> Option<&'static str> {
        let addr = s.as_ptr() as usize;
        let mut i = slot_of(addr);
        loop {
            match self.slots.get(i)? {
                Some((a, word)) if *a == addr => return Some(word),
                Some(_) => i = (i + 1) % WORD_SLOTS,
                None => return None,
            }
        }
    }
}

fn slot_of(addr: usize) -> usize {
    // Objects are 16-byte aligned: the low bits carry no information.
    ((addr >> 4).wrapping_mul(0x9E37_79B9) >> 8) % WORD_SLOTS
}

static WORDS: PyOnceLock<Words> = PyOnceLock::new();

/// The word of the request format that `s` is (by identity), if it is one.
fn words(s: &Bound<'_, PyString>) -> Option<&'static str> {
    WORDS.get_or_init(s.py(), || Words::build(s.py())).get(s)
}

/// Calls `f` with the text of `s`: a known word without reading it, any other string
/// through one temporary UTF-8 encoding.
fn with_str<R>(s: &Bound<'_, PyString>, f: impl FnOnce(&str) -> R) -> Result<R> {
    if let Some(word) = words(s) {
        return Ok(f(word));
    }
    let bytes = s.encode_utf8()?;
    let text = std::str::from_utf8(bytes.as_bytes())
        .map_err(|e| DeError(format!("a string that is not UTF-8: {e}")))?;
    Ok(f(text))
}

impl<'de> de::Deserializer<'de> for Depythonizer<'_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let obj = self.0;
        if let Ok(s) = obj.cast::<PyString>() {
            return with_str(s, |t| visitor.visit_str(t))?;
        }
        if obj.is_none() {
            return visitor.visit_unit();
        }
        if let Ok(b) = obj.cast::<PyBool>() {
            return visitor.visit_bool(b.is_true());
        }
        if let Ok(i) = obj.cast::<PyInt>() {
            if let Ok(v) = i.extract::<i64>() {
                return visitor.visit_i64(v);
            }
            if let Ok(v) = i.extract::<u64>() {
                return visitor.visit_u64(v);
            }
            return Err(de::Error::custom("integer out of range"));
        }
        if let Ok(d) = obj.cast::<PyDict>() {
            let access = DictAccess {
                items: d.iter(),
                value: None,
            };
            return visitor.visit_map(access);
        }
        if let Ok(l) = obj.cast::<PyList>() {
            return visitor.visit_seq(SeqAccess {
                items: l.iter().collect::<Vec<_>>().into_iter(),
            });
        }
        if let Ok(t) = obj.cast::<PyTuple>() {
            return visitor.visit_seq(SeqAccess {
                items: t.iter().collect::<Vec<_>>().into_iter(),
            });
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            return visitor.visit_f64(f.value());
        }
        if let Ok(m) = obj.cast::<PyMapping>() {
            let dict = PyDict::new(obj.py());
            for item in m.items()?.iter() {
                let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
                dict.set_item(k, v)?;
            }
            return Depythonizer(dict.as_any()).deserialize_any(visitor);
        }
        Err(de::Error::custom(format!(
            "a value of Python type `{}` has no JSON form",
            type_name(obj)
        )))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.0.is_none() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.0.cast::<PyString>() {
            Ok(s) => with_str(s, |text| {
                visitor.visit_enum(IntoDeserializer::<DeError>::into_deserializer(text))
            })?,
            Err(_) => Err(de::Error::invalid_type(unexpected(self.0), &"a string")),
        }
    }

    /// A struct is read from an object only (serde would also take an array).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let obj = self.0;
        if obj.is_instance_of::<PyDict>() || obj.cast::<PyMapping>().is_ok() {
            return self.deserialize_any(visitor);
        }
        Err(de::Error::invalid_type(unexpected(obj), &"an object"))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map
        identifier ignored_any
    }
}

struct DictAccess<'py> {
    items: pyo3::types::iter::BoundDictIterator<'py>,
    value: Option<Bound<'py, PyAny>>,
}

impl<'de> de::MapAccess<'de> for DictAccess<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((key, value)) = self.items.next() else {
            return Ok(None);
        };
        let Ok(key) = key.cast::<PyString>() else {
            return Err(de::Error::custom(format!(
                "an object key must be a string, not `{}`",
                type_name(&key)
            )));
        };
        self.value = Some(value);
        with_str(key, |text| {
            seed.deserialize(IntoDeserializer::<DeError>::into_deserializer(text))
                .map(Some)
        })?
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.value.take() {
            Some(v) => seed.deserialize(Depythonizer(&v)),
            None => Err(de::Error::custom("a value without a key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct SeqAccess<'py> {
    items: std::vec::IntoIter<Bound<'py, PyAny>>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.items.next() {
            Some(v) => seed.deserialize(Depythonizer(&v)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}
