use super::*;

fn payload(node: &str, seq: u64) -> String {
    format!("{{\"node\":\"{node}\",\"seq\":{seq}}}")
}

/// Node `node`'s leaves `first .. first + n`.
fn leaves(suite: HashSuite, node: &str, first: u64, n: u64) -> Vec<Hash> {
    (first..first + n)
        .map(|seq| proof::record_leaf(suite, seq, payload(node, seq).as_bytes()))
        .collect()
}

fn tree(node: &str, suite: HashSuite, first: u64, leaves: &[Hash]) -> NodeTree {
    NodeTree {
        node_id: node.to_owned(),
        suite,
        first_seq: first,
        size: leaves.len() as u64,
        root: proof::tree_root(suite, leaves),
        head: proof::leaf_hash(suite, &(leaves.len() as u64).to_le_bytes()),
    }
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms)
}

struct Store {
    a: Vec<Hash>,
    b: Vec<Hash>,
}

fn store() -> Store {
    Store {
        a: leaves(HashSuite::Sha256, "a", 1, 40),
        b: leaves(HashSuite::Sm3, "b", 5, 25),
    }
}

fn checkpoint(key: &SigningKey, s: &Store, na: usize, nb: usize, t: i64) -> StoreCheckpoint {
    StoreCheckpoint::sign(
        key,
        "city",
        vec![
            tree("b", HashSuite::Sm3, 5, &s.b[..nb]),
            tree("a", HashSuite::Sha256, 1, &s.a[..na]),
        ],
        at(t),
    )
    .unwrap()
}

fn public(key: &SigningKey) -> Vec<VerifyingKey> {
    vec![VerifyingKey::from_public_key_pem(&key.verifying_key().to_public_key_pem()).unwrap()]
}

#[test]
fn a_checkpoint_verifies_under_a_trusted_key_only() {
    for alg in [Algorithm::Ed25519, Algorithm::Sm2] {
        let key = SigningKey::generate(alg).unwrap();
        let s = store();
        let cp = checkpoint(&key, &s, 40, 25, 1);
        assert_eq!(cp.checkpoint().suite(), suite_for(alg));
        assert_eq!(cp.nodes()[0].node_id, "a");
        cp.verify(&public(&key)).unwrap();
        let again = StoreCheckpoint::from_json(&cp.to_json()).unwrap();
        assert_eq!(again, cp);
        again.verify(&public(&key)).unwrap();
        let other = SigningKey::generate(alg).unwrap();
        let e = cp.verify(&public(&other)).unwrap_err();
        assert_eq!(e.code(), "crypto_auth_failed");
        assert!(e.to_string().contains("not trusted"), "{e}");
        assert_eq!(cp.verify(&[]).unwrap_err().code(), "crypto_auth_failed");
    }
}

#[test]
fn a_changed_or_dropped_node_entry_is_found() {
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let s = store();
    let cp = checkpoint(&key, &s, 40, 25, 1);
    let mut json: serde_json::Value = serde_json::from_str(&cp.to_json()).unwrap();
    json["nodes"][0]["size"] = serde_json::json!(39);
    let changed = StoreCheckpoint::from_json(&json.to_string()).unwrap();
    assert_eq!(
        changed.verify(&public(&key)).unwrap_err().code(),
        "crypto_auth_failed"
    );
    let mut json: serde_json::Value = serde_json::from_str(&cp.to_json()).unwrap();
    json["nodes"].as_array_mut().unwrap().remove(1);
    let dropped = StoreCheckpoint::from_json(&json.to_string()).unwrap();
    assert_eq!(
        dropped.verify(&public(&key)).unwrap_err().code(),
        "crypto_auth_failed"
    );
    // Entries out of order or twice are malformed.
    let mut json: serde_json::Value = serde_json::from_str(&cp.to_json()).unwrap();
    let first = json["nodes"][0].clone();
    json["nodes"].as_array_mut().unwrap().push(first);
    assert_eq!(
        StoreCheckpoint::from_json(&json.to_string())
            .unwrap_err()
            .code(),
        "request_invalid"
    );
}

