//! Key operations: crypto-shredding, the `manage_keys` decisions, key events, and the
//! integrity and crash safety of the key store.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers of the tests fail loudly too"
)]

mod vault_support;

use govdata::model::Grade;
use govdata::vault::{
    KeyEventSink, KeyOperation, MasterKey, MemoryKeyEventSink, Operator, Suite, Vault, VaultConfig,
};
use std::path::Path;
use std::sync::Arc;
use vault_support::*;

/// Every file under `dir`, recursively.
fn all_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn shred_destroys_every_copy_of_the_key() {
    for &suite in Suite::ALL {
        let f = fixture("shred", suite);
        // Two versions, several committed states, so several backups hold the keys.
        f.vault.rotate_key(&admin(), "social-insurance").unwrap();
        f.vault.rotate_key(&admin(), "population-stats").unwrap();
        let record = f
            .vault
            .encrypt("social-insurance", Grade::L3, b"insured")
            .unwrap();
        let stream = encrypt_stream(
            &f.vault,
            "social-insurance",
            Grade::L3,
            suite,
            &data(9000, 1),
        );
        let other = f.vault.encrypt("hukou", Grade::L4, b"unaffected").unwrap();
        let ids: Vec<String> = f
            .vault
            .keys("social-insurance")
            .into_iter()
            .map(|k| k.id)
            .collect();
        assert_eq!(ids.len(), 2);
        let wrapped: Vec<String> = ids
            .iter()
            .map(|id| f.vault.wrapped_key_hex(id).unwrap())
            .collect();
        // Before: the wrapped keys are in the store and in the backups.
        let files = all_files(&f.dir());
        assert!(files.len() >= 3, "{files:?}");
        let holding = files
            .iter()
            .filter(|p| contains(&std::fs::read(p).unwrap(), wrapped[0].as_bytes()))
            .count();
        assert!(holding >= 2, "the key should be in the store and a backup");

        let report = f.vault.shred(&admin(), "social-insurance").unwrap();
        assert_eq!(report.key_ids, ids);
        assert!(report.backups_scrubbed >= 1);

        // After: no file of the vault holds the wrapped keys, as hex or as raw bytes.
        for p in all_files(&f.dir()) {
            let bytes = std::fs::read(&p).unwrap();
            for w in &wrapped {
                assert!(
                    !contains(&bytes, w.as_bytes()),
                    "{} holds a wrapped key (hex)",
                    p.display()
                );
                let raw = hex::decode(w).unwrap();
                assert!(
                    !contains(&bytes, &raw),
                    "{} holds a wrapped key (raw)",
                    p.display()
                );
            }
        }
        assert!(ids.iter().all(|id| f.vault.wrapped_key_hex(id).is_none()));
        for e in [
            f.vault
                .decrypt("social-insurance", Grade::L3, &record)
                .unwrap_err(),
            decrypt_stream(&f.vault, "social-insurance", Grade::L3, &stream).unwrap_err(),
            f.vault
                .encrypt("social-insurance", Grade::L3, b"new")
                .unwrap_err(),
        ] {
            assert_eq!(e.code(), "key_destroyed");
        }
        assert_eq!(
            f.vault.decrypt("hukou", Grade::L4, &other).unwrap(),
            b"unaffected"
        );

        // A reopened vault (nothing cached) agrees.
        let dir = f.dir();
        drop(f.vault);
        let vault = Vault::open(
            VaultConfig::new(&dir),
            Box::new(MasterKey::with_suite(&MASTER, suite).unwrap()),
            f.engine.clone(),
        )
        .unwrap();
        assert_eq!(
            vault
                .decrypt("social-insurance", Grade::L3, &record)
                .unwrap_err()
                .code(),
            "key_destroyed"
        );
        let keys = vault.keys("social-insurance");
        assert!(keys.iter().all(|k| k.status.as_str() == "destroyed"));
        assert_eq!(keys[0].destroyed_by.as_deref(), Some("key.admin"));
        // Shredding twice is reported, not silently repeated.
        assert_eq!(
            vault
                .shred(&admin(), "social-insurance")
                .unwrap_err()
                .code(),
            "key_destroyed"
        );

        // The shred is recorded with key ids, operator and time, never key bytes.
        let events = f.sink.events();
        let shred = events
            .iter()
            .find(|e| e.operation == KeyOperation::Shred)
            .unwrap();
        assert_eq!(shred.key_ids, ids);
        assert_eq!(shred.operator, "key.admin");
        assert_eq!(shred.dataset.as_deref(), Some("social-insurance"));
        assert!(shred.time > 0);
        let json = serde_json::to_string(&events).unwrap();
        for w in &wrapped {
            assert!(!json.contains(w.as_str()));
        }
    }
}

