//! Signed checkpoints of the store and the proofs served from it, against the real
//! server: inclusion and consistency proofs verify with the signer's public key
//! alone (across tiles, for SHA-256 and SM3 logs, after retention dropped a month);
//! a checkpoint by an untrusted key is refused; a forged record, a rewritten history
//! and altered tiles make the proofs fail; a broken chain is never signed; the
//! checkpoint tables are append-only.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

mod store_support;

use govdata::audit::{AuditLog, AuditOptions, Event, HashSuite, SealingKey, Timestamp};
use govdata::sign::{Algorithm, SigningKey, VerifyingKey};
use govdata::store::proofs::{ConsistencyProof, StoreCheckpoint, StoreEvidence};
use govdata::store::{
    checkpoint_store, latest_checkpoint, prove_consistency, prove_inclusion, StoreConnector,
};
use std::path::Path;
use std::sync::Arc;
use store_support::*;

const KEY: [u8; 32] = [5; 32];
const CHECKPOINTER: (&str, &str) = ("gd_test_checkpointer", "checkpointer-pw");
const READER: (&str, &str) = ("gd_test_reader", "reader-pw");

fn su(url: &str) -> postgres::Client {
    StoreConnector::new(url, None, None)
        .unwrap()
        .connect()
        .unwrap()
}

/// The checkpointer's connection, over TLS.
fn checkpointer(db: &str) -> postgres::Client {
    login(CHECKPOINTER.0, "govdata_checkpointer", CHECKPOINTER.1);
    connect_as(db, CHECKPOINTER.0, CHECKPOINTER.1)
}

/// An auditor's connection: the reader role, over TLS.
fn reader(db: &str) -> postgres::Client {
    login(READER.0, "govdata_reader", READER.1);
    connect_as(db, READER.0, READER.1)
}

fn public(key: &SigningKey) -> Vec<VerifyingKey> {
    vec![VerifyingKey::from_public_key_pem(&key.verifying_key().to_public_key_pem()).unwrap()]
}

/// A log of `suite` in `dir/audit`, `n` more events appended.
fn log_of(dir: &Path, suite: HashSuite, n: usize, from: usize) -> Arc<AuditLog> {
    let log = Arc::new(
        AuditLog::open(
            dir.join("audit"),
            SealingKey::from_bytes(KEY),
            AuditOptions::default()
                .suite(suite)
                .segment_max_bytes(64 << 10),
        )
        .unwrap(),
    );
    let events: Vec<Event> = (from..from + n)
        .map(|i| {
            Event::new("proof.event")
                .user(format!("u{}", i % 11))
                .field("i", i as u64)
        })
        .collect();
    for chunk in events.chunks(200) {
        log.append_batch(chunk).unwrap();
    }
    log
}

fn tamper(url: &str, sql: &str) {
    su(url)
        .batch_execute(&format!(
            "SET session_replication_role = replica; {sql}; RESET session_replication_role;"
        ))
        .unwrap();
}

