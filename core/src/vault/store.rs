//! The key store on disk: the wrapped data keys with their ids, versions, status and
//! times, authenticated as a whole by a MAC under the master key.
//!
//! ```text
//! DIR/keystore.json                      the live store
//! DIR/backups/keystore-<generation>.json copies of the last committed states
//! ```
//!
//! ```json
//! {"body": {"format": "govdata-vault-keystore", "version": 1,
//!           "master_key_id": "mk-…", "master_algorithm": "xchacha20poly1305",
//!           "generation": 7,
//!           "keys": [{"id": "dk-…", "dataset": "hukou", "version": 1,
//!                     "status": "active", "created": 1767225600,
//!                     "wrapped": "hex of nonce | wrapped key | tag"}]},
//!  "mac": "hex of the MAC of the body"}
//! ```
//!
//! Each wrapped key is bound to its id, dataset and version (associated data of the
//! wrap), so a wrapped key moved to another entry does not unwrap; the MAC over the
//! whole body catches every other edit, a removed entry, or a store swapped in from
//! another vault. Writes are crash-safe: a temporary file, fsync, rename over the
//! old file, fsync of the directory. Many processes may use one vault: each write
//! is a read-modify-write under the store's lock (`DIR/govdata.lock`, see
//! [`crate::lock`]) from the state on disk at that moment, so no process ever
//! writes over a key that another added; readers never need the lock, since the
//! live file is only ever replaced whole. A shred rewrites the store and every backup
//! without the destroyed keys and overwrites the old files' blocks with zeros.

use super::keys::KeyProvider;
use crate::disk;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

pub(crate) const STORE_FILE: &str = "keystore.json";
pub(crate) const BACKUP_DIR: &str = "backups";
const TEMP_SUFFIX: &str = ".tmp";
const FORMAT: &str = "govdata-vault-keystore";
const VERSION: u32 = 1;
/// How many committed states the vault keeps as backups.
pub(crate) const BACKUPS_KEPT: usize = 5;

/// The life of a data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    /// Encrypts new data and decrypts old data.
    Active,
    /// Replaced by a newer version: decrypts old data only.
    Retired,
    /// Crypto-shredded: the key is gone and its data is unreadable.
    Destroyed,
}

impl KeyStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Retired => "retired",
            KeyStatus::Destroyed => "destroyed",
        }
    }
}

/// One data key as the store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    pub id: String,
    pub dataset: String,
    pub version: u32,
    pub status: KeyStatus,
    pub created: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroyed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destroyed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrapped: Option<String>,
}

/// The authenticated part of the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Body {
    pub format: String,
    pub version: u32,
    pub master_key_id: String,
    pub master_algorithm: String,
    pub generation: u64,
    pub keys: Vec<Entry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    body: Body,
    mac: String,
}

impl Body {
    pub(crate) fn new(provider: &dyn KeyProvider) -> Body {
        Body {
            format: FORMAT.into(),
            version: VERSION,
            master_key_id: provider.key_id().to_owned(),
            master_algorithm: provider.algorithm().to_owned(),
            generation: 0,
            keys: Vec::new(),
        }
    }

    fn mac(&self, provider: &dyn KeyProvider) -> Result<String> {
        let bytes = serde_json::to_vec(self).map_err(|e| Error::request(e.to_string()))?;
        let mut data = b"govdata/vault/v1/keystore\0".to_vec();
        data.extend_from_slice(&bytes);
        Ok(hex::encode(provider.mac(&data)?))
    }

    /// The store file's bytes, MAC included.
    pub(crate) fn seal(&self, provider: &dyn KeyProvider) -> Result<Vec<u8>> {
        let file = StoreFile {
            body: self.clone(),
            mac: self.mac(provider)?,
        };
        let mut bytes =
            serde_json::to_vec_pretty(&file).map_err(|e| Error::request(e.to_string()))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Parses and authenticates a store file.
    pub(crate) fn open(bytes: &[u8], path: &Path, provider: &dyn KeyProvider) -> Result<Body> {
        let damaged = |what: &str| Error::CryptoAuthFailed {
            message: format!("key store `{}` {what}", path.display()),
        };
        let file: StoreFile =
            serde_json::from_slice(bytes).map_err(|_| damaged("is damaged (not a key store)"))?;
        if file.body.format != FORMAT || file.body.version != VERSION {
            return Err(damaged("has an unknown format or version"));
        }
        if file.body.master_key_id != provider.key_id() {
            return Err(Error::KeyInvalid {
                message: format!(
                    "the master key `{}` ({}) does not open key store `{}`, which is sealed by `{}` ({})",
                    provider.key_id(),
                    provider.algorithm(),
                    path.display(),
                    file.body.master_key_id,
                    file.body.master_algorithm
                ),
            });
        }
        let expected = file.body.mac(provider)?;
        let given = hex::decode(&file.mac).map_err(|_| damaged("has a malformed MAC"))?;
        let expected = hex::decode(expected).map_err(|_| damaged("has a malformed MAC"))?;
        if !ct_eq(&given, &expected) {
            return Err(damaged(
                "failed authentication: an entry was edited, removed, added or swapped",
            ));
        }
        Ok(file.body)
    }
}

/// Constant-time comparison of two MACs.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The associated data that binds a wrapped key to its entry.
pub(crate) fn wrap_context(id: &str, dataset: &str, version: u32) -> Vec<u8> {
    let mut ctx = b"govdata/vault/v1/data-key\0".to_vec();
    for part in [id.as_bytes(), dataset.as_bytes()] {
        ctx.extend_from_slice(&(part.len() as u32).to_be_bytes());
        ctx.extend_from_slice(part);
    }
    ctx.extend_from_slice(&version.to_be_bytes());
    ctx
}

pub(crate) fn store_path(dir: &Path) -> PathBuf {
    dir.join(STORE_FILE)
}

pub(crate) fn backup_dir(dir: &Path) -> PathBuf {
    dir.join(BACKUP_DIR)
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(TEMP_SUFFIX);
    path.with_file_name(name)
}

/// Fsyncs a directory so that a rename in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    disk::sync_dir(dir).map_err(|e| Error::io(dir, e))
}

