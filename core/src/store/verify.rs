//! Verification from the rows (`govdata audit verify --store`): every node's chain,
//! record MACs, seals and continuity re-checked with the local log's rules under the
//! sealing keys given, and per node the first bad record reported. It trusts nothing
//! the database says about itself: a row changed (in its payload or in a query
//! column), deleted, inserted, or replayed from another node is found whatever the
//! triggers let through, since a superuser can switch those off.

use super::connect::{describe, unavailable};
use super::read::{node_check, KeyFault};
use super::rows::{StoredRow, ROW_COLUMNS};
use crate::audit::SealingKey;
use crate::error::Result;
use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;
use serde::Serialize;
use std::collections::BTreeMap;

/// What verification found for one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeReport {
    /// The node.
    pub node_id: String,
    /// Rows checked.
    pub records: u64,
    /// The first sequence number present.
    pub first_seq: Option<u64>,
    /// The last sequence number present.
    pub last_seq: Option<u64>,
    /// Seals checked.
    pub seals: u64,
    /// The first bad record (its sequence number) and what is wrong; `None`: clean.
    pub first_bad: Option<BadRecord>,
}

/// The first bad record of a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadRecord {
    /// Its sequence number (0: the node's registration itself).
    pub seq: u64,
    /// What is wrong.
    pub message: String,
}

/// What verification of a whole store found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreVerifyReport {
    /// One report per node, by node id.
    pub nodes: Vec<NodeReport>,
    /// Node ids that rows name but that the store has no registration for.
    pub unknown_nodes: Vec<String>,
}

impl StoreVerifyReport {
    /// Whether every node is clean and no row names an unknown node.
    pub fn is_clean(&self) -> bool {
        self.unknown_nodes.is_empty() && self.nodes.iter().all(|n| n.first_bad.is_none())
    }
}

fn hash(v: &[u8]) -> Option<[u8; 32]> {
    <[u8; 32]>::try_from(v).ok()
}

fn fail(e: &postgres::Error) -> crate::Error {
    unavailable(format!("verify --store: {}", describe(e)))
}

/// Verifies every node of the store, with `keys` the sealing keys of the nodes' logs
/// (each node's is found by its key check value). A node whose key is not given is
/// reported as such. Errors are the store's (`store_unavailable`); what is wrong in
/// the rows is in the report.
pub fn verify_store(client: &mut Client, keys: &[SealingKey]) -> Result<StoreVerifyReport> {
    let nodes = client
        .query(
            "SELECT node_id, log_id, suite, key_check, binding, first_seq, base_head, head_seq, head
             FROM govdata.audit_nodes ORDER BY node_id",
            &[],
        )
        .map_err(|e| fail(&e))?;
    let mut reports = Vec::new();
    for n in &nodes {
        reports.push(verify_node(client, keys, n)?);
    }
    let unknown = client
        .query(
            "SELECT DISTINCT r.node_id FROM govdata.audit_records r
             WHERE NOT EXISTS (SELECT 1 FROM govdata.audit_nodes n WHERE n.node_id = r.node_id)
             ORDER BY 1",
            &[],
        )
        .map_err(|e| fail(&e))?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    Ok(StoreVerifyReport {
        nodes: reports,
        unknown_nodes: unknown,
    })
}