fn count(url: &str, sql: &str) -> i64 {
    su(url).query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn proofs_from_the_store_verify_with_the_public_key_alone() {
    let scratch = Scratch::new("proofs");
    let (db, _url) = fresh_db("proofs");
    let a = scratch.path().join("a");
    let b = scratch.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let log_a = log_of(&a, HashSuite::Sha256, 600, 0);
    let log_b = log_of(&b, HashSuite::Sm3, 250, 0);
    let ship_a = ship(&db, "a", &log_a, &a, 97);
    let ship_b = ship(&db, "b", &log_b, &b, 97);
    for alg in [Algorithm::Ed25519, Algorithm::Sm2] {
        let key = SigningKey::generate(alg).unwrap();
        let trusted = public(&key);
        let mut cpc = checkpointer(&db);
        let old = checkpoint_store(&mut cpc, &key, Some("city")).unwrap();
        old.verify(&trusted).unwrap();
        let size_a = old.node("a").unwrap().size;
        // More records: node a crosses tile boundaries, node b fills its first tile,
        // and node c appears.
        for (log, n) in [(&log_a, 333), (&log_b, 7)] {
            let from = log.last_seq() as usize;
            for i in from..from + n {
                log.append(&Event::new("proof.more").field("i", i as u64))
                    .unwrap();
            }
        }
        ship_a.sync(std::time::Duration::from_secs(60)).unwrap();
        ship_b.sync(std::time::Duration::from_secs(60)).unwrap();
        let c_dir = scratch.path().join(format!("c-{alg}"));
        std::fs::create_dir_all(&c_dir).unwrap();
        let log_c = log_of(&c_dir, HashSuite::Sm3, 3, 0);
        ship(&db, &format!("c-{alg}"), &log_c, &c_dir, 10).stop();
        let new = checkpoint_store(&mut cpc, &key, None).unwrap();
        assert_eq!(new.origin(), "city");
        assert_eq!(new.node("a").unwrap().size, size_a + 333);
        assert_eq!(new.node("b").unwrap().suite, HashSuite::Sm3);
        // Stored, and read back as issued.
        let mut auditor = reader(&db);
        let stored = latest_checkpoint(&mut auditor).unwrap().unwrap();
        assert_eq!(stored, new);
        // Consistency, with the public key only, after a JSON round trip.
        let p = prove_consistency(&mut auditor, &old, &new).unwrap();
        let p = match StoreEvidence::from_json(&p.to_json()).unwrap() {
            StoreEvidence::Consistency(p) => p,
            other => panic!("{other:?}"),
        };
        let growth = p.verify(&trusted).unwrap();
        assert!(growth
            .iter()
            .any(|g| g.node_id == "a" && g.old_size == size_a && g.new_size == size_a + 333));
        // Inclusion of records on tile edges, in both checkpoints.
        for (node, seqs) in [
            ("a", vec![1u64, 2, 255, 256, 257, 512, 513, 600, 601, 933]),
            ("b", vec![1, 128, 250, 256, 257]),
        ] {
            for seq in seqs {
                for cp in [&old, &new] {
                    if cp.node(node).unwrap().index_of(seq).is_none() {
                        let e = prove_inclusion(&mut auditor, cp, node, seq).unwrap_err();
                        assert_eq!(e.code(), "request_invalid");
                        continue;
                    }
                    let p = prove_inclusion(&mut auditor, cp, node, seq).unwrap();
                    let record: serde_json::Value = serde_json::from_str(&p.payload).unwrap();
                    assert!(
                        record["kind"].as_str().unwrap().starts_with("proof."),
                        "{record}"
                    );
                    match StoreEvidence::from_json(&p.to_json()).unwrap() {
                        StoreEvidence::Inclusion(p) => p.verify(&trusted).unwrap(),
                        other => panic!("{other:?}"),
                    }
                }
            }
        }
        // A checkpoint with nothing new is the same trees again.
        let again = checkpoint_store(&mut cpc, &key, None).unwrap();
        assert_eq!(again.nodes(), new.nodes());
        prove_consistency(&mut auditor, &new, &again)
            .unwrap()
            .verify(&trusted)
            .unwrap();
        // Another origin than the store's is refused.
        let e = checkpoint_store(&mut cpc, &key, Some("elsewhere")).unwrap_err();
        assert_eq!(e.code(), "request_invalid");
    }
}

#[test]
fn a_checkpoint_signed_by_an_untrusted_key_is_refused() {
    let scratch = Scratch::new("untrusted");
    let (db, _url) = fresh_db("untrusted");
    let log = log_of(scratch.path(), HashSuite::Sha256, 40, 0);
    ship(&db, "n", &log, scratch.path(), 10).stop();
    let signer = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let trusted_only = public(&SigningKey::generate(Algorithm::Ed25519).unwrap());
    let cp = checkpoint_store(&mut checkpointer(&db), &signer, None).unwrap();
    let e = cp.verify(&trusted_only).unwrap_err();
    assert_eq!(e.code(), "crypto_auth_failed");
    assert!(e.to_string().contains("not trusted"), "{e}");
    let mut auditor = reader(&db);
    let p = prove_inclusion(&mut auditor, &cp, "n", 7).unwrap();
    p.verify(&public(&signer)).unwrap();
    assert_eq!(
        p.verify(&trusted_only).unwrap_err().code(),
        "crypto_auth_failed"
    );
    // A checkpoint re-signed by another key under the signer's key id.
    let mut json: serde_json::Value = serde_json::from_str(&cp.to_json()).unwrap();
    let forger = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let forged = StoreCheckpoint::sign(&forger, "x", cp.nodes().to_vec(), Timestamp::now())
        .unwrap()
        .to_json();
    let forged: serde_json::Value = serde_json::from_str(&forged).unwrap();
    json["checkpoint"]["signature"] = forged["checkpoint"]["signature"].clone();
    let e = StoreCheckpoint::from_json(&json.to_string())
        .unwrap()
        .verify(&public(&signer))
        .unwrap_err();
    assert_eq!(e.code(), "crypto_auth_failed");
}

#[test]
fn a_forged_record_fails_its_proof_and_a_broken_chain_is_never_signed() {
    let scratch = Scratch::new("forged");
    let (db, url) = fresh_db("forged");
    let log = log_of(scratch.path(), HashSuite::Sha256, 300, 0);
    let shipper = ship(&db, "n", &log, scratch.path(), 50);
    let key = SigningKey::generate(Algorithm::Sm2).unwrap();
    let cp = checkpoint_store(&mut checkpointer(&db), &key, None).unwrap();
    let mut auditor = reader(&db);
    let honest = prove_inclusion(&mut auditor, &cp, "n", 42).unwrap();
    honest.verify(&public(&key)).unwrap();
    // A superuser changes record 42 after the checkpoint.
    tamper(
        &url,
        "UPDATE govdata.audit_records SET payload = convert_to(replace(convert_from(payload, 'UTF8'), '\"u8\"', '\"mallory\"'), 'UTF8'), user_id = 'mallory' WHERE node_id = 'n' AND seq = 42",
    );
    let e = prove_inclusion(&mut auditor, &cp, "n", 42).unwrap_err();
    assert_eq!(e.code(), "audit_tampered", "{e}");
    // The forged record handed out with the honest proof does not verify.
    let forged_payload: Vec<u8> = su(&url)
        .query_one(
            "SELECT payload FROM govdata.audit_records WHERE node_id = 'n' AND seq = 42",
            &[],
        )
        .unwrap()
        .get(0);
    let mut forged = honest.clone();
    forged.payload = String::from_utf8(forged_payload).unwrap();
    assert_ne!(forged.payload, honest.payload);
    assert_eq!(
        forged.verify(&public(&key)).unwrap_err().code(),
        "crypto_auth_failed"
    );
    // Other records still prove.
    prove_inclusion(&mut auditor, &cp, "n", 43)
        .unwrap()
        .verify(&public(&key))
        .unwrap();
    // A record shipped after the checkpoint and then changed: the next checkpoint is
    // refused, and nothing is stored.
    for i in 0..20u64 {
        log.append(&Event::new("proof.after").field("i", i))
            .unwrap();
    }
    shipper.sync(std::time::Duration::from_secs(60)).unwrap();
    tamper(
        &url,
        "UPDATE govdata.audit_records SET payload = convert_to(replace(convert_from(payload, 'UTF8'), 'proof.after', 'proof.other'), 'UTF8'), kind = 'proof.other' WHERE node_id = 'n' AND seq = 310",
    );
    let before = count(&url, "SELECT count(*) FROM govdata.store_checkpoints");
    let e = checkpoint_store(&mut checkpointer(&db), &key, None).unwrap_err();
    assert_eq!(e.code(), "audit_tampered", "{e}");
    assert!(e.to_string().contains("record 310"), "{e}");
    assert_eq!(
        count(&url, "SELECT count(*) FROM govdata.store_checkpoints"),
        before
    );
}

#[test]
fn a_rewritten_history_fails_the_consistency_proof() {
    let scratch = Scratch::new("rewrite");
    let (db, url) = fresh_db("rewrite");
    let one = scratch.path().join("one");
    let two = scratch.path().join("two");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::create_dir_all(&two).unwrap();
    let log = log_of(&one, HashSuite::Sm3, 400, 0);
    ship(&db, "n", &log, &one, 100).stop();
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let trusted = public(&key);
    let mut cpc = checkpointer(&db);
    let old = checkpoint_store(&mut cpc, &key, None).unwrap();
    for i in 0..100u64 {
        log.append(&Event::new("rewrite.more").field("i", i))
            .unwrap();
    }
    ship(&db, "n", &log, &one, 100).stop();
    let grown = checkpoint_store(&mut cpc, &key, None).unwrap();
    let mut auditor = reader(&db);
    let honest = prove_consistency(&mut auditor, &old, &grown).unwrap();
    honest.verify(&trusted).unwrap();

    // A tile's root altered in place: no proof is served.
    tamper(
        &url,
        "UPDATE govdata.checkpoint_tiles SET root = sha256(root) WHERE node_id = 'n' AND tile = 0 AND width = 256",
    );
    let e = prove_consistency(&mut auditor, &old, &grown).unwrap_err();
    assert_eq!(e.code(), "audit_tampered", "{e}");

    let old_record: Vec<u8> = su(&url)
        .query_one(
            "SELECT payload FROM govdata.audit_records WHERE node_id = 'n' AND seq = 5",
            &[],
        )
        .unwrap()
        .get(0);
    // A superuser rewrites the node's history: its rows, its registration and the
    // checkpoints' state replaced by another log of as many records.
    tamper(
        &url,
        "DELETE FROM govdata.audit_records WHERE node_id = 'n';
         DELETE FROM govdata.audit_seals WHERE node_id = 'n';
         DELETE FROM govdata.audit_nodes WHERE node_id = 'n';
         DELETE FROM govdata.checkpoint_nodes;
         DELETE FROM govdata.checkpoint_tiles;
         DELETE FROM govdata.store_checkpoints",
    );
    let other = log_of(&two, HashSuite::Sm3, 500, 7);
    ship(&db, "n", &other, &two, 100).stop();
    let rewritten = checkpoint_store(&mut cpc, &key, None).unwrap();
    rewritten.verify(&trusted).unwrap();
    assert_eq!(
        rewritten.node("n").unwrap().size,
        grown.node("n").unwrap().size
    );
    // The store can no longer show that it grew from the auditor's old checkpoint …
    let e = prove_consistency(&mut auditor, &old, &rewritten).unwrap_err();
    assert_eq!(e.code(), "audit_tampered", "{e}");
    assert!(e.to_string().contains("rewritten"), "{e}");
    // … and no proof makes the rewritten checkpoint follow the old one.
    let forged = ConsistencyProof {
        new: rewritten.clone(),
        ..honest.clone()
    };
    let e = forged.verify(&trusted).unwrap_err();
    assert_eq!(e.code(), "crypto_auth_failed");
    assert!(e.to_string().contains("rewritten"), "{e}");
    // Nor does a record of the old history prove in the new one.
    let p = prove_inclusion(&mut auditor, &rewritten, "n", 5).unwrap();
    p.verify(&trusted).unwrap();
    let mut swapped = p.clone();
    swapped.payload = String::from_utf8(old_record).unwrap();
    assert_ne!(swapped.payload, p.payload);
    assert_eq!(
        swapped.verify(&trusted).unwrap_err().code(),
        "crypto_auth_failed"
    );
}

#[test]
fn proofs_from_an_old_checkpoint_survive_retention() {
    let scratch = Scratch::new("retained");
    let (db, url) = fresh_db("retained");
    let old_date = Timestamp::now().date().minus_months(8);
    let old_month = format!("{:04}-{:02}-01", old_date.year(), old_date.month());
    let old_log = log_with(scratch.path(), KEY, 300, Some(old_date.start()), None);
    ship(&db, "n", &old_log, scratch.path(), 100).stop();
    drop(old_log);
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let trusted = public(&key);
    let mut cpc = checkpointer(&db);
    let old = checkpoint_store(&mut cpc, &key, None).unwrap();
    let log = log_with(scratch.path(), KEY, 50, None, None);
    ship(&db, "n", &log, scratch.path(), 100).stop();
    let mut s = su(&url);
    s.execute(
        "SELECT govdata.record_backup(CAST($1::text AS date), 's3://backups/audit', 'sha256:00', now())",
        &[&old_month],
    )
    .unwrap();
    s.execute(
        "SELECT govdata.drop_month(CAST($1::text AS date))",
        &[&old_month],
    )
    .unwrap();
    assert_eq!(
        count(&url, "SELECT min(seq) FROM govdata.audit_records"),
        301
    );
    let new = checkpoint_store(&mut cpc, &key, None).unwrap();
    assert_eq!(new.node("n").unwrap().size, 350);
    let mut auditor = reader(&db);
    prove_consistency(&mut auditor, &old, &new)
        .unwrap()
        .verify(&trusted)
        .unwrap();
    prove_inclusion(&mut auditor, &new, "n", 320)
        .unwrap()
        .verify(&trusted)
        .unwrap();
    let e = prove_inclusion(&mut auditor, &new, "n", 20).unwrap_err();
    assert_eq!(e.code(), "request_invalid");
    assert!(e.to_string().contains("retention"), "{e}");
}

#[test]
fn the_checkpoint_tables_are_append_only() {
    let scratch = Scratch::new("appendonly");
    let (db, url) = fresh_db("appendonly");
    let log = log_of(scratch.path(), HashSuite::Sha256, 10, 0);
    ship(&db, "n", &log, scratch.path(), 10).stop();
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let mut cpc = checkpointer(&db);
    checkpoint_store(&mut cpc, &key, None).unwrap();
    for sql in [
        "UPDATE govdata.store_checkpoints SET origin = 'x'",
        "DELETE FROM govdata.checkpoint_nodes",
        "UPDATE govdata.checkpoint_tiles SET root = root",
        "TRUNCATE govdata.checkpoint_tiles",
    ] {
        // The owner is refused by the triggers, the checkpointer lacks the privilege.
        let e = su(&url).batch_execute(sql).unwrap_err();
        assert_eq!(sqlstate(&e), "GD100", "{sql}: {e}");
        let e = cpc.batch_execute(sql).unwrap_err();
        assert_eq!(sqlstate(&e), "42501", "{sql}: {e}");
    }
    // The checkpointer cannot write records, nor the reader checkpoints.
    let e = cpc
        .batch_execute("DELETE FROM govdata.audit_records")
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501");
    let e = checkpoint_store(&mut reader(&db), &key, None).unwrap_err();
    assert_eq!(e.code(), "store_unavailable");
}
