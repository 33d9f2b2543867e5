//! The live inventory: departments, vendors, users, datasets and systems as tables of
//! the store, changed in one transaction by `govdata inventory push`, read by every
//! node that takes its inventory from the store.
//!
//! A push validates the inventory it would leave exactly as an inventory file is
//! validated ([`Inventory::from_json`]: known fields and values, unique ids, no
//! dangling reference) before it writes anything, then writes only the rows that
//! differ, in one transaction: a push that fails changes nothing, and the database's
//! deferred foreign keys refuse a dangling reference even from a hand-written change.
//! Every changing transaction raises the inventory's version once and announces it on
//! the channel `govdata_inventory` when it commits. A node loads the whole inventory
//! from one snapshot (the version with the rows of that version), validates it again
//! and hands it to its [`InventorySink`], which swaps it in at once; an inventory in
//! the store that does not validate is refused and the node keeps the one it runs.

use super::connect::{describe, unavailable};
use super::follow::Feed;
use super::live::{InventoryStatus, RecordCounts};
use crate::error::{Error, Result};
use crate::model::{Inventory, RecordKind};
use crate::time::Timestamp;
use postgres::{Client, GenericClient};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The channel on which the store announces a new inventory version.
pub const INVENTORY_CHANNEL: &str = "govdata_inventory";

/// The kinds of records in the order of the inventory file, with their list's name
/// and table.
const KINDS: [(RecordKind, &str, &str); 5] = [
    (
        RecordKind::Department,
        "departments",
        "govdata.inventory_departments",
    ),
    (RecordKind::Vendor, "vendors", "govdata.inventory_vendors"),
    (RecordKind::User, "users", "govdata.inventory_users"),
    (
        RecordKind::Dataset,
        "datasets",
        "govdata.inventory_datasets",
    ),
    (RecordKind::System, "systems", "govdata.inventory_systems"),
];

fn db(e: &postgres::Error) -> Error {
    if let Some(d) = e.as_db_error() {
        // A deferred foreign key refused a dangling reference at commit.
        if d.code().code() == "23503" {
            return Error::InventoryInvalid {
                record: d.table().unwrap_or("inventory").to_owned(),
                message: format!("the store refuses the change: {}", d.message()),
            };
        }
    }
    unavailable(format!("inventory: {}", describe(e)))
}

/// What a push asks for.
#[derive(Debug, Clone, Copy)]
pub enum InventoryChange<'a> {
    /// The inventory becomes this one: records it does not hold are removed.
    Replace(&'a Inventory),
    /// The records of this document (an inventory file, possibly partial, whose
    /// references may name records already in the store) are added or replace the
    /// records of the same id, and the records named are removed; the result must
    /// validate as a whole.
    Merge {
        /// The records to add or replace, in the inventory file's format.
        records: &'a Value,
        /// The records to remove, by kind and id.
        remove: &'a [(RecordKind, String)],
    },
}

/// What a push changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushReport {
    /// The store's inventory version before the push.
    pub previous_version: u64,
    /// Its version after (the same when nothing changed).
    pub version: u64,
    /// Records added.
    pub added: usize,
    /// Records whose content changed.
    pub updated: usize,
    /// Records removed.
    pub removed: usize,
    /// The records of each kind the store now holds.
    pub records: RecordCounts,
}

/// The rows of one kind, by id.
type Rows = BTreeMap<String, Value>;

