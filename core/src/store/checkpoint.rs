//! Signed checkpoints of the store and the proofs served from it (`govdata store
//! checkpoint`, `govdata store prove`); the formats and their verification are in
//! [`super::proofs`], which explains the leaf order (one RFC 6962 tree per node).
//!
//! Making a checkpoint reads only the rows shipped since the last one: each node's
//! tree is resumed from the [`Frontier`] kept beside the last checkpoint, and every
//! new row must continue the node's chain there (its sequence number next, its head
//! before equal to the head after the row before it, its head the link of that and its
//! leaf: the log's unkeyed link rule, so the signer needs no sealing key) and end at
//! the node's registered head. A store whose rows do not is refused (`audit_tampered`)
//! and nothing is signed. The leaves are kept in tiles of 256 (`checkpoint_tiles`,
//! see [`super::tiles`]), a partial last tile written at each checkpoint, so that a
//! proof reads the tiles' roots and at most two tiles, and proofs from old checkpoints
//! still work after retention has dropped the rows they covered (tiles hold hashes
//! only, and retention leaves them).
//!
//! A proof is served only when the tiles give the very roots the checkpoints signed,
//! and an inclusion proof only when the record's row still hashes to its leaf: a row
//! changed after it was checkpointed, or a history rewritten, is `audit_tampered` here
//! — and were a proof handed out anyway, the auditor's check of it would fail.

use super::connect::{describe, unavailable};
use super::proofs::{ConsistencyProof, InclusionProof, NodeTree, StoreCheckpoint};
use super::tiles::{self, TILE_WIDTH};
use crate::audit::{HashSuite, Timestamp};
use crate::error::{Error, Result};
use crate::proof::{self, Frontier, Hash};
use crate::sign::SigningKey;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, GenericClient, IsolationLevel};

fn fail(e: &postgres::Error) -> Error {
    unavailable(format!("store checkpoint: {}", describe(e)))
}

fn tampered(seq: u64, message: String) -> Error {
    Error::AuditTampered { seq, message }
}

fn q(text: &str) -> String {
    crate::quote::quote(text).to_string()
}

