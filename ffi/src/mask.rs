//! The data obligations from C: a decision's masks, pseudonyms and watermark carried
//! out by the core on an Arrow C stream (`gd_engine_apply_arrow`), one mask on a JSON
//! array of values (`gd_mask_values`, the shared vectors' entry point), and a leaked
//! stream's watermark read back (`gd_watermark_detect_arrow`).
//!
//! Streams cross as the Arrow C stream interface (`struct ArrowArrayStream`, declared
//! in the header unless the caller's `arrow/c/abi.h` came first): the input is moved
//! into the library (its `release` is set to NULL), its buffers are read where they
//! are, and a kept column of the output is the input's own buffers, not a copy. The
//! core masks the whole stream before the output stream is written, so a failing call
//! writes no output.

use crate::args::{bytes, c_str, into_c_string, opt_c_str, out_ptr};
use crate::engine::{engine_ref, gd_engine, parse_request, parse_value};
use crate::error::{gd_status, Failure};
use crate::guard::ffi_guard;
use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use govdata::audit::HashSuite;
use govdata::mask::arrow::{apply_stream, detect};
use govdata::mask::watermark::Detector;
use govdata::mask::MaskKeys;
use std::os::raw::{c_char, c_int};
use zeroize::Zeroizing;

/// The longest key accepted, in bytes.
const MAX_KEY_LEN: usize = 1024;

/// An optional key argument (NULL and 0: none), copied into zeroizing memory.
///
/// # Safety
/// `key` is NULL or points to `key_len` readable bytes.
unsafe fn key_arg(key: *const u8, key_len: usize) -> Result<Option<Zeroizing<Vec<u8>>>, Failure> {
    if key.is_null() && key_len == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    let k = unsafe { bytes(key, key_len, MAX_KEY_LEN, "key") }?;
    Ok(Some(Zeroizing::new(k.to_vec())))
}

/// An optional suite argument: NULL is `sha256`.
///
/// # Safety
/// `suite` is NULL or a NUL-terminated string.
unsafe fn suite_arg(suite: *const c_char) -> Result<HashSuite, Failure> {
    // SAFETY: forwarded contract.
    match unsafe { opt_c_str(suite, "suite") }? {
        Some(s) => Ok(s.parse::<HashSuite>()?),
        None => Ok(HashSuite::Sha256),
    }
}

/// Moves the caller's stream into a reader (the caller's `release` becomes NULL).
///
/// # Safety
/// `stream` is NULL or points to a writable `struct ArrowArrayStream`, initialised
/// by its producer (or already released).
unsafe fn import(stream: *mut FFI_ArrowArrayStream) -> Result<ArrowArrayStreamReader, Failure> {
    if stream.is_null() {
        return Err(Failure::null("input"));
    }
    // SAFETY: non-NULL, and by the contract a valid, aligned, initialised stream that
    // we may move out of (the C stream interface's move semantics).
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(stream) };
    ArrowArrayStreamReader::try_new(stream).map_err(|e| {
        Failure::from(govdata::Error::RequestInvalid {
            message: format!("the Arrow C stream cannot be read: {e}"),
        })
    })
}

/// Decides `request_json` (recorded in the engine's audit log, whose record a
/// watermark names) and carries out the decision's obligations on `input`, an Arrow
/// C stream of record batches of the request's dataset: the masks of the masking
/// profile the decision names, keyed pseudonyms, canary rows for a watermark. On
/// `GD_OK`, writes the masked stream to `*out` (release it with
/// `out->release(out)`); a column the decision keeps is the input's buffers, passed
/// on without a copy, unless a watermark places canary rows among them.
///
/// `input` is always moved into the library, whatever the status: its `release` is
/// NULL afterwards and the caller must not release it. `key` (NULL and 0 for none; at
/// least 32 bytes) keys the pseudonyms and the watermark under `suite` (`"sha256"`,
/// the default for NULL, or `"sm3"`).
///
/// Errors (no output, nothing of the data released): `GD_ERR_ACCESS_DENIED` when the
/// decision denies or carries an obligation no call can carry out (`dual_control`),
/// `GD_ERR_REQUEST_INVALID` when a column is not a declared field of the dataset, a
/// masked column is not a string column, or the stream cannot be read,
/// `GD_ERR_KEY_NOT_FOUND` when a key the obligations need is not given,
/// `GD_ERR_KEY_INVALID` for a key shorter than 32 bytes, `GD_ERR_MALFORMED_JSON`,
/// `GD_ERR_UNKNOWN_ENTITY`, and the argument statuses.
///
/// # Safety
/// `engine` is NULL or a live handle; `request_json` is NULL or a NUL-terminated
/// string; `key` is NULL or points to `key_len` readable bytes; `suite` is NULL or a
/// NUL-terminated string; `input` is NULL or an initialised `struct ArrowArrayStream`;
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_apply_arrow(
    engine: *const gd_engine,
    request_json: *const c_char,
    key: *const u8,
    key_len: usize,
    suite: *const c_char,
    input: *mut FFI_ArrowArrayStream,
    out: *mut FFI_ArrowArrayStream,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export; the stream is moved first, so it
        // is the library's whatever fails next.
        let reader = unsafe { import(input) }?;
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let request = parse_request(unsafe { c_str(request_json, "request_json") }?)?;
        // SAFETY: forwarded contract of this export.
        let key = unsafe { key_arg(key, key_len) }?;
        // SAFETY: forwarded contract of this export.
        let suite = unsafe { suite_arg(suite) }?;
        let out = out_ptr(out, "out")?;
        let keys = MaskKeys::from_bytes(key.as_ref(), suite)?;
        let masked = apply_stream(engine, &request, reader, keys)?;
        let stream = FFI_ArrowArrayStream::new(Box::new(masked.into_reader()));
        // SAFETY: `out` is non-NULL (checked) and writable by the contract; whatever it
        // held is overwritten, not released (an out-parameter holds nothing yet).
        unsafe { out.write(stream) };
        Ok(gd_status::GD_OK)
    }
}