#[test]
fn key_operations_are_decided_by_the_policies() {
    let f = fixture("policy", Suite::XChaCha20Poly1305);
    let events_before = f.sink.events().len();
    // Vendor staff never manage keys (Art. 16); nor do users outside the operator.
    for who in ["vendor.li", "zhang.san", "ops.engineer", "nobody"] {
        let op = Operator::new(who);
        let e = f.vault.rotate_key(&op, "hukou").unwrap_err();
        assert!(
            matches!(e.code(), "access_denied" | "unknown_entity"),
            "{who}: {e}"
        );
        let e = f.vault.shred(&op, "hukou").unwrap_err();
        assert!(
            matches!(e.code(), "access_denied" | "unknown_entity"),
            "{who}: {e}"
        );
        let e = f
            .vault
            .rotate_master_key(&op, Box::new(MasterKey::from_bytes(&OTHER_MASTER).unwrap()))
            .unwrap_err();
        assert!(
            matches!(e.code(), "access_denied" | "unknown_entity"),
            "{who}: {e}"
        );
    }
    let e = f
        .vault
        .shred(&Operator::new("vendor.li"), "hukou")
        .unwrap_err();
    assert!(e.to_string().contains("art16-vendor-no-keys"), "{e}");
    // Nothing refused was recorded or done.
    assert_eq!(f.sink.events().len(), events_before);
    assert_eq!(f.vault.keys("hukou").len(), 1);
    // The security officer of the operator may.
    f.vault
        .rotate_key(&Operator::new("ops.admin"), "hukou")
        .unwrap();
}

#[test]
fn important_data_needs_a_witness() {
    let f = fixture("dual", Suite::XChaCha20Poly1305);
    let e = f.vault.rotate_key(&admin(), "medical-records").unwrap_err();
    assert_eq!(e.code(), "access_denied");
    assert!(e.to_string().contains("dual control"), "{e}");
    let e = f
        .vault
        .rotate_key(&admin().with_witness("key.admin"), "medical-records")
        .unwrap_err();
    assert_eq!(e.code(), "access_denied");
    let e = f
        .vault
        .rotate_key(&admin().with_witness("vendor.li"), "medical-records")
        .unwrap_err();
    assert_eq!(e.code(), "access_denied");
    let info = f
        .vault
        .rotate_key(&admin().with_witness("ops.admin"), "medical-records")
        .unwrap();
    assert_eq!(info.version, 1);
    let ev = f.sink.events().pop().unwrap();
    assert_eq!(ev.operation, KeyOperation::CreateKey);
    assert_eq!(ev.witness.as_deref(), Some("ops.admin"));
    assert!(ev.policy_version.starts_with("sha256:"));
}

#[test]
fn every_key_operation_is_recorded() {
    let f = fixture("events", Suite::Sm4Gcm);
    f.vault.rotate_key(&admin(), "hukou").unwrap();
    f.vault
        .rotate_master_key(
            &admin(),
            Box::new(MasterKey::from_bytes(&OTHER_MASTER).unwrap()),
        )
        .unwrap();
    f.vault.shred(&admin(), "hukou").unwrap();
    let ops: Vec<&str> = f
        .sink
        .events()
        .iter()
        .map(|e| e.operation.as_str())
        .collect();
    assert_eq!(
        ops,
        [
            "init_store",
            "create_key",
            "create_key",
            "rotate_key",
            "rotate_master_key",
            "shred"
        ]
    );
}

