//! Key arguments: 32 raw bytes (`bytes` or `bytearray`) or the path of a file holding
//! them. Bytes are copied straight into the core's zeroizing key types; nothing here
//! keeps, formats or prints key material.

use crate::error::to_py;
use govdata::audit::SealingKey;
use govdata::vault::{MasterKey, Suite};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// A key as the caller gave it.
pub enum KeySource {
    /// Raw bytes (any length: the core checks it).
    Bytes(Zeroizing<Vec<u8>>),
    /// A key file.
    File(PathBuf),
}

impl KeySource {
    /// Reads a key argument (with the GIL held). `what` names it in a type error.
    pub fn extract(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Self> {
        if let Ok(b) = obj.cast::<PyBytes>() {
            return Ok(KeySource::Bytes(Zeroizing::new(b.as_bytes().to_vec())));
        }
        if let Ok(b) = obj.cast::<PyByteArray>() {
            return Ok(KeySource::Bytes(Zeroizing::new(b.to_vec())));
        }
        obj.extract::<PathBuf>().map(KeySource::File).map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} must be 32 bytes (bytes or bytearray) or the path of a file holding them"
            ))
        })
    }

    /// The key's bytes (read from the file for a key file), for keys of any length.
    pub fn bytes(&self) -> PyResult<Zeroizing<Vec<u8>>> {
        match self {
            KeySource::Bytes(b) => Ok(b.clone()),
            KeySource::File(p) => std::fs::read(p).map(Zeroizing::new).map_err(|e| {
                to_py(govdata::Error::Io {
                    path: p.display().to_string(),
                    source: e,
                })
            }),
        }
    }

    /// The audit log's sealing key.
    pub fn sealing_key(&self) -> PyResult<SealingKey> {
        match self {
            KeySource::Bytes(b) => SealingKey::from_slice(b),
            KeySource::File(p) => SealingKey::from_file(p),
        }
        .map_err(to_py)
    }

    /// The vault's master key, wrapping with `suite`.
    pub fn master_key(&self, suite: Suite) -> PyResult<MasterKey> {
        match self {
            KeySource::Bytes(b) => MasterKey::with_suite(b, suite),
            KeySource::File(p) => MasterKey::from_file(p, suite),
        }
        .map_err(to_py)
    }
}
