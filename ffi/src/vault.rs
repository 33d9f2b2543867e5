//! `gd_vault`: envelope encryption, key rotation and crypto-shredding.
//!
//! Owns the vault exports: creating and opening a key store, encrypting and decrypting
//! buffers and files, rotating a dataset's data key, shredding it, and the store's
//! status. It converts and checks arguments and maps results; the cryptography and
//! every key decision are the core's.

use crate::args::{
    bytes, c_str, into_c_buffer, into_c_string, opt_c_str, out_ptr, GD_MAX_INPUT_LEN,
};
use crate::audit::{gd_audit, opt_audit_handle};
use crate::engine::{engine_handle, gd_engine};
use crate::error::{gd_status, Failure};
use crate::guard::ffi_guard;
use crate::FfiResult;
use govdata::model::Grade;
use govdata::vault::{KeyAuthorizer, MasterKey, Operator, Vault, VaultConfig};
use std::os::raw::{c_char, c_int};
use std::path::Path;
use std::sync::Arc;

/// A vault: the key store of one directory, sealed by a master key, whose key
/// operations the engine decides (`manage_keys`) and the audit log records.
///
/// Thread safety: every function taking a `gd_vault` may be called on the same handle
/// from any number of threads at once. Only `gd_vault_free` must not run concurrently
/// with, or be followed by, any other use of the handle. One process uses a key store
/// at a time. The vault keeps its own reference to the engine and the audit log it was
/// made with: they may be freed before the vault.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct gd_vault {
    // Shared: workflows that crypto-erase through the vault keep it after the handle
    // is freed.
    inner: Arc<Vault>,
}

impl gd_vault {
    /// A new handle on a vault opened elsewhere (a node's).
    pub(crate) fn from_shared(inner: Arc<Vault>) -> gd_vault {
        gd_vault { inner }
    }

    /// Another reference to the vault, for a handle that keeps using it.
    pub(crate) fn shared(&self) -> Arc<Vault> {
        Arc::clone(&self.inner)
    }
}

/// The security grade of the data (`gd_vault_encrypt` and friends). The grade is bound
/// into the ciphertext: data encrypted as one grade does not decrypt as another.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gd_grade {
    /// 一般数据1级 (L1).
    GD_GRADE_L1 = 1,
    /// 一般数据2级 (L2).
    GD_GRADE_L2 = 2,
    /// 一般数据3级 (L3).
    GD_GRADE_L3 = 3,
    /// 一般数据4级 (L4, sensitive personal information).
    GD_GRADE_L4 = 4,
    /// 重要数据 (important data).
    GD_GRADE_IMPORTANT = 5,
    /// 核心数据 (core data).
    GD_GRADE_CORE = 6,
}

/// The length in bytes of a vault's master key.
pub const GD_VAULT_KEY_LEN: usize = 32;

/// The longest plaintext `gd_vault_encrypt` takes, in bytes (256 MiB); encrypt larger
/// data with `gd_vault_encrypt_file`, which streams it in constant memory.
pub const GD_MAX_BUFFER_LEN: usize = 268435456;

/// The most a ciphertext of `gd_vault_encrypt` adds to its plaintext (header and tag),
/// in bytes: `gd_vault_decrypt` takes up to `GD_MAX_BUFFER_LEN + GD_VAULT_RECORD_OVERHEAD`.
pub const GD_VAULT_RECORD_OVERHEAD: usize = 256;

fn parse_grade(value: c_int) -> Result<Grade, Failure> {
    Ok(match value {
        1 => Grade::L1,
        2 => Grade::L2,
        3 => Grade::L3,
        4 => Grade::L4,
        5 => Grade::Important,
        6 => Grade::Core,
        other => {
            return Err(Failure::from(govdata::Error::RequestInvalid {
                message: format!("unknown grade {other}, expected a gd_grade (1 to 6)"),
            }))
        }
    })
}

