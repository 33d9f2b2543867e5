//! Signed checkpoints of the platform store and the proofs served from them, as an
//! auditor receives and checks them: with the checkpoint signer's public key only,
//! never a sealing key, and without the store.
//!
//! # The leaf order: one tree per node
//!
//! Each node's records form their own RFC 6962 tree, in the node's sequence order:
//! leaf `i` is record `first_seq + i` with [`proof::record_leaf`], the very leaf the
//! node's local log puts in its seals' Merkle roots. Per-node trees, not one tree in
//! the order rows reached the database, because
//!
//! - a node's order is fixed by the node and written in every row (`seq`), while the
//!   order in which many nodes' transactions commit is recorded nowhere and would need
//!   one counter that every insert of every node waits on;
//! - a record is proven against what its own node wrote, so a node's local log and the
//!   store agree leaf for leaf;
//! - the store can be split by node across servers without changing any tree.
//!
//! A **store checkpoint** is one [`Checkpoint`] (the signed format of
//! [`crate::checkpoint`]) whose leaves are the nodes' entries, in node id order: each
//! entry names the node, its log's hash suite, its first sequence number, the size and
//! root of its tree and the chain head after its last record. The entries travel with
//! the checkpoint and must hash to its signed root, so one signature covers every
//! node, and a node left out or altered is found. The checkpoint's suite is SM3 for an
//! SM2 key and SHA-256 for an Ed25519 key. Each entry is the text (lines ending in
//! `\n`):
//!
//! ```text
//! govdata store node v1
//! node <node id>
//! suite <sha256|sm3>
//! first <first sequence number>
//! size <number of records>
//! root <64 lowercase hex digits>
//! head <64 lowercase hex digits>
//! ```
//!
//! and its leaf is `H(0x00 || text)`. The entries' tree is a map, not a log: between
//! two checkpoints, growth is checked node by node ([`ConsistencyProof`]), and a node
//! of the older one must be in the newer one.

use crate::audit::{HashSuite, Timestamp};
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::proof::{self, Hash};
use crate::sign::{Algorithm, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

const NODE_HEADER: &str = "govdata store node v1";

fn invalid(message: impl Into<String>) -> Error {
    Error::RequestInvalid {
        message: message.into(),
    }
}

fn failed(message: impl Into<String>) -> Error {
    Error::CryptoAuthFailed {
        message: message.into(),
    }
}

fn q(text: &str) -> String {
    crate::quote::quote(text).to_string()
}

fn parse_hash(what: &str, text: &str) -> Result<Hash> {
    let mut h = [0u8; 32];
    hex::decode_to_slice(text, &mut h)
        .map_err(|_| invalid(format!("invalid {what}: a hash is 64 hex digits")))?;
    Ok(h)
}

fn parse_hashes(what: &str, texts: &[String]) -> Result<Vec<Hash>> {
    texts.iter().map(|t| parse_hash(what, t)).collect()
}

/// A JSON form with its `kind`.
trait Kinded: serde::de::DeserializeOwned {
    const KIND: &'static str;
    const WHAT: &'static str;
    fn kind(&self) -> &str;

    /// Reads the JSON form, whose `kind` must be [`Kinded::KIND`].
    fn read(text: &str) -> Result<Self> {
        let raw: Self = serde_json::from_str(text)
            .map_err(|e| invalid(format!("invalid {}: {e}", Self::WHAT)))?;
        expect_kind(raw.kind(), Self::KIND, Self::WHAT)?;
        Ok(raw)
    }
}

fn expect_kind(kind: &str, want: &str, what: &str) -> Result<()> {
    if kind != want {
        return Err(invalid(format!("not a {what}: kind `{}`", q(kind))));
    }
    Ok(())
}

fn hexes(hashes: &[Hash]) -> Vec<String> {
    hashes.iter().map(hex::encode).collect()
}

/// The hash suite of a store checkpoint signed with `algorithm`.
pub fn suite_for(algorithm: Algorithm) -> HashSuite {
    match algorithm {
        Algorithm::Ed25519 => HashSuite::Sha256,
        Algorithm::Sm2 => HashSuite::Sm3,
    }
}

/// One node's entry in a store checkpoint: its tree of records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTree {
    /// The node.
    pub node_id: String,
    /// Its log's hash suite (the tree's).
    pub suite: HashSuite,
    /// The sequence number of leaf 0.
    pub first_seq: u64,
    /// The number of records (leaves).
    pub size: u64,
    /// The RFC 6962 root of the records `first_seq .. first_seq + size`.
    pub root: Hash,
    /// The node's chain head after its last record.
    pub head: Hash,
}

