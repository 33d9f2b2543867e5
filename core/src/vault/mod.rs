//! The vault: encryption at rest (Art. 7), key rotation and crypto-shredding (Art. 15).
//!
//! It owns envelope encryption — a data key per dataset, wrapped by a master key that
//! the host supplies through a [`KeyProvider`] — the key store on disk, the ciphertext
//! formats of records and of streamed files, and the key operations: creating and
//! rotating data keys, rotating the master key, shredding a dataset's keys. Every key
//! operation is first decided by the policies (`manage_keys`, through a
//! [`KeyAuthorizer`], which [`crate::Engine`] implements) and then recorded as a
//! [`KeyEvent`] in a [`KeyEventSink`] (the audit log). What cannot be recorded does not
//! happen.
//!
//! It must not log, format or persist key material unwrapped, return or write
//! plaintext that has not been authenticated, or decide access to the data itself:
//! whether a user may read a dataset is the engine's question (`query`, `export` …),
//! asked by the host before it calls [`Vault::decrypt`].
//!
//! ```
//! use govdata::vault::{MasterKey, MemoryKeyEventSink, Operator, Vault, VaultConfig};
//! use govdata::{model::Grade, Engine};
//! use std::sync::Arc;
//!
//! let dir = std::env::temp_dir().join(format!("govdata-doc-{}", std::process::id()));
//! let engine = Arc::new(Engine::with_defaults()?);
//! let master = MasterKey::from_bytes(&[7u8; 32])?;
//! let admin = Operator::new("key.admin");
//! let vault = Vault::init(VaultConfig::new(&dir), Box::new(master), engine, &admin)?;
//! vault.rotate_key(&admin, "social-insurance")?;
//!
//! let sealed = vault.encrypt("social-insurance", Grade::L3, b"an insured person")?;
//! assert_eq!(vault.decrypt("social-insurance", Grade::L3, &sealed)?, b"an insured person");
//! assert_eq!(vault.decrypt("social-insurance", Grade::L4, &sealed).unwrap_err().code(),
//!            "crypto_auth_failed");
//!
//! vault.shred(&admin, "social-insurance")?;
//! assert_eq!(vault.decrypt("social-insurance", Grade::L3, &sealed).unwrap_err().code(),
//!            "key_destroyed");
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), govdata::Error>(())
//! ```

mod events;
mod format;
mod keys;
pub(crate) mod store;
mod suite;

pub use events::{
    Authorization, KeyAuthorizer, KeyEvent, KeyEventSink, KeyOperation, MemoryKeyEventSink,
    Operator,
};
pub use format::{Header, Progress, DEFAULT_CHUNK_SIZE, FORMAT_VERSION};
pub use keys::{KeyProvider, MasterKey, SecretKey, KEY_LEN};
pub use store::KeyStatus;
pub use suite::{Suite, TAG_LEN};

use crate::engine::Resource;
use crate::error::{Error, Result};
use crate::lock::{StoreLock, DEFAULT_LOCK_WAIT};
use crate::model::Grade;
use format::{Sealer, MAX_CHUNK_LOG2, MIN_CHUNK_LOG2};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;
use store::{Body, Entry};

/// How a vault is set up: where its key store lives and what it uses by default.
#[derive(Clone)]
pub struct VaultConfig {
    /// The vault directory (the key store and its backups).
    pub dir: PathBuf,
    /// The suite new data is encrypted with.
    pub default_suite: Suite,
    /// The chunk size of streamed files: a power of two from 4 KiB to 16 MiB.
    pub chunk_size: usize,
    /// The system whose keys the store-wide operations (init, master key rotation)
    /// manage, as named in the inventory.
    pub system: String,
    /// Where key events are recorded (the audit log). Without one, key operations are
    /// decided but not recorded.
    pub sink: Option<Arc<dyn KeyEventSink>>,
    /// How long a write of the key store waits for another process's write to end
    /// before failing with `store_locked`.
    pub lock_wait: Duration,
}