/// A sink that refuses: what cannot be recorded does not happen.
struct Broken;
impl KeyEventSink for Broken {
    fn record_key_event(&self, _: &govdata::vault::KeyEvent) -> govdata::Result<u64> {
        Err(govdata::Error::AuditUnavailable {
            message: "disk full".into(),
        })
    }
}

#[test]
fn an_unrecordable_key_operation_does_not_happen() {
    let f = fixture("broken", Suite::XChaCha20Poly1305);
    let record = f.vault.encrypt("hukou", Grade::L4, b"x").unwrap();
    let dir = f.dir();
    drop(f.vault);
    let vault = Vault::open(
        VaultConfig::new(&dir).with_sink(Arc::new(Broken)),
        Box::new(MasterKey::from_bytes(&MASTER).unwrap()),
        f.engine.clone(),
    )
    .unwrap();
    assert_eq!(
        vault.shred(&admin(), "hukou").unwrap_err().code(),
        "audit_unavailable"
    );
    assert_eq!(vault.decrypt("hukou", Grade::L4, &record).unwrap(), b"x");
    assert_eq!(vault.keys("hukou")[0].status.as_str(), "active");
}

fn reopen(dir: &Path, master: &[u8; 32]) -> govdata::Result<Vault> {
    Vault::open(
        VaultConfig::new(dir),
        Box::new(MasterKey::from_bytes(master)?),
        engine(),
    )
}

#[test]
fn an_edited_or_swapped_key_store_is_refused() {
    let f = fixture("store", Suite::XChaCha20Poly1305);
    let dir = f.dir();
    let store = dir.join("keystore.json");
    let original = std::fs::read_to_string(&store).unwrap();
    let json: serde_json::Value = serde_json::from_str(&original).unwrap();
    let put = |v: &serde_json::Value| {
        std::fs::write(&store, serde_json::to_vec_pretty(v).unwrap()).unwrap()
    };

    // An edited status.
    let mut edited = json.clone();
    edited["body"]["keys"][0]["status"] = "retired".into();
    put(&edited);
    assert_eq!(
        reopen(&dir, &MASTER).unwrap_err().code(),
        "crypto_auth_failed"
    );

    // Two entries' wrapped keys swapped.
    let mut swapped = json.clone();
    let a = swapped["body"]["keys"][0]["wrapped"].clone();
    swapped["body"]["keys"][0]["wrapped"] = swapped["body"]["keys"][1]["wrapped"].clone();
    swapped["body"]["keys"][1]["wrapped"] = a;
    put(&swapped);
    assert_eq!(
        reopen(&dir, &MASTER).unwrap_err().code(),
        "crypto_auth_failed"
    );

    // An entry removed.
    let mut removed = json.clone();
    removed["body"]["keys"].as_array_mut().unwrap().remove(0);
    put(&removed);
    assert_eq!(
        reopen(&dir, &MASTER).unwrap_err().code(),
        "crypto_auth_failed"
    );

    // Truncated, and not JSON at all.
    std::fs::write(&store, &original.as_bytes()[..original.len() / 2]).unwrap();
    assert_eq!(
        reopen(&dir, &MASTER).unwrap_err().code(),
        "crypto_auth_failed"
    );

    // The wrong master key is named as such.
    std::fs::write(&store, &original).unwrap();
    assert_eq!(
        reopen(&dir, &OTHER_MASTER).unwrap_err().code(),
        "key_invalid"
    );

    // A store from another vault with the same master key: its MAC is valid, but the
    // data keys are not this vault's, so this vault's data does not decrypt.
    let record = f.vault.encrypt("hukou", Grade::L4, b"mine").unwrap();
    let other = fixture("store-other", Suite::XChaCha20Poly1305);
    std::fs::copy(other.dir().join("keystore.json"), &store).unwrap();
    let v = reopen(&dir, &MASTER).unwrap();
    assert_eq!(
        v.decrypt("hukou", Grade::L4, &record).unwrap_err().code(),
        "crypto_auth_failed"
    );
}

