//! Helpers shared by the audit tests.
#![allow(dead_code)]

use govdata::audit::{Event, SealingKey};
use govdata::{Action, Resource};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub const KEY: [u8; 32] = [0x42; 32];

pub fn key() -> SealingKey {
    SealingKey::from_bytes(KEY)
}

/// A directory under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!(
            "govdata-{tag}-{}-{n}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A decision-like event of about 200 bytes of payload.
pub fn sample_event(i: u64) -> Event {
    let users = [
        "zhang.san",
        "li.si",
        "wang.wu",
        "zhao.liu",
        "huzheng.analyst",
    ];
    let depts = ["gongan", "gongan", "renshe", "renshe", "gongan-huzheng"];
    let k = (i % 5) as usize;
    let mut e = Event::new("decision")
        .user(users[k])
        .department(depts[k])
        .action(if i.is_multiple_of(3) {
            Action::Export
        } else {
            Action::Query
        })
        .resource(Resource::dataset(if i.is_multiple_of(2) {
            "hukou"
        } else {
            "social-insurance"
        }));
    e.decision = Some(if i.is_multiple_of(4) {
        govdata::audit::Verdict::Deny
    } else {
        govdata::audit::Verdict::Allow
    });
    e.policies = vec!["art13-purpose-limited".into()];
    e.policy_version = Some("sha256:5f1c0e8a".into());
    e.field("n", i)
}

/// The frames of a segment file: (offset, length, kind, seq). They end where the
/// file does or where its zero padding begins (a frame's kind byte is never zero).
pub fn frames(bytes: &[u8]) -> Vec<(usize, usize, u8, u64)> {
    let mut out = Vec::new();
    let mut off = 112;
    while off + 13 <= bytes.len() && bytes[off..off + 13] != [0; 13] {
        let len = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize + 49;
        if off + len > bytes.len() {
            break;
        }
        let kind = bytes[off + 4];
        let seq = u64::from_le_bytes(bytes[off + 5..off + 13].try_into().unwrap());
        out.push((off, len, kind, seq));
        off += len;
    }
    out
}

/// Recomputes a frame's CRC after the test changed it (an attacker would).
pub fn fix_crc(frame: &mut [u8]) {
    let n = frame.len();
    let crc = crc32(&frame[..n - 4]);
    frame[n - 4..].copy_from_slice(&crc.to_le_bytes());
}

/// CRC-32 (IEEE), bitwise: the tests do not trust the crate they test.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Where the records (and seal) of a segment file end: its padding begins there.
pub fn data_end(bytes: &[u8]) -> usize {
    frames(bytes)
        .last()
        .map_or(112, |&(off, len, _, _)| off + len)
}

/// Every file of a log directory, by name.
/// Makes a log closed in a test look as a crash leaves it: a writer that was killed
/// left no checkpoint of what it acknowledged (`audit.head`, written at close).
pub fn as_after_a_crash(dir: &Path) {
    match std::fs::remove_file(dir.join("audit.head")) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("{e}"),
    }
}

pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Replaces the directory's files by `files`.
pub fn lay(dir: &Path, files: &[(String, Vec<u8>)]) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_file() {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
