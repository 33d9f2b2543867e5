//! Conversions between JavaScript values and the core's types.
//!
//! Inputs cross as JSON text: the value is serialised by V8's own `JSON.stringify`
//! (held by reference, one call) and parsed by the core's strict parser, so an
//! unknown field or a value of the wrong type is `request_invalid` exactly as in every
//! other language. This is the fastest path measured (see `benches/RESULTS-node.md`):
//! walking the object through napi property by property costs several times more.
//! For a batch, the text is parsed on the thread pool, off the event loop.
//!
//! Decisions are written through the core's own `Serialize` straight into JavaScript
//! objects, so the object a caller gets is the wire format by construction.

use crate::error::{invalid_argument, request_invalid, to_js, JsError, Result};
use govdata::engine::Context;
use govdata::{Decision, Request, Resource};
use napi::bindgen_prelude::{Env, Function, FunctionRef, JsObjectValue, JsValue, Object, Unknown};
use napi::{sys, ValueType};
use serde::de::DeserializeOwned;

fn napi_failure(e: napi::Error) -> JsError {
    invalid_argument(e.reason)
}

/// `JSON.stringify`, looked up once per engine.
pub struct Stringify(FunctionRef<sys::napi_value, Option<String>>);

impl std::fmt::Debug for Stringify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON.stringify")
    }
}

impl Stringify {
    /// Looks `JSON.stringify` up in the global object of `env`.
    pub fn new(env: &Env) -> Result<Self> {
        let json: Object<'_> = env
            .get_global()
            .and_then(|g| g.get_named_property("JSON"))
            .map_err(napi_failure)?;
        let stringify: Function<'_, sys::napi_value, Option<String>> =
            json.get_named_property("stringify").map_err(napi_failure)?;
        Ok(Stringify(stringify.create_ref().map_err(napi_failure)?))
    }

    /// The JSON text of `value`; `None` for a value JSON cannot express
    /// (`undefined`, a function). A value that `JSON.stringify` refuses (a cycle, a
    /// BigInt) is an error of `bad`.
    pub fn text(
        &self,
        env: &Env,
        value: &Unknown<'_>,
        bad: impl FnOnce(String) -> JsError,
    ) -> Result<Option<String>> {
        let stringify = self.0.borrow_back(env).map_err(napi_failure)?;
        stringify.call(value.raw()).map_err(|e| bad(e.reason))
    }

    /// Parses `value` into `T` through its JSON text; a failure is an error of `bad`.
    pub fn parse<T: DeserializeOwned>(
        &self,
        env: &Env,
        value: &Unknown<'_>,
        bad: impl Fn(String) -> JsError,
    ) -> Result<T> {
        let text = self
            .text(env, value, &bad)?
            .ok_or_else(|| bad("expected a JSON value, got `undefined`".into()))?;
        serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
    }

    /// A request from its JavaScript object.
    pub fn request(&self, env: &Env, value: &Unknown<'_>) -> Result<Request> {
        match self.text(env, value, request_invalid)? {
            Some(text) => Request::from_json_str(&text).map_err(to_js),
            None => Err(request_invalid(
                "a request must be an object, got `undefined`",
            )),
        }
    }
}

/// Whether a value is `undefined` or `null`.
pub fn is_nullish(value: &Unknown<'_>) -> Result<bool> {
    let ty = value.get_type().map_err(napi_failure)?;
    Ok(matches!(ty, ValueType::Undefined | ValueType::Null))
}

/// Checks that `value` is an array.
pub fn expect_array(value: &Unknown<'_>, what: &str) -> Result<()> {
    if value.is_array().map_err(napi_failure)? {
        Ok(())
    } else {
        Err(invalid_argument(format!("`{what}` must be an array")))
    }
}

/// One entry of a batch: the request, or why it could not be read.
pub type Entry = std::result::Result<Request, JsError>;

/// The requests of a batch from the JSON text of their array, each read on its own
/// so that one malformed request does not cost the others their decision.
pub fn parse_batch(text: &str) -> Result<Vec<Entry>> {
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)
        .map_err(|e| invalid_argument(format!("`requests` must be an array: {e}")))?;
    Ok(items
        .into_iter()
        .map(|raw| Request::from_json_str(raw.get()).map_err(to_js))
        .collect())
}

/// The context argument of `allowedResources` (absent means empty).
pub fn context(stringify: &Stringify, env: &Env, value: Option<Unknown<'_>>) -> Result<Context> {
    match value {
        Some(value) if !is_nullish(&value)? => {
            stringify.parse(env, &value, |m| request_invalid(format!("`context`: {m}")))
        }
        _ => Ok(Context::default()),
    }
}

/// The resources argument of `allowedResources`.
pub fn resource_list(
    stringify: &Stringify,
    env: &Env,
    value: &Unknown<'_>,
) -> Result<Vec<Resource>> {
    expect_array(value, "resources")?;
    stringify.parse(env, value, |m| request_invalid(format!("`resources`: {m}")))
}

/// A decision as a plain object in the wire format.
pub fn decision<'env>(env: &'env Env, decision: &Decision) -> Result<Unknown<'env>> {
    env.to_js_value(decision).map_err(napi_failure)
}

/// The results of a batch: each entry the decision or an `Error` with `.code`.
pub fn outcomes<'env>(
    env: &'env Env,
    results: &[std::result::Result<Decision, JsError>],
) -> Result<Object<'env>> {
    let mut array = env
        .create_array(results.len() as u32)
        .map_err(napi_failure)?;
    for (i, result) in results.iter().enumerate() {
        let set = match result {
            Ok(d) => array.set(i as u32, decision(env, d)?),
            Err(err) => array.set(
                i as u32,
                crate::error::error_object(env, err).map_err(napi_failure)?,
            ),
        };
        set.map_err(napi_failure)?;
    }
    array.coerce_to_object().map_err(napi_failure)
}

/// Resources as the wire format writes them: a dataset as its id, anything else as
/// `{type, id}`.
pub fn resources<'env>(env: &'env Env, resources: &[Resource]) -> Result<Unknown<'env>> {
    env.to_js_value(&resources).map_err(napi_failure)
}

/// A JSON value (a report, records) as a plain JavaScript value. Every integer is a
/// JavaScript number (napi's serializer would make a BigInt of any integer above
/// 2^32, such as a time in milliseconds).
pub fn json_value<'env>(env: &'env Env, mut value: serde_json::Value) -> Result<Unknown<'env>> {
    fn numbers(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Number(n) if n.as_u64().is_some_and(|u| u > u64::from(u32::MAX)) => {
                if let Some(f) = n.as_f64().and_then(serde_json::Number::from_f64) {
                    *n = f;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(numbers),
            serde_json::Value::Object(map) => map.values_mut().for_each(numbers),
            _ => {}
        }
    }
    numbers(&mut value);
    env.to_js_value(&value).map_err(napi_failure)
}

/// A value of the core (a key's state, a workflow record) as a plain JavaScript
/// value, through its JSON form.
pub fn serialized<'env>(env: &'env Env, value: &impl serde::Serialize) -> Result<Unknown<'env>> {
    let value = serde_json::to_value(value).map_err(|e| invalid_argument(e.to_string()))?;
    json_value(env, value)
}
