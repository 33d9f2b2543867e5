//! Key arguments: a `Key`, 32 raw bytes (a `Buffer` or any `Uint8Array`), or the path
//! of a file holding them. Bytes are copied at once into zeroizing memory and from
//! there into the core's key types; nothing here keeps a JavaScript copy, formats or
//! prints key material.

use crate::error::{invalid_argument, to_js, Result};
use govdata::audit::SealingKey;
use govdata::platform::SecretSource;
use govdata::vault::{MasterKey, Suite};
use napi::bindgen_prelude::{ClassInstance, FromNapiValue, JsValue, Uint8ArraySlice, Unknown};
use napi::ValueType;
use napi_derive::napi;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Reads a key argument into the core's key source (raw bytes, copied out of the
/// caller's buffer, or a key file read when the key is used). `what` names it in an
/// error.
pub fn from_js(value: &Unknown<'_>, what: &str) -> Result<SecretSource> {
    let wrong = || {
        invalid_argument(format!(
            "`{what}` must be a Key, 32 bytes (a Buffer or Uint8Array) or the path of a file holding them"
        ))
    };
    match value.get_type().map_err(|_| wrong())? {
        ValueType::String => {
            let path: String = String::from_unknown(*value).map_err(|_| wrong())?;
            Ok(SecretSource::CallerFile(PathBuf::from(path)))
        }
        ValueType::Object => {
            if value.is_typedarray().map_err(|_| wrong())? {
                let bytes = Uint8ArraySlice::from_unknown(*value).map_err(|_| wrong())?;
                return Ok(SecretSource::Bytes(Zeroizing::new(bytes.to_vec())));
            }
            let key = ClassInstance::<Key>::from_unknown(*value).map_err(|_| wrong())?;
            Ok(key.source.clone())
        }
        _ => Err(wrong()),
    }
}

/// The audit log's sealing key from a key argument.
pub fn sealing_key(source: &SecretSource) -> Result<SealingKey> {
    source.sealing_key().map_err(to_js)
}

/// The vault's master key from a key argument, wrapping with `suite`.
pub fn master_key(source: &SecretSource, suite: Suite) -> Result<MasterKey> {
    source.master_key(suite).map_err(to_js)
}

/// What the key is, without its bytes.
fn describe(source: &SecretSource) -> String {
    match source {
        SecretSource::Bytes(b) => format!("Key({} bytes, not shown)", b.len()),
        SecretSource::File(p) | SecretSource::CallerFile(p) => {
            format!("Key(file {:?})", p.display().to_string())
        }
        SecretSource::Env(var) => format!("Key(environment variable {var:?})"),
    }
}

/// Key material held by the module: the sealing key of an audit log or the master
/// key of a vault. `Key.fromBytes` copies the bytes into memory that is wiped when the
/// key is collected, so the caller can wipe its own buffer (`buf.fill(0)`) at once;
/// `Key.fromFile` names a file holding the 32 raw bytes, read when the key is used.
/// A key never shows its bytes: `toString()`, `toJSON()` and `util.inspect` describe
/// it only.
#[napi]
pub struct Key {
    source: SecretSource,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&describe(&self.source))
    }
}

#[napi]
impl Key {
    /// A key from raw bytes (32 for an audit log or a vault), copied out of `bytes`.
    #[napi(factory, catch_unwind, ts_args_type = "bytes: Uint8Array")]
    pub fn from_bytes(bytes: Unknown<'_>) -> Result<Key> {
        crate::error::guard(|| {
            let wrong = || invalid_argument("`bytes` must be a Buffer or Uint8Array");
            if !bytes.is_typedarray().map_err(|_| wrong())? {
                return Err(wrong());
            }
            let slice = Uint8ArraySlice::from_unknown(bytes).map_err(|_| wrong())?;
            Ok(Key {
                source: SecretSource::Bytes(Zeroizing::new(slice.to_vec())),
            })
        })
    }

    /// A key held in the file at `path` (exactly the 32 raw bytes), read each time
    /// the key is used.
    #[napi(factory, catch_unwind)]
    pub fn from_file(path: String) -> Result<Key> {
        crate::error::guard(|| {
            Ok(Key {
                source: SecretSource::CallerFile(PathBuf::from(path)),
            })
        })
    }

    /// A description of the key that never includes its bytes.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_description(&self) -> Result<String> {
        crate::error::guard(|| Ok(describe(&self.source)))
    }

    /// `JSON.stringify(key)` gives the description, never the bytes.
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json(&self) -> Result<String> {
        crate::error::guard(|| Ok(describe(&self.source)))
    }
}