fn verify_node(client: &mut Client, keys: &[SealingKey], n: &postgres::Row) -> Result<NodeReport> {
    let node_id: String = n.get(0);
    let mut report = NodeReport {
        node_id: node_id.clone(),
        records: 0,
        first_seq: None,
        last_seq: None,
        seals: 0,
        first_bad: None,
    };
    let bad = |report: &mut NodeReport, seq: u64, message: String| {
        if report.first_bad.as_ref().is_none_or(|b| seq < b.seq) {
            report.first_bad = Some(BadRecord { seq, message });
        }
    };
    let log_id_bytes: Vec<u8> = n.get(1);
    let first_seq = u64::try_from(n.get::<_, i64>(5)).unwrap_or(0);
    let base_head_bytes: Vec<u8> = n.get(6);
    let head_seq = u64::try_from(n.get::<_, i64>(7)).unwrap_or(0);
    let head_bytes: Vec<u8> = n.get(8);
    let (Some(base_head), Some(node_head)) = (hash(&base_head_bytes), hash(&head_bytes)) else {
        bad(&mut report, 0, KeyFault::Malformed.message());
        return Ok(report);
    };
    let check = match node_check(
        keys,
        &node_id,
        &log_id_bytes,
        &n.get::<_, String>(2),
        &n.get::<_, String>(3),
        &n.get::<_, Vec<u8>>(4),
    )? {
        Ok(check) => check,
        Err(fault) => {
            bad(&mut report, 0, fault.message());
            return Ok(report);
        }
    };
    // Where the rows must begin: after the last month retention dropped, or at the
    // registration's base.
    let horizon = client
        .query_opt(
            "SELECT last_seq, head FROM govdata.audit_horizons WHERE node_id = $1
             ORDER BY last_seq DESC LIMIT 1",
            &[&node_id],
        )
        .map_err(|e| fail(&e))?;
    let (mut expect, mut running) = match horizon {
        Some(h) => {
            let seq = u64::try_from(h.get::<_, i64>(0)).unwrap_or(0);
            match hash(&h.get::<_, Vec<u8>>(1)) {
                Some(head) => (seq + 1, head),
                None => {
                    bad(
                        &mut report,
                        seq + 1,
                        "the retention horizon is malformed".into(),
                    );
                    return Ok(report);
                }
            }
        }
        None => {
            if first_seq == 1 && base_head != check.genesis() {
                bad(
                    &mut report,
                    1,
                    "the registration's base is not the genesis of this log".into(),
                );
                return Ok(report);
            }
            (first_seq, base_head)
        }
    };
    let mut leaves: BTreeMap<u64, ([u8; 32], [u8; 32])> = BTreeMap::new();
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&node_id];
    let mut rows = client
        .query_raw(
            &format!(
                "SELECT {ROW_COLUMNS} FROM govdata.audit_records WHERE node_id = $1 ORDER BY seq, month"
            ),
            params,
        )
        .map_err(|e| fail(&e))?;
    while let Some(row) = rows.next().map_err(|e| fail(&e))? {
        let row = StoredRow::read(&row);
        let seq = row.seq;
        report.records += 1;
        report.first_seq.get_or_insert(seq);
        report.last_seq = Some(seq);
        if report.first_bad.is_some() {
            continue;
        }
        if seq < expect {
            bad(
                &mut report,
                seq,
                format!("record {seq} appears more than once (inserted or replayed)"),
            );
            continue;
        }
        if seq > expect {
            bad(
                &mut report,
                expect,
                format!(
                    "record {expect} is missing (record {seq} follows record {}: deleted)",
                    expect - 1
                ),
            );
            continue;
        }
        if let Some(message) = row.malformed() {
            bad(&mut report, seq, message);
            continue;
        }
        if row.prev_head != Some(running) {
            bad(
                &mut report,
                seq,
                format!("record {seq} does not continue the chain of the record before it (a record was changed, deleted, inserted or replayed from another node)"),
            );
            continue;
        }
        match row.authenticate(&check) {
            Ok(ok) => {
                leaves.insert(seq, (ok.leaf, ok.head));
                running = ok.head;
                expect = seq + 1;
            }
            Err(message) => bad(&mut report, seq, message),
        }
    }
    drop(rows);
    if report.first_bad.is_none() {
        let last = expect - 1;
        if head_seq > last {
            bad(
                &mut report,
                last + 1,
                format!("records {}..={head_seq} are missing: the node's registered head is record {head_seq} (deleted)", last + 1),
            );
        } else if head_seq < last {
            bad(
                &mut report,
                head_seq + 1,
                format!(
                    "records after the node's registered head {head_seq} are present (inserted)"
                ),
            );
        } else if node_head != running {
            bad(
                &mut report,
                head_seq,
                "the chain differs from the node's registered head (rewritten)".into(),
            );
        }
    }
    let seals = client
        .query(
            "SELECT segment, first_seq, last_seq, payload, tag FROM govdata.audit_seals
             WHERE node_id = $1 ORDER BY segment",
            &[&node_id],
        )
        .map_err(|e| fail(&e))?;
    for s in &seals {
        report.seals += 1;
        let segment = u64::try_from(s.get::<_, i64>(0)).unwrap_or(0);
        let first = u64::try_from(s.get::<_, i64>(1)).unwrap_or(0);
        let last = u64::try_from(s.get::<_, i64>(2)).unwrap_or(0);
        let payload: Vec<u8> = s.get(3);
        let tag: Vec<u8> = s.get(4);
        let Some((index, sfirst, slast, shead, sroot)) = check.seal(&payload, &tag) else {
            bad(
                &mut report,
                first,
                format!("the seal of segment {segment} does not authenticate (modified or forged)"),
            );
            continue;
        };
        if (index, sfirst, slast) != (segment, first, last) {
            bad(
                &mut report,
                first,
                format!("the seal of segment {segment} states other records than its row"),
            );
            continue;
        }
        let covered: Vec<&([u8; 32], [u8; 32])> =
            leaves.range(first..=last).map(|(_, v)| v).collect();
        if covered.len() as u64 != last - first + 1 {
            // Records before the rows' start (dropped by retention) or after a bad
            // record: nothing to compare.
            continue;
        }
        let root_leaves: Vec<[u8; 32]> = covered.iter().map(|(l, _)| *l).collect();
        let end_head = covered.last().map(|(_, h)| *h);
        if end_head != Some(shead) || check.merkle_root(&root_leaves) != sroot {
            bad(
                &mut report,
                first,
                format!("records {first}..={last} differ from the seal of segment {segment} (its head or Merkle root)"),
            );
        }
    }
    Ok(report)
}
