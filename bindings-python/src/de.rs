//! A serde `Deserializer` over Python objects with JSON's data model and nothing more:
//! `None` is null, `bool` a boolean, `int` and `float` numbers, `str` a string, `list`
//! and `tuple` arrays, `dict` (or any mapping) with `str` keys an object. No
//! truthiness, no coercion: a value of the wrong type is rejected exactly as the same
//! JSON would be, by the core's own serde definitions. Strings are read in place; no
//! JSON text is built.

use pyo3::prelude::*;
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

fn with_str<R>(s: &Bound<'_, PyString>, f: impl FnOnce(&str) -> R) -> Result<R> {
    let text = s.to_cow()?;
    Ok(f(&text))
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
            Ok(s) => {
                let text = s.to_cow()?;
                visitor.visit_enum(IntoDeserializer::<DeError>::into_deserializer(&*text))
            }
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
        let text = key.to_cow()?;
        seed.deserialize(IntoDeserializer::<DeError>::into_deserializer(&*text))
            .map(Some)
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
