use super::*;

/// The Certificate Transparency reference leaves (the data, before leaf hashing).
const CT_DATA: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// The reference roots of the trees of 0 to 8 of those leaves.
const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

const SUITE: HashSuite = HashSuite::Sha256;

fn h(text: &str) -> Hash {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).unwrap();
    out
}

fn ct_leaves() -> Vec<Hash> {
    CT_DATA
        .iter()
        .map(|d| leaf_hash(SUITE, &hex::decode(d).unwrap()))
        .collect()
}

#[test]
fn roots_match_the_reference() {
    let leaves = ct_leaves();
    for (n, want) in CT_ROOTS.iter().enumerate() {
        assert_eq!(
            hex::encode(tree_root(SUITE, &leaves[..n])),
            *want,
            "size {n}"
        );
    }
}

#[test]
fn inclusion_proofs_match_the_reference() {
    let leaves = ct_leaves();
    let cases: [(u64, usize, &[&str]); 3] = [
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (0, 1, &[]),
    ];
    for (index, size, want) in cases {
        let proof = inclusion_proof(SUITE, index, &leaves[..size]).unwrap();
        let got: Vec<String> = proof.iter().map(hex::encode).collect();
        assert_eq!(got, want, "leaf {index} of {size}");
        let want: Vec<Hash> = want.iter().map(|w| h(w)).collect();
        verify_inclusion(
            SUITE,
            index,
            size as u64,
            &leaves[index as usize],
            &want,
            &h(CT_ROOTS[size]),
        )
        .unwrap();
    }
}

