//! RFC 6962 Merkle trees over the records of one sealed segment, and inclusion
//! proofs that let an auditor check one record without reading the whole log. The
//! algorithms live in [`crate::proof`]; these are the log's names for them.

use super::crypto::{Hash, HashSuite};

/// The Merkle tree hash of `leaves` (RFC 6962 §2.1); the hash of the empty string
/// for no leaves.
pub(crate) fn root(suite: HashSuite, leaves: &[Hash]) -> Hash {
    crate::proof::tree_root(suite, leaves)
}

/// The audit path of leaf `m` (RFC 6962 §2.1.1), bottom-up.
pub(crate) fn path(suite: HashSuite, m: usize, leaves: &[Hash]) -> Vec<Hash> {
    crate::proof::path(suite, m, leaves)
}

/// Recomputes the root from a leaf and its audit path (RFC 9162 §2.1.3.2).
pub(crate) fn root_from_path(
    suite: HashSuite,
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
) -> Option<Hash> {
    crate::proof::root_from_inclusion(suite, index, size, leaf, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_verifies() {
        let suite = HashSuite::Sha256;
        for n in 1..40usize {
            let leaves: Vec<Hash> = (0..n as u64).map(|i| suite.leaf(i, b"x")).collect();
            let r = root(suite, &leaves);
            for m in 0..n {
                let p = path(suite, m, &leaves);
                assert_eq!(
                    root_from_path(suite, m as u64, n as u64, &leaves[m], &p),
                    Some(r),
                    "n={n} m={m}"
                );
                let other = (m + 1) % n;
                if other != m {
                    assert_ne!(
                        root_from_path(suite, m as u64, n as u64, &leaves[other], &p),
                        Some(r)
                    );
                }
            }
        }
    }
}