#[test]
fn the_key_store_survives_an_interrupted_write() {
    let f = fixture("crash", Suite::XChaCha20Poly1305);
    let record = f.vault.encrypt("hukou", Grade::L4, b"durable").unwrap();
    let dir = f.dir();
    drop(f.vault);
    let store = dir.join("keystore.json");
    let committed = std::fs::read(&store).unwrap();
    // A crash after the temporary file was (partly) written, before the rename: the
    // live store is untouched. Opening reads it and leaves the debris alone (it could
    // be another process's write in progress); the next writer, holding the store's
    // lock, removes it.
    let tmp = dir.join("keystore.json.tmp");
    std::fs::write(&tmp, &committed[..committed.len() / 3]).unwrap();
    let v = reopen(&dir, &MASTER).unwrap();
    assert_eq!(v.decrypt("hukou", Grade::L4, &record).unwrap(), b"durable");
    assert!(tmp.exists());
    // A crash in a backup write leaves debris in the backup directory: cleaned too.
    let btmp = dir
        .join("backups")
        .join("keystore-00000000000000000099.json.tmp");
    std::fs::write(&btmp, b"{\"partial").unwrap();
    v.rotate_key(&admin(), "hukou").unwrap();
    assert!(!tmp.exists());
    assert!(!btmp.exists());
    // A store damaged in place is refused, and the latest backup is a verified,
    // complete copy to restore from.
    let backups = v.backup_paths().unwrap();
    let latest = backups.last().unwrap().clone();
    drop(v);
    std::fs::write(&store, b"\0\0\0").unwrap();
    assert_eq!(
        reopen(&dir, &MASTER).unwrap_err().code(),
        "crypto_auth_failed"
    );
    std::fs::copy(&latest, &store).unwrap();
    let v = reopen(&dir, &MASTER).unwrap();
    assert_eq!(v.decrypt("hukou", Grade::L4, &record).unwrap(), b"durable");
    assert_eq!(v.keys("hukou").len(), 2);
}

#[test]
fn a_store_changed_by_another_handle_is_read_again_and_nothing_is_overwritten() {
    let f = fixture("race", Suite::XChaCha20Poly1305);
    let dir = f.dir();
    let second = reopen(&dir, &MASTER).unwrap();
    second.rotate_key(&admin(), "hukou").unwrap();
    let by_second = second.encrypt("hukou", Grade::L4, b"second").unwrap();
    // The first handle's view is stale: its write starts from the store on disk, so
    // the other's key survives it.
    f.vault.rotate_key(&admin(), "hukou").unwrap();
    let keys = reopen(&dir, &MASTER).unwrap().keys("hukou");
    assert_eq!(keys.len(), 3);
    assert_eq!(
        keys.iter().map(|k| k.version).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // And it reads what the other wrote, and encrypts under the newest key.
    assert_eq!(
        f.vault.decrypt("hukou", Grade::L4, &by_second).unwrap(),
        b"second"
    );
    // A shred by one handle is seen by the other at its next use.
    second.shred(&admin(), "hukou").unwrap();
    assert_eq!(
        f.vault
            .encrypt("hukou", Grade::L4, b"late")
            .unwrap_err()
            .code(),
        "key_destroyed"
    );
}

#[test]
fn a_writer_waits_for_the_key_store_lock_then_fails_with_store_locked() {
    let f = fixture("locked", Suite::XChaCha20Poly1305);
    let dir = f.dir();
    // Another holder of the lock: an audit-log-style writer that never lets go.
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join(govdata::lock::LOCK_FILE))
        .unwrap();
    held.lock().unwrap();
    let waiting = Vault::open(
        VaultConfig::new(&dir).with_lock_wait(std::time::Duration::from_millis(200)),
        Box::new(MasterKey::from_bytes(&MASTER).unwrap()),
        engine(),
    )
    .unwrap();
    let before = std::fs::read(dir.join("keystore.json")).unwrap();
    let started = std::time::Instant::now();
    let e = waiting.rotate_key(&admin(), "hukou").unwrap_err();
    assert_eq!(e.code(), "store_locked");
    assert!(started.elapsed() >= std::time::Duration::from_millis(200));
    assert!(e.to_string().contains("key store"), "{e}");
    // Nothing was written; reading and decrypting need no lock.
    assert_eq!(std::fs::read(dir.join("keystore.json")).unwrap(), before);
    let record = waiting.encrypt("hukou", Grade::L4, b"still works").unwrap();
    assert_eq!(
        waiting.decrypt("hukou", Grade::L4, &record).unwrap(),
        b"still works"
    );
    held.unlock().unwrap();
    waiting.rotate_key(&admin(), "hukou").unwrap();
}

