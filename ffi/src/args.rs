//! Checking the arguments C hands us: pointers, strings and out-parameters.
//!
//! Every check returns a [`Failure`] with its own status: NULL is
//! `GD_ERR_NULL_ARGUMENT`, an empty required string `GD_ERR_ZERO_LENGTH`, more than
//! [`GD_MAX_INPUT_LEN`] bytes `GD_ERR_INPUT_TOO_LARGE`, bytes that are not UTF-8
//! `GD_ERR_INVALID_UTF8`. A NUL-terminated string is measured with a bounded scan, so a
//! huge input is refused without reading past the limit.

use crate::error::{gd_status, Failure};
use std::ffi::CString;
use std::os::raw::c_char;

/// The longest string argument, in bytes (16 MiB): longer input is
/// `GD_ERR_INPUT_TOO_LARGE`, whether JSON, an id or a path.
pub const GD_MAX_INPUT_LEN: usize = 16777216;

extern "C" {
    // The C library's bounded `strlen` (POSIX.1-2008; also in the Windows CRT).
    fn strnlen(s: *const c_char, maxlen: usize) -> usize;
}

/// A required NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `ptr` is NULL or points to a readable NUL-terminated string, or to at least
/// `GD_MAX_INPUT_LEN + 1` readable bytes; it stays valid and unchanged for `'a`.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: `ptr` is non-NULL and, by this function's contract, readable up to its NUL
    // or for GD_MAX_INPUT_LEN + 1 bytes; strnlen reads no further than either.
    let len = unsafe { strnlen(ptr, GD_MAX_INPUT_LEN + 1) };
    // SAFETY: the `len` bytes before the NUL (or the limit) were just found readable,
    // and the contract keeps them valid and unchanged for 'a.
    unsafe { bytes_str(ptr, len, name) }
}

/// A required string argument given as pointer and length (no NUL needed).
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes (when `len <= GD_MAX_INPUT_LEN`),
/// valid and unchanged for `'a`.
pub(crate) unsafe fn bytes_str<'a>(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    if len == 0 {
        return Err(Failure::new(
            gd_status::GD_ERR_ZERO_LENGTH,
            format!("argument `{name}` is empty"),
        ));
    }
    if len > GD_MAX_INPUT_LEN {
        return Err(Failure::new(
            gd_status::GD_ERR_INPUT_TOO_LARGE,
            format!("argument `{name}` is longer than {GD_MAX_INPUT_LEN} bytes"),
        ));
    }
    // SAFETY: `ptr` is non-NULL and, by the contract, `len` bytes from it are readable
    // and stay unchanged for 'a; u8 and c_char have the same size and alignment.
    let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) };
    std::str::from_utf8(bytes).map_err(|e| {
        Failure::new(
            gd_status::GD_ERR_INVALID_UTF8,
            format!(
                "argument `{name}` is not valid UTF-8 (at byte {})",
                e.valid_up_to()
            ),
        )
    })
}

/// An optional string argument given as pointer and length: NULL with length 0 is
/// absent; anything else is checked as [`bytes_str`] checks it.
///
/// # Safety
/// As [`bytes_str`].
pub(crate) unsafe fn opt_bytes_str<'a>(
    ptr: *const c_char,
    len: usize,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() && len == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { bytes_str(ptr, len, name) }.map(Some)
}

/// An optional NUL-terminated string argument: NULL is absent; anything else is
/// checked as [`c_str`] checks it (so an empty string is `GD_ERR_ZERO_LENGTH`).
///
/// # Safety
/// As [`c_str`].
pub(crate) unsafe fn opt_c_str<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { c_str(ptr, name) }.map(Some)
}

