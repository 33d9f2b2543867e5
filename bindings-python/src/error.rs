//! The whole mapping from the core's error codes to Python exception classes.
//!
//! `govdata.GovdataError` (a subclass of `Exception`) is the root; every stable code of
//! the core has its own subclass whose class attribute `code` is the code string. The
//! mapping is one `match` over [`ErrorCode`] with no catch-all arm, so a code added to
//! the core does not compile here until it has a class.
//!
//! `InternalError` (code `internal`) is not a core code: it is what a panic inside the
//! engine becomes, so that no `PanicException` ever reaches a caller.

use govdata::error::ErrorCode;
use govdata::Error;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::panic::{catch_unwind, AssertUnwindSafe};

create_exception!(
    govdata,
    GovdataError,
    PyException,
    "The root of every govdata error; `.code` is the stable error code."
);
create_exception!(
    govdata,
    PolicyParseError,
    GovdataError,
    "A policy file does not parse (`policy_parse`)."
);
create_exception!(
    govdata,
    PolicyValidationError,
    GovdataError,
    "A policy does not validate against the schema (`policy_validation`)."
);
create_exception!(govdata, PolicyAnnotationError, GovdataError, "A policy lacks an annotation, repeats an id or names an unknown obligation (`policy_annotation`).");
create_exception!(
    govdata,
    SchemaInvalidError,
    GovdataError,
    "The schema does not parse or is invalid (`schema_invalid`)."
);
create_exception!(govdata, InventoryInvalidError, GovdataError, "An inventory or inventory update is rejected; nothing of it was applied (`inventory_invalid`).");
create_exception!(
    govdata,
    UnknownEntityError,
    GovdataError,
    "A request names an entity the inventory does not hold (`unknown_entity`)."
);
create_exception!(
    govdata,
    RequestInvalidError,
    GovdataError,
    "A request is malformed (`request_invalid`)."
);
create_exception!(
    govdata,
    AuditTamperedError,
    GovdataError,
    "The audit log failed verification (`audit_tampered`)."
);
create_exception!(
    govdata,
    AuditRetentionError,
    GovdataError,
    "A purge would remove audit records younger than the retention floor (`audit_retention`)."
);
create_exception!(
    govdata,
    AuditUnavailableError,
    GovdataError,
    "The audit log refuses appends after a write or sync failure (`audit_unavailable`)."
);
create_exception!(
    govdata,
    CryptoAuthFailedError,
    GovdataError,
    "Decryption or an integrity check failed (`crypto_auth_failed`)."
);
create_exception!(
    govdata,
    KeyNotFoundError,
    GovdataError,
    "No key with this id is known (`key_not_found`)."
);
create_exception!(
    govdata,
    KeyDestroyedError,
    GovdataError,
    "The dataset's data key was destroyed (`key_destroyed`)."
);
create_exception!(
    govdata,
    KeyInvalidError,
    GovdataError,
    "Key material has the wrong size or form (`key_invalid`)."
);
create_exception!(
    govdata,
    AccessDeniedError,
    GovdataError,
    "The engine refused an operation on keys or records (`access_denied`)."
);
create_exception!(
    govdata,
    WorkflowInvalidError,
    GovdataError,
    "A workflow step is not allowed in the current state (`workflow_invalid`)."
);
create_exception!(
    govdata,
    IoError,
    GovdataError,
    "An operating-system I/O error (`io`)."
);
create_exception!(
    govdata,
    StoreLockedError,
    GovdataError,
    "Another process writes the store (an audit log directory, a key store) and did not let go within the wait; nothing was written (`store_locked`)."
);
create_exception!(
    govdata,
    ConfigInvalidError,
    GovdataError,
    "A configuration file is invalid: an unknown key, a secret written into it, a key file others may read (`config_invalid`)."
);
create_exception!(
    govdata,
    StoreUnavailableError,
    GovdataError,
    "The platform store (PostgreSQL) cannot be reached, refuses the node's writes, or has not caught up in time; the local log keeps every record meanwhile (`store_unavailable`)."
);
create_exception!(
    govdata,
    BundleInvalidError,
    GovdataError,
    "A signed policy bundle is refused: malformed, tampered, unsigned, signed by no trusted key, expired, or older than the last one accepted (`bundle_invalid`)."
);
create_exception!(
    govdata,
    InternalError,
    GovdataError,
    "A defect inside govdata (a panic) stopped the operation; nothing was applied (`internal`)."
);