/// A vault handle argument.
///
/// # Safety
/// `ptr` is NULL or a live handle from `gd_vault_init` or `gd_vault_open`, not freed
/// during `'a`.
unsafe fn vault_ref<'a>(ptr: *const gd_vault) -> Result<&'a Vault, Failure> {
    // SAFETY: by the contract, a non-NULL `ptr` is a live `Box<gd_vault>` that no one
    // frees while we borrow it; `Vault` is `Sync`, so shared use from threads is fine.
    match unsafe { ptr.as_ref() } {
        Some(v) => Ok(&v.inner),
        None => Err(Failure::null("vault")),
    }
}

/// A vault handle argument, as the handle (for the handles that keep the vault).
///
/// # Safety
/// As [`vault_ref`].
pub(crate) unsafe fn opt_vault_handle<'a>(ptr: *const gd_vault) -> Option<&'a gd_vault> {
    // SAFETY: forwarded contract of `vault_ref`.
    unsafe { ptr.as_ref() }
}

/// The operator and witness arguments of a key operation.
///
/// # Safety
/// `operator` and `witness` are NULL or NUL-terminated strings.
unsafe fn operator_arg(
    operator: *const c_char,
    witness: *const c_char,
) -> Result<Operator, Failure> {
    // SAFETY: forwarded contract.
    let id = unsafe { c_str(operator, "operator") }?;
    // SAFETY: forwarded contract.
    let witness = unsafe { opt_c_str(witness, "witness") }?;
    let op = Operator::new(id);
    Ok(match witness {
        Some(w) => op.with_witness(w),
        None => op,
    })
}

/// The configuration of a vault in `dir` recording into `audit`, if any.
fn config(dir: &str, audit: Option<&gd_audit>) -> VaultConfig {
    govdata::platform::record_key_events(VaultConfig::new(dir), audit.map(|a| a.shared()).as_ref())
}

/// Hands a new vault to C through `out`.
///
/// # Safety
/// `out` is non-NULL and writable.
unsafe fn publish(vault: Vault, out: *mut *mut gd_vault) -> FfiResult {
    let handle = Box::into_raw(Box::new(gd_vault {
        inner: Arc::new(vault),
    }));
    // SAFETY: `out` was checked non-NULL and is writable by the contract.
    unsafe { out.write(handle) };
    Ok(gd_status::GD_OK)
}

/// Creates a key store in the directory `dir` (made if missing), sealed by the
/// `master_key_len`-byte master key at `master_key` (`GD_VAULT_KEY_LEN` bytes, wrapping
/// with XChaCha20-Poly1305; the store never holds it — keep it safe). Creating the
/// store is a `manage_keys` decision of `engine` on the system `platform` for
/// `operator` (an inventory user id; `witness`, a second key administrator, or NULL,
/// where the policies demand dual control), recorded in `audit` when it is not NULL;
/// later key operations of the vault are recorded there too. On success writes the new
/// handle to `*out` (free it with `gd_vault_free`); on failure `*out` is untouched.
///
/// Errors: `GD_ERR_ACCESS_DENIED` (the policies refuse the operator),
/// `GD_ERR_KEY_INVALID` (a master key of another length), `GD_ERR_IO` (a key store is
/// already there, or the directory cannot be written), `GD_ERR_UNKNOWN_ENTITY` (an
/// operator the inventory does not hold), `GD_ERR_AUDIT_UNAVAILABLE` (the event cannot
/// be recorded: nothing was created), and the argument statuses.
///
/// # Safety
/// `dir`, `operator` and `witness` are NULL or NUL-terminated strings; `master_key` is
/// NULL or points to `master_key_len` readable bytes; `engine` and `audit` are NULL or
/// live handles; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_init(
    dir: *const c_char,
    master_key: *const u8,
    master_key_len: usize,
    engine: *const gd_engine,
    operator: *const c_char,
    witness: *const c_char,
    audit: *const gd_audit,
    out: *mut *mut gd_vault,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let dir = unsafe { c_str(dir, "dir") }?;
        // SAFETY: forwarded contract of this export.
        let key = unsafe { bytes(master_key, master_key_len, GD_MAX_INPUT_LEN, "master_key") }?;
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_handle(engine) }?;
        // SAFETY: forwarded contract of this export.
        let operator = unsafe { operator_arg(operator, witness) }?;
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { opt_audit_handle(audit) };
        let out = out_ptr(out, "out")?;
        let master = MasterKey::from_bytes(key)?;
        let authorizer: Arc<dyn KeyAuthorizer> = engine.shared();
        let vault = Vault::init(config(dir, audit), Box::new(master), authorizer, &operator)?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { publish(vault, out) }
    }
}

