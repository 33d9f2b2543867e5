//! Status codes and the thread-local last error message.
//!
//! Every export that can fail returns an `int` holding one [`gd_status`]. The numbers
//! are part of the ABI: each is written out, none is ever reused or renumbered, and a
//! new core error code gets the next free number of the 100 block. This file holds the
//! whole mapping between the core's stable error codes and the statuses, as one
//! exhaustive `match` over the statuses (the core's error enum is `#[non_exhaustive]`,
//! so the match that must break when a code is added is the one over our own enum; a
//! test fails if any code of `govdata::error::ERROR_CODES` has no status).

use std::cell::RefCell;
use std::ffi::CStr;
use std::os::raw::c_int;

/// The result of a call. `GD_OK` is 0; everything else says why no result was made,
/// except `GD_DENIED`, which the fast-path check returns for a deny.
///
/// The statuses from 100 on mirror the core's stable error codes one to one
/// (`gd_status_code` returns the code string); those below 100 are the C boundary's own.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum gd_status {
    /// Success. For `gd_engine_check`: the request is allowed (apply the obligations).
    GD_OK = 0,
    /// `gd_engine_check` only: the request is denied. Not an error.
    GD_DENIED = 1,
    /// A required pointer argument is NULL.
    GD_ERR_NULL_ARGUMENT = 2,
    /// A string argument is not valid UTF-8.
    GD_ERR_INVALID_UTF8 = 3,
    /// A JSON argument is not well-formed JSON (syntax error or truncated text). The
    /// core and the other bindings report such text as `request_invalid` (a request) or
    /// `inventory_invalid` (an inventory or record); C gets this finer status.
    GD_ERR_MALFORMED_JSON = 4,
    /// A string argument is longer than `GD_MAX_INPUT_LEN` bytes.
    GD_ERR_INPUT_TOO_LARGE = 5,
    /// A required string or buffer argument has length zero.
    GD_ERR_ZERO_LENGTH = 6,
    /// The caller's buffer is too small (`gd_last_error_message`); the text was truncated.
    GD_ERR_BUFFER_TOO_SMALL = 7,
    /// The library caught a panic (a bug in govdata); no result was made.
    GD_ERR_PANIC = 8,
    /// Core `policy_parse`: a policy file does not parse.
    GD_ERR_POLICY_PARSE = 100,
    /// Core `policy_validation`: a policy does not type-check against the schema.
    GD_ERR_POLICY_VALIDATION = 101,
    /// Core `policy_annotation`: a policy lacks a required annotation or names an unknown obligation.
    GD_ERR_POLICY_ANNOTATION = 102,
    /// Core `schema_invalid`: the schema does not parse or is not valid.
    GD_ERR_SCHEMA_INVALID = 103,
    /// Core `inventory_invalid`: an inventory or inventory update is rejected; nothing was applied.
    GD_ERR_INVENTORY_INVALID = 104,
    /// Core `unknown_entity`: the request names an entity the inventory does not hold.
    GD_ERR_UNKNOWN_ENTITY = 105,
    /// Core `request_invalid`: a request is malformed (missing or unknown field, wrong type).
    GD_ERR_REQUEST_INVALID = 106,
    /// Core `audit_tampered`: the audit log failed verification.
    GD_ERR_AUDIT_TAMPERED = 107,
    /// Core `audit_retention`: a purge would remove records younger than the retention floor.
    GD_ERR_AUDIT_RETENTION = 108,
    /// Core `audit_unavailable`: the audit log refuses appends after a write failure.
    GD_ERR_AUDIT_UNAVAILABLE = 109,
    /// Core `crypto_auth_failed`: decryption or an integrity check failed.
    GD_ERR_CRYPTO_AUTH_FAILED = 110,
    /// Core `key_not_found`: no key with this id is known.
    GD_ERR_KEY_NOT_FOUND = 111,
    /// Core `key_destroyed`: the dataset's data key was destroyed (crypto-shredded).
    GD_ERR_KEY_DESTROYED = 112,
    /// Core `key_invalid`: key material has the wrong size or form.
    GD_ERR_KEY_INVALID = 113,
    /// Core `workflow_invalid`: a workflow step is not allowed in the current state.
    GD_ERR_WORKFLOW_INVALID = 114,
    /// Core `io`: an operating-system I/O error.
    GD_ERR_IO = 115,
    /// Core `access_denied`: the engine refused an operation on keys or records.
    GD_ERR_ACCESS_DENIED = 116,
    /// Core `store_locked`: another process writes the store (an audit log directory,
    /// a key store) and did not let go within the wait; nothing was written.
    GD_ERR_STORE_LOCKED = 117,
    /// Core `config_invalid`: a configuration file is invalid (an unknown key, a
    /// secret written into it, a key file others may read).
    GD_ERR_CONFIG_INVALID = 118,
    /// Core `store_unavailable`: the platform store (PostgreSQL) cannot be reached,
    /// refuses the node's writes, or has not caught up in time.
    GD_ERR_STORE_UNAVAILABLE = 119,
    /// Core `bundle_invalid`: a signed policy bundle is refused (malformed, tampered,
    /// unsigned, signed by no trusted key, expired, or older than the last accepted).
    GD_ERR_BUNDLE_INVALID = 120,
}