fn version_of(c: &mut impl GenericClient) -> Result<u64> {
    let row = c
        .query_one(
            "SELECT version FROM govdata.inventory_state WHERE singleton",
            &[],
        )
        .map_err(|e| db(&e))?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

/// The rows of every kind, as the store holds them.
fn read_rows(c: &mut impl GenericClient) -> Result<[Rows; 5]> {
    let mut all: [Rows; 5] = Default::default();
    for (i, (kind, _, table)) in KINDS.iter().enumerate() {
        for row in c
            .query(&format!("SELECT id, record::text FROM {table}"), &[])
            .map_err(|e| db(&e))?
        {
            let id: String = row.get(0);
            let text: String = row.get(1);
            let value: Value = serde_json::from_str(&text).map_err(|e| {
                Error::inventory(format!("{kind} `{}`", crate::quote::quote(&id)), e)
            })?;
            all[i].insert(id, value);
        }
    }
    Ok(all)
}

/// The rows as an inventory document.
fn document(rows: &[Rows; 5]) -> Value {
    let mut doc = Map::new();
    for (i, (_, list, _)) in KINDS.iter().enumerate() {
        doc.insert(
            (*list).to_owned(),
            Value::Array(rows[i].values().cloned().collect()),
        );
    }
    Value::Object(doc)
}

/// The inventory's records as rows, in the form a node reads them back.
fn rows_of(inventory: &Inventory) -> Result<[Rows; 5]> {
    let doc = inventory.to_json();
    let mut all: [Rows; 5] = Default::default();
    for (i, (kind, list, _)) in KINDS.iter().enumerate() {
        for record in doc
            .get(*list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = record
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::inventory(kind.to_string(), "no `id`"))?;
            all[i].insert(id.to_owned(), record.clone());
        }
    }
    Ok(all)
}

/// The inventory a merge leaves: the store's records, the document's over them, the
/// removed ones gone, validated as a whole.
fn merged(
    current: &[Rows; 5],
    records: &Value,
    remove: &[(RecordKind, String)],
) -> Result<Inventory> {
    let Some(given) = records.as_object() else {
        return Err(Error::inventory(
            "document",
            "malformed: expected an object",
        ));
    };
    if let Some(k) = given.keys().find(|k| !KINDS.iter().any(|(_, l, _)| l == k)) {
        return Err(Error::inventory(
            "document",
            format!("malformed: unknown field `{}`", crate::quote::quote(k)),
        ));
    }
    let mut next = current.clone();
    for (i, (kind, list, _)) in KINDS.iter().enumerate() {
        let items = match given.get(*list) {
            None => continue,
            Some(Value::Array(items)) => items,
            Some(_) => {
                return Err(Error::inventory(
                    "document",
                    format!("malformed: `{list}` is not a list"),
                ))
            }
        };
        for (n, item) in items.iter().enumerate() {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::inventory(format!("{kind} #{n}"), "missing field `id`"))?;
            next[i].insert(id.to_owned(), item.clone());
        }
    }
    for (kind, id) in remove {
        let i = KINDS.iter().position(|(k, _, _)| k == kind).unwrap_or(0);
        if next[i].remove(id).is_none() {
            return Err(Error::UnknownEntity {
                kind: kind.as_str(),
                id: id.clone(),
            });
        }
    }
    Inventory::from_json(&document(&next))
}

/// Changes the store's inventory as `change` asks, in one transaction, after
/// validating the inventory it leaves as an inventory file is validated. Nothing is
/// written when anything fails: `inventory_invalid` (or `unknown_entity` for a record
/// to remove that the store does not hold) for the change, `store_unavailable` for the
/// store. Pushes are serialized; a push that changes nothing leaves the version as it
/// is. Needs the `govdata_inventory_admin` role.
pub fn push_inventory(client: &mut Client, change: InventoryChange<'_>) -> Result<PushReport> {
    let mut tx = client.transaction().map_err(|e| db(&e))?;
    tx.batch_execute("SELECT pg_advisory_xact_lock(hashtext('govdata.inventory'))")
        .map_err(|e| db(&e))?;
    let previous_version = version_of(&mut tx)?;
    let current = read_rows(&mut tx)?;
    let target = match change {
        InventoryChange::Replace(inventory) => rows_of(inventory)?,
        InventoryChange::Merge { records, remove } => rows_of(&merged(&current, records, remove)?)?,
    };
    let (mut added, mut updated, mut removed) = (0, 0, 0);
    for (i, (_, _, table)) in KINDS.iter().enumerate() {
        let gone: Vec<&String> = current[i]
            .keys()
            .filter(|id| !target[i].contains_key(*id))
            .collect();
        let mut ids = Vec::new();
        let mut texts = Vec::new();
        for (id, record) in &target[i] {
            match current[i].get(id) {
                Some(old) if old == record => {}
                Some(_) => {
                    updated += 1;
                    ids.push(id.clone());
                    texts.push(record.to_string());
                }
                None => {
                    added += 1;
                    ids.push(id.clone());
                    texts.push(record.to_string());
                }
            }
        }
        removed += gone.len();
        if !gone.is_empty() {
            tx.execute(&format!("DELETE FROM {table} WHERE id = ANY($1)"), &[&gone])
                .map_err(|e| db(&e))?;
        }
        if !ids.is_empty() {
            tx.execute(
                &format!(
                    "INSERT INTO {table} (id, record)
                     SELECT u.id, u.record::jsonb FROM unnest($1::text[], $2::text[]) AS u(id, record)
                     ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record"
                ),
                &[&ids, &texts],
            )
            .map_err(|e| db(&e))?;
        }
    }
    let version = version_of(&mut tx)?;
    tx.commit().map_err(|e| db(&e))?;
    let records = RecordCounts {
        departments: target[0].len(),
        vendors: target[1].len(),
        users: target[2].len(),
        datasets: target[3].len(),
        systems: target[4].len(),
    };
    Ok(PushReport {
        previous_version,
        version,
        added,
        updated,
        removed,
        records,
    })
}

