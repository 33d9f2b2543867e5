//! RFC 6962 Merkle trees over the records of one sealed segment, and inclusion
//! proofs that let an auditor check one record without reading the whole log.

use super::crypto::{Hash, HashSuite};

/// The Merkle tree hash of `leaves` (RFC 6962 §2.1); the hash of the empty string
/// for no leaves.
pub(crate) fn root(suite: HashSuite, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => suite.hash(&[]),
        1 => leaves[0],
        n => {
            let k = split(n);
            suite.node(&root(suite, &leaves[..k]), &root(suite, &leaves[k..]))
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

/// The audit path of leaf `m` (RFC 6962 §2.1.1), bottom-up.
pub(crate) fn path(suite: HashSuite, m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = path(suite, m, &leaves[..k]);
        p.push(root(suite, &leaves[k..]));
        p
    } else {
        let mut p = path(suite, m - k, &leaves[k..]);
        p.push(root(suite, &leaves[..k]));
        p
    }
}

/// Recomputes the root from a leaf and its audit path (RFC 9162 §2.1.3.2).
pub(crate) fn root_from_path(
    suite: HashSuite,
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = suite.node(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = suite.node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
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