fn hash(v: &[u8]) -> Option<Hash> {
    <[u8; 32]>::try_from(v).ok()
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A node's tree as the last checkpoint left it, with what resumes it.
struct Resume {
    tree: NodeTree,
    frontier: Frontier,
}

/// The node's registration: its log's suite and id, where its rows begin, its head.
struct Registration {
    suite: HashSuite,
    log_id: [u8; 16],
    first_seq: u64,
    base_head: Hash,
    head_seq: u64,
    head: Hash,
}

fn registrations(c: &mut impl GenericClient) -> Result<Vec<(String, Registration)>> {
    let rows = c
        .query(
            "SELECT node_id, suite, log_id, first_seq, base_head, head_seq, head
             FROM govdata.audit_nodes ORDER BY node_id",
            &[],
        )
        .map_err(|e| fail(&e))?;
    rows.iter()
        .map(|r| {
            let node_id: String = r.get(0);
            let malformed = || {
                tampered(
                    0,
                    format!("the registration of node `{}` is malformed", q(&node_id)),
                )
            };
            let suite: HashSuite = r.get::<_, String>(1).parse().map_err(|_| malformed())?;
            let log_id =
                <[u8; 16]>::try_from(r.get::<_, Vec<u8>>(2).as_slice()).map_err(|_| malformed())?;
            let base_head = hash(&r.get::<_, Vec<u8>>(4)).ok_or_else(malformed)?;
            let head = hash(&r.get::<_, Vec<u8>>(6)).ok_or_else(malformed)?;
            let reg = Registration {
                suite,
                log_id,
                first_seq: uint(r.get(3)),
                base_head,
                head_seq: uint(r.get(5)),
                head,
            };
            Ok((node_id, reg))
        })
        .collect()
}

/// The nodes' trees of the last checkpoint, by node id, and its origin.
fn last_trees(c: &mut impl GenericClient) -> Result<Option<(String, Vec<Resume>)>> {
    let Some(last) = c
        .query_opt(
            "SELECT id, origin FROM govdata.store_checkpoints ORDER BY id DESC LIMIT 1",
            &[],
        )
        .map_err(|e| fail(&e))?
    else {
        return Ok(None);
    };
    let id: i64 = last.get(0);
    let rows = c
        .query(
            "SELECT node_id, suite, first_seq, size, root, head, frontier
             FROM govdata.checkpoint_nodes WHERE checkpoint_id = $1 ORDER BY node_id",
            &[&id],
        )
        .map_err(|e| fail(&e))?;
    let mut out = Vec::new();
    for r in &rows {
        let node_id: String = r.get(0);
        let malformed = || {
            tampered(
                0,
                format!(
                    "the last checkpoint's entry of node `{}` is malformed",
                    q(&node_id)
                ),
            )
        };
        let suite: HashSuite = r.get::<_, String>(1).parse().map_err(|_| malformed())?;
        let tree = NodeTree {
            node_id: node_id.clone(),
            suite,
            first_seq: uint(r.get(2)),
            size: uint(r.get(3)),
            root: hash(&r.get::<_, Vec<u8>>(4)).ok_or_else(malformed)?,
            head: hash(&r.get::<_, Vec<u8>>(5)).ok_or_else(malformed)?,
        };
        let frontier = Frontier::from_json(&r.get::<_, String>(6)).map_err(|_| malformed())?;
        if frontier.size() != tree.size || frontier.root(suite) != tree.root {
            return Err(tampered(
                0,
                format!(
                    "the last checkpoint's state of node `{}` does not give its signed root (altered)",
                    q(&node_id)
                ),
            ));
        }
        out.push(Resume { tree, frontier });
    }
    Ok(Some((last.get(1), out)))
}

/// The leaves of tile `tile` of node `node_id`, at least `need` of them, checked
/// against the tile's stored root; exactly `need` are returned.
fn tile_leaves(
    c: &mut impl GenericClient,
    node_id: &str,
    suite: HashSuite,
    tile: u64,
    need: u64,
) -> Result<Vec<Hash>> {
    if need == 0 {
        return Ok(Vec::new());
    }
    let row = c
        .query_opt(
            "SELECT width, leaves, root FROM govdata.checkpoint_tiles
             WHERE node_id = $1 AND tile = $2 AND width >= $3 ORDER BY width LIMIT 1",
            &[
                &node_id,
                &int(tile),
                &i32::try_from(need).unwrap_or(i32::MAX),
            ],
        )
        .map_err(|e| fail(&e))?
        .ok_or_else(|| {
            tampered(
                0,
                format!(
                    "tile {tile} of node `{}` is missing from the checkpoints' tiles (deleted)",
                    q(node_id)
                ),
            )
        })?;
    let width = uint(i64::from(row.get::<_, i32>(0)));
    let bytes: Vec<u8> = row.get(1);
    let leaves: Vec<Hash> = bytes.chunks(32).filter_map(hash).collect();
    if leaves.len() as u64 != width || bytes.len() as u64 != width * 32 {
        return Err(tampered(
            0,
            format!("tile {tile} of node `{}` is malformed", q(node_id)),
        ));
    }
    if hash(&row.get::<_, Vec<u8>>(2)) != Some(proof::tree_root(suite, &leaves)) {
        return Err(tampered(
            0,
            format!(
                "tile {tile} of node `{}` does not hash to its stored root (altered)",
                q(node_id)
            ),
        ));
    }
    Ok(leaves[..need as usize].to_vec())
}

/// The roots of the tiles of node `node_id`'s tree of `size` leaves (the last over
/// its leaves so far).
fn tile_roots(
    c: &mut impl GenericClient,
    node_id: &str,
    suite: HashSuite,
    size: u64,
) -> Result<Vec<Hash>> {
    let full = size / TILE_WIDTH;
    let rows = c
        .query(
            "SELECT tile, root FROM govdata.checkpoint_tiles
             WHERE node_id = $1 AND width = $2 AND tile < $3 ORDER BY tile",
            &[
                &node_id,
                &i32::try_from(TILE_WIDTH).unwrap_or(i32::MAX),
                &int(full),
            ],
        )
        .map_err(|e| fail(&e))?;
    let mut roots = Vec::with_capacity(size.div_ceil(TILE_WIDTH) as usize);
    for (i, r) in rows.iter().enumerate() {
        let root = hash(&r.get::<_, Vec<u8>>(1));
        match root {
            Some(root) if uint(r.get(0)) == i as u64 => roots.push(root),
            _ => {
                return Err(tampered(
                    0,
                    format!(
                        "tile {i} of node `{}` is missing or malformed in the checkpoints' tiles",
                        q(node_id)
                    ),
                ))
            }
        }
    }
    if roots.len() as u64 != full {
        return Err(tampered(
            0,
            format!(
                "tile {} of node `{}` is missing from the checkpoints' tiles (deleted)",
                roots.len(),
                q(node_id)
            ),
        ));
    }
    if !size.is_multiple_of(TILE_WIDTH) {
        let last = tile_leaves(c, node_id, suite, full, size % TILE_WIDTH)?;
        roots.push(proof::tree_root(suite, &last));
    }
    Ok(roots)
}

/// The roots of `tree`'s tiles, checked against the root a checkpoint signed.
fn signed_roots(c: &mut impl GenericClient, tree: &NodeTree, which: &str) -> Result<Vec<Hash>> {
    let roots = tile_roots(c, &tree.node_id, tree.suite, tree.size)?;
    if proof::tree_root(tree.suite, &roots) != tree.root {
        return Err(tampered(
            0,
            format!(
                "the store's tree of node `{}` no longer gives the root that {which} checkpoint signed for its {} records: its history was rewritten",
                q(&tree.node_id),
                tree.size
            ),
        ));
    }
    Ok(roots)
}

fn insert_tile(
    c: &mut impl GenericClient,
    node_id: &str,
    suite: HashSuite,
    tile: u64,
    leaves: &[Hash],
) -> Result<()> {
    let bytes: Vec<u8> = leaves.iter().flatten().copied().collect();
    let root = proof::tree_root(suite, leaves);
    let inserted = c
        .execute(
            "INSERT INTO govdata.checkpoint_tiles (node_id, tile, width, leaves, root)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &node_id,
                &int(tile),
                &i32::try_from(leaves.len()).unwrap_or(i32::MAX),
                &bytes,
                &root.as_slice(),
            ],
        )
        .map_err(|e| fail(&e))?;
    if inserted == 0 {
        return Err(tampered(
            0,
            format!(
                "tile {tile} of node `{}` is already stored with {} leaves, which no checkpoint covered (the checkpoints' state was altered)",
                q(node_id),
                leaves.len()
            ),
        ));
    }
    Ok(())
}

