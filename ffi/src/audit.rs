//! `gd_audit`: the tamper-evident audit log handle.
//!
//! Owns the audit exports: opening a log, attaching it to an engine (so that every
//! decision is recorded and carries its `audit_seq`), appending the host's own events,
//! checkpoints, verification, queries and the access-controlled view. It converts and
//! checks arguments and maps results; the log itself is the core's.

use crate::args::{bytes, c_str, into_c_string, opt_c_str, out_ptr, GD_MAX_INPUT_LEN};
use crate::engine::{engine_ref, gd_engine, parse_value};
use crate::error::{gd_status, Failure};
use crate::guard::ffi_guard;
use govdata::audit::{
    AuditLog, AuditOptions, AuditQuery, AuditRecord, Checkpoint, Event, SealingKey, SyncMode,
};
use serde_json::Value;
use std::os::raw::{c_char, c_int};
use std::str::FromStr;
use std::sync::Arc;

/// The tamper-evident audit log of one directory.
///
/// Thread safety: every function taking a `gd_audit` may be called on the same handle
/// from any number of threads at once (appends are serialised inside the log). Only
/// `gd_audit_free` must not run concurrently with, or be followed by, any other use of
/// the handle. One process writes a log directory at a time (the directory's lock: a
/// second opener waits, then gets `GD_ERR_STORE_LOCKED`).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct gd_audit {
    // Shared: an engine the log is attached to and a vault that records its key
    // events keep the log open after the handle is freed.
    inner: Arc<AuditLog>,
}

impl gd_audit {
    /// A new handle on a log opened elsewhere (a node's).
    pub(crate) fn from_shared(inner: Arc<AuditLog>) -> gd_audit {
        gd_audit { inner }
    }

    /// Another reference to the log, for a handle that keeps using it.
    pub(crate) fn shared(&self) -> Arc<AuditLog> {
        Arc::clone(&self.inner)
    }
}

/// When an append is on disk (`gd_audit_open`).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gd_sync_mode {
    /// `fsync` before each append returns (concurrent appends share a sync). The default.
    GD_SYNC_ALWAYS = 0,
    /// Group commit: an append returns once the batch holding it is on disk.
    GD_SYNC_BATCH = 1,
    /// Buffered in the process and written out when the buffer fills, on
    /// `gd_audit_sync`, and when the log is closed; a crash may lose the buffer.
    GD_SYNC_NONE = 2,
}

/// The length in bytes of the key that seals an audit log.
pub const GD_AUDIT_KEY_LEN: usize = 32;

fn parse_sync_mode(value: c_int) -> Result<SyncMode, Failure> {
    match value {
        v if v == gd_sync_mode::GD_SYNC_ALWAYS as c_int => Ok(SyncMode::Always),
        v if v == gd_sync_mode::GD_SYNC_BATCH as c_int => Ok(SyncMode::Batch),
        v if v == gd_sync_mode::GD_SYNC_NONE as c_int => Ok(SyncMode::None),
        other => Err(request_invalid(format!(
            "unknown sync mode {other}, expected GD_SYNC_ALWAYS, GD_SYNC_BATCH or GD_SYNC_NONE"
        ))),
    }
}

fn request_invalid(message: impl Into<String>) -> Failure {
    Failure::from(govdata::Error::RequestInvalid {
        message: message.into(),
    })
}

/// An audit handle argument.
///
/// # Safety
/// `ptr` is NULL or a live handle from `gd_audit_open`, not freed during `'a`.
pub(crate) unsafe fn audit_handle<'a>(ptr: *const gd_audit) -> Result<&'a gd_audit, Failure> {
    // SAFETY: by the contract, a non-NULL `ptr` is a live `Box<gd_audit>` that no one
    // frees while we borrow it; `AuditLog` is `Sync`, so shared use from threads is fine.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null("audit"))
}

/// An optional audit handle argument: NULL is none.
///
/// # Safety
/// As [`audit_handle`].
pub(crate) unsafe fn opt_audit_handle<'a>(ptr: *const gd_audit) -> Option<&'a gd_audit> {
    // SAFETY: forwarded contract of `audit_handle`.
    unsafe { ptr.as_ref() }
}

