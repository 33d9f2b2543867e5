//! `Vault`: a thin wrapper over the core's envelope encryption.
//!
//! Key operations are decided by the engine given at `init`/`open` (`manage_keys`)
//! and recorded in the audit log given there. Records (buffers) and key operations
//! are synchronous; files are encrypted and decrypted as streams on the thread pool
//! and return a Promise. The master key is read into the core's zeroizing
//! `MasterKey` and never kept, formatted or shown here.

use crate::args::{self, Options};
use crate::audit::AuditLog;
use crate::error::{guard, invalid_argument, request_invalid, to_js, Result};
use crate::tasks::{self, Job};
use crate::Engine;
use govdata::model::Grade;
use govdata::platform::SecretSource;
use govdata::vault::{MasterKey, Operator, Suite, VaultConfig};
use napi::bindgen_prelude::{AsyncTask, Buffer, Env, Unknown};
use napi_derive::napi;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

fn grade(value: Unknown<'_>) -> Result<Grade> {
    args::string(value, "grade")?
        .parse::<Grade>()
        .map_err(request_invalid)
}

fn suite(text: Option<String>) -> Result<Option<Suite>> {
    text.map(|s| s.parse::<Suite>().map_err(to_js)).transpose()
}

/// The operator of a key operation, with the `witness` of `options` (dual control).
fn operator(value: Unknown<'_>, options: Option<Unknown<'_>>) -> Result<Operator> {
    let id = args::string(value, "operator")?;
    let options = Options::new(options, "options", &["witness"])?;
    let op = Operator::new(id);
    Ok(match options.string("witness")? {
        Some(w) => op.with_witness(w),
        None => op,
    })
}

fn to_js_value<'env>(env: &'env Env, value: &impl Serialize) -> Result<Unknown<'env>> {
    crate::convert::serialized(env, value)
}

/// The master key: `masterKey` (a `Key`, 32 bytes or a key file) or `masterKeyEnv`
/// (the name of an environment variable holding 64 hex digits); exactly one.
fn master_key(options: &Options<'_>, suite: Suite) -> Result<MasterKey> {
    match (options.key("masterKey")?, options.string("masterKeyEnv")?) {
        (Some(k), None) => crate::keys::master_key(&k, suite),
        (None, Some(var)) => crate::keys::master_key(&SecretSource::Env(var), suite),
        _ => Err(invalid_argument(
            "give the master key as exactly one of `masterKey` (a Key, 32 bytes or a key file) and `masterKeyEnv` (a variable holding 64 hex digits)",
        )),
    }
}

/// The configuration shared by `init` and `open`.
fn config(dir: PathBuf, suite: Option<Suite>, options: &Options<'_>) -> Result<VaultConfig> {
    let mut c = VaultConfig::new(dir);
    if let Some(s) = suite {
        c = c.with_suite(s);
    }
    if let Some(n) = options.integer("chunkSize")? {
        c = c.with_chunk_size(usize::try_from(n).map_err(|_| {
            request_invalid(format!(
                "chunk size {n} must be a power of two from 4096 to 16777216"
            ))
        })?);
    }
    if let Some(s) = options.string("system")? {
        c.system = s;
    }
    if let Some(ms) = options.integer("lockWaitMs")? {
        c = c.with_lock_wait(std::time::Duration::from_millis(ms));
    }
    if let Some(log) = options.instance::<AuditLog>("audit", "AuditLog")? {
        c = c.with_sink(Arc::clone(&log.inner) as Arc<dyn govdata::vault::KeyEventSink>);
    }
    Ok(c)
}

fn engine(options: &Options<'_>) -> Result<Arc<govdata::Engine>> {
    match options.instance::<Engine>("engine", "Engine")? {
        Some(e) => Ok(Arc::clone(&e.inner)),
        None => Err(invalid_argument(
            "`options.engine` is required: the engine decides every key operation",
        )),
    }
}

