//! The bodies of the fuzz targets: each takes arbitrary bytes, feeds them to one parser or
//! reader of the library and checks what must hold for any input.
//!
//! The libFuzzer targets in `fuzz/fuzz_targets/` call these functions, and the unit tests at
//! the end of this file replay every corpus file and every regression input of `fuzz/`
//! through the same functions, so a crash found once stays fixed without a sanitizer build.
//! Compiled for the library's own tests and behind the `fuzzing` feature; never part of a
//! release build.
//!
//! What every target checks besides "no panic": an error has a listed code and a message
//! that is one line without control characters and of bounded size (see [`crate::quote`]);
//! bytes changed in an authenticated file (vault ciphertext, key store, audit segment)
//! never read back as other data.

pub mod mask;
pub mod signed;

use crate::audit::{AuditLog, AuditOptions, AuditRecord, Event, SealingKey};
use crate::error::{Error, ERROR_CODES};
use crate::model::{Grade, Inventory};
use crate::policy::testing::TestSuite;
use crate::vault::{MasterKey, Operator, Vault, VaultConfig};
use crate::{Engine, PolicyPack};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The names of the targets, as the directories of `fuzz/corpus/` and `fuzz/fuzz_targets/`.
pub const TARGETS: &[&str] = &[
    "request",
    "inventory",
    "policy_pack",
    "audit_segment",
    "vault_file",
    "key_store",
    "test_file",
    "config",
    "bundle",
    "checkpoint",
    "mask",
    "watermark",
];

/// The largest message an error may render to, whatever the input.
pub const MESSAGE_LIMIT: usize = 16 * 1024;

/// Runs the target `name` on `data`. Returns false for an unknown name.
pub fn run(name: &str, data: &[u8]) -> bool {
    match name {
        "request" => request(data),
        "inventory" => inventory(data),
        "policy_pack" => policy_pack(data),
        "audit_segment" => audit_segment(data),
        "vault_file" => vault_file(data),
        "key_store" => key_store(data),
        "test_file" => test_file(data),
        "config" => signed::config(data),
        "bundle" => signed::bundle(data),
        "checkpoint" => signed::checkpoint(data),
        "mask" => mask::mask(data),
        "watermark" => mask::watermark(data),
        _ => return false,
    }
    true
}

/// Checks what every error must be: a listed code, one bounded line without controls.
pub fn check_error(e: &Error) {
    assert!(
        ERROR_CODES.contains(&e.code()),
        "unlisted code {}",
        e.code()
    );
    let m = e.to_string();
    assert!(m.len() <= MESSAGE_LIMIT, "a message of {} bytes", m.len());
    assert!(
        !m.chars().any(char::is_control),
        "a control character in {m:?}"
    );
}

fn checked<T>(r: crate::Result<T>) -> Option<T> {
    r.map_err(|e| check_error(&e)).ok()
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| match Engine::with_defaults() {
        Ok(e) => e,
        Err(e) => unreachable!("the default pack loads: {e}"),
    })
}

/// A request in the wire format (JSON), parsed and decided by the default engine.
pub fn request(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    checked(crate::Request::from_json_str(text));
    if let Some(d) = checked(engine().decide_json(text)) {
        assert!(
            d.allowed() || !d.reason_ids().is_empty(),
            "a deny with no reason"
        );
    }
}