/// Opens the audit log in the directory `dir`, creating the directory and a new log
/// if there is none, sealed with the `key_len`-byte key at `key` (`GD_AUDIT_KEY_LEN`
/// bytes; the log never stores it, keep it safe). `sync_mode` is a `gd_sync_mode`. On
/// success writes the new handle to `*out` (free it with `gd_audit_free`); on failure
/// `*out` is untouched. The key bytes are read during the call and not kept: the log
/// holds only the MAC state derived from them.
///
/// A torn tail left by a crash is cut back to the last complete record and kept
/// aside under `dir/torn/`.
///
/// Errors: `GD_ERR_KEY_INVALID` (a key of another length, or not this log's key),
/// `GD_ERR_AUDIT_TAMPERED` (the last segment holds a bad record: verify the log and
/// restore it from a backup), `GD_ERR_STORE_LOCKED` (another process writes the log
/// and did not close it within 5 seconds; see `gd_audit_open_wait`), `GD_ERR_IO`,
/// `GD_ERR_REQUEST_INVALID` (an unknown sync mode), and the argument statuses
/// (`GD_ERR_ZERO_LENGTH` for `key_len == 0`).
///
/// # Safety
/// `dir` is NULL or a NUL-terminated string; `key` is NULL or points to `key_len`
/// readable bytes; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_audit_open(
    dir: *const c_char,
    key: *const u8,
    key_len: usize,
    sync_mode: c_int,
    out: *mut *mut gd_audit,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        unsafe { open_log(dir, key, key_len, sync_mode, GD_DEFAULT_LOCK_WAIT_MS, out) }
    }
}

/// How long `gd_audit_open` waits for another writer, in milliseconds.
pub const GD_DEFAULT_LOCK_WAIT_MS: u32 = 5000;

/// `gd_audit_open`, waiting up to `lock_wait_ms` milliseconds for another process
/// (or another handle) that writes the log to close it. One process writes a log
/// directory at a time: past the wait the call fails with `GD_ERR_STORE_LOCKED`
/// (the message names the holder's process id) and nothing is written. A holder
/// that dies, however it dies, lets go at once.
///
/// # Safety
/// As for `gd_audit_open`.
#[no_mangle]
pub unsafe extern "C" fn gd_audit_open_wait(
    dir: *const c_char,
    key: *const u8,
    key_len: usize,
    sync_mode: c_int,
    lock_wait_ms: u32,
    out: *mut *mut gd_audit,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        unsafe { open_log(dir, key, key_len, sync_mode, lock_wait_ms, out) }
    }
}

/// The body of `gd_audit_open` and `gd_audit_open_wait`.
///
/// # Safety
/// As for `gd_audit_open`.
unsafe fn open_log(
    dir: *const c_char,
    key: *const u8,
    key_len: usize,
    sync_mode: c_int,
    lock_wait_ms: u32,
    out: *mut *mut gd_audit,
) -> Result<gd_status, Failure> {
    // SAFETY: forwarded contract of the exports.
    let dir = unsafe { c_str(dir, "dir") }?;
    // SAFETY: forwarded contract of the exports.
    let key = unsafe { bytes(key, key_len, GD_MAX_INPUT_LEN, "key") }?;
    let mode = parse_sync_mode(sync_mode)?;
    let out = out_ptr(out, "out")?;
    let key = SealingKey::from_slice(key)?;
    let options = AuditOptions::default()
        .sync(mode)
        .lock_wait(std::time::Duration::from_millis(u64::from(lock_wait_ms)));
    let log = AuditLog::open(dir, key, options)?;
    let handle = Box::into_raw(Box::new(gd_audit {
        inner: Arc::new(log),
    }));
    // SAFETY: `out` is non-NULL (checked) and writable by the contract.
    unsafe { out.write(handle) };
    Ok(gd_status::GD_OK)
}