#[test]
fn init_refuses_an_existing_store_and_the_wrong_people() {
    let f = fixture("init", Suite::XChaCha20Poly1305);
    let again = Vault::init(
        VaultConfig::new(f.dir()),
        Box::new(MasterKey::from_bytes(&MASTER).unwrap()),
        engine(),
        &admin(),
    );
    assert_eq!(again.unwrap_err().code(), "io");
    let s = Scratch::new("init-vendor");
    let sink = Arc::new(MemoryKeyEventSink::new());
    let e = Vault::init(
        VaultConfig::new(s.path().join("v")).with_sink(sink.clone()),
        Box::new(MasterKey::from_bytes(&MASTER).unwrap()),
        engine(),
        &Operator::new("vendor.li"),
    )
    .unwrap_err();
    assert_eq!(e.code(), "access_denied");
    assert!(!s.path().join("v").join("keystore.json").exists());
    assert!(sink.events().is_empty());
    // Bad master keys.
    assert_eq!(
        MasterKey::from_bytes(&[1u8; 31]).err().unwrap().code(),
        "key_invalid"
    );
    let kf = s.path().join("short.key");
    std::fs::write(&kf, [0u8; 33]).unwrap();
    assert_eq!(
        MasterKey::from_file(&kf, Suite::default())
            .err()
            .unwrap()
            .code(),
        "key_invalid"
    );
}

#[test]
fn unknown_datasets_and_keys() {
    let f = fixture("unknown", Suite::XChaCha20Poly1305);
    assert_eq!(
        f.vault
            .encrypt("traffic-flow", Grade::L1, b"x")
            .unwrap_err()
            .code(),
        "key_not_found"
    );
    let record = f.vault.encrypt("hukou", Grade::L4, b"x").unwrap();
    let other = fixture("unknown-2", Suite::XChaCha20Poly1305);
    // A key id this vault never had, for a dataset it never saw.
    assert_eq!(
        other
            .vault
            .decrypt("traffic-flow", Grade::L4, &record)
            .unwrap_err()
            .code(),
        "key_not_found"
    );
}

#[test]
fn errors_and_events_never_show_key_material() {
    let f = fixture("secrets", Suite::XChaCha20Poly1305);
    let status = serde_json::to_string(&f.vault.status().unwrap()).unwrap();
    assert!(!status.contains("wrapped"));
    let debug = format!("{:?}", f.vault);
    assert!(!debug.contains(&hex::encode(MASTER)));
    let e = reopen(&f.dir(), &OTHER_MASTER).unwrap_err().to_string();
    assert!(!e.contains(&hex::encode(OTHER_MASTER)) && !e.contains(&hex::encode(MASTER)));
}
