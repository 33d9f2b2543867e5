//! Key arguments: 32 raw bytes (`bytes` or `bytearray`) or the path of a file holding
//! them. Bytes are copied straight into the core's zeroizing key types; nothing here
//! keeps, formats or prints key material.

use govdata::platform::SecretSource;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Reads a key argument (with the GIL held) into the core's key source: raw bytes,
/// or a key file read when the key is used. `what` names it in a type error.
pub fn extract(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<SecretSource> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(SecretSource::Bytes(Zeroizing::new(b.as_bytes().to_vec())));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(SecretSource::Bytes(Zeroizing::new(b.to_vec())));
    }
    obj.extract::<PathBuf>()
        .map(SecretSource::CallerFile)
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{what} must be 32 bytes (bytes or bytearray) or the path of a file holding them"
            ))
        })
}