/// Extends one node's tree from `from` with the rows shipped since, writing its new
/// tiles; the node's new tree and frontier.
fn extend(
    c: &mut impl GenericClient,
    node_id: &str,
    reg: &Registration,
    from: Resume,
) -> Result<Resume> {
    let Resume {
        tree: mut t,
        mut frontier,
    } = from;
    if t.suite != reg.suite || t.first_seq != reg.first_seq {
        return Err(tampered(
            0,
            format!(
                "node `{}` is registered with another log than the last checkpoint's (suite or first record changed)",
                q(node_id)
            ),
        ));
    }
    let last_seq = (t.first_seq + t.size).saturating_sub(1);
    if reg.head_seq < last_seq {
        return Err(tampered(
            last_seq,
            format!(
                "the store holds node `{}` through record {}, fewer than the {} records the last checkpoint covered (deleted)",
                q(node_id),
                reg.head_seq,
                t.size
            ),
        ));
    }
    if reg.head_seq == last_seq {
        if reg.head != t.head {
            return Err(tampered(
                last_seq,
                format!(
                    "the head of node `{}` differs from the last checkpoint's (rewritten)",
                    q(node_id)
                ),
            ));
        }
        return Ok(Resume { tree: t, frontier });
    }
    let mut tile = t.size / TILE_WIDTH;
    let mut pending = tile_leaves(c, node_id, t.suite, tile, t.size % TILE_WIDTH)?;
    let mut running = t.head;
    let mut expect = last_seq + 1;
    let (from_seq, to_seq) = (int(expect), int(reg.head_seq));
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&node_id, &from_seq, &to_seq];
    let mut rows = c
        .query_raw(
            "SELECT seq, payload, prev_head, head FROM govdata.audit_records
             WHERE node_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq",
            params,
        )
        .map_err(|e| fail(&e))?;
    let mut full: Vec<(u64, Vec<Hash>)> = Vec::new();
    while let Some(row) = rows.next().map_err(|e| fail(&e))? {
        let seq = uint(row.get(0));
        if seq != expect {
            return Err(tampered(
                expect,
                format!(
                    "record {expect} of node `{}` is missing or doubled (record {seq} follows record {})",
                    q(node_id),
                    expect - 1
                ),
            ));
        }
        let payload: Vec<u8> = row.get(1);
        let leaf = t.suite.leaf(seq, &payload);
        let prev = hash(&row.get::<_, Vec<u8>>(2));
        let head = hash(&row.get::<_, Vec<u8>>(3));
        if prev != Some(running) || head != Some(t.suite.link(&running, &leaf)) {
            return Err(tampered(
                seq,
                format!(
                    "record {seq} of node `{}` does not continue its chain (changed, inserted or replayed): nothing is signed",
                    q(node_id)
                ),
            ));
        }
        running = t.suite.link(&running, &leaf);
        frontier.push(t.suite, leaf);
        pending.push(leaf);
        if pending.len() as u64 == TILE_WIDTH {
            full.push((tile, std::mem::take(&mut pending)));
            tile += 1;
        }
        expect = seq + 1;
    }
    drop(rows);
    if expect != reg.head_seq + 1 || running != reg.head {
        return Err(tampered(
            expect,
            format!(
                "the rows of node `{}` end at record {} with another head than its registered head, record {} (deleted or rewritten)",
                q(node_id),
                expect - 1,
                reg.head_seq
            ),
        ));
    }
    for (i, leaves) in &full {
        insert_tile(c, node_id, t.suite, *i, leaves)?;
    }
    if !pending.is_empty() {
        insert_tile(c, node_id, t.suite, tile, &pending)?;
    }
    t.size = frontier.size();
    t.root = frontier.root(t.suite);
    t.head = running;
    Ok(Resume { tree: t, frontier })
}

