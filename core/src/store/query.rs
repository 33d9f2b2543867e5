//! One place to look (Art. 8): the records of every node of the store found by node,
//! department, user, action, dataset, decision, kind and time, as `govdata audit
//! query` finds them in a local log. Whether a person may see them is the engine's
//! `view_audit` decision, taken and recorded by the composition root
//! (`AuditLog::view_store`); this module only reads.
//!
//! The columns kept beside each payload select the rows; each row is then checked as
//! [`super::read`] says (its MAC under its node's sealing key, its columns against its
//! authenticated payload, the chain between returned rows of one node) and matched
//! again with [`AuditQuery::matches`], so that the answer is the local query's answer
//! over the store's authentic records. A row that fails is `audit_tampered` and
//! nothing is returned.

use super::read::{db_error, select_rows, NodeKeys, StoredRecord};
use super::rows::{month_of, system_time, StoredRow};
use crate::audit::{AuditQuery, SealingKey};
use crate::error::{Error, Result};
use crate::model::{Inventory, ResourceKind};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use postgres::Client;
use std::collections::HashMap;

/// The statement's conditions and their parameters.
#[derive(Default)]
struct Conditions {
    clauses: Vec<String>,
    params: Vec<Box<dyn ToSql + Sync>>,
}

impl Conditions {
    /// The clause `template` with its `$` standing for the parameter `value`.
    fn push(&mut self, template: &str, value: Box<dyn ToSql + Sync>) {
        self.params.push(value);
        self.clauses
            .push(template.replace('$', &format!("${}", self.params.len())));
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// The departments a query of `department` covers: it and, as `inventory` nests
/// them, every department within it.
fn departments(department: &str, inventory: Option<&Inventory>) -> Vec<String> {
    let mut out = vec![department.to_owned()];
    if let Some(inv) = inventory {
        out.extend(
            inv.departments()
                .filter(|d| d.id != department && inv.is_within(&d.id, department))
                .map(|d| d.id.clone()),
        );
    }
    out
}

fn conditions(nodes: &[String], query: &AuditQuery, inventory: Option<&Inventory>) -> Conditions {
    let mut c = Conditions::default();
    if !nodes.is_empty() {
        c.push("node_id = ANY($)", Box::new(nodes.to_vec()));
    }
    if let Some(d) = &query.department {
        c.push("department = ANY($)", Box::new(departments(d, inventory)));
    }
    if let Some(u) = &query.user {
        c.push("user_id = $", Box::new(u.clone()));
    }
    if let Some(a) = query.action {
        c.push("action = $", Box::new(a.as_str().to_owned()));
    }
    if let Some(ds) = &query.dataset {
        let kind = ResourceKind::Dataset.as_str().to_owned();
        c.push("resource_type = $", Box::new(kind));
        c.push("resource_id = $", Box::new(ds.clone()));
    }
    if let Some(v) = query.decision {
        c.push("decision = $", Box::new(v.as_str().to_owned()));
    }
    if let Some(k) = &query.kind {
        c.push("kind = $", Box::new(k.clone()));
    }
    // The month bounds let the server skip whole partitions.
    if let Some(t) = query.since {
        c.push("time >= $", Box::new(system_time(t)));
        c.push("month >= CAST($::text AS date)", Box::new(month_of(t)));
    }
    if let Some(t) = query.until {
        c.push("time < $", Box::new(system_time(t)));
        c.push("month <= CAST($::text AS date)", Box::new(month_of(t)));
    }
    c
}

/// The records of the store matching `query` (departments nested as in `inventory`),
/// from the nodes named in `nodes` (every node when empty), oldest first (by time,
/// then node, then sequence number); with a limit, the latest ones. `keys` are the
/// sealing keys of the nodes' logs, each node's found by its key check value.
///
/// Errors: `store_unavailable` (the server, or a role that may not read the rows),
/// `audit_tampered` for a row that does not authenticate, does not match its columns
/// or breaks the chain of the rows returned with it, or of a node that is not
/// registered; `request_invalid` for rows of a node whose key is not among `keys`.
pub fn query_store(
    client: &mut Client,
    keys: &[SealingKey],
    nodes: &[String],
    query: &AuditQuery,
    inventory: Option<&Inventory>,
) -> Result<Vec<StoredRecord>> {
    let node_keys = NodeKeys::load(client, keys)?;
    let c = conditions(nodes, query, inventory);
    let order = match query.limit {
        Some(n) => format!(
            "ORDER BY time DESC, node_id DESC, seq DESC LIMIT {}",
            i64::try_from(n).unwrap_or(i64::MAX)
        ),
        None => "ORDER BY time, node_id, seq".to_owned(),
    };
    let sql = select_rows(&format!("{} {order}", c.sql()));
    let params: Vec<&(dyn ToSql + Sync)> = c.params.iter().map(|p| &**p as _).collect();
    let mut rows = client
        .query_raw(&sql, params)
        .map_err(|e| db_error("audit query --store", &e))?;
    let mut read: Vec<StoredRow> = Vec::new();
    while let Some(row) = rows
        .next()
        .map_err(|e| db_error("audit query --store", &e))?
    {
        read.push(StoredRow::read(&row));
    }
    if query.limit.is_some() {
        read.reverse();
    }
    let mut heads: HashMap<(String, u64), [u8; 32]> = HashMap::new();
    let mut out = Vec::with_capacity(read.len());
    for row in &read {
        let (record, head) = node_keys.authenticate(row)?;
        if heads.insert((row.node_id.clone(), row.seq), head).is_some() {
            return Err(Error::AuditTampered {
                seq: row.seq,
                message: format!(
                    "node `{}`: record {} appears more than once (inserted or replayed)",
                    row.node_id, row.seq
                ),
            });
        }
        if query.matches(&record.record, inventory) {
            out.push(record);
        }
    }
    chained(&read, &heads)?;
    Ok(out)
}

/// Rows of one node that follow one another must continue each other's chain.
fn chained(rows: &[StoredRow], heads: &HashMap<(String, u64), [u8; 32]>) -> Result<()> {
    for row in rows {
        let Some(before) = row
            .seq
            .checked_sub(1)
            .and_then(|s| heads.get(&(row.node_id.clone(), s)))
        else {
            continue;
        };
        if row.prev_head.as_ref() != Some(before) {
            return Err(Error::AuditTampered {
                seq: row.seq,
                message: format!(
                    "node `{}`: record {} does not continue the chain of record {} (a record was changed, inserted or replayed from another node)",
                    row.node_id,
                    row.seq,
                    row.seq - 1
                ),
            });
        }
    }
    Ok(())
}