impl gd_status {
    /// Every status, in numeric order.
    pub const ALL: &'static [gd_status] = &[
        gd_status::GD_OK,
        gd_status::GD_DENIED,
        gd_status::GD_ERR_NULL_ARGUMENT,
        gd_status::GD_ERR_INVALID_UTF8,
        gd_status::GD_ERR_MALFORMED_JSON,
        gd_status::GD_ERR_INPUT_TOO_LARGE,
        gd_status::GD_ERR_ZERO_LENGTH,
        gd_status::GD_ERR_BUFFER_TOO_SMALL,
        gd_status::GD_ERR_PANIC,
        gd_status::GD_ERR_POLICY_PARSE,
        gd_status::GD_ERR_POLICY_VALIDATION,
        gd_status::GD_ERR_POLICY_ANNOTATION,
        gd_status::GD_ERR_SCHEMA_INVALID,
        gd_status::GD_ERR_INVENTORY_INVALID,
        gd_status::GD_ERR_UNKNOWN_ENTITY,
        gd_status::GD_ERR_REQUEST_INVALID,
        gd_status::GD_ERR_AUDIT_TAMPERED,
        gd_status::GD_ERR_AUDIT_RETENTION,
        gd_status::GD_ERR_AUDIT_UNAVAILABLE,
        gd_status::GD_ERR_CRYPTO_AUTH_FAILED,
        gd_status::GD_ERR_KEY_NOT_FOUND,
        gd_status::GD_ERR_KEY_DESTROYED,
        gd_status::GD_ERR_KEY_INVALID,
        gd_status::GD_ERR_WORKFLOW_INVALID,
        gd_status::GD_ERR_IO,
        gd_status::GD_ERR_ACCESS_DENIED,
        gd_status::GD_ERR_STORE_LOCKED,
        gd_status::GD_ERR_CONFIG_INVALID,
        gd_status::GD_ERR_STORE_UNAVAILABLE,
        gd_status::GD_ERR_BUNDLE_INVALID,
    ];

    /// The whole mapping: the status's C name and, for the statuses that mirror a
    /// core error, the core's stable code. Exhaustive, no catch-all arm.
    pub fn describe(self) -> (&'static CStr, Option<&'static CStr>) {
        use gd_status::*;
        match self {
            GD_OK => (c"GD_OK", None),
            GD_DENIED => (c"GD_DENIED", None),
            GD_ERR_NULL_ARGUMENT => (c"GD_ERR_NULL_ARGUMENT", None),
            GD_ERR_INVALID_UTF8 => (c"GD_ERR_INVALID_UTF8", None),
            GD_ERR_MALFORMED_JSON => (c"GD_ERR_MALFORMED_JSON", None),
            GD_ERR_INPUT_TOO_LARGE => (c"GD_ERR_INPUT_TOO_LARGE", None),
            GD_ERR_ZERO_LENGTH => (c"GD_ERR_ZERO_LENGTH", None),
            GD_ERR_BUFFER_TOO_SMALL => (c"GD_ERR_BUFFER_TOO_SMALL", None),
            GD_ERR_PANIC => (c"GD_ERR_PANIC", None),
            GD_ERR_POLICY_PARSE => (c"GD_ERR_POLICY_PARSE", Some(c"policy_parse")),
            GD_ERR_POLICY_VALIDATION => (c"GD_ERR_POLICY_VALIDATION", Some(c"policy_validation")),
            GD_ERR_POLICY_ANNOTATION => (c"GD_ERR_POLICY_ANNOTATION", Some(c"policy_annotation")),
            GD_ERR_SCHEMA_INVALID => (c"GD_ERR_SCHEMA_INVALID", Some(c"schema_invalid")),
            GD_ERR_INVENTORY_INVALID => (c"GD_ERR_INVENTORY_INVALID", Some(c"inventory_invalid")),
            GD_ERR_UNKNOWN_ENTITY => (c"GD_ERR_UNKNOWN_ENTITY", Some(c"unknown_entity")),
            GD_ERR_REQUEST_INVALID => (c"GD_ERR_REQUEST_INVALID", Some(c"request_invalid")),
            GD_ERR_AUDIT_TAMPERED => (c"GD_ERR_AUDIT_TAMPERED", Some(c"audit_tampered")),
            GD_ERR_AUDIT_RETENTION => (c"GD_ERR_AUDIT_RETENTION", Some(c"audit_retention")),
            GD_ERR_AUDIT_UNAVAILABLE => (c"GD_ERR_AUDIT_UNAVAILABLE", Some(c"audit_unavailable")),
            GD_ERR_CRYPTO_AUTH_FAILED => {
                (c"GD_ERR_CRYPTO_AUTH_FAILED", Some(c"crypto_auth_failed"))
            }
            GD_ERR_KEY_NOT_FOUND => (c"GD_ERR_KEY_NOT_FOUND", Some(c"key_not_found")),
            GD_ERR_KEY_DESTROYED => (c"GD_ERR_KEY_DESTROYED", Some(c"key_destroyed")),
            GD_ERR_KEY_INVALID => (c"GD_ERR_KEY_INVALID", Some(c"key_invalid")),
            GD_ERR_WORKFLOW_INVALID => (c"GD_ERR_WORKFLOW_INVALID", Some(c"workflow_invalid")),
            GD_ERR_IO => (c"GD_ERR_IO", Some(c"io")),
            GD_ERR_ACCESS_DENIED => (c"GD_ERR_ACCESS_DENIED", Some(c"access_denied")),
            GD_ERR_STORE_LOCKED => (c"GD_ERR_STORE_LOCKED", Some(c"store_locked")),
            GD_ERR_CONFIG_INVALID => (c"GD_ERR_CONFIG_INVALID", Some(c"config_invalid")),
            GD_ERR_STORE_UNAVAILABLE => (c"GD_ERR_STORE_UNAVAILABLE", Some(c"store_unavailable")),
            GD_ERR_BUNDLE_INVALID => (c"GD_ERR_BUNDLE_INVALID", Some(c"bundle_invalid")),
        }
    }

    /// The status's C name, such as `GD_ERR_POLICY_PARSE`.
    pub fn name(self) -> &'static str {
        self.describe().0.to_str().unwrap_or("")
    }

    /// The core error code the status mirrors, if any.
    pub fn code(self) -> Option<&'static str> {
        self.describe().1.and_then(|c| c.to_str().ok())
    }

    /// The status of a core error code. `None` only for a code newer than this
    /// library, which a test rules out.
    pub fn from_code(code: &str) -> Option<gd_status> {
        gd_status::ALL
            .iter()
            .copied()
            .find(|s| s.code() == Some(code))
    }

    /// The status with this number, if there is one.
    pub fn from_int(value: c_int) -> Option<gd_status> {
        gd_status::ALL
            .iter()
            .copied()
            .find(|s| *s as c_int == value)
    }
}

