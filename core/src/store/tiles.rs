//! A node's Merkle tree kept in tiles, so that a proof costs a read of the tiles' roots
//! and of at most two tiles, never of every record.
//!
//! A tile is [`TILE_WIDTH`] consecutive leaves, aligned (tile `t` holds leaves
//! `t·W .. t·W + W`); the last one of a tree may be partial. The RFC 6962 tree of `n`
//! leaves is the RFC 6962 tree over the roots of its tiles: every split point of a
//! range longer than a tile that starts on a tile boundary is itself a multiple of
//! `W`, so the recursion meets each tile as a whole. A proof is therefore a proof inside
//! one tile followed by a proof over the tiles' roots, both made by [`crate::proof`]:
//!
//! - the audit path of leaf `i` is `PATH(i mod W, tile) ‖ PATH(i div W, roots)`;
//! - the consistency proof from `m` leaves is `PROOF(m div W, roots)` when `m` ends a
//!   tile, and otherwise `SUBPROOF(m mod W, tile, t = 0) ‖ PATH(t, roots)` with
//!   `t = m div W`: the inner part is [`proof::consistency_proof`], preceded by the
//!   root of the tile's first `m mod W` leaves when the tile is not the first and that
//!   number is a power of two (RFC 6962's `SUBPROOF` with `b` false).
//!
//! This module only composes proofs from hashes it is given; reading the tiles is the
//! checkpoint module's business.

use crate::audit::HashSuite;
use crate::error::{Error, Result};
use crate::proof::{self, Hash};

/// The number of leaves in a full tile.
pub(crate) const TILE_WIDTH: u64 = 256;

fn invalid(message: String) -> Error {
    Error::RequestInvalid { message }
}

/// The number of leaves of tile `t` in a tree of `size` leaves.
pub(crate) fn tile_len(width: u64, t: u64, size: u64) -> u64 {
    size.saturating_sub(t * width).min(width)
}

fn check(width: u64, t: u64, size: u64, tile: &[Hash], roots: &[Hash]) -> Result<()> {
    if tile.len() as u64 != tile_len(width, t, size) || roots.len() as u64 != size.div_ceil(width) {
        return Err(invalid(format!(
            "tile {t} of a tree of {size} leaves needs {} leaves and {} tile roots, not {} and {}",
            tile_len(width, t, size),
            size.div_ceil(width),
            tile.len(),
            roots.len()
        )));
    }
    Ok(())
}

/// The audit path of leaf `index` in the tree of `size` leaves, from `tile` (the
/// leaves of tile `index / width`, as many as the tree holds) and `roots` (the roots
/// of every tile of the tree, the last one over its leaves so far).
pub(crate) fn inclusion(
    suite: HashSuite,
    width: u64,
    index: u64,
    size: u64,
    tile: &[Hash],
    roots: &[Hash],
) -> Result<Vec<Hash>> {
    if index >= size {
        return Err(invalid(format!(
            "leaf {index} is not in a tree of {size} leaves"
        )));
    }
    let t = index / width;
    check(width, t, size, tile, roots)?;
    let mut path = proof::inclusion_proof(suite, index % width, tile)?;
    path.extend(proof::inclusion_proof(suite, t, roots)?);
    Ok(path)
}

