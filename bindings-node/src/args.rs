//! Reading the arguments of the audit log, the vault and the workflows: option
//! objects (camelCase keys; an unknown key is an error, as a misspelt option must
//! not be silently ignored), class instances, buffers and values that cross as JSON.

use crate::convert;
use crate::error::{invalid_argument, Result};
use govdata::platform::SecretSource;
use napi::bindgen_prelude::{
    ClassInstance, Env, FromNapiValue, JsObjectValue, JsValue, Object, Uint8ArraySlice, Unknown,
};
use napi::ValueType;
use serde::de::DeserializeOwned;

/// Whether `value` is absent: `undefined` or `null`.
pub fn absent(value: &Unknown<'_>) -> bool {
    matches!(value.get_type(), Ok(ValueType::Undefined | ValueType::Null))
}

/// A string argument.
pub fn string(value: Unknown<'_>, what: &str) -> Result<String> {
    if value.get_type().ok() != Some(ValueType::String) {
        return Err(invalid_argument(format!("`{what}` must be a string")));
    }
    String::from_unknown(value).map_err(|e| invalid_argument(format!("`{what}`: {}", e.reason)))
}

/// An optional string argument: `undefined` and `null` are none.
pub fn opt_string(value: Option<Unknown<'_>>, what: &str) -> Result<Option<String>> {
    match value {
        Some(v) if !absent(&v) => string(v, what).map(Some),
        _ => Ok(None),
    }
}

/// A non-negative integer argument (a JavaScript number holding a safe integer).
pub fn integer(value: Unknown<'_>, what: &str) -> Result<u64> {
    let wrong = || invalid_argument(format!("`{what}` must be a non-negative integer"));
    if value.get_type().ok() != Some(ValueType::Number) {
        return Err(wrong());
    }
    let n = f64::from_unknown(value).map_err(|_| wrong())?;
    if n.fract() != 0.0 || !(0.0..=MAX_SAFE_INTEGER).contains(&n) {
        return Err(wrong());
    }
    Ok(n as u64)
}

/// `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// An instance of the class `T` (named `class` in errors) given as `what`.
pub fn instance<'env, T: 'env + napi::bindgen_prelude::MaybeTypeTag>(
    value: Unknown<'env>,
    what: &str,
    class: &str,
) -> Result<ClassInstance<'env, T>> {
    let wrong = || invalid_argument(format!("`{what}` must be a govdata {class}"));
    if value.get_type().map_err(|_| wrong())? != ValueType::Object {
        return Err(wrong());
    }
    ClassInstance::<T>::from_unknown(value).map_err(|_| wrong())
}

/// The bytes of a `Buffer` or `Uint8Array` argument, borrowed from JavaScript for
/// the duration of the call.
pub fn bytes<'env>(value: Unknown<'env>, what: &str) -> Result<Uint8ArraySlice<'env>> {
    let wrong = || invalid_argument(format!("`{what}` must be a Buffer or Uint8Array"));
    if !value.is_typedarray().map_err(|_| wrong())? {
        return Err(wrong());
    }
    Uint8ArraySlice::from_unknown(value).map_err(|_| wrong())
}

/// An options object: `undefined`, `null` or an object whose keys are all in
/// `allowed`.
pub struct Options<'env> {
    object: Option<Object<'env>>,
    what: &'static str,
}

impl<'env> Options<'env> {
    /// Reads the options argument `what`, refusing keys not in `allowed`.
    pub fn new(value: Option<Unknown<'env>>, what: &'static str, allowed: &[&str]) -> Result<Self> {
        let value = match value {
            Some(v) if !absent(&v) => v,
            _ => return Ok(Options { object: None, what }),
        };
        let wrong = || invalid_argument(format!("`{what}` must be an object"));
        if value.get_type().map_err(|_| wrong())? != ValueType::Object
            || value.is_array().map_err(|_| wrong())?
        {
            return Err(wrong());
        }
        let object = Object::from_unknown(value).map_err(|_| wrong())?;
        let names = object.get_property_names().map_err(|_| wrong())?;
        let count = names.get_array_length().map_err(|_| wrong())?;
        for i in 0..count {
            let name: String = names.get_element(i).map_err(|_| wrong())?;
            if !allowed.contains(&name.as_str()) {
                return Err(invalid_argument(format!(
                    "unknown option `{name}` in `{what}`, expected one of: {}",
                    allowed.join(", ")
                )));
            }
        }
        Ok(Options {
            object: Some(object),
            what,
        })
    }

    /// The value of option `name`, unless it is absent.
    pub fn value(&self, name: &str) -> Result<Option<Unknown<'env>>> {
        let Some(object) = &self.object else {
            return Ok(None);
        };
        let value: Unknown<'env> = object
            .get_named_property_unchecked(name)
            .map_err(|e| invalid_argument(format!("`{}.{name}`: {}", self.what, e.reason)))?;
        Ok(if absent(&value) { None } else { Some(value) })
    }

    /// A string option.
    pub fn string(&self, name: &str) -> Result<Option<String>> {
        let what = format!("{}.{name}", self.what);
        self.value(name)?.map(|v| string(v, &what)).transpose()
    }

    /// A non-negative integer option.
    pub fn integer(&self, name: &str) -> Result<Option<u64>> {
        let what = format!("{}.{name}", self.what);
        self.value(name)?.map(|v| integer(v, &what)).transpose()
    }

    /// A key option.
    pub fn key(&self, name: &str) -> Result<Option<SecretSource>> {
        self.value(name)?
            .map(|v| crate::keys::from_js(&v, name))
            .transpose()
    }

    /// An instance of the class `T` (named `class` in errors).
    pub fn instance<T: 'env + napi::bindgen_prelude::MaybeTypeTag>(
        &self,
        name: &str,
        class: &str,
    ) -> Result<Option<ClassInstance<'env, T>>> {
        self.value(name)?
            .map(|v| instance::<T>(v, name, class))
            .transpose()
    }
}

/// A value read through its JSON text (`JSON.stringify`, then the core's serde
/// definitions): a `Date` crosses as its ISO 8601 text. A value that does not fit is
/// an error of `bad`.
pub fn json<T: DeserializeOwned>(
    env: &Env,
    value: &Unknown<'_>,
    bad: impl Fn(String) -> crate::error::JsError,
) -> Result<T> {
    convert::Stringify::new(env)?.parse(env, value, bad)
}