/// An inventory document; one that loads is decided against.
pub fn inventory(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(inv) = checked(Inventory::from_json_str(text)) else {
        return;
    };
    let engine = Engine::new(engine().pack(), inv);
    checked(engine.decide_json(r#"{"principal":"zhang.san","action":"query","resource":"hukou"}"#));
}

/// A policy pack: `schema \0 policies` text, or policies alone beside the default schema.
/// Every `\0` after the first starts another policy file.
pub fn policy_pack(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (schema, policies) = match text.split_once('\0') {
        Some((s, p)) => (s, p),
        None => (crate::policy::DEFAULT_SCHEMA, text),
    };
    let files: Vec<(String, String)> = policies
        .split('\0')
        .enumerate()
        .map(|(i, p)| (format!("f{i}.cedar"), p.to_owned()))
        .collect();
    let Some(pack) = checked(PolicyPack::from_sources(
        ("schema.cedarschema", schema),
        &files,
    )) else {
        return;
    };
    if schema == crate::policy::DEFAULT_SCHEMA {
        let engine = Engine::new(pack, (*engine().inventory()).clone());
        checked(
            engine.decide_json(r#"{"principal":"li.si","action":"export","resource":"hukou"}"#),
        );
    }
}

/// Edits applied to authenticated bytes: each 5 bytes of input are a little-endian offset
/// (modulo the length) and a value that is XORed there, or, when 0, cuts the bytes there.
/// Returns whether the bytes changed.
fn apply_edits(bytes: &mut Vec<u8>, edits: &[u8]) -> bool {
    let original = bytes.clone();
    for e in edits.chunks_exact(5) {
        if bytes.is_empty() {
            break;
        }
        let at = u32::from_le_bytes([e[0], e[1], e[2], e[3]]) as usize % bytes.len();
        match e[4] {
            0 => bytes.truncate(at),
            x => bytes[at] ^= x,
        }
    }
    *bytes != original
}

/// The bytes a target reads: `rest` itself when `raw`, else `real` edited by `rest` (see
/// [`apply_edits`]); and whether edits changed them (never for raw bytes).
fn raw_or_edited(raw: bool, rest: &[u8], real: &[u8]) -> (Vec<u8>, bool) {
    if raw {
        return (rest.to_vec(), false);
    }
    let mut b = real.to_vec();
    let changed = apply_edits(&mut b, rest);
    (b, changed)
}

/// A directory under the temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "govdata-fuzz-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            unreachable!("cannot make {}: {e}", dir.display());
        }
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn must<T>(r: crate::Result<T>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => unreachable!("fuzz fixture: {what}: {e}"),
    }
}

const AUDIT_KEY: [u8; 32] = [0x42; 32];

/// A log of three records in one open segment: its directory's files and their payloads.
struct AuditFixture {
    _dir: Scratch,
    files: Vec<(String, Vec<u8>)>,
    segment: String,
    records: Vec<AuditRecord>,
}

fn audit_fixture() -> &'static AuditFixture {
    static FIXTURE: OnceLock<AuditFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = Scratch::new("audit-template");
        let log = must(
            AuditLog::open(
                &dir.0,
                SealingKey::from_bytes(AUDIT_KEY),
                AuditOptions::default(),
            ),
            "open the log",
        );
        for i in 0..3u64 {
            let e = Event::new("decision")
                .user(format!("user-{i}"))
                .field("n", i);
            must(log.append(&e), "append");
        }
        must(log.close(), "close the log");
        let records = must(log.records(), "read the log");
        drop(log);
        let mut files = Vec::new();
        let mut segment = String::new();
        for entry in std::fs::read_dir(&dir.0).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("seg-") {
                segment = name.clone();
            }
            if let Ok(bytes) = std::fs::read(entry.path()) {
                files.push((name, bytes));
            }
        }
        AuditFixture {
            _dir: dir,
            files,
            segment,
            records,
        }
    })
}

/// The open segment of a small log: the first byte picks raw bytes (even) or edits of the
/// real segment (odd); the log is then verified read-only and opened for appending.
/// Whatever verifies must be the log's own records, in order, from the first.
pub fn audit_segment(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let fx = audit_fixture();
    let dir = Scratch::new("audit");
    for (name, bytes) in &fx.files {
        let bytes = if *name == fx.segment {
            raw_or_edited(mode % 2 == 0, rest, bytes).0
        } else {
            bytes.clone()
        };
        if std::fs::write(dir.0.join(name), bytes).is_err() {
            return;
        }
    }
    let key = SealingKey::from_bytes(AUDIT_KEY);
    checked(AuditLog::verify_dir(&dir.0, &key, None));
    let mut read = Vec::new();
    let walked = AuditLog::read_dir(&dir.0, &key, |r| {
        read.push(r);
        Ok(())
    });
    if checked(walked).is_some() {
        assert!(
            read.len() <= fx.records.len(),
            "more records than were written"
        );
        assert_eq!(
            read,
            fx.records[..read.len()],
            "a record that was never written"
        );
    }
    if let Some(log) = checked(AuditLog::open(&dir.0, key, AuditOptions::default())) {
        checked(log.verify());
        checked(log.append(&Event::new("decision").user("after")));
        checked(log.verify());
    }
}

/// A vault holding keys for `hukou`, with a record and a stream ciphertext of it.
struct VaultFixture {
    _dir: Scratch,
    vault: Vault,
    plaintext: Vec<u8>,
    record: Vec<u8>,
    stream: Vec<u8>,
    store: Vec<u8>,
}

/// Two and a bit chunks of the smallest chunk size, so that a stream has several chunks.
fn plaintext() -> Vec<u8> {
    b"the household register of one district, 2026; "
        .iter()
        .copied()
        .cycle()
        .take(9000)
        .collect()
}
const VAULT_MASTER: [u8; 32] = [0x24; 32];

