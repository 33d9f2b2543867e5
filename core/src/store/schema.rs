//! The store's schema, made or brought up to date by `govdata store init`.
//!
//! Audit rows (`govdata.audit_records`) are kept as the node wrote them: the payload
//! bytes, the chain head before and after, the record's MAC, and the 等保 fields taken
//! out of the payload for queries. The table is partitioned by the record's UTC month
//! and a unique index on `(node_id, seq, month)` serves `ON CONFLICT`; `(node_id,
//! seq)` is unique across months because an insert trigger, under a lock of the
//! node's row in `govdata.audit_nodes`, refuses any row that does not continue the
//! record before it (the node's head, or the row the same statement inserted before
//! it); a statement trigger then advances the head once per statement. UPDATE, DELETE and TRUNCATE are refused by triggers even for the owner,
//! and revoked from every role. Roles: `govdata_shipper` (insert only),
//! `govdata_retention` (records a verified backup and drops a whole month older than
//! six calendar months, through functions only), `govdata_reader` (select),
//! `govdata_checkpointer` (reads the rows, appends signed checkpoints and their tiles:
//! `schema_checkpoints.sql`).
//!
//! The procedures shared by every node (`schema_procedures.sql`, applied after the
//! audit schema in the same transaction) add their requests and steps, and the role
//! `govdata_procedures` that nodes taking steps are granted.
//! `schema_inventory.sql` adds the live inventory (a table per kind of record, its
//! references checked by deferred foreign keys, a version raised by every changing
//! transaction and announced on `govdata_inventory`) and the published policy bundles
//! (kept, versions rising, each announced on `govdata_bundles`), with the roles
//! `govdata_node` (reads both), `govdata_inventory_admin` and `govdata_publisher`.

use super::connect::{describe, unavailable};
use crate::error::Result;
use postgres::Client;

/// The version of the schema this build makes.
pub const SCHEMA_VERSION: i32 = 1;

/// The parts of the schema, applied in this order in one transaction: the audit log's
/// (`schema.sql`), then what following the store and querying across nodes add (the
/// notifying trigger, the query indexes), the shared procedures, the live inventory
/// and the published bundles, and the signed checkpoints.
const PARTS: [&str; 5] = [
    include_str!("schema.sql"),
    include_str!("schema_watch.sql"),
    include_str!("schema_procedures.sql"),
    include_str!("schema_inventory.sql"),
    include_str!("schema_checkpoints.sql"),
];

/// Creates the schema, or migrates an older one, in one transaction (run it again:
/// it changes nothing). Needs a role that may create schemas, roles and triggers.
pub fn init_schema(client: &mut Client) -> Result<i32> {
    // Roles are the cluster's, not the database's: stores being made in two databases
    // of one cluster at once can both find a role missing, and the second to create it
    // fails. The transaction then changed nothing; made again, it finds the role.
    let mut attempt = 0;
    loop {
        match init_once(client) {
            Err(e) if attempt < 4 && is_role_race(&e) => attempt += 1,
            r => {
                return r.map_err(|e| unavailable(format!("store init: {}", describe(&e))));
            }
        }
    }
}

/// A unique violation or a duplicate object: what a concurrent `CREATE ROLE` gives.
fn is_role_race(e: &postgres::Error) -> bool {
    use postgres::error::SqlState;
    e.code() == Some(&SqlState::UNIQUE_VIOLATION) || e.code() == Some(&SqlState::DUPLICATE_OBJECT)
}

fn init_once(client: &mut Client) -> std::result::Result<i32, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.batch_execute("SELECT pg_advisory_xact_lock(hashtext('govdata.store_init'))")?;
    for part in PARTS {
        tx.batch_execute(part)?;
    }
    let row = tx.query_one("SELECT max(version) FROM govdata.schema_version", &[])?;
    let version: Option<i32> = row.get(0);
    tx.commit()?;
    Ok(version.unwrap_or(SCHEMA_VERSION))
}
