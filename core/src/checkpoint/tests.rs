use super::*;

fn leaves(suite: HashSuite, n: u64) -> Vec<Hash> {
    (1..=n)
        .map(|seq| proof::record_leaf(suite, seq, format!("{{\"seq\":{seq}}}").as_bytes()))
        .collect()
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms)
}

#[test]
fn an_auditor_checks_growth_and_membership_with_the_public_key_alone() {
    for (alg, suite) in [
        (Algorithm::Ed25519, HashSuite::Sha256),
        (Algorithm::Sm2, HashSuite::Sm3),
    ] {
        let key = SigningKey::generate(alg).unwrap();
        let public =
            VerifyingKey::from_public_key_pem(&key.verifying_key().to_public_key_pem()).unwrap();
        let all = leaves(suite, 20);
        for (m, n) in [(0u64, 20u64), (1, 20), (7, 13), (8, 16), (13, 13), (19, 20)] {
            let old =
                Checkpoint::sign_leaves(&key, "etl-01", suite, &all[..m as usize], at(1)).unwrap();
            let new =
                Checkpoint::sign_leaves(&key, "etl-01", suite, &all[..n as usize], at(2)).unwrap();
            let p = proof::consistency_proof(suite, m, &all[..n as usize]).unwrap();
            verify_consistency(&old, &new, &p, &public).unwrap();
            for i in 0..n {
                let path = proof::inclusion_proof(suite, i, &all[..n as usize]).unwrap();
                verify_inclusion(&new, i, &all[i as usize], &path, &public).unwrap();
                if i + 1 < n {
                    assert_eq!(
                        verify_inclusion(&new, i, &all[i as usize + 1], &path, &public)
                            .unwrap_err()
                            .code(),
                        "crypto_auth_failed"
                    );
                }
            }
            if m > 0 && m < n {
                // History rewritten under the same key: the new head no longer extends the old.
                let mut forged = all[..n as usize].to_vec();
                forged[0][0] ^= 1;
                let forged_head =
                    Checkpoint::sign_leaves(&key, "etl-01", suite, &forged, at(3)).unwrap();
                let fp = proof::consistency_proof(suite, m, &forged).unwrap();
                assert_eq!(
                    verify_consistency(&old, &forged_head, &fp, &public)
                        .unwrap_err()
                        .code(),
                    "crypto_auth_failed"
                );
                // The other way round is refused too.
                assert_eq!(
                    verify_consistency(&new, &old, &p, &public)
                        .unwrap_err()
                        .code(),
                    "request_invalid"
                );
            }
        }
    }
}

#[test]
fn a_changed_field_or_another_key_fails() {
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let other = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let suite = HashSuite::Sha256;
    let cp = Checkpoint::sign_leaves(&key, "etl-01", suite, &leaves(suite, 5), at(1_000)).unwrap();
    cp.verify(key.verifying_key()).unwrap();
    assert_eq!(
        cp.verify(other.verifying_key()).unwrap_err().code(),
        "crypto_auth_failed"
    );
    let json = cp.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    for (field, replacement) in [
        ("origin", serde_json::json!("etl-02")),
        ("size", serde_json::json!(4)),
        ("suite", serde_json::json!("sm3")),
        ("root", serde_json::json!(hex::encode([7u8; 32]))),
        ("time", serde_json::json!("2026-01-01T00:00:00.000Z")),
    ] {
        let mut changed = value.clone();
        changed[field] = replacement;
        let forged = Checkpoint::from_json(&changed.to_string()).unwrap();
        assert_eq!(
            forged.verify(key.verifying_key()).unwrap_err().code(),
            "crypto_auth_failed",
            "{field}"
        );
    }
    // A checkpoint that claims the verifier's key id is still checked by signature.
    let mut claimed = value.clone();
    claimed["key_id"] = serde_json::json!(other.key_id());
    let forged = Checkpoint::from_json(&claimed.to_string()).unwrap();
    assert!(forged.verify(other.verifying_key()).is_err());
    // Two logs are not compared.
    let b = Checkpoint::sign_leaves(&key, "etl-02", suite, &leaves(suite, 6), at(2_000)).unwrap();
    assert_eq!(
        verify_consistency(&cp, &b, &[], key.verifying_key())
            .unwrap_err()
            .code(),
        "request_invalid"
    );
}

#[test]
fn the_json_form_round_trips_and_malformed_json_is_refused() {
    let key = SigningKey::generate(Algorithm::Sm2).unwrap();
    let suite = HashSuite::Sm3;
    let cp = Checkpoint::sign_leaves(
        &key,
        "store:pg-main",
        suite,
        &leaves(suite, 3),
        at(1_765_000_000_123),
    )
    .unwrap();
    let json = cp.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["size"], 3);
    assert_eq!(value["suite"], "sm3");
    assert_eq!(value["algorithm"], "sm2");
    assert_eq!(value["key_id"], key.key_id());
    assert_eq!(value["signature"].as_str().unwrap().len(), 128);
    let back = Checkpoint::from_json(&json).unwrap();
    assert_eq!(back, cp);
    back.verify(key.verifying_key()).unwrap();
    let text = String::from_utf8(cp.signed_bytes()).unwrap();
    assert!(
        text.starts_with("govdata checkpoint v1\norigin store:pg-main\nsize 3\nsuite sm3\nroot ")
    );
    assert!(text.ends_with(&format!("algorithm sm2\nkey {}\n", key.key_id())));
    for bad in [
        "{}",
        "not json",
        &json.replace("\"size\":3", "\"size\":-3"),
        &json.replace("\"origin\":\"store:pg-main\"", "\"origin\":\"a\\nsize 9\""),
        &json.replace("\"suite\":\"sm3\"", "\"suite\":\"md5\""),
        &json.replace("}", ",\"extra\":1}"),
    ] {
        assert_eq!(
            Checkpoint::from_json(bad).unwrap_err().code(),
            "request_invalid",
            "{bad}"
        );
    }
    assert_eq!(
        Checkpoint::sign(&key, "a\nb", suite, 0, [0; 32], at(0))
            .unwrap_err()
            .code(),
        "request_invalid"
    );
}