/// Makes, stores and returns a signed checkpoint of every node's records in the store,
/// signed with `key` for the store named `origin` (the last checkpoint's origin, or
/// the database's name, when `None`). Needs the `govdata_checkpointer` role (or the
/// owner). `audit_tampered` when the rows since the last checkpoint do not continue
/// every node's chain; `request_invalid` for an origin other than the last
/// checkpoint's.
pub fn checkpoint_store(
    client: &mut Client,
    key: &SigningKey,
    origin: Option<&str>,
) -> Result<StoreCheckpoint> {
    // One checkpoint at a time; taken before the snapshot, so that the next one sees
    // the last one.
    client
        .execute(
            "SELECT pg_advisory_lock(hashtext('govdata.checkpoint'))",
            &[],
        )
        .map_err(|e| fail(&e))?;
    let r = checkpoint_locked(client, key, origin);
    let unlock = client
        .execute(
            "SELECT pg_advisory_unlock(hashtext('govdata.checkpoint'))",
            &[],
        )
        .map_err(|e| fail(&e));
    let cp = r?;
    unlock?;
    Ok(cp)
}

fn checkpoint_locked(
    client: &mut Client,
    key: &SigningKey,
    origin: Option<&str>,
) -> Result<StoreCheckpoint> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .start()
        .map_err(|e| fail(&e))?;
    let last = last_trees(&mut tx)?;
    let origin = match (origin, &last) {
        (Some(o), Some((was, _))) if o != was => {
            return Err(Error::RequestInvalid {
                message: format!(
                "the store's checkpoints are of origin `{}`, not `{}`: a store keeps one origin",
                q(was),
                q(o)
            ),
            })
        }
        (Some(o), _) => o.to_owned(),
        (None, Some((was, _))) => was.clone(),
        (None, None) => tx
            .query_one("SELECT current_database()::text", &[])
            .map_err(|e| fail(&e))?
            .get(0),
    };
    let mut previous = last.map(|(_, trees)| trees).unwrap_or_default();
    let regs = registrations(&mut tx)?;
    for p in &previous {
        if !regs.iter().any(|(id, _)| *id == p.tree.node_id) {
            return Err(tampered(
                0,
                format!(
                    "node `{}` of the last checkpoint is no longer registered in the store (deleted)",
                    q(&p.tree.node_id)
                ),
            ));
        }
    }
    let mut trees = Vec::with_capacity(regs.len());
    for (node_id, reg) in &regs {
        let from = match previous.iter().position(|p| p.tree.node_id == *node_id) {
            Some(i) => previous.swap_remove(i),
            None => {
                if reg.first_seq == 1 && reg.base_head != reg.suite.genesis(&reg.log_id) {
                    return Err(tampered(
                        1,
                        format!(
                            "the registration of node `{}` does not start at its log's genesis",
                            q(node_id)
                        ),
                    ));
                }
                Resume {
                    tree: NodeTree {
                        node_id: node_id.clone(),
                        suite: reg.suite,
                        first_seq: reg.first_seq,
                        size: 0,
                        root: Frontier::new().root(reg.suite),
                        head: reg.base_head,
                    },
                    frontier: Frontier::new(),
                }
            }
        };
        trees.push(extend(&mut tx, node_id, reg, from)?);
    }
    let cp = StoreCheckpoint::sign(
        key,
        &origin,
        trees.iter().map(|r| r.tree.clone()).collect(),
        Timestamp::now(),
    )?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO govdata.store_checkpoints (origin, time, key_id, body)
             VALUES ($1, $2, $3, $4) RETURNING id",
            &[
                &origin,
                &super::rows::system_time(cp.checkpoint().time()),
                &cp.checkpoint().key_id(),
                &cp.to_json(),
            ],
        )
        .map_err(|e| fail(&e))?
        .get(0);
    for r in &trees {
        let t = &r.tree;
        tx.execute(
            "INSERT INTO govdata.checkpoint_nodes (checkpoint_id, node_id, suite, first_seq, size, root, head, frontier)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &id,
                &t.node_id,
                &t.suite.as_str(),
                &int(t.first_seq),
                &int(t.size),
                &t.root.as_slice(),
                &t.head.as_slice(),
                &r.frontier.to_json(),
            ],
        )
        .map_err(|e| fail(&e))?;
    }
    tx.commit().map_err(|e| fail(&e))?;
    Ok(cp)
}