impl fmt::Debug for VaultConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultConfig")
            .field("dir", &self.dir)
            .field("default_suite", &self.default_suite)
            .field("chunk_size", &self.chunk_size)
            .field("system", &self.system)
            .field("sink", &self.sink.is_some())
            .field("lock_wait", &self.lock_wait)
            .finish()
    }
}

impl VaultConfig {
    /// The defaults: XChaCha20-Poly1305, 64 KiB chunks, system `platform`, no sink.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        VaultConfig {
            dir: dir.into(),
            default_suite: Suite::default(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            system: "platform".into(),
            sink: None,
            lock_wait: DEFAULT_LOCK_WAIT,
        }
    }

    /// Sets how long a write waits for another process's (see [`VaultConfig::lock_wait`]).
    pub fn with_lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// Sets the suite new data is encrypted with.
    pub fn with_suite(mut self, suite: Suite) -> Self {
        self.default_suite = suite;
        self
    }

    /// Sets the chunk size of streamed files.
    pub fn with_chunk_size(mut self, chunk_size: usize) -> Self {
        self.chunk_size = chunk_size;
        self
    }

    /// Sets the sink of key events.
    pub fn with_sink(mut self, sink: Arc<dyn KeyEventSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    fn check(&self) -> Result<()> {
        let c = self.chunk_size;
        let ok = c.is_power_of_two() && (1 << MIN_CHUNK_LOG2..=1 << MAX_CHUNK_LOG2).contains(&c);
        if ok {
            Ok(())
        } else {
            Err(Error::request(format!(
                "chunk size {c} must be a power of two from 4096 to 16777216"
            )))
        }
    }
}

/// A data key as [`Vault::status`] shows it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// The key id, as it appears in ciphertext headers.
    pub id: String,
    /// The dataset the key belongs to.
    pub dataset: String,
    /// Its version within the dataset, from 1.
    pub version: u32,
    /// Active, retired or destroyed.
    pub status: KeyStatus,
    /// When it was made (RFC 3339, UTC).
    pub created: String,
    /// When a newer version replaced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retired: Option<String>,
    /// When it was shredded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destroyed: Option<String>,
    /// Who shredded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destroyed_by: Option<String>,
}

/// The state of a vault: its master key's fingerprint and every data key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VaultStatus {
    /// The fingerprint of the master key the store is sealed with.
    pub master_key_id: String,
    /// The master key's wrapping algorithm.
    pub master_algorithm: String,
    /// The suite new data is encrypted with.
    pub default_suite: String,
    /// Bumped by every write of the key store.
    pub generation: u64,
    /// How many backups of the key store the vault keeps now.
    pub backups: usize,
    /// Every data key, in the order they were made.
    pub keys: Vec<KeyInfo>,
}

/// What a shred destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShredReport {
    /// The dataset.
    pub dataset: String,
    /// The ids of the keys destroyed.
    pub key_ids: Vec<String>,
    /// The key store backups rewritten without them.
    pub backups_scrubbed: usize,
    /// The audit sequence number of the shred's key event, if recorded.
    pub event_seq: Option<u64>,
}

struct State {
    body: Body,
    /// The live file `body` was read from (or written as); another process's commit
    /// changes it.
    stamp: Option<store::Stamp>,
    /// Unwrapped data keys by id; dropping one wipes it.
    cache: HashMap<String, SecretKey>,
}

impl State {
    fn new(body: Body, stamp: Option<store::Stamp>) -> State {
        State {
            body,
            stamp,
            cache: HashMap::new(),
        }
    }
}

