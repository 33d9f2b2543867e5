//! Round trips of records and streams for both suites: sizes around chunk and batch
//! boundaries, suite changes, data-key and master-key rotation.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "helpers of the tests fail loudly too"
)]

mod vault_support;

use govdata::model::Grade;
use govdata::vault::{Header, MasterKey, Suite, Vault, VaultConfig};
use rand::{Rng, SeedableRng};
use vault_support::*;

const CHUNK: usize = 4096;

#[test]
fn records_round_trip_for_both_suites() {
    for &suite in Suite::ALL {
        let f = fixture("rec", suite);
        for len in [0usize, 1, 15, 16, 17, 1000, 65_536] {
            let pt = data(len, 3);
            let ct = f.vault.encrypt("hukou", Grade::L4, &pt).unwrap();
            let (h, _) = Header::parse(&ct).unwrap();
            assert_eq!(h.suite(), suite);
            assert!(!h.is_stream());
            assert_eq!(f.vault.decrypt("hukou", Grade::L4, &ct).unwrap(), pt);
        }
        // Two encryptions of the same record differ (random nonces / message keys).
        let a = f.vault.encrypt("hukou", Grade::L4, b"same").unwrap();
        let b = f.vault.encrypt("hukou", Grade::L4, b"same").unwrap();
        assert_ne!(a, b);
    }
}

/// The sizes the property test always covers: empty, one byte, around one chunk,
/// around one batch (2 or more threads x 4 chunks), several batches.
fn edge_sizes() -> Vec<usize> {
    let batch = CHUNK * rayon::current_num_threads().max(1) * 4;
    let mut sizes = vec![0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1];
    for b in [batch, 2 * batch, 3 * batch] {
        sizes.extend([b - 1, b, b + 1, b - CHUNK, b + CHUNK]);
    }
    sizes
}

#[test]
fn streams_round_trip_at_every_boundary_for_both_suites() {
    for &suite in Suite::ALL {
        let f = fixture("stream", suite);
        for len in edge_sizes() {
            let pt = data(len, 9);
            let ct = encrypt_stream(&f.vault, "social-insurance", Grade::L3, suite, &pt);
            let chunks = if len == 0 { 1 } else { len.div_ceil(CHUNK) };
            let (h, hlen) = Header::parse(&ct).unwrap();
            assert_eq!(ct.len(), hlen + len + chunks * 16, "size {len}");
            assert_eq!(h.chunk_size(), CHUNK);
            let back = decrypt_stream(&f.vault, "social-insurance", Grade::L3, &ct).unwrap();
            assert_eq!(back, pt, "size {len} suite {suite}");
        }
    }
}

#[test]
fn streams_round_trip_for_random_sizes() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let f = fixture("random", Suite::XChaCha20Poly1305);
    for _ in 0..12 {
        let suite = Suite::ALL[rng.gen_range(0..Suite::ALL.len())];
        let len = match rng.gen_range(0..3) {
            0 => rng.gen_range(0..3 * CHUNK),
            1 => rng.gen_range(1..8) * CHUNK + rng.gen_range(0..3) - 1,
            _ => rng.gen_range(0..80_000),
        };
        let mut pt = vec![0u8; len];
        rng.fill(&mut pt[..]);
        let ct = encrypt_stream(&f.vault, "hukou", Grade::L4, suite, &pt);
        assert_eq!(
            decrypt_stream(&f.vault, "hukou", Grade::L4, &ct).unwrap(),
            pt
        );
    }
}

/// A reader that hands out one byte at a time: the look-ahead and the batching must
/// not depend on how the input arrives.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() || buf.is_empty() {
            return Ok(0);
        }
        buf[0] = self.0[0];
        self.0 = &self.0[1..];
        Ok(1)
    }
}

#[test]
fn streams_do_not_depend_on_read_sizes() {
    let f = fixture("trickle", Suite::Sm4Gcm);
    let pt = data(3 * CHUNK + 5, 1);
    let mut ct = Vec::new();
    f.vault
        .encrypt_stream(
            "hukou",
            Grade::L4,
            Suite::Sm4Gcm,
            &mut Trickle(&pt),
            &mut ct,
            None,
        )
        .unwrap();
    let mut back = Vec::new();
    f.vault
        .decrypt_stream("hukou", Grade::L4, &mut Trickle(&ct), &mut back, None)
        .unwrap();
    assert_eq!(back, pt);
}

#[test]
fn data_written_under_one_default_suite_stays_readable_under_another() {
    let f = fixture("suites", Suite::XChaCha20Poly1305);
    let record = f
        .vault
        .encrypt("hukou", Grade::L4, b"written under xchacha")
        .unwrap();
    let stream = encrypt_stream(
        &f.vault,
        "hukou",
        Grade::L4,
        Suite::XChaCha20Poly1305,
        &data(9000, 2),
    );
    let dir = f.dir();
    drop(f.vault);
    // Reopen with SM4-GCM as the default for new data.
    let vault = Vault::open(
        VaultConfig::new(&dir).with_suite(Suite::Sm4Gcm),
        Box::new(MasterKey::from_bytes(&MASTER).unwrap()),
        f.engine.clone(),
    )
    .unwrap();
    let new = vault.encrypt("hukou", Grade::L4, b"new").unwrap();
    assert_eq!(Header::parse(&new).unwrap().0.suite(), Suite::Sm4Gcm);
    assert_eq!(
        vault.decrypt("hukou", Grade::L4, &record).unwrap(),
        b"written under xchacha"
    );
    assert_eq!(
        decrypt_stream(&vault, "hukou", Grade::L4, &stream).unwrap(),
        data(9000, 2)
    );
}