/// The last checkpoint stored, if any.
pub fn latest_checkpoint(client: &mut Client) -> Result<Option<StoreCheckpoint>> {
    client
        .query_opt(
            "SELECT body FROM govdata.store_checkpoints ORDER BY id DESC LIMIT 1",
            &[],
        )
        .map_err(|e| fail(&e))?
        .map(|r| StoreCheckpoint::from_json(&r.get::<_, String>(0)))
        .transpose()
}

/// A read-only transaction that sees one state of the store throughout.
fn snapshot(client: &mut Client) -> Result<postgres::Transaction<'_>> {
    client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(|e| fail(&e))
}

/// The inclusion proof of record `seq` of node `node_id` in `checkpoint` (a checkpoint
/// of this store). `request_invalid` when the checkpoint does not cover the record;
/// `audit_tampered` when the record's row no longer hashes to the leaf checkpointed,
/// or the tiles no longer give the signed root.
pub fn prove_inclusion(
    client: &mut Client,
    checkpoint: &StoreCheckpoint,
    node_id: &str,
    seq: u64,
) -> Result<InclusionProof> {
    let tree = checkpoint
        .node(node_id)
        .ok_or_else(|| Error::RequestInvalid {
            message: format!("the checkpoint holds no node `{}`", q(node_id)),
        })?;
    let index = tree.index_of(seq).ok_or_else(|| Error::RequestInvalid {
        message: format!(
            "the checkpoint covers records {}..{} of node `{}`, not record {seq}: make a newer checkpoint",
            tree.first_seq,
            tree.first_seq + tree.size,
            q(node_id)
        ),
    })?;
    let mut tx = snapshot(client)?;
    let row = tx
        .query_opt(
            "SELECT payload FROM govdata.audit_records WHERE node_id = $1 AND seq = $2",
            &[&node_id, &int(seq)],
        )
        .map_err(|e| fail(&e))?
        .ok_or_else(|| Error::RequestInvalid {
            message: format!(
                "record {seq} of node `{}` is no longer in the store (dropped by retention)",
                q(node_id)
            ),
        })?;
    let payload: Vec<u8> = row.get(0);
    let roots = signed_roots(&mut tx, tree, "the")?;
    let t = index / TILE_WIDTH;
    let tile = tile_leaves(
        &mut tx,
        node_id,
        tree.suite,
        t,
        tiles::tile_len(TILE_WIDTH, t, tree.size),
    )?;
    let leaf = tree.suite.leaf(seq, &payload);
    if tile.get((index % TILE_WIDTH) as usize) != Some(&leaf) {
        return Err(tampered(
            seq,
            format!(
                "record {seq} of node `{}` in the store differs from the record checkpointed (changed after the checkpoint)",
                q(node_id)
            ),
        ));
    }
    let payload = String::from_utf8(payload).map_err(|_| {
        tampered(
            seq,
            format!("record {seq} of node `{}` is not UTF-8 text", q(node_id)),
        )
    })?;
    let path = tiles::inclusion(tree.suite, TILE_WIDTH, index, tree.size, &tile, &roots)?;
    tx.commit().map_err(|e| fail(&e))?;
    Ok(InclusionProof {
        checkpoint: checkpoint.clone(),
        node_id: node_id.to_owned(),
        seq,
        payload,
        path,
    })
}