/// The code of [`InternalError`].
pub const INTERNAL: &str = "internal";

/// The Python class of a core error code.
fn class(py: Python<'_>, code: ErrorCode) -> Bound<'_, PyType> {
    match code {
        ErrorCode::PolicyParse => py.get_type::<PolicyParseError>(),
        ErrorCode::PolicyValidation => py.get_type::<PolicyValidationError>(),
        ErrorCode::PolicyAnnotation => py.get_type::<PolicyAnnotationError>(),
        ErrorCode::SchemaInvalid => py.get_type::<SchemaInvalidError>(),
        ErrorCode::InventoryInvalid => py.get_type::<InventoryInvalidError>(),
        ErrorCode::UnknownEntity => py.get_type::<UnknownEntityError>(),
        ErrorCode::RequestInvalid => py.get_type::<RequestInvalidError>(),
        ErrorCode::AuditTampered => py.get_type::<AuditTamperedError>(),
        ErrorCode::AuditRetention => py.get_type::<AuditRetentionError>(),
        ErrorCode::AuditUnavailable => py.get_type::<AuditUnavailableError>(),
        ErrorCode::CryptoAuthFailed => py.get_type::<CryptoAuthFailedError>(),
        ErrorCode::KeyNotFound => py.get_type::<KeyNotFoundError>(),
        ErrorCode::KeyDestroyed => py.get_type::<KeyDestroyedError>(),
        ErrorCode::KeyInvalid => py.get_type::<KeyInvalidError>(),
        ErrorCode::AccessDenied => py.get_type::<AccessDeniedError>(),
        ErrorCode::WorkflowInvalid => py.get_type::<WorkflowInvalidError>(),
        ErrorCode::Io => py.get_type::<IoError>(),
        ErrorCode::StoreLocked => py.get_type::<StoreLockedError>(),
        ErrorCode::ConfigInvalid => py.get_type::<ConfigInvalidError>(),
        ErrorCode::StoreUnavailable => py.get_type::<StoreUnavailableError>(),
        ErrorCode::BundleInvalid => py.get_type::<BundleInvalidError>(),
    }
}

/// A core error as the Python exception of its code. The message is the core's;
/// `AuditTamperedError` also carries the first bad record's sequence number as `.seq`.
pub fn to_py(err: Error) -> PyErr {
    let code = err.error_code();
    let message = match err.help() {
        Some(help) => format!("{err} (help: {help})"),
        None => err.to_string(),
    };
    let seq = match &err {
        Error::AuditTampered { seq, .. } => Some(*seq),
        _ => None,
    };
    Python::attach(|py| {
        let e = PyErr::from_type(class(py, code), message);
        if let Some(seq) = seq {
            // Setting an attribute on a fresh exception instance does not fail; if it
            // ever did, the exception itself is still the right one.
            let _ = e.value(py).setattr("seq", seq);
        }
        e
    })
}

/// A request that cannot be read from its Python form (wrong type, unknown field).
pub fn request_invalid(message: impl std::fmt::Display) -> Error {
    Error::RequestInvalid {
        message: message.to_string(),
    }
}

/// An inventory record that cannot be read from its Python form.
pub fn inventory_invalid(record: impl std::fmt::Display, message: impl std::fmt::Display) -> Error {
    Error::InventoryInvalid {
        record: record.to_string(),
        message: message.to_string(),
    }
}

/// Runs `f`, turning a panic into [`InternalError`] so that no `PanicException`
/// reaches a caller.
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(InternalError::new_err(format!(
                "internal error in govdata (please report it): {what}"
            )))
        }
    }
}

/// Adds the classes to the module and sets each class's `code`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let root = py.get_type::<GovdataError>();
    root.setattr("code", py.None())?;
    m.add("GovdataError", root)?;
    for &code in ErrorCode::ALL {
        let cls = class(py, code);
        cls.setattr("code", code.as_str())?;
        m.add(cls.name()?, cls)?;
    }
    let internal = py.get_type::<InternalError>();
    internal.setattr("code", INTERNAL)?;
    m.add("InternalError", internal)?;
    Ok(())
}
