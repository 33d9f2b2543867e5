//! `Vault`: a thin wrapper over the core's envelope encryption.
//!
//! Key operations are decided by the engine given at `init`/`open` (`manage_keys`) and
//! recorded in the audit log given there; encryption, decryption and every key
//! operation run without the GIL. The master key is read into the core's zeroizing
//! `MasterKey` and never kept, formatted or shown here.

use crate::audit::AuditLog;
use crate::engine::{detached, Engine};
use crate::error::{guard, request_invalid, to_py};
use crate::keys;
use govdata::model::Grade;
use govdata::platform::SecretSource;
use govdata::vault::{MasterKey, Operator, Suite, VaultConfig};
use govdata::Error;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use serde::Serialize;
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

type CoreResult<T> = Result<T, Error>;

fn grade(text: &str) -> CoreResult<Grade> {
    text.parse::<Grade>().map_err(request_invalid)
}

fn suite(text: Option<&str>) -> CoreResult<Option<Suite>> {
    text.map(str::parse::<Suite>).transpose()
}

fn operator(id: &str, witness: Option<&str>) -> Operator {
    let op = Operator::new(id);
    match witness {
        Some(w) => op.with_witness(w),
        None => op,
    }
}

fn to_python<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The bytes of a `bytes` (borrowed) or `bytearray` (copied) argument.
fn data<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, [u8]>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Cow::Borrowed(b.as_bytes()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Cow::Owned(b.to_vec()));
    }
    Err(PyTypeError::new_err("data must be bytes or bytearray"))
}

/// The master key: `master_key` (32 bytes or a key file) or `master_key_env` (the name
/// of an environment variable holding 64 hex digits); exactly one.
fn master_key(
    key: Option<&Bound<'_, PyAny>>,
    env: Option<&str>,
    suite: Suite,
) -> PyResult<MasterKey> {
    match (key.filter(|k| !k.is_none()), env) {
        (Some(k), None) => keys::extract(k, "master_key")?
            .master_key(suite)
            .map_err(to_py),
        (None, Some(var)) => SecretSource::Env(var.to_owned())
            .master_key(suite)
            .map_err(to_py),
        _ => Err(PyTypeError::new_err(
            "give the master key as exactly one of master_key= (32 bytes or a key file) and master_key_env= (a variable holding 64 hex digits)",
        )),
    }
}

fn config(
    dir: PathBuf,
    suite: Option<Suite>,
    chunk_size: Option<usize>,
    system: Option<String>,
    audit: Option<&Bound<'_, AuditLog>>,
    lock_wait: Option<f64>,
) -> Result<VaultConfig, govdata::Error> {
    let mut c = VaultConfig::new(dir);
    if let Some(s) = lock_wait {
        c = c.with_lock_wait(crate::convert::seconds(s, "lock_wait")?);
    }
    if let Some(s) = suite {
        c = c.with_suite(s);
    }
    if let Some(n) = chunk_size {
        c = c.with_chunk_size(n);
    }
    if let Some(s) = system {
        c.system = s;
    }
    if let Some(log) = audit {
        c = c.with_sink(log.get().core().clone());
    }
    Ok(c)
}

/// Envelope encryption for the platform's datasets: a data key per dataset, wrapped
/// by a master key the host supplies. Every key operation is a `manage_keys`
/// decision of the engine and is recorded in the audit log (when one is given).
/// Thread-safe.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct Vault {
    inner: Arc<govdata::Vault>,
}

impl Vault {
    /// The core vault, shared (the procedures crypto-erase through it).
    pub(crate) fn shared(inner: Arc<govdata::Vault>) -> Self {
        Vault { inner }
    }

    pub(crate) fn core(&self) -> &Arc<govdata::Vault> {
        &self.inner
    }
}

