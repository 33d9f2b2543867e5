//! The one error type of govdata.
//!
//! Every variant has a stable code string ([`Error::code`]) that the bindings map to
//! their own error types (a Python exception class, a Node `.code`, a C status). The
//! codes never change meaning; messages may be improved at any time, so callers match
//! on the code and never on the message. Messages name the offending input and never
//! contain key material or plaintext. Every field is rendered through [`crate::quote`]: a
//! quoted id or value is cut at 256 characters and has its control characters escaped.

use std::fmt;

use crate::quote::{bounded, quote};

/// The result type of govdata.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in govdata.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A policy file does not parse.
    #[error("cannot parse policy file `{}` at line {}, column {}: {}", quote(&.0.file), .0.line, .0.column, bounded(&.0.message))]
    PolicyParse(SourceError),
    /// A policy does not type-check against the schema in strict mode.
    #[error("policy `{}` in `{}` at line {}, column {} does not validate against the schema: {}", quote(&.0.policy), quote(&.0.file), .0.line, .0.column, bounded(&.0.message))]
    PolicyValidation(SourceError),
    /// A policy lacks a required annotation, repeats an id or names an unknown obligation.
    #[error("policy `{}` in `{}` at line {}, column {}: {}", quote(&.0.policy), quote(&.0.file), .0.line, .0.column, bounded(&.0.message))]
    PolicyAnnotation(SourceError),
    /// The schema does not parse or is not a valid schema.
    #[error("invalid schema `{}`: {}", quote(&.0.file), bounded(&.0.message))]
    SchemaInvalid(SourceError),
    /// An inventory or inventory update is rejected; nothing of it was applied.
    #[error("invalid inventory record {}: {}", bounded(.record), bounded(.message))]
    InventoryInvalid {
        /// The offending record, as `type `id`` or `type #index`.
        record: String,
        /// What is wrong with it.
        message: String,
    },
    /// A request names an entity that the inventory does not hold.
    #[error("unknown {kind} `{}`", quote(.id))]
    UnknownEntity {
        /// The kind of entity: `user`, `dataset`, `system`, `department`, `action`.
        kind: &'static str,
        /// The id that was not found.
        id: String,
    },
    /// A request is malformed: bad JSON, a missing or unknown field, a value of the wrong type.
    #[error("invalid request: {}", bounded(.message))]
    RequestInvalid {
        /// What is wrong with the request.
        message: String,
    },
    /// The audit log failed verification.
    #[error("audit log tampered at record {seq}: {}", bounded(.message))]
    AuditTampered {
        /// The sequence number of the first bad record.
        seq: u64,
        /// What is wrong with it.
        message: String,
    },
    /// A purge would remove audit records younger than the retention floor.
    #[error("audit retention: {}", bounded(.message))]
    AuditRetention {
        /// What was refused and why.
        message: String,
    },
    /// The audit log refuses appends after a write or sync failure.
    #[error("audit log unavailable: {}", bounded(.message))]
    AuditUnavailable {
        /// Why the log stopped accepting appends.
        message: String,
    },
    /// Decryption or an integrity check failed: wrong key, tampered or misplaced ciphertext.
    #[error("authentication failed: {}", bounded(.message))]
    CryptoAuthFailed {
        /// What failed to authenticate (never the data itself).
        message: String,
    },
    /// No key with this id is known.
    #[error("key not found: `{}`", quote(.id))]
    KeyNotFound {
        /// The key or dataset id that was looked up.
        id: String,
    },
    /// The dataset's data key was destroyed (crypto-shredded).
    #[error("the data key of dataset `{}` was destroyed", quote(.dataset))]
    KeyDestroyed {
        /// The dataset whose key is gone.
        dataset: String,
    },
    /// Key material has the wrong size or form.
    #[error("invalid key: {}", bounded(.message))]
    KeyInvalid {
        /// What is wrong with the key (never the key itself).
        message: String,
    },
    /// The policies refused an operation that the library carries out itself (a key
    /// operation of the vault, for instance).
    #[error("`{}` may not `{}` on `{}`: {}", quote(.principal), quote(.action), quote(.resource), bounded(.message))]
    AccessDenied {
        /// The acting user.
        principal: String,
        /// The action that was refused.
        action: String,
        /// The resource it was refused on.
        resource: String,
        /// Why: the deciding policies, or the obligation that could not be met.
        message: String,
    },
    /// A workflow step is not allowed in the current state.
    #[error("workflow: {}", bounded(.message))]
    WorkflowInvalid {
        /// What was refused.
        message: String,
    },
    /// Another live process holds the store (an audit log directory, a key store) for
    /// writing, and did not let go within the wait; nothing was written.
    #[error("{store} is locked by {} and was not released within {waited_ms} ms", holder_text(*.holder))]
    StoreLocked {
        /// The store, by kind and directory.
        store: String,
        /// The holder's process id, when it could be read.
        holder: Option<u32>,
        /// How long the caller waited.
        waited_ms: u64,
    },
    /// A configuration file (`govdata.toml`) is invalid: an unknown key, a value of the
    /// wrong kind, a secret written into the file, a key file others may read.
    #[error("invalid configuration: {}", bounded(.message))]
    ConfigInvalid {
        /// What is wrong, naming the key or the path.
        message: String,
    },
    /// The platform store (PostgreSQL) cannot be reached or refuses the node's
    /// writes, or has not caught up within the time asked for; the local log keeps
    /// every record meanwhile.
    #[error("platform store unavailable: {}", bounded(.message))]
    StoreUnavailable {
        /// What failed: the connection, the server's refusal, the lag.
        message: String,
    },
    /// A signed policy bundle is refused: malformed, tampered, unsigned, signed by no
    /// trusted key, expired, or older than the last one the node accepted.
    #[error("policy bundle refused ({reason}): {}", bounded(.message))]
    BundleInvalid {
        /// Why, as a stable word: `malformed`, `tampered`, `unsigned`, `untrusted_key`,
        /// `bad_signature`, `expired`, `rollback`, `policy_version`, `missing` (see
        /// [`crate::bundle::reason`]).
        reason: &'static str,
        /// What was found.
        message: String,
    },
    /// An operating-system I/O error.
    #[error("i/o error on `{}`: {source}", quote(.path))]
    Io {
        /// The file or directory involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

fn holder_text(holder: Option<u32>) -> String {
    match holder {
        Some(pid) => format!("process {pid}"),
        None => "another process".to_owned(),
    }
}

/// Where in a source file an error is, and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub(crate) file: String,
    pub(crate) policy: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
    pub(crate) message: String,
}