impl NodeTree {
    /// The entry's text (see the module documentation).
    fn text(&self) -> String {
        format!(
            "{NODE_HEADER}\nnode {}\nsuite {}\nfirst {}\nsize {}\nroot {}\nhead {}\n",
            self.node_id,
            self.suite,
            self.first_seq,
            self.size,
            hex::encode(self.root),
            hex::encode(self.head)
        )
    }

    /// The index of record `seq` in the tree, when the tree holds it.
    pub fn index_of(&self, seq: u64) -> Option<u64> {
        seq.checked_sub(self.first_seq).filter(|i| *i < self.size)
    }

    fn check(&self) -> Result<()> {
        if self.node_id.is_empty() || self.node_id.chars().any(char::is_control) {
            return Err(invalid(format!(
                "invalid store checkpoint: node id `{}`",
                q(&self.node_id)
            )));
        }
        if self.first_seq == 0 {
            return Err(invalid(format!(
                "invalid store checkpoint: node `{}` starts at record 0",
                q(&self.node_id)
            )));
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNode {
    node_id: String,
    suite: String,
    first_seq: u64,
    size: u64,
    root: String,
    head: String,
}

impl RawNode {
    fn of(n: &NodeTree) -> RawNode {
        RawNode {
            node_id: n.node_id.clone(),
            suite: n.suite.as_str().to_owned(),
            first_seq: n.first_seq,
            size: n.size,
            root: hex::encode(n.root),
            head: hex::encode(n.head),
        }
    }

    fn parse(self) -> Result<NodeTree> {
        let n = NodeTree {
            suite: self.suite.parse()?,
            root: parse_hash("store checkpoint", &self.root)?,
            head: parse_hash("store checkpoint", &self.head)?,
            node_id: self.node_id,
            first_seq: self.first_seq,
            size: self.size,
        };
        n.check()?;
        Ok(n)
    }
}

/// A signed checkpoint of a whole platform store: one [`NodeTree`] per node, bound by
/// one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreCheckpoint {
    checkpoint: Checkpoint,
    nodes: Vec<NodeTree>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStoreCheckpoint {
    kind: String,
    checkpoint: serde_json::Value,
    nodes: Vec<RawNode>,
}

impl Kinded for RawStoreCheckpoint {
    const KIND: &'static str = KIND_CHECKPOINT;
    const WHAT: &'static str = "store checkpoint";
    fn kind(&self) -> &str {
        &self.kind
    }
}

const KIND_CHECKPOINT: &str = "store-checkpoint";
const KIND_INCLUSION: &str = "store-inclusion";
const KIND_CONSISTENCY: &str = "store-consistency";

fn node_leaves(suite: HashSuite, nodes: &[NodeTree]) -> Vec<Hash> {
    nodes
        .iter()
        .map(|n| proof::leaf_hash(suite, n.text().as_bytes()))
        .collect()
}

impl StoreCheckpoint {
    /// Signs the trees `nodes` of the store `origin` with `key`.
    pub fn sign(
        key: &SigningKey,
        origin: &str,
        mut nodes: Vec<NodeTree>,
        time: Timestamp,
    ) -> Result<StoreCheckpoint> {
        nodes.sort_by(|a, b| a.node_id.cmp(&b.node_id));
        check_nodes(&nodes)?;
        let suite = suite_for(key.algorithm());
        let leaves = node_leaves(suite, &nodes);
        let checkpoint = Checkpoint::sign_leaves(key, origin, suite, &leaves, time)?;
        Ok(StoreCheckpoint { checkpoint, nodes })
    }

    /// The signed checkpoint of the nodes' entries.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The nodes' trees, by node id.
    pub fn nodes(&self) -> &[NodeTree] {
        &self.nodes
    }

    /// The tree of node `node_id`.
    pub fn node(&self, node_id: &str) -> Option<&NodeTree> {
        self.nodes
            .binary_search_by(|n| n.node_id.as_str().cmp(node_id))
            .ok()
            .map(|i| &self.nodes[i])
    }

    /// The store the checkpoint is of.
    pub fn origin(&self) -> &str {
        self.checkpoint.origin()
    }

    /// Checks that the checkpoint is signed by one of `trusted` and that the entries
    /// are the ones signed: `crypto_auth_failed` when it is signed by no trusted key,
    /// the signature does not verify, or an entry was changed, added or left out.
    pub fn verify(&self, trusted: &[VerifyingKey]) -> Result<()> {
        let cp = &self.checkpoint;
        let Some(key) = trusted.iter().find(|k| k.key_id() == cp.key_id()) else {
            return Err(failed(format!(
                "the checkpoint of `{}` is signed by key `{}`, which is not trusted here",
                q(cp.origin()),
                q(cp.key_id())
            )));
        };
        cp.verify(key)?;
        if cp.suite() != suite_for(cp.algorithm()) {
            return Err(failed(format!(
                "the checkpoint of `{}` hashes its entries with {}, not {} as {} keys do",
                q(cp.origin()),
                cp.suite(),
                suite_for(cp.algorithm()),
                cp.algorithm()
            )));
        }
        let leaves = node_leaves(cp.suite(), &self.nodes);
        if cp.size() != leaves.len() as u64 || proof::tree_root(cp.suite(), &leaves) != *cp.root() {
            return Err(failed(format!(
                "the node entries of the checkpoint of `{}` are not the ones signed (changed, added or left out)",
                q(cp.origin())
            )));
        }
        Ok(())
    }

    fn raw(&self) -> RawStoreCheckpoint {
        RawStoreCheckpoint {
            kind: KIND_CHECKPOINT.to_owned(),
            checkpoint: serde_json::from_str(&self.checkpoint.to_json())
                .unwrap_or(serde_json::Value::Null),
            nodes: self.nodes.iter().map(RawNode::of).collect(),
        }
    }

    fn from_raw(raw: RawStoreCheckpoint) -> Result<StoreCheckpoint> {
        expect_kind(&raw.kind, KIND_CHECKPOINT, RawStoreCheckpoint::WHAT)?;
        let checkpoint = Checkpoint::from_json(&raw.checkpoint.to_string())?;
        let nodes = raw
            .nodes
            .into_iter()
            .map(RawNode::parse)
            .collect::<Result<Vec<_>>>()?;
        check_nodes(&nodes)?;
        Ok(StoreCheckpoint { checkpoint, nodes })
    }

    /// The JSON form: `{"kind": "store-checkpoint", "checkpoint": {…}, "nodes":
    /// [{"node_id", "suite", "first_seq", "size", "root", "head"}, …]}`, the checkpoint
    /// in [`Checkpoint::to_json`]'s form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.raw()).unwrap_or_default()
    }

    /// Reads the JSON form (`request_invalid` when malformed); the signature is
    /// checked by [`StoreCheckpoint::verify`].
    pub fn from_json(text: &str) -> Result<StoreCheckpoint> {
        let raw = RawStoreCheckpoint::read(text)?;
        StoreCheckpoint::from_raw(raw)
    }
}

fn check_nodes(nodes: &[NodeTree]) -> Result<()> {
    for n in nodes {
        n.check()?;
    }
    if let Some(w) = nodes.windows(2).find(|w| w[0].node_id >= w[1].node_id) {
        return Err(invalid(format!(
            "invalid store checkpoint: node `{}` is listed twice or out of order",
            q(&w[1].node_id)
        )));
    }
    Ok(())
}

/// That one record is in a checkpointed store: the checkpoint, the record as its node
/// wrote it, and the audit path of its leaf in its node's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    /// The checkpoint the record is proven in.
    pub checkpoint: StoreCheckpoint,
    /// The record's node.
    pub node_id: String,
    /// The record's sequence number.
    pub seq: u64,
    /// The record's payload, byte for byte as its node wrote it (JSON text).
    pub payload: String,
    /// The audit path of the record's leaf.
    pub path: Vec<Hash>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInclusion {
    kind: String,
    checkpoint: RawStoreCheckpoint,
    node_id: String,
    seq: u64,
    payload: String,
    path: Vec<String>,
}

impl Kinded for RawInclusion {
    const KIND: &'static str = KIND_INCLUSION;
    const WHAT: &'static str = "inclusion proof";
    fn kind(&self) -> &str {
        &self.kind
    }
}

impl InclusionProof {
    /// Checks the checkpoint against `trusted` and the record's audit path against
    /// its node's root: `crypto_auth_failed` when either fails (a record forged or
    /// altered, a checkpoint not signed by a trusted key), `request_invalid` when the
    /// checkpoint does not cover the record.
    pub fn verify(&self, trusted: &[VerifyingKey]) -> Result<()> {
        self.checkpoint.verify(trusted)?;
        let node = self.checkpoint.node(&self.node_id).ok_or_else(|| {
            invalid(format!(
                "the checkpoint holds no node `{}`",
                q(&self.node_id)
            ))
        })?;
        let index = node.index_of(self.seq).ok_or_else(|| {
            invalid(format!(
                "the checkpoint covers records {}..{} of node `{}`, not record {}",
                node.first_seq,
                node.first_seq + node.size,
                q(&self.node_id),
                self.seq
            ))
        })?;
        let leaf = proof::record_leaf(node.suite, self.seq, self.payload.as_bytes());
        proof::verify_inclusion(node.suite, index, node.size, &leaf, &self.path, &node.root)
            .map_err(|_| {
                failed(format!(
                    "record {} of node `{}` is not the one the checkpoint holds (forged or altered), or its proof is",
                    self.seq,
                    q(&self.node_id)
                ))
            })
    }

    /// The JSON form: `{"kind": "store-inclusion", "checkpoint": {…}, "node_id",
    /// "seq", "payload", "path": ["hex", …]}`.
    pub fn to_json(&self) -> String {
        let raw = RawInclusion {
            kind: KIND_INCLUSION.to_owned(),
            checkpoint: self.checkpoint.raw(),
            node_id: self.node_id.clone(),
            seq: self.seq,
            payload: self.payload.clone(),
            path: hexes(&self.path),
        };
        serde_json::to_string(&raw).unwrap_or_default()
    }

    /// Reads the JSON form (`request_invalid` when malformed).
    pub fn from_json(text: &str) -> Result<InclusionProof> {
        let raw = RawInclusion::read(text)?;
        Ok(InclusionProof {
            checkpoint: StoreCheckpoint::from_raw(raw.checkpoint)?,
            node_id: raw.node_id,
            seq: raw.seq,
            payload: raw.payload,
            path: parse_hashes("inclusion proof", &raw.path)?,
        })
    }
}

/// That a store only grew between two checkpoints: per node of the older one, an RFC
/// 6962 consistency proof from its tree then to its tree now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The older checkpoint.
    pub old: StoreCheckpoint,
    /// The newer checkpoint.
    pub new: StoreCheckpoint,
    /// Per node of the older checkpoint, by node id: the consistency proof of its tree.
    pub proofs: Vec<(String, Vec<Hash>)>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNodeProof {
    node_id: String,
    path: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsistency {
    kind: String,
    old: RawStoreCheckpoint,
    new: RawStoreCheckpoint,
    proofs: Vec<RawNodeProof>,
}

impl Kinded for RawConsistency {
    const KIND: &'static str = KIND_CONSISTENCY;
    const WHAT: &'static str = "consistency proof";
    fn kind(&self) -> &str {
        &self.kind
    }
}

/// How one node grew between two checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeGrowth {
    /// The node.
    pub node_id: String,
    /// Its number of records in the older checkpoint (0: not in it).
    pub old_size: u64,
    /// Its number of records in the newer checkpoint.
    pub new_size: u64,
}

impl ConsistencyProof {
    /// Checks both checkpoints against `trusted` and that every node of the older one
    /// is in the newer one with its tree extended, never rewritten: returns how each
    /// node of the newer checkpoint grew. `crypto_auth_failed` when a signature or a
    /// proof fails or a node's records are gone; `request_invalid` when the two are of
    /// different stores.
    pub fn verify(&self, trusted: &[VerifyingKey]) -> Result<Vec<NodeGrowth>> {
        self.old.verify(trusted)?;
        self.new.verify(trusted)?;
        if self.old.origin() != self.new.origin() {
            return Err(invalid(format!(
                "the checkpoints are of different stores: `{}` and `{}`",
                q(self.old.origin()),
                q(self.new.origin())
            )));
        }
        for old in &self.old.nodes {
            let Some(new) = self.new.node(&old.node_id) else {
                return Err(failed(format!(
                    "node `{}` is in the older checkpoint but not in the newer one: its records are gone",
                    q(&old.node_id)
                )));
            };
            let rewritten = || {
                failed(format!(
                    "the records of node `{}` in the newer checkpoint do not extend those in the older one (its history was rewritten)",
                    q(&old.node_id)
                ))
            };
            if new.suite != old.suite || new.first_seq != old.first_seq || new.size < old.size {
                return Err(rewritten());
            }
            if new.size == old.size && new.head != old.head {
                return Err(rewritten());
            }
            let path = self
                .proofs
                .iter()
                .find(|(id, _)| *id == old.node_id)
                .map(|(_, p)| p.as_slice())
                .unwrap_or(&[]);
            proof::verify_consistency(old.suite, old.size, new.size, &old.root, &new.root, path)
                .map_err(|_| rewritten())?;
        }
        Ok(self
            .new
            .nodes
            .iter()
            .map(|n| NodeGrowth {
                node_id: n.node_id.clone(),
                old_size: self.old.node(&n.node_id).map_or(0, |o| o.size),
                new_size: n.size,
            })
            .collect())
    }

    /// The JSON form: `{"kind": "store-consistency", "old": {…}, "new": {…},
    /// "proofs": [{"node_id", "path": ["hex", …]}, …]}`.
    pub fn to_json(&self) -> String {
        let raw = RawConsistency {
            kind: KIND_CONSISTENCY.to_owned(),
            old: self.old.raw(),
            new: self.new.raw(),
            proofs: self
                .proofs
                .iter()
                .map(|(id, p)| RawNodeProof {
                    node_id: id.clone(),
                    path: hexes(p),
                })
                .collect(),
        };
        serde_json::to_string(&raw).unwrap_or_default()
    }

    /// Reads the JSON form (`request_invalid` when malformed).
    pub fn from_json(text: &str) -> Result<ConsistencyProof> {
        let raw = RawConsistency::read(text)?;
        let proofs = raw
            .proofs
            .into_iter()
            .map(|p| Ok((p.node_id, parse_hashes("consistency proof", &p.path)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(ConsistencyProof {
            old: StoreCheckpoint::from_raw(raw.old)?,
            new: StoreCheckpoint::from_raw(raw.new)?,
            proofs,
        })
    }
}

/// A store checkpoint or a proof, as read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreEvidence {
    /// A checkpoint alone.
    Checkpoint(StoreCheckpoint),
    /// An inclusion proof.
    Inclusion(InclusionProof),
    /// A consistency proof.
    Consistency(ConsistencyProof),
}

impl StoreEvidence {
    /// Reads any of the three JSON forms by its `kind`.
    pub fn from_json(text: &str) -> Result<StoreEvidence> {
        #[derive(Deserialize)]
        struct Kind {
            kind: String,
        }
        let kind: Kind = serde_json::from_str(text)
            .map_err(|e| invalid(format!("not a store checkpoint or proof: {e}")))?;
        match kind.kind.as_str() {
            KIND_CHECKPOINT => StoreCheckpoint::from_json(text).map(StoreEvidence::Checkpoint),
            KIND_INCLUSION => InclusionProof::from_json(text).map(StoreEvidence::Inclusion),
            KIND_CONSISTENCY => ConsistencyProof::from_json(text).map(StoreEvidence::Consistency),
            other => Err(invalid(format!(
                "unknown kind `{}`: expected {KIND_CHECKPOINT}, {KIND_INCLUSION} or {KIND_CONSISTENCY}",
                q(other)
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