/// The consistency proof between the first `old` leaves and the tree of `size`
/// leaves, from `tile` (the leaves of tile `old / width` as the larger tree holds
/// them; empty when `old` ends a tile) and `roots` (as for [`inclusion`]).
pub(crate) fn consistency(
    suite: HashSuite,
    width: u64,
    old: u64,
    size: u64,
    tile: &[Hash],
    roots: &[Hash],
) -> Result<Vec<Hash>> {
    if old > size {
        return Err(invalid(format!(
            "a tree of {old} leaves is not a prefix of one of {size}"
        )));
    }
    if old == 0 || old == size {
        return Ok(Vec::new());
    }
    let (t, m) = (old / width, old % width);
    if m == 0 {
        if roots.len() as u64 != size.div_ceil(width) {
            return Err(invalid(format!(
                "a tree of {size} leaves has {} tiles, not {}",
                size.div_ceil(width),
                roots.len()
            )));
        }
        return proof::consistency_proof(suite, t, roots);
    }
    check(width, t, size, tile, roots)?;
    let m = usize::try_from(m).map_err(|_| invalid("tile too wide".into()))?;
    let mut out = Vec::new();
    if t != 0 && m.is_power_of_two() {
        out.push(proof::tree_root(suite, &tile[..m]));
    }
    out.extend(proof::consistency_proof(suite, m as u64, tile)?);
    out.extend(proof::inclusion_proof(suite, t, roots)?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(suite: HashSuite, n: u64) -> Vec<Hash> {
        (0..n)
            .map(|i| proof::record_leaf(suite, i + 1, format!("{{\"i\":{i}}}").as_bytes()))
            .collect()
    }

    fn roots(suite: HashSuite, width: u64, leaves: &[Hash]) -> Vec<Hash> {
        leaves
            .chunks(width as usize)
            .map(|c| proof::tree_root(suite, c))
            .collect()
    }

    fn tile(width: u64, t: u64, leaves: &[Hash]) -> Vec<Hash> {
        leaves
            .chunks(width as usize)
            .nth(t as usize)
            .map(<[Hash]>::to_vec)
            .unwrap_or_default()
    }

    /// Every proof of every tree up to 40 leaves, in tiles of 1, 2, 4, 8 and 256
    /// (SM3: 4), equals the proof over the whole list of leaves.
    #[test]
    fn tiled_proofs_equal_the_proofs_over_all_leaves() {
        for (suite, widths) in [
            (HashSuite::Sha256, &[1u64, 2, 4, 8, 256][..]),
            (HashSuite::Sm3, &[4u64][..]),
        ] {
            let all = leaves(suite, 40);
            for &width in widths {
                for n in 1..=all.len() as u64 {
                    let l = &all[..n as usize];
                    let r = roots(suite, width, l);
                    assert_eq!(proof::tree_root(suite, &r), proof::tree_root(suite, l));
                    for i in 0..n {
                        let got =
                            inclusion(suite, width, i, n, &tile(width, i / width, l), &r).unwrap();
                        assert_eq!(got, proof::inclusion_proof(suite, i, l).unwrap());
                    }
                    for m in 0..=n {
                        let got = consistency(suite, width, m, n, &tile(width, m / width, l), &r)
                            .unwrap();
                        assert_eq!(
                            got,
                            proof::consistency_proof(suite, m, l).unwrap(),
                            "width {width}, {m} of {n}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn large_trees_in_full_tiles() {
        let suite = HashSuite::Sha256;
        let all = leaves(suite, 1300);
        for n in [256u64, 257, 511, 512, 513, 1024, 1299, 1300] {
            let l = &all[..n as usize];
            let r = roots(suite, TILE_WIDTH, l);
            for i in [0, 1, 255, 256, 300, n - 1] {
                if i >= n {
                    continue;
                }
                let got = inclusion(
                    suite,
                    TILE_WIDTH,
                    i,
                    n,
                    &tile(TILE_WIDTH, i / TILE_WIDTH, l),
                    &r,
                )
                .unwrap();
                assert_eq!(got, proof::inclusion_proof(suite, i, l).unwrap());
            }
            for m in [1u64, 2, 128, 255, 256, 257, 384, 512, 640, 1023, n - 1] {
                if m > n {
                    continue;
                }
                let got = consistency(
                    suite,
                    TILE_WIDTH,
                    m,
                    n,
                    &tile(TILE_WIDTH, m / TILE_WIDTH, l),
                    &r,
                )
                .unwrap();
                assert_eq!(got, proof::consistency_proof(suite, m, l).unwrap());
            }
        }
    }

    #[test]
    fn wrong_inputs_are_refused() {
        let suite = HashSuite::Sha256;
        let l = leaves(suite, 10);
        let r = roots(suite, 4, &l);
        assert!(inclusion(suite, 4, 10, 10, &tile(4, 2, &l), &r).is_err());
        assert!(inclusion(suite, 4, 5, 10, &tile(4, 2, &l), &r).is_err());
        assert!(consistency(suite, 4, 11, 10, &[], &r).is_err());
        assert!(consistency(suite, 4, 5, 10, &tile(4, 1, &l), &r[..2]).is_err());
    }
}