/// Envelope encryption for the platform's datasets: a data key per dataset, wrapped
/// by a master key the host supplies. Every key operation is a `manage_keys`
/// decision of the engine and is recorded in the audit log (when one is given).
#[napi]
pub struct Vault {
    pub(crate) inner: Arc<govdata::Vault>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.inner.config().dir)
            .finish_non_exhaustive()
    }
}

#[napi]
impl Vault {
    /// Creates a key store in `dir`, sealed by the master key, as `operator`
    /// (decided as `manage_keys` on `system`). `suite` is what new data is encrypted
    /// with (`'xchacha20poly1305'` or `'sm4-gcm'`); `masterSuite`, what the master key
    /// wraps with (the same by default).
    #[napi(
        factory,
        catch_unwind,
        ts_args_type = "dir: string, options: VaultInitOptions"
    )]
    pub fn init(dir: Unknown<'_>, options: Unknown<'_>) -> Result<Vault> {
        guard(|| {
            let dir = PathBuf::from(args::string(dir, "dir")?);
            let options = Options::new(
                Some(options),
                "options",
                &[
                    "engine",
                    "masterKey",
                    "masterKeyEnv",
                    "operator",
                    "witness",
                    "audit",
                    "suite",
                    "masterSuite",
                    "chunkSize",
                    "lockWaitMs",
                    "system",
                ],
            )?;
            let engine = self::engine(&options)?;
            let data_suite = self::suite(options.string("suite")?)?.unwrap_or_default();
            let wrap_suite = self::suite(options.string("masterSuite")?)?.unwrap_or(data_suite);
            let key = master_key(&options, wrap_suite)?;
            let config = config(dir, Some(data_suite), &options)?;
            let op = Operator::new(
                options
                    .string("operator")?
                    .unwrap_or_else(|| "key.admin".to_owned()),
            );
            let op = match options.string("witness")? {
                Some(w) => op.with_witness(w),
                None => op,
            };
            let inner = govdata::Vault::init(config, Box::new(key), engine, &op).map_err(to_js)?;
            Ok(Vault {
                inner: Arc::new(inner),
            })
        })
    }

    /// Opens the key store in `dir` and authenticates it under the master key (which
    /// wraps with the algorithm the store records). A store sealed by another master
    /// key throws `key_invalid`; an altered one, `crypto_auth_failed`.
    #[napi(
        factory,
        catch_unwind,
        ts_args_type = "dir: string, options: VaultOpenOptions"
    )]
    pub fn open(dir: Unknown<'_>, options: Unknown<'_>) -> Result<Vault> {
        guard(|| {
            let dir = PathBuf::from(args::string(dir, "dir")?);
            let options = Options::new(
                Some(options),
                "options",
                &[
                    "engine",
                    "masterKey",
                    "masterKeyEnv",
                    "audit",
                    "suite",
                    "chunkSize",
                    "lockWaitMs",
                    "system",
                ],
            )?;
            let engine = self::engine(&options)?;
            let data_suite = self::suite(options.string("suite")?)?;
            let wrap_suite = govdata::Vault::store_algorithm(&dir).map_err(to_js)?;
            let key = master_key(&options, wrap_suite)?;
            let config = config(dir, data_suite, &options)?;
            let inner = govdata::Vault::open(config, Box::new(key), engine).map_err(to_js)?;
            Ok(Vault {
                inner: Arc::new(inner),
            })
        })
    }

    /// The vault directory.
    #[napi(getter, catch_unwind)]
    pub fn dir(&self) -> Result<String> {
        guard(|| Ok(self.inner.config().dir.display().to_string()))
    }

    /// The suite new data is encrypted with.
    #[napi(getter, catch_unwind, ts_return_type = "VaultSuite")]
    pub fn default_suite(&self) -> Result<&'static str> {
        guard(|| Ok(self.inner.config().default_suite.as_str()))
    }

    /// Encrypts a record of `dataset` (of `grade`) under the dataset's active data
    /// key; the grade and dataset are bound to the ciphertext.
    #[napi(
        catch_unwind,
        ts_args_type = "dataset: string, grade: Grade, data: Uint8Array, options?: { suite?: VaultSuite }"
    )]
    pub fn encrypt(
        &self,
        dataset: Unknown<'_>,
        grade: Unknown<'_>,
        data: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> Result<Buffer> {
        guard(|| {
            let dataset = args::string(dataset, "dataset")?;
            let grade = self::grade(grade)?;
            let plain = args::bytes(data, "data")?;
            let options = Options::new(options, "options", &["suite"])?;
            let sealed = match self::suite(options.string("suite")?)? {
                Some(s) => self.inner.encrypt_with(&dataset, grade, s, &plain),
                None => self.inner.encrypt(&dataset, grade, &plain),
            }
            .map_err(to_js)?;
            Ok(Buffer::from(sealed))
        })
    }

    /// Decrypts a record of `dataset` and `grade`, whatever suite and key version it
    /// was encrypted with. Any change, or another dataset or grade, throws
    /// `crypto_auth_failed`; a shredded dataset, `key_destroyed`.
    #[napi(
        catch_unwind,
        ts_args_type = "dataset: string, grade: Grade, data: Uint8Array"
    )]
    pub fn decrypt(
        &self,
        dataset: Unknown<'_>,
        grade: Unknown<'_>,
        data: Unknown<'_>,
    ) -> Result<Buffer> {
        guard(|| {
            let dataset = args::string(dataset, "dataset")?;
            let grade = self::grade(grade)?;
            let sealed = args::bytes(data, "data")?;
            let plain = self
                .inner
                .decrypt(&dataset, grade, &sealed)
                .map_err(to_js)?;
            Ok(Buffer::from(plain))
        })
    }

    /// Encrypts the file `src` into `dst` as a chunked stream (written under a
    /// temporary name and renamed into place), on the thread pool; resolves to the
    /// plaintext size.
    #[napi(
        catch_unwind,
        ts_args_type = "dataset: string, grade: Grade, src: string, dst: string, options?: { suite?: VaultSuite }",
        ts_return_type = "Promise<number>"
    )]
    pub fn encrypt_file(
        &self,
        dataset: Unknown<'_>,
        grade: Unknown<'_>,
        src: Unknown<'_>,
        dst: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<Job> {
        Job::spawn("encryptFile", || {
            let dataset = args::string(dataset, "dataset")?;
            let grade = self::grade(grade)?;
            let src = PathBuf::from(args::string(src, "src")?);
            let dst = PathBuf::from(args::string(dst, "dst")?);
            let options = Options::new(options, "options", &["suite"])?;
            let suite = self::suite(options.string("suite")?)?;
            let vault = Arc::clone(&self.inner);
            Ok(tasks::json(move || {
                let suite = suite.unwrap_or(vault.config().default_suite);
                let n = vault.encrypt_file(&dataset, grade, suite, &src, &dst, None)?;
                Ok(serde_json::Value::from(n))
            }))
        })
    }

    /// Decrypts the file `src` into `dst` on the thread pool; `dst` appears only when
    /// the whole stream authenticated. Resolves to the plaintext size.
    #[napi(
        catch_unwind,
        ts_args_type = "dataset: string, grade: Grade, src: string, dst: string",
        ts_return_type = "Promise<number>"
    )]
    pub fn decrypt_file(
        &self,
        dataset: Unknown<'_>,
        grade: Unknown<'_>,
        src: Unknown<'_>,
        dst: Unknown<'_>,
    ) -> AsyncTask<Job> {
        Job::spawn("decryptFile", || {
            let dataset = args::string(dataset, "dataset")?;
            let grade = self::grade(grade)?;
            let src = PathBuf::from(args::string(src, "src")?);
            let dst = PathBuf::from(args::string(dst, "dst")?);
            let vault = Arc::clone(&self.inner);
            Ok(tasks::json(move || {
                let n = vault.decrypt_file(&dataset, grade, &src, &dst, None)?;
                Ok(serde_json::Value::from(n))
            }))
        })
    }

    /// Makes a new data key for `dataset` (its first, or a rotation: the previous key
    /// is retired and still decrypts old data). Decided as `manage_keys` on the
    /// dataset; `witness` is the second key administrator where dual control applies.
    #[napi(
        catch_unwind,
        ts_args_type = "operator: string, dataset: string, options?: { witness?: string }",
        ts_return_type = "KeyInfo"
    )]
    pub fn rotate_key<'env>(
        &self,
        env: &'env Env,
        operator: Unknown<'_>,
        dataset: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let op = self::operator(operator, options)?;
            let dataset = args::string(dataset, "dataset")?;
            let info = self.inner.rotate_key(&op, &dataset).map_err(to_js)?;
            to_js_value(env, &info)
        })
    }

    /// The active key of `dataset`, made first if it has none and was never shredded.
    #[napi(
        catch_unwind,
        ts_args_type = "operator: string, dataset: string, options?: { witness?: string }",
        ts_return_type = "KeyInfo"
    )]
    pub fn ensure_key<'env>(
        &self,
        env: &'env Env,
        operator: Unknown<'_>,
        dataset: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let op = self::operator(operator, options)?;
            let dataset = args::string(dataset, "dataset")?;
            let info = self.inner.ensure_key(&op, &dataset).map_err(to_js)?;
            to_js_value(env, &info)
        })
    }

    /// Rewraps every data key under a new master key (`masterKey` or
    /// `masterKeyEnv`, wrapping with `masterSuite`) without touching any data.
    #[napi(
        catch_unwind,
        ts_args_type = "operator: string, options: RotateMasterKeyOptions"
    )]
    pub fn rotate_master_key(&self, operator: Unknown<'_>, options: Unknown<'_>) -> Result<()> {
        guard(|| {
            let options = Options::new(
                Some(options),
                "options",
                &["masterKey", "masterKeyEnv", "masterSuite", "witness"],
            )?;
            let wrap_suite = self::suite(options.string("masterSuite")?)?.unwrap_or_default();
            let key = master_key(&options, wrap_suite)?;
            let op = Operator::new(args::string(operator, "operator")?);
            let op = match options.string("witness")? {
                Some(w) => op.with_witness(w),
                None => op,
            };
            self.inner
                .rotate_master_key(&op, Box::new(key))
                .map_err(to_js)
        })
    }

    /// Crypto-shreds `dataset` (Art. 15): every version of its data key is destroyed
    /// and the destruction recorded; its data then throws `key_destroyed` forever.
    /// Decided as `manage_keys` on the dataset.
    #[napi(
        catch_unwind,
        ts_args_type = "operator: string, dataset: string, options?: { witness?: string }",
        ts_return_type = "ShredReport"
    )]
    pub fn shred<'env>(
        &self,
        env: &'env Env,
        operator: Unknown<'_>,
        dataset: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let op = self::operator(operator, options)?;
            let dataset = args::string(dataset, "dataset")?;
            let report = self.inner.shred(&op, &dataset).map_err(to_js)?;
            to_js_value(env, &report)
        })
    }

    /// The master key's fingerprint and every data key's state (never key material).
    #[napi(catch_unwind, ts_return_type = "VaultStatus")]
    pub fn status<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        guard(|| {
            let status = self.inner.status().map_err(to_js)?;
            to_js_value(env, &status)
        })
    }

    /// The keys of one dataset, oldest first (never key material).
    #[napi(
        catch_unwind,
        ts_args_type = "dataset: string",
        ts_return_type = "KeyInfo[]"
    )]
    pub fn keys<'env>(&self, env: &'env Env, dataset: Unknown<'_>) -> Result<Unknown<'env>> {
        guard(|| {
            let dataset = args::string(dataset, "dataset")?;
            to_js_value(env, &self.inner.keys(&dataset))
        })
    }

    /// A description of the vault (never a key).
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_description(&self) -> Result<String> {
        guard(|| {
            let c = self.inner.config();
            Ok(format!(
                "Vault(dir={:?}, default_suite={:?})",
                c.dir.display().to_string(),
                c.default_suite.as_str()
            ))
        })
    }
}
