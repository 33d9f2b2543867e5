//! Files written before SM4-GCM moved to the SIMD implementation (and before any later
//! change of an AEAD's implementation) still open: the key stores and streams in
//! `tests/fixtures/vault-0.1`, one store per suite, each file under each suite.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod vault_support;

use govdata::model::Grade;
use govdata::vault::{Header, MasterKey, Suite, Vault, VaultConfig};
use std::path::PathBuf;
use vault_support::{engine, Scratch};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vault-0.1")
}

/// The plaintext every fixture file holds.
fn plaintext() -> Vec<u8> {
    (0..150_000usize)
        .map(|i| ((i * 31 + 7) % 251) as u8)
        .collect()
}

fn master_key() -> Vec<u8> {
    (0x40u8..0x60).collect()
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn files_written_by_the_earlier_release_decrypt() {
    let want = plaintext();
    for store_suite in Suite::ALL {
        let scratch = Scratch::new("compat");
        let dir = scratch.path().join("store");
        copy_dir(&fixtures().join(format!("store-{store_suite}")), &dir);
        assert_eq!(Vault::store_algorithm(&dir).unwrap(), *store_suite);
        let master = MasterKey::with_suite(&master_key(), *store_suite).unwrap();
        let vault = Vault::open(VaultConfig::new(&dir), Box::new(master), engine()).unwrap();
        for file_suite in Suite::ALL {
            let ct = std::fs::read(dir.join(format!("hukou.{file_suite}.gdv"))).unwrap();
            assert_eq!(Header::parse(&ct).unwrap().0.suite(), *file_suite);
            let mut out = Vec::new();
            vault
                .decrypt_stream("hukou", Grade::L3, &mut &ct[..], &mut out, None)
                .unwrap_or_else(|e| panic!("{file_suite} in the {store_suite} store: {e}"));
            assert!(out == want, "{file_suite} in the {store_suite} store");

            // The grade is bound to the file: the same bytes under another grade fail.
            let err = vault
                .decrypt_stream("hukou", Grade::L4, &mut &ct[..], &mut Vec::new(), None)
                .unwrap_err();
            assert_eq!(err.code(), "crypto_auth_failed");

            // A flipped bit in the last chunk's body fails.
            let mut bad = ct.clone();
            let at = bad.len() - 40;
            bad[at] ^= 1;
            let err = vault
                .decrypt_stream("hukou", Grade::L3, &mut &bad[..], &mut Vec::new(), None)
                .unwrap_err();
            assert_eq!(err.code(), "crypto_auth_failed");
        }
    }
}
