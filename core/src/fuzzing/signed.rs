//! Fuzz bodies of what a node reads from the platform: its configuration
//! (`govdata.toml`), signed policy bundles, signed checkpoints of the store and the
//! Merkle proofs checked against them.
//!
//! Besides "no panic" and well-formed errors, each checks that nothing unsigned reads
//! as signed: whatever verifies under the fixture's key is the fixture's own content.

use super::{apply_edits, checked, must, raw_or_edited, Scratch};
use crate::audit::HashSuite;
use crate::bundle::Bundle;
use crate::checkpoint::Checkpoint;
use crate::platform::PlatformConfig;
use crate::proof::{self, Hash};
use crate::sign::{SigningKey, VerifyingKey};
use crate::Timestamp;
use std::path::Path;
use std::sync::OnceLock;

/// The key that signs the fixtures. It is for fuzzing alone and public by design (it is
/// in the source): fixed so that the corpus files signed with it stay valid.
const FUZZ_SIGNING_KEY: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEICOTY7iVclG9Mje60mdVTOXhPJVmCorLJWUCFfLMFlLr
-----END PRIVATE KEY-----
";

/// 2026-12-01T00:00:00Z: when the fixtures were made.
const MADE: i64 = 1_796_083_200_000;
const DAY: i64 = 86_400_000;

fn signing_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| must(SigningKey::from_pkcs8_pem(FUZZ_SIGNING_KEY), "the fuzz key"))
}

fn verifying_key() -> VerifyingKey {
    signing_key().verifying_key().clone()
}

/// A `govdata.toml`, read against a directory that holds a policy directory
/// (`policies/`) and an inventory (`inventory.json`), so that a configuration naming
/// them gets past the checks of its paths.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    static BASE: OnceLock<Scratch> = OnceLock::new();
    let base = BASE.get_or_init(|| {
        let dir = Scratch::new("config");
        let made = std::fs::create_dir_all(dir.0.join("policies"))
            .and_then(|()| std::fs::write(dir.0.join("inventory.json"), "{}"));
        if let Err(e) = made {
            unreachable!("fuzz fixture: the configuration's directory: {e}");
        }
        dir
    });
    checked(PlatformConfig::from_toml_str(text, &base.0));
}

struct BundleFixture {
    bundle: Bundle,
    json: Vec<u8>,
}

/// The default pack as a bundle signed with the fuzz key.
fn bundle_fixture() -> &'static BundleFixture {
    static FX: OnceLock<BundleFixture> = OnceLock::new();
    FX.get_or_init(|| {
        let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        let mut bundle = must(
            Bundle::build(
                &[pack.as_path()],
                7,
                Timestamp::from_unix_millis(MADE),
                Timestamp::from_unix_millis(MADE + 365 * DAY),
            ),
            "build the bundle",
        );
        must(bundle.sign(signing_key()), "sign the bundle");
        let json = bundle.to_json().into_bytes();
        BundleFixture { bundle, json }
    })
}

/// A signed policy bundle: the first byte picks raw bytes (even) or edits of a real
/// signed bundle (odd). A bundle that verifies under the fixture's key signs the
/// fixture's very manifest and carries its very files, and its pack loads.
pub fn bundle(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let fx = bundle_fixture();
    let (bytes, _) = raw_or_edited(mode % 2 == 0, rest, &fx.json);
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return;
    };
    let Some(bundle) = checked(Bundle::from_json(text)) else {
        return;
    };
    let now = Timestamp::from_unix_millis(MADE + DAY);
    if checked(bundle.verify(&[verifying_key()], now)).is_some() {
        assert!(
            bundle.signed_bytes() == fx.bundle.signed_bytes(),
            "a bundle verified with another manifest"
        );
        let pack = checked(bundle.load_pack());
        assert!(pack.is_some(), "a verified bundle's pack does not load");
    }
}

struct CheckpointFixture {
    checkpoint: Checkpoint,
    json: Vec<u8>,
}

/// The leaves of a log of `n` records.
fn leaves(suite: HashSuite, n: u64) -> Vec<Hash> {
    (0..n)
        .map(|i| proof::record_leaf(suite, i + 1, format!("record {i}").as_bytes()))
        .collect()
}