#[pymethods]
impl Vault {
    /// Creates a key store in `dir`, sealed by the master key, as `operator` (decided
    /// as `manage_keys` on `system`). `suite` is what new data is encrypted with
    /// (`"xchacha20poly1305"` or `"sm4-gcm"`); `master_suite`, what the master key
    /// wraps with (the same by default).
    #[staticmethod]
    #[pyo3(signature = (dir, *, engine, master_key=None, master_key_env=None, operator="key.admin", witness=None, audit=None, suite="xchacha20poly1305", master_suite=None, chunk_size=None, system=None, lock_wait=None))]
    #[expect(
        clippy::too_many_arguments,
        reason = "keyword arguments of the vault's configuration"
    )]
    fn init(
        py: Python<'_>,
        dir: PathBuf,
        engine: &Bound<'_, Engine>,
        master_key: Option<&Bound<'_, PyAny>>,
        master_key_env: Option<&str>,
        operator: &str,
        witness: Option<&str>,
        audit: Option<&Bound<'_, AuditLog>>,
        suite: &str,
        master_suite: Option<&str>,
        chunk_size: Option<usize>,
        system: Option<String>,
        lock_wait: Option<f64>,
    ) -> PyResult<Self> {
        guard(|| {
            let data_suite = suite.parse::<Suite>().map_err(to_py)?;
            let wrap_suite = self::suite(master_suite)
                .map_err(to_py)?
                .unwrap_or(data_suite);
            let key = self::master_key(master_key, master_key_env, wrap_suite)?;
            let config = config(dir, Some(data_suite), chunk_size, system, audit, lock_wait)
                .map_err(to_py)?;
            let authorizer = engine.get().core().clone();
            let op = self::operator(operator, witness);
            let inner = detached(py, || {
                govdata::Vault::init(config, Box::new(key), authorizer, &op)
            })?;
            Ok(Vault {
                inner: Arc::new(inner),
            })
        })
    }

    /// Opens the key store in `dir` and authenticates it under the master key (which
    /// wraps with the algorithm the store records). A store sealed by another master
    /// key raises `KeyInvalidError`; an altered one, `CryptoAuthFailedError`.
    #[staticmethod]
    #[pyo3(signature = (dir, *, engine, master_key=None, master_key_env=None, audit=None, suite=None, chunk_size=None, system=None, lock_wait=None))]
    #[expect(
        clippy::too_many_arguments,
        reason = "keyword arguments of the vault's configuration"
    )]
    fn open(
        py: Python<'_>,
        dir: PathBuf,
        engine: &Bound<'_, Engine>,
        master_key: Option<&Bound<'_, PyAny>>,
        master_key_env: Option<&str>,
        audit: Option<&Bound<'_, AuditLog>>,
        suite: Option<&str>,
        chunk_size: Option<usize>,
        system: Option<String>,
        lock_wait: Option<f64>,
    ) -> PyResult<Self> {
        guard(|| {
            let data_suite = self::suite(suite).map_err(to_py)?;
            let wrap_suite = govdata::Vault::store_algorithm(&dir).map_err(to_py)?;
            let key = self::master_key(master_key, master_key_env, wrap_suite)?;
            let config =
                config(dir, data_suite, chunk_size, system, audit, lock_wait).map_err(to_py)?;
            let authorizer = engine.get().core().clone();
            let inner = detached(py, || {
                govdata::Vault::open(config, Box::new(key), authorizer)
            })?;
            Ok(Vault {
                inner: Arc::new(inner),
            })
        })
    }

    /// The vault directory.
    #[getter]
    fn dir(&self) -> PathBuf {
        self.inner.config().dir.clone()
    }

    /// The suite new data is encrypted with.
    #[getter]
    fn default_suite(&self) -> &'static str {
        self.inner.config().default_suite.as_str()
    }

    /// Encrypts a record of `dataset` (of `grade`) under the dataset's active data
    /// key; the grade and dataset are bound to the ciphertext.
    #[pyo3(signature = (dataset, grade, data, *, suite=None))]
    fn encrypt<'py>(
        &self,
        py: Python<'py>,
        dataset: &str,
        grade: &str,
        data: &Bound<'py, PyAny>,
        suite: Option<&str>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let grade = self::grade(grade).map_err(to_py)?;
            let suite = self::suite(suite).map_err(to_py)?;
            let plain = self::data(data)?;
            let vault = &self.inner;
            let sealed = detached(py, || match suite {
                Some(s) => vault.encrypt_with(dataset, grade, s, &plain),
                None => vault.encrypt(dataset, grade, &plain),
            })?;
            Ok(PyBytes::new(py, &sealed))
        })
    }

    /// Decrypts a record of `dataset` and `grade`, whatever suite and key version it
    /// was encrypted with. Any change, or another dataset or grade, raises
    /// `CryptoAuthFailedError`; a shredded dataset, `KeyDestroyedError`.
    fn decrypt<'py>(
        &self,
        py: Python<'py>,
        dataset: &str,
        grade: &str,
        data: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        guard(|| {
            let grade = self::grade(grade).map_err(to_py)?;
            let sealed = self::data(data)?;
            let vault = &self.inner;
            let plain = detached(py, || vault.decrypt(dataset, grade, &sealed))?;
            Ok(PyBytes::new(py, &plain))
        })
    }

    /// Encrypts the file `src` into `dst` as a chunked stream (written under a
    /// temporary name and renamed into place); returns the plaintext size.
    #[pyo3(signature = (dataset, grade, src, dst, *, suite=None))]
    fn encrypt_file(
        &self,
        py: Python<'_>,
        dataset: &str,
        grade: &str,
        src: PathBuf,
        dst: PathBuf,
        suite: Option<&str>,
    ) -> PyResult<u64> {
        guard(|| {
            let grade = self::grade(grade).map_err(to_py)?;
            let suite = self::suite(suite).map_err(to_py)?;
            let vault = &self.inner;
            detached(py, || {
                let suite = suite.unwrap_or(vault.config().default_suite);
                vault.encrypt_file(dataset, grade, suite, &src, &dst, None)
            })
        })
    }

    /// Decrypts the file `src` into `dst`; `dst` appears only when the whole stream
    /// authenticated. Returns the plaintext size.
    fn decrypt_file(
        &self,
        py: Python<'_>,
        dataset: &str,
        grade: &str,
        src: PathBuf,
        dst: PathBuf,
    ) -> PyResult<u64> {
        guard(|| {
            let grade = self::grade(grade).map_err(to_py)?;
            let vault = &self.inner;
            detached(py, || vault.decrypt_file(dataset, grade, &src, &dst, None))
        })
    }

    /// Makes a new data key for `dataset` (its first, or a rotation: the previous key
    /// is retired and still decrypts old data). Decided as `manage_keys` on the
    /// dataset; `witness` is the second key administrator where dual control applies.
    #[pyo3(signature = (operator, dataset, *, witness=None))]
    fn rotate_key<'py>(
        &self,
        py: Python<'py>,
        operator: &str,
        dataset: &str,
        witness: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let op = self::operator(operator, witness);
            let vault = &self.inner;
            let info = detached(py, || vault.rotate_key(&op, dataset))?;
            to_python(py, &info)
        })
    }

    /// The active key of `dataset`, made first if it has none and was never shredded.
    #[pyo3(signature = (operator, dataset, *, witness=None))]
    fn ensure_key<'py>(
        &self,
        py: Python<'py>,
        operator: &str,
        dataset: &str,
        witness: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let op = self::operator(operator, witness);
            let vault = &self.inner;
            let info = detached(py, || vault.ensure_key(&op, dataset))?;
            to_python(py, &info)
        })
    }

    /// Rewraps every data key under a new master key without touching any data.
    #[pyo3(signature = (operator, *, master_key=None, master_key_env=None, master_suite="xchacha20poly1305", witness=None))]
    fn rotate_master_key(
        &self,
        py: Python<'_>,
        operator: &str,
        master_key: Option<&Bound<'_, PyAny>>,
        master_key_env: Option<&str>,
        master_suite: &str,
        witness: Option<&str>,
    ) -> PyResult<()> {
        guard(|| {
            let wrap_suite = master_suite.parse::<Suite>().map_err(to_py)?;
            let key = self::master_key(master_key, master_key_env, wrap_suite)?;
            let op = self::operator(operator, witness);
            let vault = &self.inner;
            detached(py, || vault.rotate_master_key(&op, Box::new(key)))
        })
    }

    /// Crypto-shreds `dataset` (Art. 15): every version of its data key is destroyed
    /// and the destruction recorded; its data then raises `KeyDestroyedError`
    /// forever. Decided as `manage_keys` on the dataset. Returns the report.
    #[pyo3(signature = (operator, dataset, *, witness=None))]
    fn shred<'py>(
        &self,
        py: Python<'py>,
        operator: &str,
        dataset: &str,
        witness: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let op = self::operator(operator, witness);
            let vault = &self.inner;
            let report = detached(py, || vault.shred(&op, dataset))?;
            to_python(py, &report)
        })
    }

    /// The master key's fingerprint and every data key's state (never key material).
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let vault = &self.inner;
            let status = detached(py, || vault.status())?;
            to_python(py, &status)
        })
    }

    /// The keys of one dataset, oldest first (never key material).
    fn keys<'py>(&self, py: Python<'py>, dataset: &str) -> PyResult<Bound<'py, PyAny>> {
        guard(|| to_python(py, &self.inner.keys(dataset)))
    }

    fn __repr__(&self) -> String {
        let c = self.inner.config();
        format!(
            "Vault(dir={:?}, default_suite={:?})",
            c.dir.display().to_string(),
            c.default_suite.as_str()
        )
    }
}