/// Applies the mask named `mask` (`"resident_id"`, `"mobile"`, `"show_first:4"`,
/// `"hash"`, `"pseudonym"` …) to each value of `values_json`, a JSON array of
/// strings and nulls, and writes the JSON array of the masked values (a null stays
/// null) to `*out_json`; free it with `gd_string_free`. The entry point of the shared
/// mask vectors. A pseudonym needs `key` (NULL and 0 for none; at least 32 bytes)
/// under `suite` (NULL: `"sha256"`; or `"sm3"`).
///
/// Errors: `GD_ERR_KEY_NOT_FOUND` (a pseudonym without a key), `GD_ERR_REQUEST_INVALID`
/// (an unknown mask, or values that are not an array of strings and nulls),
/// `GD_ERR_KEY_INVALID`, `GD_ERR_MALFORMED_JSON`, and the argument statuses.
///
/// # Safety
/// `mask` and `values_json` are NULL or NUL-terminated strings; `key` is NULL or points
/// to `key_len` readable bytes; `suite` is NULL or a NUL-terminated string; `out_json`
/// is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_mask_values(
    mask: *const c_char,
    values_json: *const c_char,
    key: *const u8,
    key_len: usize,
    suite: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let mask = unsafe { c_str(mask, "mask") }?;
        // SAFETY: forwarded contract of this export.
        let values = parse_value(unsafe { c_str(values_json, "values_json") }?, "values")?;
        // SAFETY: forwarded contract of this export.
        let key = unsafe { key_arg(key, key_len) }?;
        // SAFETY: forwarded contract of this export.
        let suite = unsafe { suite_arg(suite) }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let values: Vec<Option<String>> = serde_json::from_value(values).map_err(|_| {
            Failure::from(govdata::Error::RequestInvalid {
                message: "`values_json` must be a JSON array of strings and nulls".into(),
            })
        })?;
        let masked = govdata::mask::mask_values(
            mask,
            values.iter().map(Option::as_deref),
            key.as_ref(),
            suite,
        )?;
        let json = serde_json::Value::from(masked).to_string();
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(json)) };
        Ok(gd_status::GD_OK)
    }
}

/// Reads the watermark of `input`, an Arrow C stream (a leaked extract), made under
/// `key` (at least 32 bytes) and `suite` (NULL: `"sha256"`). On `GD_OK` writes JSON to
/// `*out_json` (free it with `gd_string_free`): `{"marked": false}`, or
/// `{"marked": true, "audit_seq": 1042, "votes": 89, "recipient": "zhang.san"}` — the
/// audit record of the decision that released the extract (its low 32 bits), the
/// cells that voted for the mark, and the first of `candidates_json` (a JSON array of
/// user ids, or NULL) that the mark names, or `null`. `input` is always moved into the
/// library, as for `gd_engine_apply_arrow`.
///
/// # Safety
/// `key` is NULL or points to `key_len` readable bytes; `suite` and `candidates_json`
/// are NULL or NUL-terminated strings; `input` is NULL or an initialised
/// `struct ArrowArrayStream`; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_watermark_detect_arrow(
    key: *const u8,
    key_len: usize,
    suite: *const c_char,
    candidates_json: *const c_char,
    input: *mut FFI_ArrowArrayStream,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export; moved first, as documented.
        let reader = unsafe { import(input) }?;
        // SAFETY: forwarded contract of this export.
        let key = unsafe { bytes(key, key_len, MAX_KEY_LEN, "key") }?;
        let key = Zeroizing::new(key.to_vec());
        // SAFETY: forwarded contract of this export.
        let suite = unsafe { suite_arg(suite) }?;
        // SAFETY: forwarded contract of this export.
        let candidates: Vec<String> = match unsafe { opt_c_str(candidates_json, "candidates_json") }? {
            Some(text) => serde_json::from_value(parse_value(text, "candidates")?).map_err(|_| {
                Failure::from(govdata::Error::RequestInvalid {
                    message: "`candidates_json` must be a JSON array of user ids".into(),
                })
            })?,
            None => Vec::new(),
        };
        let out_json = out_ptr(out_json, "out_json")?;
        let detector = Detector::from_bytes(&key, suite)?;
        let json = match detect(&detector, reader)? {
            None => serde_json::json!({"marked": false}),
            Some(d) => serde_json::json!({
                "marked": true,
                "audit_seq": d.audit_seq(),
                "votes": d.votes(),
                "recipient": detector.recipient_among(&d, candidates.iter().map(String::as_str)),
            }),
        };
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(json.to_string())) };
        Ok(gd_status::GD_OK)
    }
}
