//! The platform store: the node's audit log shipped to PostgreSQL (Art. 8: the whole
//! platform's processing logs monitored and managed in one place, kept six months,
//! protected from deletion, modification and overwriting).
//!
//! It owns the store's side of the audit log: the connection rules (TLS with the
//! server verified, a unix socket excepted), the schema (rows kept as the node wrote
//! them, append-only in the database itself, retention by whole monthly partitions),
//! the shipper that sends the local log to it, and verification from the rows with the
//! log's own rules. It must not make a decision wait on the network: the local log
//! stays the synchronous record and is the shipper's spool, so a store that is down or
//! slow delays the copy, never a decision, and loses nothing.
//!
//! Signed checkpoints of the store and the proofs an auditor checks with a public key
//! alone ([`proofs`]: the formats and their verification) are served from it by
//! [`checkpoint_store`], [`prove_inclusion`] and [`prove_consistency`].
//!
//! Everything but [`StoreStatus`] and [`proofs`] needs the crate's `store` feature.

use serde::Serialize;

#[cfg(feature = "store")]
mod checkpoint;
#[cfg(feature = "store")]
mod connect;
#[cfg(feature = "store")]
mod rows;
#[cfg(feature = "store")]
mod schema;
#[cfg(feature = "store")]
mod shipper;
#[cfg(feature = "store")]
mod tiles;
#[cfg(feature = "store")]
mod verify;

pub mod proofs;

#[cfg(feature = "store")]
pub use checkpoint::{checkpoint_store, latest_checkpoint, prove_consistency, prove_inclusion};
#[cfg(feature = "store")]
pub use connect::StoreConnector;
#[cfg(feature = "store")]
pub use schema::{init_schema, SCHEMA_VERSION};
#[cfg(feature = "store")]
pub use shipper::Shipper;
#[cfg(feature = "store")]
pub(crate) use shipper::StoreGate;
#[cfg(feature = "store")]
pub use verify::{verify_store, BadRecord, NodeReport, StoreVerifyReport};

/// The shipper's part of a node's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreStatus {
    /// Whether the shipper holds a working connection to the store.
    pub connected: bool,
    /// The last sequence number the store holds for this node (0: none yet).
    pub shipped_seq: u64,
    /// Records appended locally and not yet in the store.
    pub lag_records: u64,
    /// The age in seconds of the oldest record not yet in the store (0 when none).
    pub lag_seconds: u64,
    /// Whether the lag is beyond a configured bound.
    pub lag_exceeded: bool,
    /// Whether decisions on L4, important and core data are denied while the lag is
    /// beyond its bound.
    pub fail_closed: bool,
    /// The last error, if the last attempt failed (cleared by the next success).
    pub last_error: Option<String>,
    /// The code of the last error (`store_unavailable`, `audit_tampered` …).
    pub last_error_code: Option<String>,
}