fn vault_fixture() -> &'static VaultFixture {
    static FIXTURE: OnceLock<VaultFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = Scratch::new("vault-template");
        let config = VaultConfig::new(dir.0.join("vault")).with_chunk_size(4096);
        let authorizer = Arc::new(must(Engine::with_defaults(), "the default engine"));
        let admin = Operator::new("key.admin");
        let vault = must(
            Vault::init(
                config,
                Box::new(must(MasterKey::from_bytes(&VAULT_MASTER), "key")),
                authorizer,
                &admin,
            ),
            "init the vault",
        );
        must(vault.rotate_key(&admin, "hukou"), "make a key");
        let plaintext = plaintext();
        let record = must(vault.encrypt("hukou", Grade::L3, &plaintext), "encrypt");
        let mut stream = Vec::new();
        must(
            vault.encrypt_stream(
                "hukou",
                Grade::L3,
                vault.config().default_suite,
                &mut &plaintext[..],
                &mut stream,
                None,
            ),
            "encrypt a stream",
        );
        let store = std::fs::read(vault.store_path()).unwrap_or_default();
        VaultFixture {
            _dir: dir,
            vault,
            plaintext,
            record,
            stream,
            store,
        }
    })
}

/// A vault ciphertext: the first byte picks raw bytes (0 mod 3), edits of a record
/// ciphertext (1) or of a stream of three chunks (2). Edited bytes never decrypt, raw
/// bytes never decrypt to anything but the one plaintext.
pub fn vault_file(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let fx = vault_fixture();
    let real = if mode % 3 == 1 {
        &fx.record
    } else {
        &fx.stream
    };
    let (bytes, changed) = raw_or_edited(mode % 3 == 0, rest, real);
    checked(crate::vault::Header::parse(&bytes));
    for grade in [Grade::L3, Grade::L4] {
        if let Some(pt) = checked(fx.vault.decrypt("hukou", grade, &bytes)) {
            assert!(!changed, "edited ciphertext decrypted");
            assert_eq!(pt, fx.plaintext, "decrypted to other data");
        }
        let mut out = Vec::new();
        if checked(
            fx.vault
                .decrypt_stream("hukou", grade, &mut &bytes[..], &mut out, None),
        )
        .is_some()
        {
            assert!(!changed, "an edited stream decrypted");
            assert_eq!(out, fx.plaintext, "a stream decrypted to other data");
        }
    }
}

/// The key store file: the first byte picks raw bytes (even) or edits of a real store
/// (odd). Edited bytes authenticate only as the very same store (the MAC covers the
/// store's content, not its layout: a cut final newline is no change).
pub fn key_store(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let fx = vault_fixture();
    let (bytes, changed) = raw_or_edited(mode % 2 == 0, rest, &fx.store);
    let key = must(MasterKey::from_bytes(&VAULT_MASTER), "key");
    let path = Path::new("keystore.json");
    if let Some(body) = checked(crate::vault::store::Body::open(&bytes, path, &key)) {
        let same = checked(body.seal(&key)).is_some_and(|b| b == fx.store);
        assert!(
            same || !changed,
            "an edited key store authenticated as another store"
        );
    }
}

/// A policy test file (a suite, or one vector), run against the default pack with the
/// inventories of the repository.
pub fn test_file(data: &[u8]) {
    let dir = Scratch::new("testfile");
    let path = dir.0.join("case.json");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let Some(suite) = checked(TestSuite::from_file(&path)) else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    checked(suite.run(&engine().pack(), &root));
}

#[cfg(test)]
mod replay {
    use super::*;

    /// The files of `fuzz/<kind>/<target>/`, sorted.
    fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fuzz")
            .join(kind)
            .join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
    }

    #[test]
    fn every_corpus_file_and_regression_input_replays_without_a_crash() {
        for target in TARGETS {
            let corpus = inputs("corpus", target);
            assert!(!corpus.is_empty(), "no seed corpus for {target}");
            for file in corpus.iter().chain(inputs("regressions", target).iter()) {
                let data = std::fs::read(file).unwrap();
                assert!(run(target, &data), "unknown target {target}");
            }
        }
    }

    #[test]
    fn edited_authenticated_bytes_are_refused_by_the_checks_themselves() {
        let fx = vault_fixture();
        let mut flipped = fx.record.clone();
        assert!(apply_edits(&mut flipped, &[3, 0, 0, 0, 0x80]));
        assert_eq!(
            fx.vault
                .decrypt("hukou", Grade::L3, &flipped)
                .unwrap_err()
                .code(),
            "crypto_auth_failed"
        );
        assert_eq!(
            fx.vault.decrypt("hukou", Grade::L3, &fx.record).unwrap(),
            fx.plaintext
        );
        assert!(!run("no-such-target", b""));
    }
}
