//! RFC 6962 Merkle trees: the tree hash over a list of leaves, inclusion proofs
//! (audit paths) and consistency proofs between two sizes of one append-only list.
//!
//! Generation follows RFC 6962 §2.1 (`MTH`, `PATH`, `PROOF`); verification follows
//! RFC 9162 §2.1.3.2 and §2.1.4.2. Hashes are domain-separated as in RFC 6962: a leaf
//! is `H(0x00 || data)`, an interior node `H(0x01 || left || right)`, the empty tree
//! `H("")`, with `H` SHA-256 or SM3 (the log's [`HashSuite`]). The audit log's records
//! are leaves `H(0x00 || seq as 8 bytes little-endian || payload)` ([`record_leaf`]), so
//! one record's leaf is the same in the local log and in any store it is shipped to.
//!
//! This module computes and checks proofs over hashes it is given; it reads no log and
//! trusts no root: signed roots are [`crate::checkpoint`]'s business.
//!
//! ```
//! use govdata::audit::HashSuite;
//! use govdata::proof;
//! let suite = HashSuite::Sha256;
//! let leaves: Vec<_> = (0..7u64).map(|i| proof::record_leaf(suite, i + 1, b"{}")).collect();
//! let old_root = proof::tree_root(suite, &leaves[..4]);
//! let new_root = proof::tree_root(suite, &leaves);
//! let path = proof::inclusion_proof(suite, 5, &leaves)?;
//! proof::verify_inclusion(suite, 5, 7, &leaves[5], &path, &new_root)?;
//! let consistency = proof::consistency_proof(suite, 4, &leaves)?;
//! proof::verify_consistency(suite, 4, 7, &old_root, &new_root, &consistency)?;
//! # Ok::<(), govdata::Error>(())
//! ```

use crate::audit::HashSuite;
use crate::error::{Error, Result};

/// A 32-byte hash: a leaf, a node or a root.
pub type Hash = [u8; 32];

/// The RFC 6962 leaf hash of `data`: `H(0x00 || data)`.
pub fn leaf_hash(suite: HashSuite, data: &[u8]) -> Hash {
    suite.hash(&[&[0x00], data])
}

/// The leaf of audit record `seq` with its framed `payload` (the record's JSON as
/// stored): `H(0x00 || seq as 8 bytes little-endian || payload)`.
pub fn record_leaf(suite: HashSuite, seq: u64, payload: &[u8]) -> Hash {
    suite.leaf(seq, payload)
}

/// The RFC 6962 interior node hash: `H(0x01 || left || right)`.
pub fn node_hash(suite: HashSuite, left: &Hash, right: &Hash) -> Hash {
    suite.node(left, right)
}

/// The Merkle tree hash `MTH` of the leaf hashes `leaves` (RFC 6962 §2.1); `H("")` for
/// no leaves.
pub fn tree_root(suite: HashSuite, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => suite.hash(&[]),
        1 => leaves[0],
        n => {
            let k = split(n);
            suite.node(
                &tree_root(suite, &leaves[..k]),
                &tree_root(suite, &leaves[k..]),
            )
        }
    }
}

/// The largest power of two smaller than `n` (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// Roots and proofs are public: a plain comparison is enough.
fn eq(a: &Hash, b: &Hash) -> bool {
    a == b
}

fn invalid(message: String) -> Error {
    Error::RequestInvalid { message }
}

fn failed(message: &str) -> Error {
    Error::CryptoAuthFailed {
        message: message.to_owned(),
    }
}

/// The audit path `PATH(m, D[n])` of leaf `index` (0-based) in the tree of `leaves`
/// (RFC 6962 §2.1.1), from the leaf's sibling up. `request_invalid` when `index` is not
/// below the number of leaves.
pub fn inclusion_proof(suite: HashSuite, index: u64, leaves: &[Hash]) -> Result<Vec<Hash>> {
    let m = usize::try_from(index)
        .ok()
        .filter(|m| *m < leaves.len())
        .ok_or_else(|| {
            invalid(format!(
                "leaf {index} is not in a tree of {} leaves",
                leaves.len()
            ))
        })?;
    Ok(path(suite, m, leaves))
}

pub(crate) fn path(suite: HashSuite, m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(suite, m, &leaves[..k]);
        p.push(tree_root(suite, &leaves[k..]));
        p
    } else {
        let mut p = path(suite, m - k, &leaves[k..]);
        p.push(tree_root(suite, &leaves[..k]));
        p
    }
}

