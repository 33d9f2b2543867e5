//! Pseudonym and watermark keys derived from the vault's master key: the same on
//! every vault with that master key, different under another master key or scope.

#![allow(clippy::unwrap_used, reason = "test helpers fail the test loudly")]

mod vault_support;

use govdata::audit::HashSuite;
use govdata::mask::PseudonymKey;
use govdata::vault::{MasterKey, Suite, Vault, VaultConfig};
use vault_support::*;

fn second_vault(tag: &str, master: &[u8; 32]) -> (Scratch, Vault) {
    let scratch = Scratch::new(tag);
    let vault = Vault::init(
        VaultConfig::new(scratch.path().join("vault")),
        Box::new(MasterKey::with_suite(master, Suite::XChaCha20Poly1305).unwrap()),
        engine(),
        &admin(),
    )
    .unwrap();
    (scratch, vault)
}

#[test]
fn vaults_with_one_master_key_make_the_same_pseudonyms() {
    let f = fixture("derive-a", Suite::XChaCha20Poly1305);
    let (_s, same) = second_vault("derive-b", &MASTER);
    let (_t, other) = second_vault("derive-c", &OTHER_MASTER);
    let id = "110105199003071234";
    let p = |v: &Vault, scope: &str, suite| {
        PseudonymKey::from_vault(v, scope, suite)
            .unwrap()
            .pseudonym(id)
    };
    let here = p(&f.vault, "default", HashSuite::Sha256);
    assert_eq!(here, p(&same, "default", HashSuite::Sha256));
    assert_ne!(here, p(&other, "default", HashSuite::Sha256));
    assert_ne!(here, p(&f.vault, "health", HashSuite::Sha256));
    assert_ne!(here, p(&f.vault, "default", HashSuite::Sm3));
    assert_ne!(here, id);
}