#[test]
fn a_record_proven_in_a_checkpoint_and_a_forged_one_refused() {
    let key = SigningKey::generate(Algorithm::Sm2).unwrap();
    let s = store();
    let cp = checkpoint(&key, &s, 40, 25, 1);
    for (node, suite, first, all) in [
        ("a", HashSuite::Sha256, 1u64, &s.a),
        ("b", HashSuite::Sm3, 5, &s.b),
    ] {
        for i in 0..all.len() as u64 {
            let p = InclusionProof {
                checkpoint: cp.clone(),
                node_id: node.to_owned(),
                seq: first + i,
                payload: payload(node, first + i),
                path: proof::inclusion_proof(suite, i, all).unwrap(),
            };
            let p = InclusionProof::from_json(&p.to_json()).unwrap();
            p.verify(&public(&key)).unwrap();
            let mut forged = p.clone();
            forged.payload = forged.payload.replace("\"seq\"", "\"seq\" ");
            assert_eq!(
                forged.verify(&public(&key)).unwrap_err().code(),
                "crypto_auth_failed"
            );
            let mut moved = p.clone();
            moved.seq = if i == 0 { first + 1 } else { first + i - 1 };
            assert!(moved.verify(&public(&key)).is_err());
        }
    }
    let beyond = InclusionProof {
        checkpoint: cp.clone(),
        node_id: "b".into(),
        seq: 30,
        payload: payload("b", 30),
        path: vec![],
    };
    assert_eq!(
        beyond.verify(&public(&key)).unwrap_err().code(),
        "request_invalid"
    );
    assert!(StoreEvidence::from_json(&beyond.to_json()).is_ok());
}

#[test]
fn growth_verifies_and_a_rewritten_history_does_not() {
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let s = store();
    let old = checkpoint(&key, &s, 13, 8, 1);
    let new = checkpoint(&key, &s, 40, 25, 2);
    let proofs = vec![
        (
            "a".to_owned(),
            proof::consistency_proof(HashSuite::Sha256, 13, &s.a).unwrap(),
        ),
        (
            "b".to_owned(),
            proof::consistency_proof(HashSuite::Sm3, 8, &s.b).unwrap(),
        ),
    ];
    let p = ConsistencyProof {
        old: old.clone(),
        new: new.clone(),
        proofs: proofs.clone(),
    };
    let p = ConsistencyProof::from_json(&p.to_json()).unwrap();
    let growth = p.verify(&public(&key)).unwrap();
    assert_eq!(
        growth,
        vec![
            NodeGrowth {
                node_id: "a".into(),
                old_size: 13,
                new_size: 40
            },
            NodeGrowth {
                node_id: "b".into(),
                old_size: 8,
                new_size: 25
            }
        ]
    );
    // Node a's record 3 rewritten: its tree from then on differs.
    let mut rewritten = s.a.clone();
    rewritten[2] = proof::record_leaf(HashSuite::Sha256, 3, b"{\"node\":\"a\",\"seq\":3,\"x\":1}");
    let other = StoreCheckpoint::sign(
        &key,
        "city",
        vec![
            tree("a", HashSuite::Sha256, 1, &rewritten),
            tree("b", HashSuite::Sm3, 5, &s.b),
        ],
        at(2),
    )
    .unwrap();
    let bad = ConsistencyProof {
        old: old.clone(),
        new: other,
        proofs: vec![
            (
                "a".to_owned(),
                proof::consistency_proof(HashSuite::Sha256, 13, &rewritten).unwrap(),
            ),
            proofs[1].clone(),
        ],
    };
    let e = bad.verify(&public(&key)).unwrap_err();
    assert_eq!(e.code(), "crypto_auth_failed");
    assert!(e.to_string().contains("rewritten"), "{e}");
    // A node gone from the newer checkpoint.
    let gone = StoreCheckpoint::sign(
        &key,
        "city",
        vec![tree("a", HashSuite::Sha256, 1, &s.a)],
        at(2),
    )
    .unwrap();
    let bad = ConsistencyProof {
        old: old.clone(),
        new: gone,
        proofs: proofs.clone(),
    };
    let e = bad.verify(&public(&key)).unwrap_err();
    assert!(e.to_string().contains("gone"), "{e}");
    // Shrunk: the older checkpoint given as the newer.
    let swapped = ConsistencyProof {
        old: new.clone(),
        new: old.clone(),
        proofs: vec![],
    };
    assert_eq!(
        swapped.verify(&public(&key)).unwrap_err().code(),
        "crypto_auth_failed"
    );
    // Another store's checkpoint.
    let elsewhere = StoreCheckpoint::sign(
        &key,
        "elsewhere",
        vec![
            tree("a", HashSuite::Sha256, 1, &s.a),
            tree("b", HashSuite::Sm3, 5, &s.b),
        ],
        at(2),
    )
    .unwrap();
    let bad = ConsistencyProof {
        old,
        new: elsewhere,
        proofs,
    };
    assert_eq!(
        bad.verify(&public(&key)).unwrap_err().code(),
        "request_invalid"
    );
}