/// The store's inventory version (0: never changed).
pub fn inventory_version(client: &mut Client) -> Result<u64> {
    version_of(client)
}

/// The store's inventory and its version, read from one snapshot and validated as an
/// inventory file is (`inventory_invalid` when what the store holds does not
/// validate). Needs the `govdata_node` (or `govdata_reader`) role.
pub fn load_inventory(client: &mut Client) -> Result<(u64, Inventory)> {
    let mut tx = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(|e| db(&e))?;
    let version = version_of(&mut tx)?;
    let rows = read_rows(&mut tx)?;
    tx.commit().map_err(|e| db(&e))?;
    Ok((version, Inventory::from_json(&document(&rows))?))
}

/// Where a node's inventory feed delivers a new inventory: the composition root swaps
/// it into the node's engine (and records it).
pub trait InventorySink: Send + Sync + std::fmt::Debug {
    /// Runs `inventory`, version `version` of the store's, from now on.
    fn load(&self, version: u64, inventory: Inventory) -> Result<()>;
}

#[derive(Debug)]
struct FeedState {
    status: InventoryStatus,
    /// A version that did not validate, not tried again until the store's changes.
    refused: Option<u64>,
}

/// The feed that keeps a node's inventory the store's.
#[derive(Debug)]
pub struct InventoryFeed {
    sink: Arc<dyn InventorySink>,
    state: Mutex<FeedState>,
}

impl InventoryFeed {
    /// The feed of a node that loaded `inventory`, version `version`, at open.
    pub fn new(sink: Arc<dyn InventorySink>, version: u64, inventory: &Inventory) -> InventoryFeed {
        InventoryFeed {
            sink,
            state: Mutex::new(FeedState {
                status: InventoryStatus {
                    source: "store".to_owned(),
                    version,
                    loaded_at: Timestamp::now(),
                    records: RecordCounts::of(inventory),
                    last_error: None,
                    last_error_code: None,
                },
                refused: None,
            }),
        }
    }

    /// What the feed reports.
    pub fn status(&self) -> InventoryStatus {
        self.lock().status.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Feed for InventoryFeed {
    fn channel(&self) -> &'static str {
        INVENTORY_CHANNEL
    }

    fn refresh(&self, client: &mut Client) -> Result<()> {
        let version = inventory_version(client)?;
        {
            let st = self.lock();
            if version == st.status.version || st.refused == Some(version) {
                return Ok(());
            }
        }
        match load_inventory(client) {
            Ok((version, inventory)) => {
                let records = RecordCounts::of(&inventory);
                // The status changes with the engine's inventory: whoever sees the
                // new inventory and then asks for the status sees its version.
                let mut st = self.lock();
                self.sink.load(version, inventory)?;
                st.status.version = version;
                st.status.loaded_at = Timestamp::now();
                st.status.records = records;
                st.status.last_error = None;
                st.status.last_error_code = None;
                st.refused = None;
                Ok(())
            }
            Err(e @ Error::StoreUnavailable { .. }) => Err(e),
            Err(e) => {
                let mut st = self.lock();
                st.refused = Some(version);
                st.status.last_error = Some(format!("inventory version {version}: {e}"));
                st.status.last_error_code = Some(e.code().to_owned());
                Ok(())
            }
        }
    }
}
