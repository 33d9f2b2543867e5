//! The C ABI of govdata: `libgovdata` and `govdata.h`.
//!
//! A thin layer over the `govdata` crate in the conventions of rustls-ffi: opaque
//! handles created by `gd_*_new_*` and released by `gd_*_free` (which accept NULL),
//! `int` statuses from [`gd_status`] with `GD_OK = 0`, out-parameters written only on
//! success, buffers followed by their length, strings returned by the library released
//! with [`gd_string_free`], and a thread-local last error message. Each export checks
//! its pointers, parses its arguments, calls the core and maps the result; nothing of
//! the policy logic lives here.
//!
//! Every export's whole body is one `ffi_guard!` (see [`guard`]), so a panic becomes
//! `GD_ERR_PANIC` or NULL and never crosses into C. `include/govdata.h` is generated
//! from these sources by cbindgen (`cbindgen.toml`) and committed; the test
//! `header_is_up_to_date` fails when it drifts (`GOVDATA_BLESS=1` rewrites it).
//!
//! Each handle of the core has its module: `engine` (`gd_engine_*`), `audit`
//! (`gd_audit_*`, and attaching a log to an engine), `vault` (`gd_vault_*`) and
//! `workflows` (`gd_workflows_*`, `gd_share_*`, `gd_destruction_*`); `platform` opens a
//! node from its `govdata.toml` (`gd_platform_*`), `report` explains a decision and
//! assesses a node (`gd_engine_explain_json`, `gd_assess_json`, `gd_platform_assess_json`),
//! and `mask` carries out a decision's obligations on Arrow C streams
//! (`gd_engine_apply_arrow`, `gd_mask_values`, `gd_watermark_detect_arrow`).

#![deny(unsafe_op_in_unsafe_fn)]

mod args;
pub mod audit;
pub mod engine;
pub mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod guard;
pub mod mask;
pub mod platform;
pub mod report;
#[cfg(feature = "testing")]
pub mod testing;
pub mod vault;
pub mod workflows;

pub use args::GD_MAX_INPUT_LEN;
pub use error::gd_status;

use error::{last_error, Failure};
use guard::{ffi_guard, Quiet};
use std::ffi::CString;
use std::os::raw::{c_char, c_int};

/// The major version of the library (the crate, the header and the bindings agree).
pub const GD_VERSION_MAJOR: u32 = 0;
/// The minor version of the library.
pub const GD_VERSION_MINOR: u32 = 1;
/// The patch version of the library.
pub const GD_VERSION_PATCH: u32 = 0;
/// The version as one number, `major * 10000 + minor * 100 + patch`, for `#if`.
pub const GD_VERSION_NUMBER: u32 = 100;

static VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(v) => v,
    Err(_) => c"unknown",
};

/// The version of the linked library, such as `"0.1.0"`; compare it with the
/// header's `GD_VERSION_*` to detect a header and a library that do not match.
/// The string is static: do not free it. Thread-safe.
#[no_mangle]
pub extern "C" fn gd_version() -> *const c_char {
    ffi_guard! { VERSION.as_ptr() }
}

/// The name of a status, such as `"GD_ERR_POLICY_PARSE"`, or NULL for a number that
/// is no status. The string is static: do not free it. Thread-safe.
#[no_mangle]
pub extern "C" fn gd_status_name(status: c_int) -> *const c_char {
    ffi_guard! {
        match gd_status::from_int(status) {
            Some(s) => s.describe().0.as_ptr(),
            None => std::ptr::null(),
        }
    }
}

/// The core's stable error code that a status mirrors, such as `"policy_parse"` for
/// `GD_ERR_POLICY_PARSE` (the codes the Rust, Python and Node APIs report), or NULL for
/// a status of the C boundary itself (`GD_OK`, `GD_ERR_NULL_ARGUMENT` …) and for a
/// number that is no status. The string is static: do not free it. Thread-safe.
#[no_mangle]
pub extern "C" fn gd_status_code(status: c_int) -> *const c_char {
    ffi_guard! {
        match gd_status::from_int(status).and_then(|s| s.describe().1) {
            Some(code) => code.as_ptr(),
            None => std::ptr::null(),
        }
    }
}