/// A required byte buffer argument given as pointer and length: NULL is
/// `GD_ERR_NULL_ARGUMENT`, length 0 `GD_ERR_ZERO_LENGTH`, more than `max` bytes
/// `GD_ERR_INPUT_TOO_LARGE` (checked before a byte is read).
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes (when `len <= max`), valid and
/// unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(
    ptr: *const u8,
    len: usize,
    max: usize,
    name: &str,
) -> Result<&'a [u8], Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    if len == 0 {
        return Err(Failure::new(
            gd_status::GD_ERR_ZERO_LENGTH,
            format!("argument `{name}` is empty"),
        ));
    }
    if len > max {
        return Err(Failure::new(
            gd_status::GD_ERR_INPUT_TOO_LARGE,
            format!("argument `{name}` is longer than {max} bytes"),
        ));
    }
    // SAFETY: `ptr` is non-NULL and, by the contract, `len` bytes from it are readable
    // and stay unchanged for 'a.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Checks that an out-parameter is non-NULL before any work is done.
pub(crate) fn out_ptr<T>(ptr: *mut T, name: &str) -> Result<*mut T, Failure> {
    if ptr.is_null() {
        Err(Failure::null(name))
    } else {
        Ok(ptr)
    }
}

/// A string the library hands to C, freed with `gd_string_free`. JSON text never holds
/// a NUL byte (serde_json escapes U+0000); any other text has NULs replaced.
pub(crate) fn into_c_string(text: String) -> *mut c_char {
    let c = CString::new(text).unwrap_or_else(|e| {
        let mut bytes = e.into_vec();
        bytes.retain(|&b| b != 0);
        CString::new(bytes).unwrap_or_default()
    });
    c.into_raw()
}

/// A byte buffer the library hands to C, freed with `gd_buffer_free` (which needs
/// the length returned with it).
pub(crate) fn into_c_buffer(data: Vec<u8>) -> (*mut u8, usize) {
    let boxed = data.into_boxed_slice();
    let len = boxed.len();
    (Box::into_raw(boxed).cast::<u8>(), len)
}

/// Overwrites `data` with zeros in a way the optimiser keeps (plaintext and key
/// copies are wiped before their memory is released).
pub(crate) fn wipe(data: &mut [u8]) {
    for b in data.iter_mut() {
        // SAFETY: `b` is a valid, aligned, exclusive reference to one byte.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_checks_have_their_own_statuses() {
        fn s(r: Result<&str, Failure>) -> Result<&str, gd_status> {
            r.map_err(|f| f.status)
        }
        // SAFETY: every pointer is NULL, a C string literal, or a live buffer of at
        // least the length given.
        unsafe {
            assert_eq!(
                s(c_str(std::ptr::null(), "x")),
                Err(gd_status::GD_ERR_NULL_ARGUMENT)
            );
            assert_eq!(
                s(c_str(c"".as_ptr(), "x")),
                Err(gd_status::GD_ERR_ZERO_LENGTH)
            );
            assert_eq!(s(c_str(c"abc".as_ptr(), "x")), Ok("abc"));
            assert_eq!(
                s(c_str(c"\xff\xfe".as_ptr(), "x")),
                Err(gd_status::GD_ERR_INVALID_UTF8)
            );
            let big = vec![b'a'; GD_MAX_INPUT_LEN + 10];
            assert_eq!(
                s(c_str(big.as_ptr().cast(), "x")),
                Err(gd_status::GD_ERR_INPUT_TOO_LARGE)
            );
            assert_eq!(s(bytes_str(b"ab".as_ptr().cast(), 1, "x")), Ok("a"));
            assert_eq!(
                opt_bytes_str(std::ptr::null(), 0, "x").map_err(|f| f.status),
                Ok(None)
            );
            assert_eq!(
                opt_bytes_str(std::ptr::null(), 3, "x").map_err(|f| f.status),
                Err(gd_status::GD_ERR_NULL_ARGUMENT)
            );
        }
    }

    #[test]
    fn c_strings_drop_nul_bytes() {
        let p = into_c_string("a\0b".into());
        // SAFETY: `p` came from `into_c_string` and is freed once.
        let back = unsafe { CString::from_raw(p) };
        assert_eq!(back.as_bytes(), b"ab");
    }
}
