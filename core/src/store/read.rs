//! Records read back from the store's rows for the people and the monitors who look
//! across nodes (`audit query --store`, `audit watch --store`, the assessment): each
//! row checked with its log's own rules under its node's sealing key before anything
//! in it is believed.
//!
//! What a reader of some rows can vouch for is the rows themselves: each one
//! authenticates under its node's sealing key (its payload, its chain values, its
//! query columns and its time), the node's registration binds its log to its node
//! id, and rows of one node that follow one another continue each other's chain. A
//! row that fails is `audit_tampered`, never shown. Where a row stands in the whole
//! of its node's chain — that nothing was deleted around it — is what `audit verify
//! --store` checks, reading every row.

use super::connect::{describe, unavailable};
use super::rows::{StoredRow, ROW_COLUMNS};
use crate::audit::export::ChainCheck;
use crate::audit::{AuditRecord, HashSuite, SealingKey, Timestamp};
use crate::error::{Error, Result};
use postgres::Client;
use serde_json::Value;
use std::collections::HashMap;

/// One record of the store, with the node that wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    /// The node whose log holds it.
    pub node_id: String,
    /// The record as the node wrote it (its sequence number is the node's).
    pub record: AuditRecord,
    /// When the store received it (the server's clock).
    pub stored_at: Timestamp,
}

impl StoredRecord {
    /// The record as JSON: `node`, then what [`AuditRecord::to_json`] gives.
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("node".into(), Value::String(self.node_id.clone()));
        if let Value::Object(r) = self.record.to_json() {
            m.extend(r);
        }
        Value::Object(m)
    }
}

/// Why a node's rows cannot be checked.
pub(crate) enum KeyFault {
    /// None of the keys given has the node's key check value.
    NoKey(String),
    /// The registration does not bind the log to the node id under its key.
    Unbound,
    /// The registration's columns are malformed.
    Malformed,
}

impl KeyFault {
    pub(crate) fn message(&self) -> String {
        match self {
            KeyFault::NoKey(key_check) => format!(
                "no sealing key was given for this node's log (key check {key_check})"
            ),
            KeyFault::Unbound => "the registration does not bind this log to this node id under its sealing key (altered or replayed from another node)".into(),
            KeyFault::Malformed => "the node's registration is malformed".into(),
        }
    }

    fn error(&self, node_id: &str) -> Error {
        let message = format!("node `{node_id}`: {}", self.message());
        match self {
            KeyFault::NoKey(_) => Error::RequestInvalid {
                message: format!("{message}: give the key file of that node's log"),
            },
            _ => Error::AuditTampered { seq: 0, message },
        }
    }
}

/// The log's rules for the node registered with `log_id`, `suite`, `key_check` and
/// `binding`, under whichever of `keys` is its sealing key.
pub(crate) fn node_check(
    keys: &[SealingKey],
    node_id: &str,
    log_id: &[u8],
    suite: &str,
    key_check: &str,
    binding: &[u8],
) -> Result<std::result::Result<ChainCheck, KeyFault>> {
    let (Ok(log_id), Ok(suite)) = (<[u8; 16]>::try_from(log_id), suite.parse::<HashSuite>()) else {
        return Ok(Err(KeyFault::Malformed));
    };
    for k in keys {
        if ChainCheck::key_check_of(k, suite)? == key_check {
            let check = ChainCheck::new(k, suite, log_id)?;
            if !check.binding_ok(node_id, binding) {
                return Ok(Err(KeyFault::Unbound));
            }
            return Ok(Ok(check));
        }
    }
    Ok(Err(KeyFault::NoKey(key_check.to_owned())))
}

pub(crate) fn db_error(what: &str, e: &postgres::Error) -> Error {
    unavailable(format!("{what}: {}", describe(e)))
}

/// The registered nodes of a store with their logs' rules under the keys given.
pub(crate) struct NodeKeys {
    nodes: HashMap<String, std::result::Result<ChainCheck, KeyFault>>,
}

impl NodeKeys {
    /// The keys for the nodes the store has registered so far.
    pub(crate) fn load(client: &mut Client, keys: &[SealingKey]) -> Result<NodeKeys> {
        let mut nk = NodeKeys {
            nodes: HashMap::new(),
        };
        nk.refresh(client, keys)?;
        Ok(nk)
    }

    /// Reads the registrations again (nodes registered since).
    pub(crate) fn refresh(&mut self, client: &mut Client, keys: &[SealingKey]) -> Result<()> {
        let rows = client
            .query(
                "SELECT node_id, log_id, suite, key_check, binding FROM govdata.audit_nodes",
                &[],
            )
            .map_err(|e| db_error("reading the nodes", &e))?;
        for n in &rows {
            let node_id: String = n.get(0);
            if self.nodes.contains_key(&node_id) {
                continue;
            }
            let check = node_check(
                keys,
                &node_id,
                &n.get::<_, Vec<u8>>(1),
                &n.get::<_, String>(2),
                &n.get::<_, String>(3),
                &n.get::<_, Vec<u8>>(4),
            )?;
            self.nodes.insert(node_id, check);
        }
        Ok(())
    }

    /// Whether `node_id`'s registration has been read.
    pub(crate) fn knows(&self, node_id: &str) -> bool {
        self.nodes.contains_key(node_id)
    }

    /// The rules of `node_id`'s log: `audit_tampered` for rows of a node that is not
    /// registered or whose registration does not authenticate, `request_invalid` when
    /// its key was not given.
    pub(crate) fn check(&self, node_id: &str) -> Result<&ChainCheck> {
        match self.nodes.get(node_id) {
            Some(Ok(c)) => Ok(c),
            Some(Err(fault)) => Err(fault.error(node_id)),
            None => Err(Error::AuditTampered {
                seq: 0,
                message: format!(
                    "rows of node `{node_id}`, which the store has no registration for (inserted)"
                ),
            }),
        }
    }

    /// The row's record once it authenticates under its node's key; `head` is the
    /// head after it, for the caller's check of what follows.
    pub(crate) fn authenticate(&self, row: &StoredRow) -> Result<(StoredRecord, [u8; 32])> {
        let check = self.check(&row.node_id)?;
        let ok = row
            .authenticate(check)
            .map_err(|message| Error::AuditTampered {
                seq: row.seq,
                message: format!("node `{}`: {message}", row.node_id),
            })?;
        Ok((
            StoredRecord {
                node_id: row.node_id.clone(),
                record: ok.record,
                stored_at: row.stored_at,
            },
            ok.head,
        ))
    }
}

/// The statement that selects rows with [`ROW_COLUMNS`] under `rest` (a `WHERE`, an
/// `ORDER BY` …).
pub(crate) fn select_rows(rest: &str) -> String {
    format!("SELECT {ROW_COLUMNS} FROM govdata.audit_records {rest}")
}