/// Releases an audit log handle. NULL is accepted and ignored. The log is synced and
/// closed once nothing uses it any more: an engine it is attached to and a vault that
/// records into it keep it open until they are freed (or the engine detaches it).
///
/// # Safety
/// `audit` is NULL or a handle from `gd_audit_open` that is not freed yet and that no
/// other thread is using; it is not used after this call.
#[no_mangle]
pub unsafe extern "C" fn gd_audit_free(audit: *mut gd_audit) {
    ffi_guard! {
        if !audit.is_null() {
            // SAFETY: by the contract, `audit` came from `Box::into_raw` in
            // `gd_audit_open` and is released exactly once, here, with no other user left.
            drop(unsafe { Box::from_raw(audit) });
        }
    }
}

/// Attaches the audit log to the engine: from now on the engine records each decision
/// in the log before returning it, and the decision JSON carries the record's
/// `audit_seq`. A decision that cannot be recorded is a deny (an action that cannot be
/// recorded does not happen). Replaces a log attached before. The engine keeps the log
/// open after `gd_audit_free`, until `gd_engine_detach_audit` or `gd_engine_free`.
///
/// # Safety
/// `engine` is NULL or a live engine handle; `audit` is NULL or a live audit handle.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_attach_audit(
    engine: *mut gd_engine,
    audit: *const gd_audit,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { audit_handle(audit) }?;
        govdata::platform::record_decisions(engine, Some(&audit.shared()));
        Ok(gd_status::GD_OK)
    }
}

/// Detaches the engine's audit log, if any: later decisions are not recorded (and
/// carry `"audit_seq": null`).
///
/// # Safety
/// `engine` is NULL or a live engine handle.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_detach_audit(engine: *mut gd_engine) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        govdata::platform::record_decisions(engine, None);
        Ok(gd_status::GD_OK)
    }
}

/// Appends one event of the host's own — a workflow step, an administrative action —
/// given as a JSON object: `{"kind": "sharing.approved", "user": "wang.wu",
/// "department": "renshe", "action": "export", "resource": "hukou",
/// "outcome": "success", "fields": {…}}` (only `kind` is required). Writes the record's
/// sequence number to `*out_seq` once the record is as durable as the sync mode
/// promises.
///
/// Errors: `GD_ERR_MALFORMED_JSON`, `GD_ERR_REQUEST_INVALID` (not an event: unknown
/// field, wrong type), `GD_ERR_AUDIT_UNAVAILABLE` (a write failed earlier; the log
/// refuses appends until it is reopened), and the argument statuses.
///
/// # Safety
/// `audit` is NULL or a live handle; `event_json` is NULL or a NUL-terminated string;
/// `out_seq` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_audit_append_json(
    audit: *const gd_audit,
    event_json: *const c_char,
    out_seq: *mut u64,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { audit_handle(audit) }?;
        // SAFETY: forwarded contract of this export.
        let json = unsafe { c_str(event_json, "event_json") }?;
        let out_seq = out_ptr(out_seq, "out_seq")?;
        let event: Event = serde_json::from_value(parse_value(json, "event")?)
            .map_err(|e| request_invalid(format!("not an audit event: {e}")))?;
        let seq = audit.inner.append(&event)?;
        // SAFETY: `out_seq` is non-NULL (checked) and writable by the contract.
        unsafe { out_seq.write(seq) };
        Ok(gd_status::GD_OK)
    }
}

/// Makes every record appended so far durable (in any sync mode).
///
/// Errors: `GD_ERR_AUDIT_UNAVAILABLE`, `GD_ERR_NULL_ARGUMENT`.
///
/// # Safety
/// `audit` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn gd_audit_sync(audit: *const gd_audit) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { audit_handle(audit) }?;
        audit.inner.sync()?;
        Ok(gd_status::GD_OK)
    }
}

/// Writes the sequence number of the last record appended (0 for an empty log) to
/// `*out_seq`.
///
/// # Safety
/// `audit` is NULL or a live handle; `out_seq` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_audit_last_seq(audit: *const gd_audit, out_seq: *mut u64) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { audit_handle(audit) }?;
        let out_seq = out_ptr(out_seq, "out_seq")?;
        let seq = audit.inner.last_seq();
        // SAFETY: `out_seq` is non-NULL (checked) and writable by the contract.
        unsafe { out_seq.write(seq) };
        Ok(gd_status::GD_OK)
    }
}