/// Why an export made no result: the status it returns and the message it leaves for
/// `gd_last_error_message`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: gd_status,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(status: gd_status, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn null(argument: &str) -> Self {
        Failure::new(
            gd_status::GD_ERR_NULL_ARGUMENT,
            format!("argument `{argument}` is NULL"),
        )
    }
}

impl From<govdata::Error> for Failure {
    fn from(e: govdata::Error) -> Self {
        // A core code this library does not know yet still fails, never succeeds; the
        // test `every_core_code_has_a_status` keeps this arm unreachable.
        let (status, mut message) = match gd_status::from_code(e.code()) {
            Some(status) => (status, e.to_string()),
            None => (
                gd_status::GD_ERR_PANIC,
                format!("unmapped error code `{}`: {e}", e.code()),
            ),
        };
        if let Some(help) = e.help() {
            message.push_str("; help: ");
            message.push_str(help);
        }
        Failure::new(status, message)
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Leaves `message` for `gd_last_error_message` on this thread. NUL bytes (which a C
/// string cannot hold) become U+FFFD.
pub(crate) fn set_last_error(message: &str) {
    let message = if message.contains('\0') {
        message.replace('\0', "\u{FFFD}")
    } else {
        message.to_owned()
    };
    // `try_with`: during thread teardown the slot may be gone; the message is then lost,
    // which is better than a panic.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            *slot = Some(message);
        }
    });
}

/// Forgets this thread's last error (every fallible call starts with a clean slate).
pub(crate) fn clear_last_error() {
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut() {
            if slot.is_some() {
                *slot = None;
            }
        }
    });
}

/// This thread's last error message (empty when the last fallible call succeeded).
pub(crate) fn last_error() -> String {
    LAST_ERROR
        .try_with(|slot| slot.try_borrow().ok().and_then(|m| m.clone()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_has_a_status() {
        for code in govdata::error::ERROR_CODES {
            let status = gd_status::from_code(code);
            assert!(status.is_some(), "core code `{code}` has no gd_status");
            assert_eq!(status.and_then(gd_status::code), Some(*code));
        }
        let mirrored = gd_status::ALL.iter().filter(|s| s.code().is_some()).count();
        assert_eq!(mirrored, govdata::error::ERROR_CODES.len());
    }

    #[test]
    fn numbers_and_names_are_unique_and_all_is_complete() {
        let mut numbers = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for s in gd_status::ALL {
            assert!(numbers.insert(*s as c_int));
            assert!(names.insert(s.name()));
            assert!(s.name().starts_with("GD_"));
            assert_eq!(gd_status::from_int(*s as c_int), Some(*s));
        }
        assert_eq!(gd_status::GD_OK as c_int, 0);
        assert_eq!(gd_status::from_int(-1), None);
        assert_eq!(gd_status::from_int(99), None);
    }

    #[test]
    fn last_error_is_per_thread_and_nul_free() {
        set_last_error("a\0b");
        assert_eq!(last_error(), "a\u{FFFD}b");
        assert_eq!(std::thread::spawn(last_error).join().unwrap(), "");
        clear_last_error();
        assert_eq!(last_error(), "");
    }
}