/// A checkpoint of a log of 13 records, signed with the fuzz key.
fn checkpoint_fixture() -> &'static CheckpointFixture {
    static FX: OnceLock<CheckpointFixture> = OnceLock::new();
    FX.get_or_init(|| {
        let checkpoint = must(
            Checkpoint::sign_leaves(
                signing_key(),
                "govdata.fuzz/audit",
                HashSuite::Sha256,
                &leaves(HashSuite::Sha256, 13),
                Timestamp::from_unix_millis(MADE),
            ),
            "sign the checkpoint",
        );
        let json = checkpoint.to_json().into_bytes();
        CheckpointFixture { checkpoint, json }
    })
}

/// A signed checkpoint (first byte 0 mod 3: raw bytes; 1: edits of a real one), or
/// Merkle proofs (2): a tree of up to 64 leaves, a leaf or an older size picked by the
/// input, and the true proof edited by the rest. A checkpoint that verifies says what
/// the fixture says; a proof verifies when it is the true one (or, for an inclusion
/// proof, of the true leaf) and only then.
pub fn checkpoint(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 3 == 2 {
        return proofs(mode, rest);
    }
    let fx = checkpoint_fixture();
    let (bytes, _) = raw_or_edited(mode % 3 == 0, rest, &fx.json);
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return;
    };
    let Some(c) = checked(Checkpoint::from_json(text)) else {
        return;
    };
    if checked(c.verify(&verifying_key())).is_some() {
        assert!(
            c.signed_bytes() == fx.checkpoint.signed_bytes(),
            "a checkpoint verified with other content"
        );
    }
}

fn proofs(mode: u8, data: &[u8]) {
    let [n, pick, edits @ ..] = data else {
        return;
    };
    let suite = if mode & 8 == 0 {
        HashSuite::Sha256
    } else {
        HashSuite::Sm3
    };
    let n = u64::from(*n % 64) + 1;
    let tree = leaves(suite, n);
    let root = proof::tree_root(suite, &tree);
    let as_hashes = |bytes: &[u8]| -> Vec<Hash> {
        bytes
            .chunks_exact(32)
            .map(|c| {
                let mut h = [0u8; 32];
                h.copy_from_slice(c);
                h
            })
            .collect()
    };
    // Inclusion of leaf `index`.
    let index = u64::from(*pick) % n;
    let true_path = must(
        proof::inclusion_proof(suite, index, &tree),
        "inclusion proof",
    );
    let ok = |r: crate::Result<()>| checked(r).is_some();
    assert!(
        ok(proof::verify_inclusion(
            suite,
            index,
            n,
            &tree[index as usize],
            &true_path,
            &root
        )),
        "a true inclusion proof failed"
    );
    let mut edited = true_path.concat();
    apply_edits(&mut edited, edits);
    let path = as_hashes(&edited);
    let leaf = if edits.len() % 2 == 1 {
        proof::leaf_hash(suite, edits)
    } else {
        tree[index as usize]
    };
    if ok(proof::verify_inclusion(
        suite, index, n, &leaf, &path, &root,
    )) {
        assert!(
            path == true_path && leaf == tree[index as usize],
            "a false inclusion proof verified"
        );
    }
    // Consistency of the first `old` leaves with the whole tree.
    let old = u64::from(*pick) % (n + 1);
    let old_root = proof::tree_root(suite, &tree[..old as usize]);
    let true_proof = must(
        proof::consistency_proof(suite, old, &tree),
        "consistency proof",
    );
    assert!(
        ok(proof::verify_consistency(
            suite,
            old,
            n,
            &old_root,
            &root,
            &true_proof
        )),
        "a true consistency proof failed"
    );
    let mut edited = true_proof.concat();
    apply_edits(&mut edited, edits);
    let path = as_hashes(&edited);
    if ok(proof::verify_consistency(
        suite, old, n, &old_root, &root, &path,
    )) {
        assert!(path == true_proof, "a false consistency proof verified");
    }
}
