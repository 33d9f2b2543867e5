//! `gd_platform_*`: one node opened from its `govdata.toml` by the core's composition
//! root. The C API wires nothing itself: it hands out handles on the parts the core
//! opened and connected, each freed with its own `*_free`.

use crate::args::{c_str, into_c_string, out_ptr};
use crate::audit::gd_audit;
use crate::engine::gd_engine;
use crate::error::{gd_status, Failure};
use crate::guard::ffi_guard;
use crate::vault::gd_vault;
use crate::workflows::gd_workflows;
use govdata::Platform;
use std::os::raw::{c_char, c_int};

/// A node: its engine, audit log, procedures and vault, wired once.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct gd_platform {
    inner: Platform,
}

/// A platform handle argument.
///
/// # Safety
/// `ptr` is NULL or a live handle from `gd_platform_open`, not freed during `'a`.
unsafe fn platform_ref<'a>(ptr: *const gd_platform) -> Result<&'a Platform, Failure> {
    if ptr.is_null() {
        return Err(Failure::null("platform"));
    }
    // SAFETY: non-NULL, and live by the contract.
    Ok(unsafe { &(*ptr).inner })
}

/// Writes a new handle (or NULL) to `out`.
///
/// # Safety
/// `out` is non-NULL and writable.
unsafe fn publish<T>(value: Option<T>, out: *mut *mut T) -> Result<gd_status, Failure> {
    let handle = value.map_or(std::ptr::null_mut(), |v| Box::into_raw(Box::new(v)));
    // SAFETY: `out` was checked non-NULL and is writable by the contract.
    unsafe { out.write(handle) };
    Ok(gd_status::GD_OK)
}

/// Opens the node that the configuration file at `path` describes (`govdata.toml`:
/// the node's id, the policy pack, the inventory, the audit log, the vault and the
/// procedures, and where each secret is read from). On success writes the handle to
/// `*out` (free it with `gd_platform_free`); on failure `*out` is untouched.
///
/// Errors: `GD_ERR_CONFIG_INVALID` (an unknown key, a secret written into the file, a
/// key file others may read), `GD_ERR_IO` (a file it names is missing),
/// `GD_ERR_STORE_LOCKED` (another process writes the audit log), the statuses of the
/// parts, and the argument statuses.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_platform_open(
    path: *const c_char,
    out: *mut *mut gd_platform,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let path = unsafe { c_str(path, "path") }?;
        let out = out_ptr(out, "out")?;
        let node = Platform::open(path)?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { publish(Some(gd_platform { inner: node }), out) }
    }
}

/// Releases a node handle. NULL is accepted and ignored. The handles taken from it
/// stay valid until they are freed themselves.
///
/// # Safety
/// `platform` is NULL or a handle from `gd_platform_open` that is not freed yet and
/// that no other thread is using; it is not used after this call.
#[no_mangle]
pub unsafe extern "C" fn gd_platform_free(platform: *mut gd_platform) {
    ffi_guard! {
        if !platform.is_null() {
            // SAFETY: by the contract, `platform` came from `Box::into_raw` in
            // `gd_platform_open` and is released exactly once, here.
            drop(unsafe { Box::from_raw(platform) });
        }
    }
}

/// A new handle on the node's engine (free it with `gd_engine_free`); it records
/// into the node's audit log when the node keeps one.
///
/// # Safety
/// `platform` is NULL or a live node handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_platform_engine(
    platform: *const gd_platform,
    out: *mut *mut gd_engine,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let node = unsafe { platform_ref(platform) }?;
        let out = out_ptr(out, "out")?;
        let engine = gd_engine::from_shared(node.engine().clone());
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { publish(Some(engine), out) }
    }
}

/// A new handle on the node's audit log (free it with `gd_audit_free`), or NULL
/// written to `*out` when the configuration has no `[audit]` section.
///
/// # Safety
/// `platform` is NULL or a live node handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_platform_audit(
    platform: *const gd_platform,
    out: *mut *mut gd_audit,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let node = unsafe { platform_ref(platform) }?;
        let out = out_ptr(out, "out")?;
        let log = node.audit_log().map(|l| gd_audit::from_shared(l.clone()));
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { publish(log, out) }
    }
}

/// A new handle on the node's vault (free it with `gd_vault_free`), or NULL written
/// to `*out` when the configuration has no `[vault]` section.
///
/// # Safety
/// `platform` is NULL or a live node handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_platform_vault(
    platform: *const gd_platform,
    out: *mut *mut gd_vault,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let node = unsafe { platform_ref(platform) }?;
        let out = out_ptr(out, "out")?;
        let vault = node.vault().map(|v| gd_vault::from_shared(v.clone()));
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { publish(vault, out) }
    }
}

/// A new handle on the node's sharing and destruction procedures (free it with
/// `gd_workflows_free`), or NULL written to `*out` when the node keeps no audit log.
///
/// # Safety
/// `platform` is NULL or a live node handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_platform_workflows(
    platform: *const gd_platform,
    out: *mut *mut gd_workflows,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let node = unsafe { platform_ref(platform) }?;
        let out = out_ptr(out, "out")?;
        let flows = node.workflows().map(|w| gd_workflows::from_shared(w.clone()));
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { publish(flows, out) }
    }
}

/// What the node reports about itself, as JSON (`{"node_id": …, "policy_version":
/// …, "audit": {"dir": …, "last_seq": …} | null, "vault": {…} | null}`) written to
/// `*out_json`; free it with `gd_string_free`.
///
/// # Safety
/// `platform` is NULL or a live node handle; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_platform_status_json(
    platform: *const gd_platform,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let node = unsafe { platform_ref(platform) }?;
        let out = out_ptr(out_json, "out_json")?;
        let text = serde_json::to_string(&node.status())
            .map_err(|e| govdata::Error::RequestInvalid { message: e.to_string() })?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { out.write(into_c_string(text)) };
        Ok(gd_status::GD_OK)
    }
}