/// Envelope encryption for the datasets of the platform. `Send + Sync`.
pub struct Vault {
    config: VaultConfig,
    provider: RwLock<Box<dyn KeyProvider>>,
    authorizer: Arc<dyn KeyAuthorizer>,
    state: Mutex<State>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// RFC 3339 in UTC for Unix seconds.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

fn new_key_id() -> Result<String> {
    let mut raw = [0u8; 12];
    keys::fill_random(&mut raw)?;
    Ok(format!("dk-{}", hex::encode(raw)))
}

impl Vault {
    /// Creates a key store in `config.dir` (made if missing), sealed by `provider`'s
    /// master key. Decided as `manage_keys` on the configured system and recorded.
    /// Refuses a directory that already holds a key store.
    pub fn init(
        config: VaultConfig,
        provider: Box<dyn KeyProvider>,
        authorizer: Arc<dyn KeyAuthorizer>,
        operator: &Operator,
    ) -> Result<Vault> {
        config.check()?;
        let path = store::store_path(&config.dir);
        let resource = Resource::system(&config.system);
        let auth = events::authorize(authorizer.as_ref(), operator, &resource)?;
        fs::create_dir_all(&config.dir).map_err(|e| Error::io(&config.dir, e))?;
        let _writing = StoreLock::acquire(&config.dir, "key store", config.lock_wait)?;
        if path.exists() {
            return Err(Error::io(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "a key store is already there",
                ),
            ));
        }
        store::clean_temps(&config.dir)?;
        let body = Body::new(provider.as_ref());
        let vault = Vault {
            state: Mutex::new(State::new(Body::new(provider.as_ref()), None)),
            config,
            provider: RwLock::new(provider),
            authorizer,
        };
        let event = vault.event(KeyOperation::InitStore, operator, &auth, None, Vec::new());
        {
            let mut state = vault.lock();
            vault.commit(&mut state, body, Some(&event), false)?;
        }
        Ok(vault)
    }

    /// Opens the key store in `config.dir` and authenticates it under `provider`.
    ///
    /// A store sealed by another master key is `key_invalid`; an edited, truncated or
    /// swapped store is `crypto_auth_failed`.
    pub fn open(
        config: VaultConfig,
        provider: Box<dyn KeyProvider>,
        authorizer: Arc<dyn KeyAuthorizer>,
    ) -> Result<Vault> {
        config.check()?;
        let stamp = store::stamp(&config.dir);
        let body = store::load(&config.dir, provider.as_ref())?;
        Ok(Vault {
            state: Mutex::new(State::new(body, stamp)),
            config,
            provider: RwLock::new(provider),
            authorizer,
        })
    }

