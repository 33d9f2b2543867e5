//! What a node that takes its inventory or its policy bundles from the store reports
//! in its status: the inventory it runs (the store's version of it) and the state of
//! the connection that follows the store's changes.

use crate::time::Timestamp;
use serde::Serialize;

/// The inventory a node took from the store, as [`crate::Platform::status`] reports
/// it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryStatus {
    /// Where the inventory comes from: `store`.
    pub source: String,
    /// The store's inventory version the node runs.
    pub version: u64,
    /// When the node loaded it.
    pub loaded_at: Timestamp,
    /// How many records of each kind it holds.
    pub records: RecordCounts,
    /// The last version the node refused to load and why (an inventory in the store
    /// that does not validate), while it keeps running the version above.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The error code of `last_error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error_code: Option<String>,
}

/// Records of each kind in an inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct RecordCounts {
    /// Departments.
    pub departments: usize,
    /// Vendors.
    pub vendors: usize,
    /// Users.
    pub users: usize,
    /// Datasets.
    pub datasets: usize,
    /// Systems.
    pub systems: usize,
}

impl RecordCounts {
    /// The counts of `inventory`.
    pub fn of(inventory: &crate::model::Inventory) -> RecordCounts {
        RecordCounts {
            departments: inventory.departments().count(),
            vendors: inventory.vendors().count(),
            users: inventory.users().count(),
            datasets: inventory.datasets().count(),
            systems: inventory.systems().count(),
        }
    }
}

/// The connection that follows the store's changes (notifications and the periodic
/// check of the versions), as [`crate::Platform::status`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowStatus {
    /// Whether the node holds a working connection that listens for changes.
    pub connected: bool,
    /// When the node last compared its versions with the store's successfully.
    pub last_check: Option<Timestamp>,
    /// Seconds since then (since the node opened, when never).
    pub stale_seconds: u64,
    /// The last error of the connection, if the last attempt failed.
    pub last_error: Option<String>,
    /// Its code (`store_unavailable` …).
    pub last_error_code: Option<String>,
}