/// Opens the key store in the directory `dir` and authenticates it under the master
/// key at `master_key` (`master_key_len` bytes, `GD_VAULT_KEY_LEN`). Key operations are
/// decided by `engine` and recorded in `audit` when it is not NULL. On success writes
/// the new handle to `*out` (free it with `gd_vault_free`); on failure `*out` is
/// untouched.
///
/// Errors: `GD_ERR_KEY_INVALID` (a master key of another length, or not the one that
/// seals this store), `GD_ERR_CRYPTO_AUTH_FAILED` (an edited, truncated or swapped key
/// store), `GD_ERR_IO` (no key store there), and the argument statuses.
///
/// # Safety
/// `dir` is NULL or a NUL-terminated string; `master_key` is NULL or points to
/// `master_key_len` readable bytes; `engine` and `audit` are NULL or live handles;
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_open(
    dir: *const c_char,
    master_key: *const u8,
    master_key_len: usize,
    engine: *const gd_engine,
    audit: *const gd_audit,
    out: *mut *mut gd_vault,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let dir = unsafe { c_str(dir, "dir") }?;
        // SAFETY: forwarded contract of this export.
        let key = unsafe { bytes(master_key, master_key_len, GD_MAX_INPUT_LEN, "master_key") }?;
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_handle(engine) }?;
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { opt_audit_handle(audit) };
        let out = out_ptr(out, "out")?;
        let suite = Vault::store_algorithm(dir)?;
        let master = MasterKey::with_suite(key, suite)?;
        let authorizer: Arc<dyn KeyAuthorizer> = engine.shared();
        let vault = Vault::open(config(dir, audit), Box::new(master), authorizer)?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { publish(vault, out) }
    }
}

/// Releases a vault; its unwrapped data keys are wiped from memory. NULL is accepted
/// and ignored.
///
/// # Safety
/// `vault` is NULL or a handle from `gd_vault_init` or `gd_vault_open` that is not
/// freed yet and that no other thread is using; it is not used after this call.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_free(vault: *mut gd_vault) {
    ffi_guard! {
        if !vault.is_null() {
            // SAFETY: by the contract, `vault` came from `Box::into_raw` in `publish` and
            // is released exactly once, here, with no other user left.
            drop(unsafe { Box::from_raw(vault) });
        }
    }
}

/// Makes a new data key for `dataset` and makes it the one new data is encrypted with;
/// the previous key, if any, is retired and still decrypts old data. The first call
/// for a dataset creates its first key. A `manage_keys` decision on the dataset for
/// `operator` (and `witness`, or NULL), recorded before the key store changes.
///
/// Errors: `GD_ERR_ACCESS_DENIED` (the policies refuse the operator, or demand a
/// witness: dual control for important and core data), `GD_ERR_UNKNOWN_ENTITY`,
/// `GD_ERR_AUDIT_UNAVAILABLE` (the event cannot be recorded: nothing changed),
/// `GD_ERR_IO`, and the argument statuses.
///
/// # Safety
/// `vault` is NULL or a live handle; `operator`, `witness` and `dataset` are NULL or
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_rotate_key(
    vault: *const gd_vault,
    operator: *const c_char,
    witness: *const c_char,
    dataset: *const c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let vault = unsafe { vault_ref(vault) }?;
        // SAFETY: forwarded contract of this export.
        let operator = unsafe { operator_arg(operator, witness) }?;
        // SAFETY: forwarded contract of this export.
        let dataset = unsafe { c_str(dataset, "dataset") }?;
        vault.rotate_key(&operator, dataset)?;
        Ok(gd_status::GD_OK)
    }
}