/// Releases a string returned by this library (decision JSON and the like). NULL is
/// accepted and ignored.
///
/// # Safety
/// `s` is NULL or a string returned by this library and not yet freed; it is not used
/// after this call.
#[no_mangle]
pub unsafe extern "C" fn gd_string_free(s: *mut c_char) {
    ffi_guard! {
        if !s.is_null() {
            // SAFETY: by the contract, `s` came from `CString::into_raw` in this library
            // (`args::into_c_string`) and is freed exactly once, here.
            drop(unsafe { CString::from_raw(s) });
        }
    }
}

/// Releases a byte buffer returned by this library (a ciphertext or a plaintext of the
/// vault), first overwriting it with zeros. `len` is the length returned with the
/// buffer. NULL is accepted and ignored.
///
/// # Safety
/// `buf` is NULL or a buffer returned by this library with length `len` and not yet
/// freed; it is not used after this call.
#[no_mangle]
pub unsafe extern "C" fn gd_buffer_free(buf: *mut u8, len: usize) {
    ffi_guard! {
        if !buf.is_null() {
            let slice = std::ptr::slice_from_raw_parts_mut(buf, len);
            // SAFETY: by the contract, `buf` and `len` came from `args::into_c_buffer`
            // (a `Box<[u8]>` of exactly `len` bytes) and are freed exactly once, here.
            let mut boxed = unsafe { Box::from_raw(slice) };
            args::wipe(&mut boxed);
            drop(boxed);
        }
    }
}

/// Copies this thread's last error message into `buf` as a NUL-terminated UTF-8
/// string and writes its length (without the NUL) to `*out_len`.
///
/// The message belongs to the most recent call on this thread that returns a status:
/// a call that returns `GD_OK` (or `GD_DENIED`) leaves it empty, a failing call leaves
/// its reason. Reading it does not change it. Messages are for people: match on the
/// status, never on the text.
///
/// - `buf == NULL && len == 0`: a size query; returns `GD_OK` and writes the length only.
/// - `buf == NULL && len > 0`, or `out_len == NULL`: `GD_ERR_NULL_ARGUMENT`.
/// - `buf != NULL && len == 0`: `GD_ERR_ZERO_LENGTH`.
/// - the message and its NUL do not fit in `len` bytes: the longest prefix that fits
///   (whole UTF-8 characters) is written and NUL-terminated, `*out_len` is not written,
///   and the call returns `GD_ERR_BUFFER_TOO_SMALL`.
///
/// Thread-safe (each thread has its own message).
///
/// # Safety
/// `buf` is NULL or points to `len` writable bytes; `out_len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_last_error_message(
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> c_int {
    ffi_guard! {
        let message = last_error();
        if out_len.is_null() || (buf.is_null() && len > 0) {
            return Quiet(gd_status::GD_ERR_NULL_ARGUMENT);
        }
        if buf.is_null() {
            // SAFETY: `out_len` is non-NULL and writable by the contract.
            unsafe { out_len.write(message.len()) };
            return Quiet(gd_status::GD_OK);
        }
        if len == 0 {
            return Quiet(gd_status::GD_ERR_ZERO_LENGTH);
        }
        let (fits, status) = if message.len() < len {
            (message.len(), gd_status::GD_OK)
        } else {
            let mut cut = len - 1;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            (cut, gd_status::GD_ERR_BUFFER_TOO_SMALL)
        };
        // SAFETY: `buf` is non-NULL with `len` writable bytes and `fits + 1 <= len`; the
        // source is our own String, which cannot overlap the caller's buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(message.as_ptr(), buf.cast::<u8>(), fits);
            buf.add(fits).write(0);
        }
        if status == gd_status::GD_OK {
            // SAFETY: `out_len` is non-NULL and writable by the contract.
            unsafe { out_len.write(fits) };
        }
        Quiet(status)
    }
}

/// `Result` helper for the engine module.
pub(crate) type FfiResult = Result<gd_status, Failure>;
