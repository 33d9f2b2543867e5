//! The one mapping from govdata errors to JavaScript errors.
//!
//! Every error the module throws or rejects with is a real `Error` whose `.code` is
//! the core's stable code string (`request_invalid`, `inventory_invalid`, …). Callers
//! match on `.code`, never on the message. Two codes belong to the module itself:
//! `invalid_argument` (an argument of the wrong shape, such as an unknown option)
//! and `panic` (a bug in govdata, caught before it could abort the process).

use napi::bindgen_prelude::{Env, JsObjectValue, JsValue, Object};
use std::any::Any;

/// The code of an error raised by the module rather than the core: an argument of
/// the wrong type or shape.
pub const INVALID_ARGUMENT: &str = "invalid_argument";
/// The code of an error that stands for a caught panic (a bug in govdata).
pub const PANIC: &str = "panic";

/// The code string carried into JavaScript as `.code`, and for `audit_tampered` the
/// sequence number of the first bad record (`.seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The code string.
    pub code: &'static str,
    /// The first bad record of an `audit_tampered` error.
    pub seq: Option<u64>,
}

impl Code {
    /// A code without a sequence number.
    pub const fn of(code: &'static str) -> Self {
        Code { code, seq: None }
    }
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        self.code
    }
}

/// The error type of every export: thrown as an `Error` with `.code`.
pub type JsError = napi::Error<Code>;
/// The result type of every export.
pub type Result<T> = std::result::Result<T, JsError>;

/// The JavaScript code of a core error: one arm per code of the core, no catch-all,
/// so a code the core adds fails to compile here until it is mapped.
pub fn code_of(err: &govdata::Error) -> Code {
    let seq = match err {
        govdata::Error::AuditTampered { seq, .. } => Some(*seq),
        _ => None,
    };
    Code {
        code: js_code(err.error_code()),
        seq,
    }
}

/// The JavaScript code of each of the core's codes.
fn js_code(code: govdata::error::ErrorCode) -> &'static str {
    use govdata::error::ErrorCode as C;
    match code {
        C::PolicyParse => "policy_parse",
        C::PolicyValidation => "policy_validation",
        C::PolicyAnnotation => "policy_annotation",
        C::SchemaInvalid => "schema_invalid",
        C::InventoryInvalid => "inventory_invalid",
        C::UnknownEntity => "unknown_entity",
        C::RequestInvalid => "request_invalid",
        C::AuditTampered => "audit_tampered",
        C::AuditRetention => "audit_retention",
        C::AuditUnavailable => "audit_unavailable",
        C::CryptoAuthFailed => "crypto_auth_failed",
        C::KeyNotFound => "key_not_found",
        C::KeyDestroyed => "key_destroyed",
        C::KeyInvalid => "key_invalid",
        C::AccessDenied => "access_denied",
        C::WorkflowInvalid => "workflow_invalid",
        C::Io => "io",
        C::StoreLocked => "store_locked",
        C::ConfigInvalid => "config_invalid",
        C::StoreUnavailable => "store_unavailable",
        C::BundleInvalid => "bundle_invalid",
    }
}

/// Every code a caller can see on an error of this module: the core's, then the
/// module's own.
pub fn all_codes() -> Vec<&'static str> {
    let mut codes: Vec<&'static str> = govdata::error::ErrorCode::ALL
        .iter()
        .map(|c| js_code(*c))
        .collect();
    codes.push(INVALID_ARGUMENT);
    codes.push(PANIC);
    codes
}

/// A core error as a JavaScript error (thrown by the caller). The message is the
/// core's, with its advice where it has some.
pub fn to_js(err: govdata::Error) -> JsError {
    let message = match err.help() {
        Some(help) => format!("{err} (help: {help})"),
        None => err.to_string(),
    };
    JsError::new(code_of(&err), message)
}

/// An argument of the wrong shape.
pub fn invalid_argument(message: impl std::fmt::Display) -> JsError {
    JsError::new(Code::of(INVALID_ARGUMENT), message.to_string())
}

/// A request that could not be read from its JavaScript value.
pub fn request_invalid(message: impl std::fmt::Display) -> JsError {
    to_js(govdata::Error::RequestInvalid {
        message: message.to_string(),
    })
}

/// A caught panic as an error.
pub fn from_panic(payload: &(dyn Any + Send)) -> JsError {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    JsError::new(
        Code::of(PANIC),
        format!("internal error in govdata: {what}"),
    )
}

/// Runs the body of an export, turning a panic into an error with `.code = "panic"`
/// (napi's own `catch_unwind` around each export remains as the outer guard).
pub fn guard<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body))
        .unwrap_or_else(|payload| Err(from_panic(&*payload)))
}

/// Builds an `Error` object with `.code` as a value (for a rejected promise or an
/// element of a batch's result), rather than throwing it.
pub fn error_object<'env>(env: &'env Env, err: &JsError) -> napi::Result<Object<'env>> {
    let mut obj = env.create_error(napi::Error::from_reason(err.reason.clone()))?;
    obj.set_named_property("code", err.status.code)?;
    if let Some(seq) = err.status.seq {
        obj.set_named_property("seq", seq as f64)?;
    }
    Ok(obj)
}

/// Turns a module error into a plain napi error that carries the same JavaScript
/// `Error` object (with `.code`, and `.seq` for `audit_tampered`), for the paths
/// whose signature is fixed to napi's own status type (a task's rejection) and for
/// the synchronous calls that can report a tampered log.
pub fn into_napi(env: &Env, err: &JsError) -> napi::Error {
    match error_object(env, err) {
        Ok(obj) => napi::Error::from(obj.to_unknown()),
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_cores_then_the_modules() {
        let all = all_codes();
        assert_eq!(
            &all[..govdata::error::ERROR_CODES.len()],
            govdata::error::ERROR_CODES
        );
        assert_eq!(
            &all[govdata::error::ERROR_CODES.len()..],
            &[INVALID_ARGUMENT, PANIC]
        );
        let err = govdata::Error::RequestInvalid {
            message: "x".into(),
        };
        assert_eq!(code_of(&err).code, "request_invalid");
        for code in govdata::error::ErrorCode::ALL {
            assert_eq!(js_code(*code), code.as_str());
        }
    }
}