/// The root that leaf hash `leaf` at `index` in a tree of `size` leaves and its audit
/// path `proof` lead to (RFC 9162 §2.1.3.2), or `None` when the path does not fit the
/// index and size.
pub fn root_from_inclusion(
    suite: HashSuite,
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = suite.node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = suite.node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// Checks that leaf hash `leaf` is leaf `index` of the tree of `size` leaves whose root
/// is `root` (RFC 9162 §2.1.3.2): `crypto_auth_failed` when it is not.
pub fn verify_inclusion(
    suite: HashSuite,
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<()> {
    if index >= size {
        return Err(invalid(format!(
            "leaf {index} is not in a tree of {size} leaves"
        )));
    }
    match root_from_inclusion(suite, index, size, leaf, proof) {
        Some(r) if eq(&r, root) => Ok(()),
        _ => Err(failed(&format!(
            "the inclusion proof of leaf {index} does not lead to the root of the tree of {size} leaves"
        ))),
    }
}

/// The consistency proof `PROOF(m, D[n])` between the first `old_size` leaves and all
/// of `leaves` (RFC 6962 §2.1.2). Empty when `old_size` is 0 or the number of leaves;
/// `request_invalid` when `old_size` is larger.
pub fn consistency_proof(suite: HashSuite, old_size: u64, leaves: &[Hash]) -> Result<Vec<Hash>> {
    let m = usize::try_from(old_size)
        .ok()
        .filter(|m| *m <= leaves.len())
        .ok_or_else(|| {
            invalid(format!(
                "a tree of {old_size} leaves is not a prefix of one of {}",
                leaves.len()
            ))
        })?;
    if m == 0 || m == leaves.len() {
        return Ok(Vec::new());
    }
    let mut proof = Vec::new();
    subproof(suite, m, leaves, true, &mut proof);
    Ok(proof)
}

/// `SUBPROOF(m, D[n], b)` of RFC 6962 §2.1.2, appended to `out`.
fn subproof(suite: HashSuite, m: usize, leaves: &[Hash], whole: bool, out: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !whole {
            out.push(tree_root(suite, leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(suite, m, &leaves[..k], whole, out);
        out.push(tree_root(suite, &leaves[k..]));
    } else {
        subproof(suite, m - k, &leaves[k..], false, out);
        out.push(tree_root(suite, &leaves[..k]));
    }
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of
/// `old_size` leaves with root `old_root` (RFC 9162 §2.1.4.2): `crypto_auth_failed`
/// when the proof does not show it, `request_invalid` when `old_size > new_size`.
///
/// A tree of no leaves is a prefix of every tree (the proof is empty); a tree is
/// consistent with itself only under an empty proof and equal roots.
pub fn verify_consistency(
    suite: HashSuite,
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<()> {
    if old_size > new_size {
        return Err(invalid(format!(
            "a tree of {old_size} leaves cannot be a prefix of one of {new_size}"
        )));
    }
    let bad = || {
        failed(&format!(
            "the consistency proof does not show that the tree of {new_size} leaves extends the tree of {old_size}"
        ))
    };
    if old_size == 0 {
        return if proof.is_empty() && eq(old_root, &suite.hash(&[])) {
            Ok(())
        } else {
            Err(bad())
        };
    }
    if old_size == new_size {
        return if proof.is_empty() && eq(old_root, new_root) {
            Ok(())
        } else {
            Err(bad())
        };
    }
    // RFC 9162 §2.1.4.2.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(bad());
    };
    let (mut f, mut s) = (old_size - 1, new_size - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return Err(bad());
        }
        if f & 1 == 1 || f == s {
            fr = suite.node(c, &fr);
            sr = suite.node(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = suite.node(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && eq(&fr, old_root) && eq(&sr, new_root) {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The right edge of a growing tree: the roots of its perfect subtrees, largest first,
/// so that the root of a log of any size is kept in `O(log n)` hashes without keeping
/// its leaves. A store that appends records pushes each record's leaf and signs
/// [`Frontier::root`] in its checkpoints; the frontier's JSON form
/// (`{"size": n, "peaks": ["hex", …]}`) can be kept beside the rows to resume after a
/// restart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    /// (height, hash) of each perfect subtree, heights strictly decreasing.
    peaks: Vec<(u32, Hash)>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// The number of leaves pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, suite: HashSuite, leaf: Hash) {
        let mut height = 0u32;
        let mut hash = leaf;
        while let Some(&(h, left)) = self.peaks.last() {
            if h != height {
                break;
            }
            self.peaks.pop();
            hash = suite.node(&left, &hash);
            height += 1;
        }
        self.peaks.push((height, hash));
        self.size += 1;
    }

    /// The RFC 6962 root of the leaves pushed so far (`H("")` for none).
    pub fn root(&self, suite: HashSuite) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some(&(_, mut root)) = peaks.next() else {
            return suite.hash(&[]);
        };
        for (_, left) in peaks {
            root = suite.node(left, &root);
        }
        root
    }

    /// The JSON form: `{"size": n, "peaks": ["hex", …]}`, largest subtree first.
    pub fn to_json(&self) -> String {
        let peaks: Vec<String> = self.peaks.iter().map(|(_, h)| hex::encode(h)).collect();
        serde_json::json!({"size": self.size, "peaks": peaks}).to_string()
    }

    /// Reads the JSON form; `request_invalid` when the peaks do not fit the size.
    pub fn from_json(text: &str) -> Result<Frontier> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            size: u64,
            peaks: Vec<String>,
        }
        let raw: Raw = serde_json::from_str(text)
            .map_err(|e| invalid(format!("invalid Merkle frontier: {e}")))?;
        // One peak per set bit of the size, largest first.
        let heights: Vec<u32> = (0..64u32)
            .rev()
            .filter(|b| raw.size >> b & 1 == 1)
            .collect();
        if heights.len() != raw.peaks.len() {
            return Err(invalid(format!(
                "invalid Merkle frontier: a tree of {} leaves has {} peaks, not {}",
                raw.size,
                heights.len(),
                raw.peaks.len()
            )));
        }
        let mut peaks = Vec::with_capacity(heights.len());
        for (height, text) in heights.into_iter().zip(&raw.peaks) {
            let mut h = [0u8; 32];
            hex::decode_to_slice(text, &mut h)
                .map_err(|_| invalid("invalid Merkle frontier: a peak is 64 hex digits".into()))?;
            peaks.push((height, h));
        }
        Ok(Frontier {
            size: raw.size,
            peaks,
        })
    }
}

#[cfg(test)]
mod tests;
