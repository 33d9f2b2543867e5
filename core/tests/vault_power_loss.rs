//! Power loss: every state of the key store's files that a power loss can leave, at
//! every point of a run that creates the store, rotates keys and shreds a dataset,
//! opens to a store that authenticates, holds every key whose creation or rotation
//! returned (its data still decrypts) and none that a returned shred destroyed, and
//! takes the next write; a synced store changed in a way a power loss cannot is
//! still refused.
//!
//! The run's file operations are traced (`govdata::disk::Trace`) and replayed into
//! the model of `power_loss_support`; each state is written to a directory of its
//! own and opened with the real code.
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod power_loss_support;
mod vault_support;

use govdata::disk::Trace;
use govdata::model::Grade;
use govdata::vault::{MasterKey, Vault, VaultConfig};
use power_loss_support::{final_state, materialise, replay, WorkDir};
use std::path::Path;
use vault_support::*;

/// What returned during the run, once so many operations were traced.
enum Acked {
    /// A key made by a creation or rotation, and data encrypted under it.
    Key {
        dataset: &'static str,
        id: String,
        ciphertext: Vec<u8>,
    },
    /// Every key of a dataset shredded.
    Shred { dataset: &'static str },
}

fn open(dir: &Path) -> govdata::Result<Vault> {
    Vault::open(
        VaultConfig::new(dir),
        Box::new(MasterKey::from_bytes(&MASTER)?),
        engine(),
    )
}

/// `acked`: what returned by the crash; `shreds`: the datasets the whole run shreds
/// (a shred under way may have reached the disk).
fn check_state(dir: &Path, acked: &[&Acked], shreds: &[&str], what: &str) {
    if !dir.join("keystore.json").exists() {
        assert!(acked.is_empty(), "{what}: the key store is gone");
        return;
    }
    let v = open(dir).unwrap_or_else(|e| panic!("{what}: open: {e} ({})", e.code()));
    let shredded = |dataset: &str| {
        acked
            .iter()
            .any(|a| matches!(a, Acked::Shred { dataset: d } if *d == dataset))
    };
    for a in acked {
        let Acked::Key {
            dataset,
            id,
            ciphertext,
        } = a
        else {
            continue;
        };
        let keys = v.keys(dataset);
        assert!(
            keys.iter().any(|k| k.id == *id),
            "{what}: key {id} of `{dataset}` is missing"
        );
        match v.decrypt(dataset, Grade::L4, ciphertext) {
            Ok(plain) => {
                assert!(!shredded(dataset), "{what}: `{dataset}` was shredded");
                assert_eq!(plain, b"durable", "{what}");
            }
            // A shred that returned, or one under way that reached the disk.
            Err(e) if shreds.contains(dataset) => {
                assert_eq!(e.code(), "key_destroyed", "{what}");
            }
            Err(e) => panic!("{what}: decrypt: {e} ({})", e.code()),
        }
    }
    // The next writer cleans what the crash left and commits.
    v.rotate_key(&admin(), "hukou")
        .unwrap_or_else(|e| panic!("{what}: a write after the crash: {e} ({})", e.code()));
    drop(v);
    open(dir).unwrap_or_else(|e| panic!("{what}: reopen after a write: {e} ({})", e.code()));
}

#[test]
fn power_loss_of_the_key_store() {
    let work = WorkDir::new("vault");
    let live = work.join("live");
    std::fs::create_dir_all(&live).unwrap();
    let trace = Trace::start(&live).unwrap();
    let mut acked: Vec<(usize, Acked)> = Vec::new();
    {
        let v = Vault::init(
            VaultConfig::new(&live),
            Box::new(MasterKey::from_bytes(&MASTER).unwrap()),
            engine(),
            &admin(),
        )
        .unwrap();
        for dataset in ["hukou", "social-insurance", "hukou", "social-insurance"] {
            let info = v.rotate_key(&admin(), dataset).unwrap();
            let at = trace.len();
            let ciphertext = v.encrypt(dataset, Grade::L4, b"durable").unwrap();
            acked.push((
                at,
                Acked::Key {
                    dataset,
                    id: info.id,
                    ciphertext,
                },
            ));
        }
        v.shred(&admin(), "social-insurance").unwrap();
        acked.push((
            trace.len(),
            Acked::Shred {
                dataset: "social-insurance",
            },
        ));
    }
    let ops = trace.ops();
    drop(trace);
    assert!(ops.len() > 20, "the trace holds {} operations", ops.len());
    let count = |point: usize| acked.iter().filter(|(at, _)| *at <= point).count() as u64;
    let salt = |point: usize| count(point).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let at = work.join("state");
    let n = replay(&ops, &salt, &mut |state, point| {
        let now: Vec<&Acked> = acked
            .iter()
            .filter(|(a, _)| *a <= point)
            .map(|(_, a)| a)
            .collect();
        materialise(state, &at);
        let what = format!(
            "after operation {point} of {} ({:?}), files {:?}",
            ops.len(),
            point.checked_sub(1).map(|p| &ops[p]).map(|op| match op {
                govdata::disk::Op::Write { path, offset, data } =>
                    format!("write {} at {offset}, {} bytes", path.display(), data.len()),
                other => format!("{other:?}"),
            }),
            state.keys().collect::<Vec<_>>()
        );
        check_state(&at, &now, &["social-insurance"], &what);
    });
    eprintln!(
        "power loss, key store: {} operations traced, {n} crash states checked",
        ops.len()
    );

    // A synced store changed in ways a power loss cannot is refused.
    let synced = final_state(&ops);
    let store = std::path::PathBuf::from("keystore.json");
    let text = String::from_utf8(synced[&store].clone()).unwrap();
    let at_wrapped = text.find("\"wrapped\": \"").unwrap() + 12;
    let mut flipped = synced.clone();
    let b = flipped.get_mut(&store).unwrap();
    b[at_wrapped] = if b[at_wrapped] == b'0' { b'1' } else { b'0' };
    materialise(&flipped, &at);
    assert_eq!(open(&at).unwrap_err().code(), "crypto_auth_failed");
    let mut cut = synced.clone();
    let b = cut.get_mut(&store).unwrap();
    b.truncate(b.len() / 2);
    materialise(&cut, &at);
    assert_eq!(open(&at).unwrap_err().code(), "crypto_auth_failed");
}