/// Makes sure `dataset` has an active data key: does nothing when it has one, and
/// otherwise makes its first key as `gd_vault_rotate_key` does.
///
/// Errors: as `gd_vault_rotate_key`, and `GD_ERR_KEY_DESTROYED` for a shredded dataset.
///
/// # Safety
/// As `gd_vault_rotate_key`.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_ensure_key(
    vault: *const gd_vault,
    operator: *const c_char,
    witness: *const c_char,
    dataset: *const c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let vault = unsafe { vault_ref(vault) }?;
        // SAFETY: forwarded contract of this export.
        let operator = unsafe { operator_arg(operator, witness) }?;
        // SAFETY: forwarded contract of this export.
        let dataset = unsafe { c_str(dataset, "dataset") }?;
        vault.ensure_key(&operator, dataset)?;
        Ok(gd_status::GD_OK)
    }
}

/// Crypto-shreds `dataset`: destroys every version of its data key in memory, in the
/// key store and in every backup the vault made, and records it. Its data can never be
/// decrypted again (`GD_ERR_KEY_DESTROYED`). A `manage_keys` decision on the dataset
/// for `operator` (and `witness`, or NULL). Writes a report to `*out_report_json`
/// (free it with `gd_string_free`): `{"dataset": "…", "key_ids": ["dk-…"],
/// "backups_scrubbed": 2, "event_seq": 7}` (`event_seq` is the audit record of the
/// shred, or null without an audit log).
///
/// Errors: as `gd_vault_rotate_key`.
///
/// # Safety
/// `vault` is NULL or a live handle; `operator`, `witness` and `dataset` are NULL or
/// NUL-terminated strings; `out_report_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_shred(
    vault: *const gd_vault,
    operator: *const c_char,
    witness: *const c_char,
    dataset: *const c_char,
    out_report_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let vault = unsafe { vault_ref(vault) }?;
        // SAFETY: forwarded contract of this export.
        let operator = unsafe { operator_arg(operator, witness) }?;
        // SAFETY: forwarded contract of this export.
        let dataset = unsafe { c_str(dataset, "dataset") }?;
        let out_report_json = out_ptr(out_report_json, "out_report_json")?;
        let report = vault.shred(&operator, dataset)?;
        let text = serde_json::to_string(&report).map_err(|e| {
            Failure::new(gd_status::GD_ERR_PANIC, format!("cannot write the report: {e}"))
        })?;
        // SAFETY: `out_report_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_report_json.write(into_c_string(text)) };
        Ok(gd_status::GD_OK)
    }
}

/// Writes the state of the key store to `*out_json` (free it with `gd_string_free`):
/// the master key's fingerprint and algorithm, the default suite, and every data key
/// with its dataset, version, status (`active`, `retired`, `destroyed`) and times —
/// never key material.
///
/// # Safety
/// `vault` is NULL or a live handle; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_status_json(
    vault: *const gd_vault,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let vault = unsafe { vault_ref(vault) }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let status = vault.status()?;
        let text = serde_json::to_string(&status).map_err(|e| {
            Failure::new(gd_status::GD_ERR_PANIC, format!("cannot write the status: {e}"))
        })?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(text)) };
        Ok(gd_status::GD_OK)
    }
}

/// Encrypts `plaintext` (`plaintext_len` bytes, 1 to `GD_MAX_BUFFER_LEN`), a record of
/// `dataset` of grade `grade` (a `gd_grade`), under the dataset's active data key.
/// Writes the ciphertext to `*out` and its length to `*out_len`; free it with
/// `gd_buffer_free(*out, *out_len)`. The dataset and grade are bound into the
/// ciphertext.
///
/// Errors: `GD_ERR_KEY_NOT_FOUND` (the dataset has no data key yet: see
/// `gd_vault_rotate_key`), `GD_ERR_KEY_DESTROYED` (shredded), `GD_ERR_REQUEST_INVALID`
/// (an unknown grade), and the argument statuses.
///
/// # Safety
/// `vault` is NULL or a live handle; `dataset` is NULL or a NUL-terminated string;
/// `plaintext` is NULL or points to `plaintext_len` readable bytes; `out` and `out_len`
/// are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_encrypt(
    vault: *const gd_vault,
    dataset: *const c_char,
    grade: c_int,
    plaintext: *const u8,
    plaintext_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let vault = unsafe { vault_ref(vault) }?;
        // SAFETY: forwarded contract of this export.
        let dataset = unsafe { c_str(dataset, "dataset") }?;
        let grade = parse_grade(grade)?;
        // SAFETY: forwarded contract of this export.
        let plaintext = unsafe { bytes(plaintext, plaintext_len, GD_MAX_BUFFER_LEN, "plaintext") }?;
        let out = out_ptr(out, "out")?;
        let out_len = out_ptr(out_len, "out_len")?;
        let sealed = vault.encrypt(dataset, grade, plaintext)?;
        let (ptr, len) = into_c_buffer(sealed);
        // SAFETY: both are non-NULL (checked) and writable by the contract.
        unsafe {
            out.write(ptr);
            out_len.write(len);
        }
        Ok(gd_status::GD_OK)
    }
}