/// Writes a checkpoint of the log's current head to `*out_checkpoint` as text
/// (`gdaudit1:<log id>:<seq>:<head>:<mac>`); free it with `gd_string_free`. Keep it
/// outside the log (another host, a ticket): `gd_audit_verify` against it finds
/// truncation and rollback, which no log can find in itself.
///
/// # Safety
/// `audit` is NULL or a live handle; `out_checkpoint` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_audit_checkpoint(
    audit: *const gd_audit,
    out_checkpoint: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { audit_handle(audit) }?;
        let out_checkpoint = out_ptr(out_checkpoint, "out_checkpoint")?;
        let text = audit.inner.checkpoint().to_string();
        // SAFETY: `out_checkpoint` is non-NULL (checked) and writable by the contract.
        unsafe { out_checkpoint.write(into_c_string(text)) };
        Ok(gd_status::GD_OK)
    }
}

/// Checks every record, link and seal of the log on disk and, when `checkpoint` is
/// not NULL, that the log still holds the chain the checkpoint names. On success
/// writes a report to `*out_report_json` (free it with `gd_string_free`):
/// `{"records": 12, "first_seq": 1, "last_seq": 12, "segments": 1,
/// "sealed_segments": 0, "torn_tail": null, "head": "gdaudit1:…",
/// "purged_through": null, "ok": true}` — `head` is a checkpoint of the verified head (the same report as the Python and Node bindings return).
///
/// Errors: `GD_ERR_AUDIT_TAMPERED` when a record, link or seal is bad or records the
/// checkpoint covers are gone (the message names the first bad sequence number);
/// `GD_ERR_REQUEST_INVALID` for text that is not a checkpoint or a checkpoint of
/// another log; `GD_ERR_CRYPTO_AUTH_FAILED` for a checkpoint that does not authenticate
/// under this log's key; `GD_ERR_IO`; and the argument statuses (an empty
/// `checkpoint` is `GD_ERR_ZERO_LENGTH`).
///
/// # Safety
/// `audit` is NULL or a live handle; `checkpoint` is NULL or a NUL-terminated string;
/// `out_report_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_audit_verify(
    audit: *const gd_audit,
    checkpoint: *const c_char,
    out_report_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { audit_handle(audit) }?;
        // SAFETY: forwarded contract of this export.
        let checkpoint = unsafe { opt_c_str(checkpoint, "checkpoint") }?;
        let out_report_json = out_ptr(out_report_json, "out_report_json")?;
        let report = match checkpoint {
            Some(text) => audit.inner.verify_with(&Checkpoint::from_str(text)?)?,
            None => audit.inner.verify()?,
        };
        let text = report.to_json().to_string();
        // SAFETY: `out_report_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_report_json.write(into_c_string(text)) };
        Ok(gd_status::GD_OK)
    }
}

fn parse_filter(json: &str) -> Result<AuditQuery, Failure> {
    Ok(AuditQuery::from_json(&parse_value(json, "filter")?)?)
}

fn records_json(records: &[AuditRecord]) -> Value {
    Value::Array(records.iter().map(AuditRecord::to_json).collect())
}

/// The records matching a filter, oldest first, without any access decision (the
/// host's own use; people view records through `gd_audit_view_json`). The filter is a
/// JSON object whose fields are all optional and must all match: `department` (and
/// its sub-departments), `user`, `action`, `dataset`, `decision` (`"allow"` or
/// `"deny"`), `kind` (`"decision"`, `"key.shred"` …), `since` (inclusive) and `until`
/// (exclusive) as `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS[.fff]Z`, and `limit` (the
/// latest N); `{}` matches every record. Writes a JSON array of records (`{"seq": 3,
/// "time": "…", "kind": "decision", "user": …}`) to `*out_json`; free it with
/// `gd_string_free`.
///
/// Errors: `GD_ERR_MALFORMED_JSON`, `GD_ERR_REQUEST_INVALID` (unknown field, wrong
/// type, unknown action or decision, bad time), `GD_ERR_AUDIT_TAMPERED` (the records
/// are read and verified as they go), `GD_ERR_IO`, and the argument statuses.
///
/// # Safety
/// `audit` is NULL or a live handle; `filter_json` is NULL or a NUL-terminated string;
/// `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_audit_query_json(
    audit: *const gd_audit,
    filter_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { audit_handle(audit) }?;
        // SAFETY: forwarded contract of this export.
        let json = unsafe { c_str(filter_json, "filter_json") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let query = parse_filter(json)?;
        let records = audit.inner.query(&query)?;
        let text = records_json(&records).to_string();
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(text)) };
        Ok(gd_status::GD_OK)
    }
}

