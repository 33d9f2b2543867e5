//! The platform store: the node's audit log shipped to PostgreSQL (Art. 8: the whole
//! platform's processing logs monitored and managed in one place, kept six months,
//! protected from deletion, modification and overwriting).
//!
//! It owns the store's side of the audit log: the connection rules (TLS with the
//! server verified, a unix socket excepted), the schema (rows kept as the node wrote
//! them, append-only in the database itself, retention by whole monthly partitions),
//! the shipper that sends the local log to it, verification from the rows with the
//! log's own rules, and the one place to look across nodes: queries of every node's
//! records (`query_store`) and a watch that follows them as they arrive and raises
//! alerts (`StoreWatch`). It must not make a decision wait on the network: the local log
//! stays the synchronous record and is the shipper's spool, so a store that is down or
//! slow delays the copy, never a decision, and loses nothing.
//!
//! It also holds the procedures shared by every node (Art. 14, 15): their requests and
//! steps as rows (`schema_procedures.sql`), taken once in transactions, and the
//! watcher that keeps each node's mirror current through `LISTEN`/`NOTIFY`
//! (`procedures`).
//!
//! It also holds what a node takes from the store: the live inventory (`inventory`:
//! pushed in one transaction, loaded by every node that takes it from there) and the
//! signed policy bundles published through it (`bundles`), which a node follows with
//! one listening connection (`follow`) and swaps into its engine atomically.
//!
//! Signed checkpoints of the store and the proofs an auditor checks with a public key
//! alone ([`proofs`]: the formats and their verification) are served from it by
//! [`checkpoint_store`], [`prove_inclusion`] and [`prove_consistency`].
//!
//! Everything but the status types ([`StoreStatus`], [`ProceduresStatus`],
//! [`InventoryStatus`], [`FollowStatus`]) and [`proofs`] needs the crate's `store`
//! feature.

use serde::Serialize;

#[cfg(feature = "store")]
mod bundles;
#[cfg(feature = "store")]
mod checkpoint;
#[cfg(feature = "store")]
mod connect;
#[cfg(feature = "store")]
mod follow;
#[cfg(feature = "store")]
mod inventory;
mod live;
#[cfg(feature = "store")]
mod procedures;
#[cfg(feature = "store")]
mod query;
#[cfg(feature = "store")]
mod read;
#[cfg(feature = "store")]
mod rows;
#[cfg(feature = "store")]
mod schema;
#[cfg(feature = "store")]
mod shipper;
#[cfg(feature = "store-tests")]
pub mod testing;
#[cfg(feature = "store")]
mod tiles;
#[cfg(feature = "store")]
mod verify;
#[cfg(feature = "store")]
mod watch;

pub mod proofs;

#[cfg(feature = "store")]
pub use bundles::{
    offer_newest, publish_bundle, published, BundleFeed, BundleSink, Published, BUNDLE_CHANNEL,
};
#[cfg(feature = "store")]
pub use checkpoint::{checkpoint_store, latest_checkpoint, prove_consistency, prove_inclusion};
#[cfg(feature = "store")]
pub use connect::StoreConnector;
#[cfg(feature = "store")]
pub(crate) use follow::Feed;
#[cfg(feature = "store")]
pub use follow::{Follower, CHECK_INTERVAL};
#[cfg(feature = "store")]
pub use inventory::{
    inventory_version, load_inventory, push_inventory, InventoryChange, InventoryFeed,
    InventorySink, PushReport, INVENTORY_CHANNEL,
};
pub use live::{FollowStatus, InventoryStatus, RecordCounts};
#[cfg(feature = "store")]
pub use procedures::{read_procedures, SharedProcedures, WatchStatus, CHANNEL};
#[cfg(feature = "store")]
pub use query::query_store;
#[cfg(feature = "store")]
pub use read::StoredRecord;
#[cfg(feature = "store")]
pub use schema::{init_schema, SCHEMA_VERSION};
#[cfg(feature = "store")]
pub use shipper::Shipper;
#[cfg(feature = "store")]
pub(crate) use shipper::StoreGate;
#[cfg(feature = "store")]
pub use verify::{verify_store, BadRecord, NodeReport, StoreVerifyReport};
#[cfg(feature = "store")]
pub use watch::{StoreAlert, StoreWatch, WatchOptions, Watched};

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

/// The procedures shared through the platform store: a node's part of its status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProceduresStatus {
    /// Whether the watcher holds a working connection to the store.
    pub connected: bool,
    /// The node's mirror of the store: how fresh it is and what it holds.
    #[serde(flatten)]
    pub mirror: crate::workflow::MirrorStatus,
    /// The watcher's last error, if its last attempt failed.
    pub last_error: Option<String>,
    /// The code of that error (`store_unavailable` …).
    pub last_error_code: Option<String>,
}