    /// The wrapping algorithm recorded in a key store, read without authenticating it:
    /// tells the host which suite to build the [`MasterKey`] with.
    pub fn store_algorithm(dir: impl AsRef<Path>) -> Result<Suite> {
        let path = store::store_path(dir.as_ref());
        let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| Error::CryptoAuthFailed {
                message: format!(
                    "key store `{}` is damaged (not a key store)",
                    path.display()
                ),
            })?;
        value["body"]["master_algorithm"]
            .as_str()
            .unwrap_or_default()
            .parse()
    }

    /// The configuration.
    pub fn config(&self) -> &VaultConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state as the live file holds it now: reread when another process (or
    /// another handle) committed since this one last looked. Takes no lock on the
    /// store: the file is only ever replaced whole.
    fn current(&self) -> Result<MutexGuard<'_, State>> {
        let mut state = self.lock();
        self.refresh(&mut state)?;
        Ok(state)
    }

    /// The store's lock and its state read afresh under it, for a read-modify-write:
    /// a change computed from this state cannot overwrite another process's.
    fn writing(&self) -> Result<(StoreLock, MutexGuard<'_, State>)> {
        let lock = StoreLock::acquire(&self.config.dir, "key store", self.config.lock_wait)?;
        store::clean_temps(&self.config.dir)?;
        let mut state = self.lock();
        self.refresh(&mut state)?;
        Ok((lock, state))
    }

    fn refresh(&self, state: &mut State) -> Result<()> {
        let stamp = store::stamp(&self.config.dir);
        if stamp.is_some() && stamp == state.stamp {
            return Ok(());
        }
        let body = self.with_provider(|p| store::load(&self.config.dir, p))?;
        // Keys destroyed elsewhere leave this process's memory too.
        state
            .cache
            .retain(|id, _| body.keys.iter().any(|k| &k.id == id && k.wrapped.is_some()));
        state.body = body;
        state.stamp = stamp;
        Ok(())
    }

    fn with_provider<T>(&self, f: impl FnOnce(&dyn KeyProvider) -> Result<T>) -> Result<T> {
        let guard = self.provider.read().unwrap_or_else(|p| p.into_inner());
        f(guard.as_ref())
    }

    fn event(
        &self,
        operation: KeyOperation,
        operator: &Operator,
        auth: &Authorization,
        dataset: Option<&str>,
        key_ids: Vec<String>,
    ) -> KeyEvent {
        let master_key_id = self.with_provider(|p| Ok(p.key_id().to_owned()));
        KeyEvent {
            time: now(),
            operation,
            dataset: dataset.map(str::to_owned),
            key_ids,
            operator: operator.id().to_owned(),
            witness: operator.witness().map(str::to_owned),
            policy_version: auth.policy_version.clone(),
            decision_seq: auth.audit_seq,
            master_key_id: master_key_id.unwrap_or_default(),
        }
    }

    /// Writes `next` as the new store: records the event first (what cannot be
    /// recorded does not happen), then the crash-safe write, then a backup.
    fn commit(
        &self,
        state: &mut State,
        mut next: Body,
        event: Option<&KeyEvent>,
        scrub: bool,
    ) -> Result<Option<u64>> {
        let dir = &self.config.dir;
        if let Some(on_disk) = store::disk_generation(dir) {
            if on_disk != state.body.generation {
                return Err(Error::Io {
                    path: store::store_path(dir).display().to_string(),
                    source: std::io::Error::other(
                        "the key store was changed by another process; open it again",
                    ),
                });
            }
        }
        next.generation = state.body.generation + 1;
        let bytes = self.with_provider(|p| next.seal(p))?;
        let seq = match (event, &self.config.sink) {
            (Some(event), Some(sink)) => {
                Some(
                    sink.record_key_event(event)
                        .map_err(|e| Error::AuditUnavailable {
                            message: format!(
                                "the key event cannot be recorded, nothing was changed: {e}"
                            ),
                        })?,
                )
            }
            _ => None,
        };
        store::write_atomic(&store::store_path(dir), &bytes, scrub)?;
        state.body = next;
        state.stamp = store::stamp(dir);
        store::write_backup(dir, state.body.generation, &bytes)?;
        Ok(seq)
    }

    fn entry_key(&self, state: &mut State, index: usize) -> Result<()> {
        let entry = &state.body.keys[index];
        if state.cache.contains_key(&entry.id) {
            return Ok(());
        }
        let Some(wrapped) = &entry.wrapped else {
            return Err(Error::KeyDestroyed {
                dataset: entry.dataset.clone(),
            });
        };
        let wrapped = hex::decode(wrapped).map_err(|_| Error::CryptoAuthFailed {
            message: format!(
                "the wrapped key `{}` is malformed",
                crate::quote::quote(&entry.id)
            ),
        })?;
        let ctx = store::wrap_context(&entry.id, &entry.dataset, entry.version);
        let key = self.with_provider(|p| p.unwrap(&wrapped, &ctx))?;
        state.cache.insert(entry.id.clone(), key);
        Ok(())
    }

    /// A sealer for new data of `dataset` under its active key.
    fn sealer_for_new(
        &self,
        dataset: &str,
        grade: Grade,
        stream: bool,
        suite: Suite,
    ) -> Result<(Header, Sealer)> {
        let mut state = self.current()?;
        let keys = &state.body.keys;
        let active = keys
            .iter()
            .position(|k| k.dataset == dataset && k.status == KeyStatus::Active);
        let Some(index) = active else {
            if keys.iter().any(|k| k.dataset == dataset) {
                return Err(Error::KeyDestroyed {
                    dataset: dataset.to_owned(),
                });
            }
            return Err(Error::KeyNotFound {
                id: dataset.to_owned(),
            });
        };
        self.entry_key(&mut state, index)?;
        let entry = &state.body.keys[index];
        let header = Header::new(
            stream,
            suite,
            self.config.chunk_size,
            entry.version,
            &entry.id,
        )?;
        let key = state
            .cache
            .get(&entry.id)
            .ok_or_else(|| Error::KeyNotFound {
                id: entry.id.clone(),
            })?;
        let sealer = Sealer::new(&header, key, dataset, grade)?;
        Ok((header, sealer))
    }

    /// A sealer for existing data of `dataset` with this header.
    fn sealer_for(&self, dataset: &str, grade: Grade, header: &Header) -> Result<Sealer> {
        let mut state = self.current()?;
        let keys = &state.body.keys;
        let index = match keys.iter().position(|k| k.id == header.key_id) {
            Some(i) if keys[i].dataset == dataset => i,
            Some(_) => {
                return Err(Error::CryptoAuthFailed {
                    message: format!(
                        "the ciphertext was not encrypted for dataset `{}`",
                        crate::quote::quote(dataset)
                    ),
                })
            }
            None if keys.iter().any(|k| k.dataset == dataset) => {
                return Err(Error::CryptoAuthFailed {
                    message: format!(
                        "the ciphertext names a data key that dataset `{}` never had",
                        crate::quote::quote(dataset)
                    ),
                })
            }
            None => {
                return Err(Error::KeyNotFound {
                    id: header.key_id.clone(),
                })
            }
        };
        if keys[index].version != header.key_version {
            return Err(Error::CryptoAuthFailed {
                message: "the ciphertext header names the wrong key version".into(),
            });
        }
        if keys[index].status == KeyStatus::Destroyed {
            return Err(Error::KeyDestroyed {
                dataset: dataset.to_owned(),
            });
        }
        self.entry_key(&mut state, index)?;
        let key = state
            .cache
            .get(&header.key_id)
            .ok_or_else(|| Error::KeyNotFound {
                id: header.key_id.clone(),
            })?;
        Sealer::new(header, key, dataset, grade)
    }

    /// Encrypts a record of `dataset` under its active data key with the default suite.
    pub fn encrypt(&self, dataset: &str, grade: Grade, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.encrypt_with(dataset, grade, self.config.default_suite, plaintext)
    }

    /// Encrypts a record with a chosen suite.
    pub fn encrypt_with(
        &self,
        dataset: &str,
        grade: Grade,
        suite: Suite,
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let (header, sealer) = self.sealer_for_new(dataset, grade, false, suite)?;
        format::seal_record(&header, &sealer, plaintext)
    }

    /// Decrypts a record of `dataset` and `grade`, whatever suite and key version it was
    /// encrypted with. `crypto_auth_failed` for any change, or for a record of another
    /// dataset or grade; `key_destroyed` once the dataset is shredded.
    pub fn decrypt(&self, dataset: &str, grade: Grade, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let (header, len) = Header::parse(ciphertext)?;
        if header.is_stream() {
            return Err(Error::CryptoAuthFailed {
                message: "a stream, not a record: decrypt it as a stream".into(),
            });
        }
        let sealer = self.sealer_for(dataset, grade, &header)?;
        format::open_record(&sealer, ciphertext, len)
    }

    /// Encrypts everything `reader` yields into `writer` as a chunked stream, in
    /// constant memory, with the chunks spread over the thread pool. Returns the
    /// number of plaintext bytes.
    pub fn encrypt_stream(
        &self,
        dataset: &str,
        grade: Grade,
        suite: Suite,
        reader: &mut (dyn Read + Send),
        writer: &mut (dyn Write + Send),
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        let (header, sealer) = self.sealer_for_new(dataset, grade, true, suite)?;
        format::seal_stream(&header, &sealer, reader, writer, progress)
    }

    /// Decrypts a stream into `writer`; returns the number of plaintext bytes.
    ///
    /// Every chunk is authenticated before it is written, but a stream cut short at a
    /// chunk boundary shows only at its end: on error, discard what was written.
    /// [`Vault::decrypt_file`] does that for you.
    pub fn decrypt_stream(
        &self,
        dataset: &str,
        grade: Grade,
        reader: &mut (dyn Read + Send),
        writer: &mut (dyn Write + Send),
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        let header = Header::read_from(reader)?;
        if !header.is_stream() {
            return Err(Error::CryptoAuthFailed {
                message: "a record, not a stream: decrypt it as a record".into(),
            });
        }
        let sealer = self.sealer_for(dataset, grade, &header)?;
        format::open_stream(&header, &sealer, reader, writer, progress)
    }

    /// Encrypts the file `input` into `output` (written under a temporary name, synced
    /// and renamed into place).
    pub fn encrypt_file(
        &self,
        dataset: &str,
        grade: Grade,
        suite: Suite,
        input: &Path,
        output: &Path,
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        let mut reader =
            BufReader::with_capacity(1 << 16, File::open(input).map_err(|e| Error::io(input, e))?);
        with_temp_output(output, |w| {
            self.encrypt_stream(dataset, grade, suite, &mut reader, w, progress)
        })
    }

    /// Decrypts the file `input` into `output`. The plaintext goes to a temporary file
    /// beside `output` that is renamed into place only when the whole stream
    /// authenticated; on any failure it is removed and `output` is not created.
    pub fn decrypt_file(
        &self,
        dataset: &str,
        grade: Grade,
        input: &Path,
        output: &Path,
        progress: Option<Progress<'_>>,
    ) -> Result<u64> {
        let mut reader =
            BufReader::with_capacity(1 << 16, File::open(input).map_err(|e| Error::io(input, e))?);
        with_temp_output(output, |w| {
            self.decrypt_stream(dataset, grade, &mut reader, w, progress)
        })
    }

    /// Makes a new data key for `dataset` and makes it the one new data uses; the
    /// previous key, if any, is retired and still decrypts old data. The first call for
    /// a dataset creates its first key. Decided as `manage_keys` on the dataset.
    pub fn rotate_key(&self, operator: &Operator, dataset: &str) -> Result<KeyInfo> {
        let auth = events::authorize(
            self.authorizer.as_ref(),
            operator,
            &Resource::dataset(dataset),
        )?;
        let (_writing, mut state) = self.writing()?;
        let mut next = state.body.clone();
        let time = now();
        let version = next
            .keys
            .iter()
            .filter(|k| k.dataset == dataset)
            .map(|k| k.version)
            .max()
            .unwrap_or(0)
            + 1;
        for k in next.keys.iter_mut() {
            if k.dataset == dataset && k.status == KeyStatus::Active {
                k.status = KeyStatus::Retired;
                k.retired = Some(time);
            }
        }
        let id = new_key_id()?;
        let key = SecretKey::random()?;
        let ctx = store::wrap_context(&id, dataset, version);
        let wrapped = self.with_provider(|p| p.wrap(&key, &ctx))?;
        let entry = Entry {
            id: id.clone(),
            dataset: dataset.to_owned(),
            version,
            status: KeyStatus::Active,
            created: time,
            retired: None,
            destroyed: None,
            destroyed_by: None,
            wrapped: Some(hex::encode(wrapped)),
        };
        let info = key_info(&entry);
        next.keys.push(entry);
        let op = if version == 1 {
            KeyOperation::CreateKey
        } else {
            KeyOperation::RotateKey
        };
        let event = self.event(op, operator, &auth, Some(dataset), vec![id.clone()]);
        self.commit(&mut state, next, Some(&event), false)?;
        state.cache.insert(id, key);
        Ok(info)
    }

    /// The active key of `dataset`, made first (as [`Vault::rotate_key`] does) if the
    /// dataset has none and was never shredded.
    pub fn ensure_key(&self, operator: &Operator, dataset: &str) -> Result<KeyInfo> {
        {
            let state = self.current()?;
            let mut any = false;
            for k in state.body.keys.iter().filter(|k| k.dataset == dataset) {
                any = true;
                if k.status == KeyStatus::Active {
                    return Ok(key_info(k));
                }
            }
            if any {
                return Err(Error::KeyDestroyed {
                    dataset: dataset.to_owned(),
                });
            }
        }
        self.rotate_key(operator, dataset)
    }

    /// Rewraps every data key under a new master key, without touching any data. The
    /// backups sealed by the old master key are wiped and a fresh one is written.
    /// Decided as `manage_keys` on the configured system.
    pub fn rotate_master_key(&self, operator: &Operator, new: Box<dyn KeyProvider>) -> Result<()> {
        let auth = events::authorize(
            self.authorizer.as_ref(),
            operator,
            &Resource::system(&self.config.system),
        )?;
        let (_writing, mut state) = self.writing()?;
        let mut next = state.body.clone();
        for i in 0..next.keys.len() {
            if next.keys[i].wrapped.is_none() {
                continue;
            }
            self.entry_key(&mut state, i)?;
            let e = &next.keys[i];
            let key = state
                .cache
                .get(&e.id)
                .ok_or_else(|| Error::KeyNotFound { id: e.id.clone() })?;
            let ctx = store::wrap_context(&e.id, &e.dataset, e.version);
            let wrapped = new.wrap(key, &ctx)?;
            next.keys[i].wrapped = Some(hex::encode(wrapped));
        }
        next.master_key_id = new.key_id().to_owned();
        next.master_algorithm = new.algorithm().to_owned();
        let mut event = self.event(
            KeyOperation::RotateMasterKey,
            operator,
            &auth,
            None,
            Vec::new(),
        );
        event.master_key_id = new.key_id().to_owned();
        let old_backups = store::backups(&self.config.dir)?;
        {
            let mut provider = self.provider.write().unwrap_or_else(|p| p.into_inner());
            let old = std::mem::replace(&mut *provider, new);
            drop(provider);
            if let Err(e) = self.commit(&mut state, next, Some(&event), true) {
                *self.provider.write().unwrap_or_else(|p| p.into_inner()) = old;
                return Err(e);
            }
        }
        let keep = store::backup_dir(&self.config.dir)
            .join(format!("keystore-{:020}.json", state.body.generation));
        for b in old_backups.iter().filter(|b| **b != keep) {
            store::wipe_and_remove(b)?;
        }
        Ok(())
    }

    /// Crypto-shreds `dataset` (Art. 15): destroys every version of its data key in
    /// memory, in the key store and in every backup the vault made, and records it.
    /// Its data can never be decrypted again (`key_destroyed`). Decided as
    /// `manage_keys` on the dataset.
    ///
    /// The old files' blocks are overwritten with zeros, but a copy-on-write file
    /// system, an SSD or a snapshot may keep old blocks: where that matters, rotate the
    /// master key afterwards and destroy the old one, which makes any such remnant
    /// undecryptable.
    pub fn shred(&self, operator: &Operator, dataset: &str) -> Result<ShredReport> {
        let auth = events::authorize(
            self.authorizer.as_ref(),
            operator,
            &Resource::dataset(dataset),
        )?;
        let (_writing, mut state) = self.writing()?;
        let mut next = state.body.clone();
        let time = now();
        let mut ids = Vec::new();
        for k in next.keys.iter_mut().filter(|k| k.dataset == dataset) {
            if k.wrapped.is_some() || k.status != KeyStatus::Destroyed {
                k.status = KeyStatus::Destroyed;
                k.wrapped = None;
                k.destroyed = Some(time);
                k.destroyed_by = Some(operator.id().to_owned());
                ids.push(k.id.clone());
            }
        }
        if ids.is_empty() {
            if next.keys.iter().any(|k| k.dataset == dataset) {
                return Err(Error::KeyDestroyed {
                    dataset: dataset.to_owned(),
                });
            }
            return Err(Error::KeyNotFound {
                id: dataset.to_owned(),
            });
        }
        for id in &ids {
            state.cache.remove(id);
        }
        let event = self.event(
            KeyOperation::Shred,
            operator,
            &auth,
            Some(dataset),
            ids.clone(),
        );
        let seq = self.commit(&mut state, next, Some(&event), true)?;
        let scrubbed = self.scrub_backups(&ids, &state.body)?;
        Ok(ShredReport {
            dataset: dataset.to_owned(),
            key_ids: ids,
            backups_scrubbed: scrubbed,
            event_seq: seq,
        })
    }

    /// Rewrites every backup without the wrapped keys `ids`; a backup that does not
    /// authenticate (so cannot be rewritten entry by entry) is wiped whole.
    fn scrub_backups(&self, ids: &[String], live: &Body) -> Result<usize> {
        let mut n = 0;
        for path in store::backups(&self.config.dir)? {
            let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let body = self.with_provider(|p| Body::open(&bytes, &path, p));
            match body {
                Ok(mut body) => {
                    if body.generation == live.generation {
                        continue;
                    }
                    let mut changed = false;
                    for k in body.keys.iter_mut().filter(|k| ids.contains(&k.id)) {
                        if k.wrapped.take().is_some() {
                            changed = true;
                        }
                        k.status = KeyStatus::Destroyed;
                    }
                    if changed {
                        let sealed = self.with_provider(|p| body.seal(p))?;
                        store::write_atomic(&path, &sealed, true)?;
                        n += 1;
                    }
                }
                Err(_) => {
                    store::wipe_and_remove(&path)?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// Every data key and the store's state (never key material).
    pub fn status(&self) -> Result<VaultStatus> {
        let state = self.current()?;
        let backups = store::backups(&self.config.dir)?.len();
        Ok(VaultStatus {
            master_key_id: state.body.master_key_id.clone(),
            master_algorithm: state.body.master_algorithm.clone(),
            default_suite: self.config.default_suite.as_str().to_owned(),
            generation: state.body.generation,
            backups,
            keys: state.body.keys.iter().map(key_info).collect(),
        })
    }

    /// A 32-byte key for another part of govdata (pseudonyms, watermarks), derived
    /// from the master key for `label`: the master key's MAC of the label, domain
    /// separated from the key store's own MAC. The same master key gives the same key
    /// on every node; rotating the master key changes it.
    pub fn derive_key(&self, label: &str) -> Result<keys::SecretKey> {
        let input = [b"govdata/derive/v1\0".as_slice(), label.as_bytes()].concat();
        let tag = self.with_provider(|p| p.mac(&input))?;
        Ok(keys::SecretKey::from_array(tag))
    }

    /// The keys of one dataset, oldest first.
    pub fn keys(&self, dataset: &str) -> Vec<KeyInfo> {
        let state = self.current().unwrap_or_else(|_| self.lock());
        state
            .body
            .keys
            .iter()
            .filter(|k| k.dataset == dataset)
            .map(key_info)
            .collect()
    }

    /// The path of the live key store file.
    pub fn store_path(&self) -> PathBuf {
        store::store_path(&self.config.dir)
    }

    /// The paths of the key store backups the vault keeps, oldest first.
    pub fn backup_paths(&self) -> Result<Vec<PathBuf>> {
        store::backups(&self.config.dir)
    }

    /// The wrapped form of a data key as the key store holds it (hex), if it still
    /// exists: for verifying that a shred left no copy behind.
    pub fn wrapped_key_hex(&self, key_id: &str) -> Option<String> {
        let state = self.current().unwrap_or_else(|_| self.lock());
        state
            .body
            .keys
            .iter()
            .find(|k| k.id == key_id)
            .and_then(|k| k.wrapped.clone())
    }
}

fn key_info(e: &Entry) -> KeyInfo {
    KeyInfo {
        id: e.id.clone(),
        dataset: e.dataset.clone(),
        version: e.version,
        status: e.status,
        created: rfc3339(e.created),
        retired: e.retired.map(rfc3339),
        destroyed: e.destroyed.map(rfc3339),
        destroyed_by: e.destroyed_by.clone(),
    }
}

/// Runs `f` on a temporary file beside `output`, then syncs it and renames it into
/// place; on failure the temporary file is wiped and removed and `output` is untouched.
fn with_temp_output(
    output: &Path,
    f: impl FnOnce(&mut (dyn Write + Send)) -> Result<u64>,
) -> Result<u64> {
    let dir = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut raw = [0u8; 8];
    keys::fill_random(&mut raw)?;
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.{}.partial", hex::encode(raw)));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| Error::io(&tmp, e))?;
    let mut writer = BufWriter::with_capacity(1 << 16, file);
    let result = f(&mut writer).and_then(|n| {
        let file = writer
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        drop(file);
        fs::rename(&tmp, output).map_err(|e| Error::io(output, e))?;
        store::sync_dir(&dir)?;
        Ok(n)
    });
    if result.is_err() {
        store::wipe_and_remove(&tmp).ok();
    }
    result
}

#[cfg(test)]
mod vectors;