/// Writes `bytes` to `path` crash-safely: temporary file, fsync, rename, fsync of the
/// directory. A crash leaves either the old file or the new one, never a mix. When
/// `scrub_old` is set, the replaced file's blocks are overwritten with zeros after the
/// rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], scrub_old: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = temp_path(path);
    {
        let f = disk::create_truncate(&tmp).map_err(|e| Error::io(&tmp, e))?;
        disk::write_at(&f, bytes, 0).map_err(|e| Error::io(&tmp, e))?;
        disk::sync_all(&f).map_err(|e| Error::io(&tmp, e))?;
    }
    // Keep a handle on the old file so its blocks can be wiped once it is replaced.
    let old = if scrub_old {
        OpenOptions::new().read(true).write(true).open(path).ok()
    } else {
        None
    };
    disk::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    sync_dir(dir)?;
    if let Some(old) = old {
        wipe(old, path)?;
    }
    Ok(())
}

/// Overwrites an open file's contents with zeros and syncs it.
fn wipe(file: File, path: &Path) -> Result<()> {
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let zeros = vec![0u8; 64 * 1024];
    let mut at = 0;
    while at < len {
        let n = (len - at).min(zeros.len() as u64) as usize;
        disk::write_at(&file, &zeros[..n], at).map_err(|e| Error::io(path, e))?;
        at += n as u64;
    }
    disk::sync_all(&file).map_err(|e| Error::io(path, e))
}

/// Overwrites a file with zeros, then removes it.
pub(crate) fn wipe_and_remove(path: &Path) -> Result<()> {
    if let Ok(f) = OpenOptions::new().read(true).write(true).open(path) {
        wipe(f, path)?;
    }
    match disk::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Reads and authenticates the live store. Needs no lock: the live file is only ever
/// replaced whole, by rename.
pub(crate) fn load(dir: &Path, provider: &dyn KeyProvider) -> Result<Body> {
    let path = store_path(dir);
    let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
    Body::open(&bytes, &path, provider)
}

/// Removes the temporary files that an interrupted write left (the rename never
/// happened, so the live files are intact). Only the writer, holding the store's
/// lock, may do this: another process's temporary file is its write in progress.
pub(crate) fn clean_temps(dir: &Path) -> Result<()> {
    let tmp = temp_path(&store_path(dir));
    if tmp.exists() {
        wipe_and_remove(&tmp)?;
    }
    let bdir = backup_dir(dir);
    let entries = match fs::read_dir(&bdir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&bdir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&bdir, e))?;
        if entry.file_name().to_string_lossy().ends_with(TEMP_SUFFIX) {
            wipe_and_remove(&entry.path())?;
        }
    }
    Ok(())
}

/// What identifies one version of the live store file: a commit replaces the file by
/// rename, so its identity changes with every commit by any process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    file: u64,
    device: u64,
    len: u64,
    modified_ns: i128,
}

/// The stamp of the live store file, if there is one.
pub(crate) fn stamp(dir: &Path) -> Option<Stamp> {
    let m = fs::metadata(store_path(dir)).ok()?;
    let modified_ns = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    #[cfg(unix)]
    let (file, device) = {
        use std::os::unix::fs::MetadataExt;
        (m.ino(), m.dev())
    };
    #[cfg(not(unix))]
    let (file, device) = (0, 0);
    Some(Stamp {
        file,
        device,
        len: m.len(),
        modified_ns,
    })
}

/// The generation recorded in the live store, without authenticating it (to detect a
/// concurrent writer before a commit).
pub(crate) fn disk_generation(dir: &Path) -> Option<u64> {
    let bytes = fs::read(store_path(dir)).ok()?;
    let file: StoreFile = serde_json::from_slice(&bytes).ok()?;
    Some(file.body.generation)
}

/// The backup files, oldest first.
pub(crate) fn backups(dir: &Path) -> Result<Vec<PathBuf>> {
    let bdir = backup_dir(dir);
    let mut found: Vec<(u64, PathBuf)> = Vec::new();
    let entries = match fs::read_dir(&bdir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(&bdir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&bdir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some(gen) = name
            .strip_prefix("keystore-")
            .and_then(|r| r.strip_suffix(".json"))
            .and_then(|g| g.parse::<u64>().ok())
        {
            found.push((gen, entry.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

/// Writes a backup of a committed state and keeps the last [`BACKUPS_KEPT`].
pub(crate) fn write_backup(dir: &Path, generation: u64, bytes: &[u8]) -> Result<()> {
    let bdir = backup_dir(dir);
    fs::create_dir_all(&bdir).map_err(|e| Error::io(&bdir, e))?;
    write_atomic(
        &bdir.join(format!("keystore-{generation:020}.json")),
        bytes,
        false,
    )?;
    let all = backups(dir)?;
    if all.len() > BACKUPS_KEPT {
        for old in &all[..all.len() - BACKUPS_KEPT] {
            wipe_and_remove(old)?;
        }
    }
    sync_dir(&bdir)
}
