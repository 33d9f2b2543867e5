//! Conversions between JavaScript values and the core's types.
//!
//! Requests are read straight from the JavaScript object through the core's own
//! `Deserialize` (strict: an unknown field or a value of the wrong type is
//! `request_invalid`), without a detour through JSON text. Decisions are written
//! through the core's own `Serialize`, so the object a caller gets is the wire format
//! by construction.

use crate::error::{self, invalid_argument, request_invalid, JsError, Result};
use govdata::engine::Context;
use govdata::{Action, Decision, Request, Resource};
use napi::bindgen_prelude::{Array, Env, FromNapiValue, JsObjectValue, JsValue, Object, Unknown};
use napi::ValueType;

/// Whether a value is `undefined` or `null`.
pub fn is_nullish(value: &Unknown<'_>) -> Result<bool> {
    let ty = value
        .get_type()
        .map_err(|e| invalid_argument(e.reason.clone()))?;
    Ok(matches!(ty, ValueType::Undefined | ValueType::Null))
}

/// A request from its JavaScript object.
pub fn request(env: &Env, value: Unknown<'_>) -> Result<Request> {
    env.from_js_value::<Request, _>(value)
        .map_err(|e| request_invalid(e.reason))
}

/// One entry of a batch: the request, or why it could not be read.
pub type Entry = std::result::Result<Request, JsError>;

/// The requests of a batch, each read on its own so that one malformed request
/// does not cost the others their decision.
pub fn requests(env: &Env, value: Unknown<'_>) -> Result<Vec<Entry>> {
    let array = as_array(value, "requests")?;
    let len = array.len();
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let item: Unknown<'_> = array
            .get_element(i)
            .map_err(|e| invalid_argument(e.reason.clone()))?;
        out.push(request(env, item));
    }
    Ok(out)
}

fn as_array<'env>(value: Unknown<'env>, what: &str) -> Result<Array<'env>> {
    let is_array = value
        .is_array()
        .map_err(|e| invalid_argument(e.reason.clone()))?;
    if !is_array {
        return Err(invalid_argument(format!("`{what}` must be an array")));
    }
    Array::from_unknown(value).map_err(|e| invalid_argument(e.reason.clone()))
}

/// A decision as a plain object in the wire format.
pub fn decision<'env>(env: &'env Env, decision: &Decision) -> Result<Unknown<'env>> {
    env.to_js_value(decision)
        .map_err(|e| invalid_argument(e.reason.clone()))
}

/// The results of a batch: each entry the decision or an `Error` with `.code`.
pub fn outcomes<'env>(
    env: &'env Env,
    results: &[std::result::Result<Decision, JsError>],
) -> Result<Object<'env>> {
    let mut array = env
        .create_array(results.len() as u32)
        .map_err(|e| invalid_argument(e.reason.clone()))?;
    for (i, result) in results.iter().enumerate() {
        let set = match result {
            Ok(d) => {
                let value = decision(env, d)?;
                array.set(i as u32, value)
            }
            Err(err) => {
                let obj = error::error_object(env, err)
                    .map_err(|e| invalid_argument(e.reason.clone()))?;
                array.set(i as u32, obj)
            }
        };
        set.map_err(|e| invalid_argument(e.reason.clone()))?;
    }
    array
        .coerce_to_object()
        .map_err(|e| invalid_argument(e.reason.clone()))
}

/// The arguments of `allowedResources`: the action, the resources and the context.
pub fn filter_args(
    env: &Env,
    action: &str,
    resources: Unknown<'_>,
    context: Option<Unknown<'_>>,
) -> Result<(Action, Vec<Resource>, Context)> {
    let action: Action = action.parse().map_err(request_invalid)?;
    let resources: Vec<Resource> = env
        .from_js_value(resources)
        .map_err(|e| request_invalid(format!("`resources`: {}", e.reason)))?;
    let context: Context = match context {
        Some(value) if !is_nullish(&value)? => env
            .from_js_value(value)
            .map_err(|e| request_invalid(format!("`context`: {}", e.reason)))?,
        _ => Context::default(),
    };
    Ok((action, resources, context))
}

/// Resources as the wire format writes them: a dataset as its id, anything else as
/// `{type, id}`.
pub fn resources<'env>(env: &'env Env, resources: &[Resource]) -> Result<Unknown<'env>> {
    env.to_js_value(&resources)
        .map_err(|e| invalid_argument(e.reason.clone()))
}
