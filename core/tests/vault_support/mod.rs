//! Shared set-up of the vault tests: a scratch directory, an engine with the default
//! pack and the example inventory, and a vault in between.

#![allow(dead_code, reason = "each test binary uses a different part")]
#![allow(
    clippy::unwrap_used,
    reason = "test set-up outside #[test] functions fails loudly"
)]

use govdata::vault::{MasterKey, MemoryKeyEventSink, Operator, Suite, Vault, VaultConfig};
use govdata::Engine;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A directory removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "govdata-vault-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const MASTER: [u8; 32] = [0x42; 32];
pub const OTHER_MASTER: [u8; 32] = [0x24; 32];

/// One engine per test binary: loading the pack is the slow part of a fixture.
pub fn engine() -> Arc<Engine> {
    static ENGINE: std::sync::OnceLock<Arc<Engine>> = std::sync::OnceLock::new();
    ENGINE
        .get_or_init(|| Arc::new(Engine::with_defaults().unwrap()))
        .clone()
}

pub fn admin() -> Operator {
    Operator::new("key.admin")
}

pub struct Fixture {
    pub scratch: Scratch,
    pub vault: Vault,
    pub sink: Arc<MemoryKeyEventSink>,
    pub engine: Arc<Engine>,
}

impl Fixture {
    pub fn dir(&self) -> PathBuf {
        self.scratch.path().join("vault")
    }
}

/// A fresh vault with 4 KiB chunks (so that small inputs span many chunks and
/// batches), `suite` as default, and keys for `social-insurance` and `hukou`.
pub fn fixture(tag: &str, suite: Suite) -> Fixture {
    let scratch = Scratch::new(tag);
    let sink = Arc::new(MemoryKeyEventSink::new());
    let engine = engine();
    let config = VaultConfig::new(scratch.path().join("vault"))
        .with_suite(suite)
        .with_chunk_size(4096)
        .with_sink(sink.clone());
    let vault = Vault::init(
        config,
        Box::new(MasterKey::with_suite(&MASTER, suite).unwrap()),
        engine.clone(),
        &admin(),
    )
    .unwrap();
    vault.rotate_key(&admin(), "social-insurance").unwrap();
    vault.rotate_key(&admin(), "hukou").unwrap();
    Fixture {
        scratch,
        vault,
        sink,
        engine,
    }
}

/// Deterministic test data.
pub fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(7) as u8 ^ seed)
        .collect()
}

pub fn encrypt_stream(
    v: &Vault,
    dataset: &str,
    grade: govdata::model::Grade,
    suite: Suite,
    pt: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    let n = v
        .encrypt_stream(dataset, grade, suite, &mut &pt[..], &mut out, None)
        .unwrap();
    assert_eq!(n, pt.len() as u64);
    out
}

pub fn decrypt_stream(
    v: &Vault,
    dataset: &str,
    grade: govdata::model::Grade,
    ct: &[u8],
) -> govdata::Result<Vec<u8>> {
    let mut out = Vec::new();
    let n = v.decrypt_stream(dataset, grade, &mut &ct[..], &mut out, None)?;
    assert_eq!(n, out.len() as u64);
    Ok(out)
}