#[test]
fn data_key_rotation_keeps_old_data_readable() {
    let f = fixture("rotate", Suite::XChaCha20Poly1305);
    let old = f.vault.encrypt("hukou", Grade::L4, b"old").unwrap();
    let old_stream = encrypt_stream(&f.vault, "hukou", Grade::L4, Suite::Sm4Gcm, &data(5000, 4));
    let v1 = Header::parse(&old).unwrap().0;
    let info = f.vault.rotate_key(&admin(), "hukou").unwrap();
    assert_eq!(info.version, 2);
    let new = f.vault.encrypt("hukou", Grade::L4, b"new").unwrap();
    let v2 = Header::parse(&new).unwrap().0;
    assert_eq!(v2.key_version(), 2);
    assert_ne!(v1.key_id(), v2.key_id());
    assert_eq!(v2.key_id(), info.id);
    assert_eq!(f.vault.decrypt("hukou", Grade::L4, &old).unwrap(), b"old");
    assert_eq!(f.vault.decrypt("hukou", Grade::L4, &new).unwrap(), b"new");
    assert_eq!(
        decrypt_stream(&f.vault, "hukou", Grade::L4, &old_stream).unwrap(),
        data(5000, 4)
    );
    let keys = f.vault.keys("hukou");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].status.as_str(), "retired");
    assert!(keys[0].retired.is_some());
    assert_eq!(keys[1].status.as_str(), "active");
}

#[test]
fn master_key_rotation_rewraps_keys_without_touching_data() {
    let f = fixture("master", Suite::XChaCha20Poly1305);
    let record = f.vault.encrypt("hukou", Grade::L4, b"kept").unwrap();
    let before = f.vault.status().unwrap();
    let wrapped_before = f.vault.wrapped_key_hex(&before.keys[0].id).unwrap();
    f.vault
        .rotate_master_key(
            &admin(),
            Box::new(MasterKey::with_suite(&OTHER_MASTER, Suite::Sm4Gcm).unwrap()),
        )
        .unwrap();
    let after = f.vault.status().unwrap();
    assert_ne!(after.master_key_id, before.master_key_id);
    assert_eq!(after.master_algorithm, "sm4-gcm");
    assert_ne!(
        f.vault.wrapped_key_hex(&before.keys[0].id).unwrap(),
        wrapped_before
    );
    assert_eq!(
        f.vault.decrypt("hukou", Grade::L4, &record).unwrap(),
        b"kept"
    );
    // Backups sealed by the old master key are gone; one under the new key remains.
    assert_eq!(after.backups, 1);
    let dir = f.dir();
    drop(f.vault);
    // The old master key no longer opens the store; the new one does, and the data
    // (never rewritten) still decrypts.
    let err = Vault::open(
        VaultConfig::new(&dir),
        Box::new(MasterKey::from_bytes(&MASTER).unwrap()),
        f.engine.clone(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "key_invalid");
    assert_eq!(Vault::store_algorithm(&dir).unwrap(), Suite::Sm4Gcm);
    let vault = Vault::open(
        VaultConfig::new(&dir),
        Box::new(MasterKey::with_suite(&OTHER_MASTER, Suite::Sm4Gcm).unwrap()),
        f.engine.clone(),
    )
    .unwrap();
    assert_eq!(vault.decrypt("hukou", Grade::L4, &record).unwrap(), b"kept");
}

#[test]
fn files_round_trip_with_progress() {
    let f = fixture("files", Suite::XChaCha20Poly1305);
    let input = f.scratch.path().join("in.bin");
    let sealed = f.scratch.path().join("in.bin.gdv");
    let output = f.scratch.path().join("out.bin");
    let pt = data(100_000, 5);
    std::fs::write(&input, &pt).unwrap();
    let seen = std::sync::atomic::AtomicU64::new(0);
    let progress = |n: u64| seen.store(n, std::sync::atomic::Ordering::Relaxed);
    f.vault
        .encrypt_file(
            "hukou",
            Grade::L4,
            Suite::XChaCha20Poly1305,
            &input,
            &sealed,
            Some(&progress),
        )
        .unwrap();
    assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), 100_000);
    f.vault
        .decrypt_file("hukou", Grade::L4, &sealed, &output, None)
        .unwrap();
    assert_eq!(std::fs::read(&output).unwrap(), pt);
    // No temporary files are left beside the outputs.
    let names: Vec<String> = std::fs::read_dir(f.scratch.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
}