/// Decrypts a ciphertext of `gd_vault_encrypt` (`ciphertext_len` bytes, 1 to
/// `GD_MAX_BUFFER_LEN + GD_VAULT_RECORD_OVERHEAD`) of `dataset` and grade `grade`,
/// whatever key version it was encrypted with. Writes the plaintext to `*out` and its
/// length to `*out_len` (0 for an empty plaintext); free it with
/// `gd_buffer_free(*out, *out_len)`, which wipes it. Nothing is returned unless the
/// whole ciphertext authenticated.
///
/// Errors: `GD_ERR_CRYPTO_AUTH_FAILED` (any change to the ciphertext, or a ciphertext of
/// another dataset or grade), `GD_ERR_KEY_DESTROYED` (the dataset was shredded),
/// `GD_ERR_KEY_NOT_FOUND`, `GD_ERR_REQUEST_INVALID` (an unknown grade), and the argument
/// statuses.
///
/// # Safety
/// `vault` is NULL or a live handle; `dataset` is NULL or a NUL-terminated string;
/// `ciphertext` is NULL or points to `ciphertext_len` readable bytes; `out` and
/// `out_len` are NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_decrypt(
    vault: *const gd_vault,
    dataset: *const c_char,
    grade: c_int,
    ciphertext: *const u8,
    ciphertext_len: usize,
    out: *mut *mut u8,
    out_len: *mut usize,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let vault = unsafe { vault_ref(vault) }?;
        // SAFETY: forwarded contract of this export.
        let dataset = unsafe { c_str(dataset, "dataset") }?;
        let grade = parse_grade(grade)?;
        let max = GD_MAX_BUFFER_LEN + GD_VAULT_RECORD_OVERHEAD;
        // SAFETY: forwarded contract of this export.
        let ciphertext = unsafe { bytes(ciphertext, ciphertext_len, max, "ciphertext") }?;
        let out = out_ptr(out, "out")?;
        let out_len = out_ptr(out_len, "out_len")?;
        let plain = vault.decrypt(dataset, grade, ciphertext)?;
        let (ptr, len) = into_c_buffer(plain);
        // SAFETY: both are non-NULL (checked) and writable by the contract.
        unsafe {
            out.write(ptr);
            out_len.write(len);
        }
        Ok(gd_status::GD_OK)
    }
}

/// Encrypts the file `input_path` of `dataset` and grade `grade` into
/// `output_path` as a chunked stream (64 KiB chunks, in constant memory), with the
/// vault's default suite. The output is written under a temporary name, synced and
/// renamed into place. Writes the number of plaintext bytes to `*out_bytes`.
///
/// Errors: `GD_ERR_IO`, `GD_ERR_KEY_NOT_FOUND`, `GD_ERR_KEY_DESTROYED`,
/// `GD_ERR_REQUEST_INVALID` (an unknown grade), and the argument statuses.
///
/// # Safety
/// `vault` is NULL or a live handle; `dataset`, `input_path` and `output_path` are NULL
/// or NUL-terminated strings; `out_bytes` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_encrypt_file(
    vault: *const gd_vault,
    dataset: *const c_char,
    grade: c_int,
    input_path: *const c_char,
    output_path: *const c_char,
    out_bytes: *mut u64,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let vault = unsafe { vault_ref(vault) }?;
        // SAFETY: forwarded contract of this export.
        let dataset = unsafe { c_str(dataset, "dataset") }?;
        let grade = parse_grade(grade)?;
        // SAFETY: forwarded contract of this export.
        let input = unsafe { c_str(input_path, "input_path") }?;
        // SAFETY: forwarded contract of this export.
        let output = unsafe { c_str(output_path, "output_path") }?;
        let out_bytes = out_ptr(out_bytes, "out_bytes")?;
        let suite = vault.config().default_suite;
        let n = vault.encrypt_file(dataset, grade, suite, Path::new(input), Path::new(output), None)?;
        // SAFETY: `out_bytes` is non-NULL (checked) and writable by the contract.
        unsafe { out_bytes.write(n) };
        Ok(gd_status::GD_OK)
    }
}