impl SourceError {
    /// The file the error is in.
    pub fn file(&self) -> &str {
        &self.file
    }
    /// The id of the policy involved (empty for parse and schema errors).
    pub fn policy(&self) -> &str {
        &self.policy
    }
    /// The 1-based line of the error.
    pub fn line(&self) -> usize {
        self.line
    }
    /// The 1-based column of the error.
    pub fn column(&self) -> usize {
        self.column
    }
    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Writes the list of codes once: the [`ErrorCode`] enum, [`ErrorCode::ALL`],
/// [`ErrorCode::as_str`] and [`ERROR_CODES`] all come from the one table below.
macro_rules! error_codes {
    ($($variant:ident => $code:literal,)*) => {
        /// Every error code, in a stable order. Bindings generate their error classes
        /// from it, and `core/tests/error_codes.rs` checks the Python, Node and C lists
        /// against it.
        pub const ERROR_CODES: &[&str] = &[$($code,)*];

        /// The stable codes of [`Error`] as an enum.
        ///
        /// Deliberately not `#[non_exhaustive]`: a binding maps every code with one
        /// `match` and no catch-all arm, so a new code fails to compile there until it
        /// is mapped.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $code, "`")]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code, in the order of [`ERROR_CODES`].
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code string.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    PolicyParse => "policy_parse",
    PolicyValidation => "policy_validation",
    PolicyAnnotation => "policy_annotation",
    SchemaInvalid => "schema_invalid",
    InventoryInvalid => "inventory_invalid",
    UnknownEntity => "unknown_entity",
    RequestInvalid => "request_invalid",
    AuditTampered => "audit_tampered",
    AuditRetention => "audit_retention",
    AuditUnavailable => "audit_unavailable",
    CryptoAuthFailed => "crypto_auth_failed",
    KeyNotFound => "key_not_found",
    KeyDestroyed => "key_destroyed",
    KeyInvalid => "key_invalid",
    AccessDenied => "access_denied",
    WorkflowInvalid => "workflow_invalid",
    Io => "io",
    StoreLocked => "store_locked",
    ConfigInvalid => "config_invalid",
    StoreUnavailable => "store_unavailable",
    BundleInvalid => "bundle_invalid",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// The stable code of this error (see [`ERROR_CODES`]).
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }

    /// The stable code of this error as an enum, for bindings that map every code.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Error::PolicyParse(_) => ErrorCode::PolicyParse,
            Error::PolicyValidation(_) => ErrorCode::PolicyValidation,
            Error::PolicyAnnotation(_) => ErrorCode::PolicyAnnotation,
            Error::SchemaInvalid(_) => ErrorCode::SchemaInvalid,
            Error::InventoryInvalid { .. } => ErrorCode::InventoryInvalid,
            Error::UnknownEntity { .. } => ErrorCode::UnknownEntity,
            Error::RequestInvalid { .. } => ErrorCode::RequestInvalid,
            Error::AuditTampered { .. } => ErrorCode::AuditTampered,
            Error::AuditRetention { .. } => ErrorCode::AuditRetention,
            Error::AuditUnavailable { .. } => ErrorCode::AuditUnavailable,
            Error::CryptoAuthFailed { .. } => ErrorCode::CryptoAuthFailed,
            Error::KeyNotFound { .. } => ErrorCode::KeyNotFound,
            Error::KeyDestroyed { .. } => ErrorCode::KeyDestroyed,
            Error::KeyInvalid { .. } => ErrorCode::KeyInvalid,
            Error::AccessDenied { .. } => ErrorCode::AccessDenied,
            Error::WorkflowInvalid { .. } => ErrorCode::WorkflowInvalid,
            Error::Io { .. } => ErrorCode::Io,
            Error::StoreLocked { .. } => ErrorCode::StoreLocked,
            Error::ConfigInvalid { .. } => ErrorCode::ConfigInvalid,
            Error::StoreUnavailable { .. } => ErrorCode::StoreUnavailable,
            Error::BundleInvalid { .. } => ErrorCode::BundleInvalid,
        }
    }

    /// Extra advice for a person reading the error, where there is some.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            Error::PolicyAnnotation(_) => Some(
                "every policy needs @id, @article, @zh and @en; @obligations lists known obligations only",
            ),
            Error::AuditRetention { .. } => Some(
                "audit records are kept at least six calendar months (Art. 8; Cybersecurity Law)",
            ),
            Error::AuditTampered { .. } => {
                Some("restore the log from a verified backup and investigate the modification")
            }
            Error::UnknownEntity { .. } => Some("add the record to the inventory first"),
            Error::AccessDenied { .. } => Some(
                "key operations are for the platform operator's key_admin and security_officer, never vendor staff (Art. 7, 16); important and core data need a witness",
            ),
            Error::KeyDestroyed { .. } => {
                Some("the data was crypto-shredded (Art. 15) and cannot be recovered")
            }
            Error::StoreLocked { .. } => Some(
                "one process writes a store at a time; give each worker process its own audit log directory, or retry when the holder is done",
            ),
            Error::StoreUnavailable { .. } => Some(
                "the local audit log keeps every record and the shipper sends them once the store answers; check the `[store]` section and the server",
            ),
            Error::BundleInvalid { .. } => Some(
                "a node runs only a bundle signed by a key in `[policies] trust_keys`, not expired, with a version above the last it accepted; build it with `govdata bundle build` and sign it with `govdata bundle sign`",
            ),
            _ => None,
        }
    }

    /// Why a policy bundle was refused, for `bundle_invalid` (see
    /// [`crate::bundle::reason`]).
    pub fn bundle_reason(&self) -> Option<&'static str> {
        match self {
            Error::BundleInvalid { reason, .. } => Some(reason),
            _ => None,
        }
    }

    pub(crate) fn request(message: impl fmt::Display) -> Self {
        Error::RequestInvalid {
            message: message.to_string(),
        }
    }

    pub(crate) fn inventory(record: impl fmt::Display, message: impl fmt::Display) -> Self {
        Error::InventoryInvalid {
            record: record.to_string(),
            message: message.to_string(),
        }
    }

    pub(crate) fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_listed() {
        let mut seen = std::collections::HashSet::new();
        for c in ERROR_CODES {
            assert!(seen.insert(*c), "duplicate code {c}");
        }
        let e = Error::request("x");
        assert!(ERROR_CODES.contains(&e.code()));
    }

    #[test]
    fn error_code_enum_matches_the_list() {
        let names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names, ERROR_CODES);
    }
}