/// Shows `viewer` the records matching a filter (as `gd_audit_query_json`) if the
/// engine allows it: a `view_audit` decision on the audit log `main`, with the
/// filter's `department` as the department under review (a department's security
/// officer sees that department's staff, the auditors see everyone). The decision is
/// recorded in this log. Returns `GD_OK` whether the engine allows or denies and writes
/// `{"decision": {…the decision JSON…}, "records": […]}` to `*out_json` (no records on a
/// deny); free it with `gd_string_free`.
///
/// Errors: as `gd_audit_query_json`, plus `GD_ERR_UNKNOWN_ENTITY` for a viewer the
/// inventory does not hold and `GD_ERR_AUDIT_UNAVAILABLE`.
///
/// # Safety
/// `audit` and `engine` are NULL or live handles; `viewer` and `filter_json` are NULL
/// or NUL-terminated strings; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_audit_view_json(
    audit: *const gd_audit,
    engine: *const gd_engine,
    viewer: *const c_char,
    filter_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { audit_handle(audit) }?;
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let viewer = unsafe { c_str(viewer, "viewer") }?;
        // SAFETY: forwarded contract of this export.
        let json = unsafe { c_str(filter_json, "filter_json") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let query = parse_filter(json)?;
        let view = audit.inner.view(engine, viewer, &query)?;
        let text = format!(
            "{{\"decision\":{},\"records\":{}}}",
            view.decision.to_json_string(),
            records_json(&view.records)
        );
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(text)) };
        Ok(gd_status::GD_OK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_length_constant_is_the_core_one() {
        assert_eq!(GD_AUDIT_KEY_LEN, SealingKey::LEN);
    }

    #[test]
    fn sync_modes_cover_the_core() {
        for (value, mode) in [
            (gd_sync_mode::GD_SYNC_ALWAYS, SyncMode::Always),
            (gd_sync_mode::GD_SYNC_BATCH, SyncMode::Batch),
            (gd_sync_mode::GD_SYNC_NONE, SyncMode::None),
        ] {
            assert_eq!(parse_sync_mode(value as c_int).ok(), Some(mode));
        }
        assert!(parse_sync_mode(3).is_err());
    }

    #[test]
    fn filters_parse_with_their_own_statuses() {
        let status = |j: &str| parse_filter(j).err().map(|f| f.status);
        assert_eq!(status("{}"), None);
        assert_eq!(
            status(
                r#"{"user":"li.si","action":"query","decision":"deny","since":"2025-01-01","limit":3}"#
            ),
            None
        );
        assert_eq!(status("{"), Some(gd_status::GD_ERR_MALFORMED_JSON));
        assert_eq!(
            status(r#"{"colour":1}"#),
            Some(gd_status::GD_ERR_REQUEST_INVALID)
        );
        assert_eq!(
            status(r#"{"action":"fly"}"#),
            Some(gd_status::GD_ERR_REQUEST_INVALID)
        );
        assert_eq!(
            status(r#"{"decision":"maybe"}"#),
            Some(gd_status::GD_ERR_REQUEST_INVALID)
        );
        assert_eq!(
            status(r#"{"since":"yesterday"}"#),
            Some(gd_status::GD_ERR_REQUEST_INVALID)
        );
        assert_eq!(
            status(r#"{"limit":-1}"#),
            Some(gd_status::GD_ERR_REQUEST_INVALID)
        );
        assert_eq!(status("[]"), Some(gd_status::GD_ERR_REQUEST_INVALID));
    }
}