/// Decrypts the file `input_path` (made by `gd_vault_encrypt_file`) of `dataset` and
/// grade `grade` into `output_path`. The plaintext goes to a temporary file that
/// is renamed into place only when the whole stream authenticated: on any failure
/// `output_path` is not created. Writes the number of plaintext bytes to `*out_bytes`.
///
/// Errors: `GD_ERR_CRYPTO_AUTH_FAILED` (a changed, cut or swapped file, or a file of
/// another dataset or grade), `GD_ERR_KEY_DESTROYED`, `GD_ERR_KEY_NOT_FOUND`,
/// `GD_ERR_IO`, `GD_ERR_REQUEST_INVALID` (an unknown grade), and the argument statuses.
///
/// # Safety
/// As `gd_vault_encrypt_file`.
#[no_mangle]
pub unsafe extern "C" fn gd_vault_decrypt_file(
    vault: *const gd_vault,
    dataset: *const c_char,
    grade: c_int,
    input_path: *const c_char,
    output_path: *const c_char,
    out_bytes: *mut u64,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let vault = unsafe { vault_ref(vault) }?;
        // SAFETY: forwarded contract of this export.
        let dataset = unsafe { c_str(dataset, "dataset") }?;
        let grade = parse_grade(grade)?;
        // SAFETY: forwarded contract of this export.
        let input = unsafe { c_str(input_path, "input_path") }?;
        // SAFETY: forwarded contract of this export.
        let output = unsafe { c_str(output_path, "output_path") }?;
        let out_bytes = out_ptr(out_bytes, "out_bytes")?;
        let n = vault.decrypt_file(dataset, grade, Path::new(input), Path::new(output), None)?;
        // SAFETY: `out_bytes` is non-NULL (checked) and writable by the contract.
        unsafe { out_bytes.write(n) };
        Ok(gd_status::GD_OK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use govdata::Engine;

    #[test]
    fn grades_cover_the_core() {
        let all = [
            (gd_grade::GD_GRADE_L1, Grade::L1),
            (gd_grade::GD_GRADE_L2, Grade::L2),
            (gd_grade::GD_GRADE_L3, Grade::L3),
            (gd_grade::GD_GRADE_L4, Grade::L4),
            (gd_grade::GD_GRADE_IMPORTANT, Grade::Important),
            (gd_grade::GD_GRADE_CORE, Grade::Core),
        ];
        for (value, g) in all {
            assert_eq!(parse_grade(value as c_int).ok(), Some(g));
            assert_eq!(value as i64, g.ordinal());
        }
        assert!(parse_grade(0).is_err() && parse_grade(7).is_err());
    }

    #[test]
    fn the_key_length_is_the_core_one_and_the_overhead_bounds_a_record() {
        assert_eq!(GD_VAULT_KEY_LEN, govdata::vault::KEY_LEN);
        let dir = std::env::temp_dir().join(format!("govdata-ffi-vault-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let run = || -> govdata::Result<usize> {
            let engine = Arc::new(Engine::with_defaults()?);
            let admin = Operator::new("key.admin");
            let vault = Vault::init(
                VaultConfig::new(&dir),
                Box::new(MasterKey::from_bytes(&[7u8; 32])?),
                engine,
                &admin,
            )?;
            vault.rotate_key(&admin, "social-insurance")?;
            Ok(vault.encrypt("social-insurance", Grade::L3, b"x")?.len() - 1)
        };
        let overhead = run();
        let _ = std::fs::remove_dir_all(&dir);
        let overhead = overhead.map_err(|e| e.to_string());
        assert!(
            matches!(overhead, Ok(n) if n <= GD_VAULT_RECORD_OVERHEAD),
            "{overhead:?}"
        );
    }
}