/// The consistency proof from `old` to `new` (both checkpoints of this store, `old`
/// the earlier). `request_invalid` when a node shrank between them; `audit_tampered`
/// when a node of `old` is gone or the tiles no longer give either signed root (a
/// history rewritten).
pub fn prove_consistency(
    client: &mut Client,
    old: &StoreCheckpoint,
    new: &StoreCheckpoint,
) -> Result<ConsistencyProof> {
    let mut tx = snapshot(client)?;
    let mut proofs = Vec::new();
    for o in old.nodes() {
        let n = new.node(&o.node_id).ok_or_else(|| {
            tampered(
                0,
                format!(
                    "node `{}` of the older checkpoint is not in the newer one: its records are gone",
                    q(&o.node_id)
                ),
            )
        })?;
        if n.size < o.size || n.suite != o.suite || n.first_seq != o.first_seq {
            return Err(Error::RequestInvalid {
                message: format!(
                    "node `{}` has {} records in the older checkpoint and {} in the newer one: give the older one first",
                    q(&o.node_id),
                    o.size,
                    n.size
                ),
            });
        }
        let roots = signed_roots(&mut tx, n, "the newer")?;
        signed_roots(&mut tx, o, "the older")?;
        let t = o.size / TILE_WIDTH;
        let tile = if o.size.is_multiple_of(TILE_WIDTH) {
            Vec::new()
        } else {
            tile_leaves(
                &mut tx,
                &o.node_id,
                n.suite,
                t,
                tiles::tile_len(TILE_WIDTH, t, n.size),
            )?
        };
        let path = tiles::consistency(n.suite, TILE_WIDTH, o.size, n.size, &tile, &roots)?;
        proofs.push((o.node_id.clone(), path));
    }
    tx.commit().map_err(|e| fail(&e))?;
    Ok(ConsistencyProof {
        old: old.clone(),
        new: new.clone(),
        proofs,
    })
}