#[test]
fn consistency_proofs_match_the_reference() {
    let leaves = ct_leaves();
    let cases: [(u64, usize, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (old, new, want) in cases {
        let proof = consistency_proof(SUITE, old, &leaves[..new]).unwrap();
        let got: Vec<String> = proof.iter().map(hex::encode).collect();
        assert_eq!(got, want, "{old} -> {new}");
        verify_consistency(
            SUITE,
            old,
            new as u64,
            &h(CT_ROOTS[old as usize]),
            &h(CT_ROOTS[new]),
            &proof,
        )
        .unwrap();
    }
}

fn many(suite: HashSuite, n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| record_leaf(suite, i + 1, format!("{{\"i\":{i}}}").as_bytes()))
        .collect()
}

#[test]
fn every_inclusion_proof_verifies_and_nothing_else_does() {
    for suite in [HashSuite::Sha256, HashSuite::Sm3] {
        let leaves = many(suite, 64);
        for n in 1..=64usize {
            let tree = &leaves[..n];
            let root = tree_root(suite, tree);
            for i in 0..n {
                let proof = inclusion_proof(suite, i as u64, tree).unwrap();
                verify_inclusion(suite, i as u64, n as u64, &tree[i], &proof, &root).unwrap();
                // Another leaf, another index, another size, a changed or cut path: refused.
                let other = (i + 1) % n;
                if other != i {
                    let e =
                        verify_inclusion(suite, i as u64, n as u64, &tree[other], &proof, &root);
                    assert_eq!(e.unwrap_err().code(), "crypto_auth_failed");
                    assert!(verify_inclusion(
                        suite,
                        other as u64,
                        n as u64,
                        &tree[i],
                        &proof,
                        &root
                    )
                    .is_err());
                }
                if let Some(last) = proof.len().checked_sub(1) {
                    let mut bad = proof.clone();
                    bad[last][0] ^= 1;
                    assert!(
                        verify_inclusion(suite, i as u64, n as u64, &tree[i], &bad, &root).is_err()
                    );
                    assert!(verify_inclusion(
                        suite,
                        i as u64,
                        n as u64,
                        &tree[i],
                        &proof[..last],
                        &root
                    )
                    .is_err());
                }
                let mut longer = proof.clone();
                longer.push([0xab; 32]);
                assert!(
                    verify_inclusion(suite, i as u64, n as u64, &tree[i], &longer, &root).is_err()
                );
                // A changed leaf changes the root.
                let mut changed = tree.to_vec();
                changed[i][5] ^= 0x40;
                assert!(verify_inclusion(
                    suite,
                    i as u64,
                    n as u64,
                    &tree[i],
                    &proof,
                    &tree_root(suite, &changed)
                )
                .is_err());
            }
            assert_eq!(
                inclusion_proof(suite, n as u64, tree).unwrap_err().code(),
                "request_invalid"
            );
        }
    }
}

#[test]
fn every_consistency_proof_verifies_and_rewritten_history_does_not() {
    for suite in [HashSuite::Sha256, HashSuite::Sm3] {
        let leaves = many(suite, 64);
        let roots: Vec<Hash> = (0..=64).map(|n| tree_root(suite, &leaves[..n])).collect();
        for n in 0..=64usize {
            for m in 0..=n {
                let proof = consistency_proof(suite, m as u64, &leaves[..n]).unwrap();
                verify_consistency(suite, m as u64, n as u64, &roots[m], &roots[n], &proof)
                    .unwrap_or_else(|e| panic!("{m} -> {n}: {e}"));
                if m == 0 || m == n {
                    assert!(proof.is_empty());
                    continue;
                }
                // History rewritten: one old leaf changed, then the same appends.
                let mut forged = leaves[..n].to_vec();
                forged[m - 1][0] ^= 1;
                let forged_root = tree_root(suite, &forged);
                let forged_proof = consistency_proof(suite, m as u64, &forged).unwrap();
                let e = verify_consistency(
                    suite,
                    m as u64,
                    n as u64,
                    &roots[m],
                    &forged_root,
                    &forged_proof,
                );
                assert_eq!(e.unwrap_err().code(), "crypto_auth_failed", "{m} -> {n}");
                assert!(verify_consistency(
                    suite,
                    m as u64,
                    n as u64,
                    &roots[m],
                    &forged_root,
                    &proof
                )
                .is_err());
                // A mangled, cut or lengthened proof, or the wrong sizes.
                let mut bad = proof.clone();
                bad[0][3] ^= 0x80;
                assert!(
                    verify_consistency(suite, m as u64, n as u64, &roots[m], &roots[n], &bad)
                        .is_err()
                );
                assert!(verify_consistency(
                    suite,
                    m as u64,
                    n as u64,
                    &roots[m],
                    &roots[n],
                    &proof[..proof.len() - 1]
                )
                .is_err());
                let mut longer = proof.clone();
                longer.push([0xcd; 32]);
                assert!(verify_consistency(
                    suite, m as u64, n as u64, &roots[m], &roots[n], &longer
                )
                .is_err());
                if proof.len() >= 2 && proof[0] != proof[1] {
                    let mut swapped = proof.clone();
                    swapped.swap(0, 1);
                    assert!(verify_consistency(
                        suite, m as u64, n as u64, &roots[m], &roots[n], &swapped
                    )
                    .is_err());
                }
                if m + 1 < n {
                    assert!(verify_consistency(
                        suite,
                        m as u64 + 1,
                        n as u64,
                        &roots[m + 1],
                        &roots[n],
                        &proof
                    )
                    .is_err());
                }
            }
        }
        // The degenerate cases.
        assert!(verify_consistency(suite, 4, 4, &roots[4], &roots[4], &[]).is_ok());
        assert!(verify_consistency(suite, 4, 4, &roots[4], &roots[5], &[]).is_err());
        assert!(verify_consistency(suite, 4, 4, &roots[4], &roots[4], &[[0; 32]]).is_err());
        assert!(verify_consistency(suite, 0, 8, &roots[0], &roots[8], &[]).is_ok());
        assert!(verify_consistency(suite, 0, 8, &roots[1], &roots[8], &[]).is_err());
        assert!(verify_consistency(suite, 6, 8, &roots[6], &roots[8], &[]).is_err());
        assert_eq!(
            verify_consistency(suite, 8, 6, &roots[8], &roots[6], &[])
                .unwrap_err()
                .code(),
            "request_invalid"
        );
        assert_eq!(
            consistency_proof(suite, 9, &leaves[..8])
                .unwrap_err()
                .code(),
            "request_invalid"
        );
    }
}

#[test]
fn the_frontier_keeps_the_root_of_every_size() {
    for suite in [HashSuite::Sha256, HashSuite::Sm3] {
        let leaves = many(suite, 130);
        let mut f = Frontier::new();
        assert_eq!(f.root(suite), tree_root(suite, &[]));
        for (n, leaf) in leaves.iter().enumerate() {
            f.push(suite, *leaf);
            assert_eq!(f.size(), n as u64 + 1);
            assert_eq!(
                f.root(suite),
                tree_root(suite, &leaves[..=n]),
                "size {}",
                n + 1
            );
            let again = Frontier::from_json(&f.to_json()).unwrap();
            assert_eq!(again, f);
        }
    }
    assert_eq!(
        Frontier::from_json(r#"{"size": 3, "peaks": []}"#)
            .unwrap_err()
            .code(),
        "request_invalid"
    );
    assert_eq!(
        Frontier::from_json("[]").unwrap_err().code(),
        "request_invalid"
    );
    // Resumed from its JSON form, it goes on as if never stopped.
    let suite = HashSuite::Sha256;
    let leaves = many(suite, 20);
    let mut f = Frontier::new();
    for l in &leaves[..11] {
        f.push(suite, *l);
    }
    let mut resumed = Frontier::from_json(&f.to_json()).unwrap();
    for l in &leaves[11..] {
        resumed.push(suite, *l);
    }
    assert_eq!(resumed.root(suite), tree_root(suite, &leaves));
}
