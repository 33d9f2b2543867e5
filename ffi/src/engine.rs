//! `gd_engine`: the policy engine handle.
//!
//! Owns the engine exports: creation, decisions (JSON, batch and the fast path),
//! inventory updates and policy reloads. It converts and checks arguments and maps
//! results; the decisions themselves are the core's.

use crate::args::{bytes_str, c_str, into_c_string, opt_bytes_str, out_ptr};
use crate::error::{gd_status, Failure};
use crate::guard::ffi_guard;
use crate::FfiResult;
use govdata::engine::Context;
use govdata::model::{Record, RecordKind};
use govdata::{Action, Decision, Engine, Inventory, PolicyPack, Request, Resource};
use std::os::raw::{c_char, c_int};
use std::str::FromStr;
use std::sync::Arc;

/// The policy engine: a policy pack and an inventory.
///
/// Thread safety: every function taking a `gd_engine` may be called on the same handle
/// from any number of threads at once — decisions, inventory updates and policy
/// reloads included (an update or reload is atomic: each decision sees the state
/// before it or after it, never half of it). Only `gd_engine_free` must not run
/// concurrently with, or be followed by, any other use of the handle.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct gd_engine {
    // Shared: a vault keeps the engine as its key authorizer, and may outlive the
    // handle.
    inner: Arc<Engine>,
}

impl gd_engine {
    /// A new handle on an engine opened elsewhere (a node's).
    pub(crate) fn from_shared(inner: Arc<Engine>) -> gd_engine {
        gd_engine { inner }
    }

    /// The engine behind the handle.
    pub fn engine(&self) -> &Engine {
        &self.inner
    }

    /// Another reference to the engine, for a handle that keeps using it.
    pub(crate) fn shared(&self) -> Arc<Engine> {
        Arc::clone(&self.inner)
    }
}

/// The type of the resource in `gd_engine_check`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gd_resource_kind {
    /// A dataset of the inventory (actions such as `query`, `export`).
    GD_RESOURCE_DATASET = 0,
    /// A system of the inventory (`grant_superadmin`, `manage_keys`).
    GD_RESOURCE_SYSTEM = 1,
    /// The platform's audit log, id `main` (`view_audit`, `export_audit`, `purge_audit`).
    GD_RESOURCE_AUDIT_LOG = 2,
}

/// Obligation bit of `gd_engine_check`: mask personal information before showing it.
pub const GD_OBLIGATION_MASK_PERSONAL_INFO: u32 = 1;
/// Obligation bit of `gd_engine_check`: watermark what is shown or exported.
pub const GD_OBLIGATION_WATERMARK: u32 = 2;
/// Obligation bit of `gd_engine_check`: store the data encrypted.
pub const GD_OBLIGATION_ENCRYPT_AT_REST: u32 = 4;
/// Obligation bit of `gd_engine_check`: transmit the data encrypted.
pub const GD_OBLIGATION_ENCRYPT_IN_TRANSIT: u32 = 8;
/// Obligation bit of `gd_engine_check`: a second person must take part (dual control).
pub const GD_OBLIGATION_DUAL_CONTROL: u32 = 16;
/// Obligation bit of `gd_engine_check`: an obligation this header has no bit for (a
/// newer policy pack); ask `gd_engine_decide_json` for its name before acting.
pub const GD_OBLIGATION_OTHER: u32 = 1073741824;

/// The bit of an obligation name. The known names of the core each have their own
/// bit (a test checks `govdata::policy::KNOWN_OBLIGATIONS`); anything else is OTHER.
fn obligation_bit(name: &str) -> u32 {
    match name {
        "mask_personal_info" => GD_OBLIGATION_MASK_PERSONAL_INFO,
        "watermark" => GD_OBLIGATION_WATERMARK,
        "encrypt_at_rest" => GD_OBLIGATION_ENCRYPT_AT_REST,
        "encrypt_in_transit" => GD_OBLIGATION_ENCRYPT_IN_TRANSIT,
        "dual_control" => GD_OBLIGATION_DUAL_CONTROL,
        _ => GD_OBLIGATION_OTHER,
    }
}

/// An engine handle argument.
///
/// # Safety
/// `ptr` is NULL or a live handle from `gd_engine_new_*`, not freed during `'a`.
pub(crate) unsafe fn engine_ref<'a>(ptr: *const gd_engine) -> Result<&'a Engine, Failure> {
    // SAFETY: by the contract, a non-NULL `ptr` is a live `Box<gd_engine>` that no one
    // frees while we borrow it; `Engine` is `Sync`, so shared use from threads is fine.
    match unsafe { ptr.as_ref() } {
        Some(e) => Ok(&e.inner),
        None => Err(Failure::null("engine")),
    }
}

/// An engine handle argument, as the handle (for the handles that keep the engine).
///
/// # Safety
/// As [`engine_ref`].
pub(crate) unsafe fn engine_handle<'a>(ptr: *const gd_engine) -> Result<&'a gd_engine, Failure> {
    // SAFETY: forwarded contract of `engine_ref`.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null("engine"))
}

/// Hands a new engine to C through `out`.
///
/// # Safety
/// `out` is non-NULL and writable.
unsafe fn publish(engine: Engine, out: *mut *mut gd_engine) -> FfiResult {
    let handle = Box::into_raw(Box::new(gd_engine {
        inner: Arc::new(engine),
    }));
    // SAFETY: `out` was checked non-NULL and is writable by the contract.
    unsafe { out.write(handle) };
    Ok(gd_status::GD_OK)
}

/// Parses request JSON with the core's rules. Text that is not JSON at all is
/// `GD_ERR_MALFORMED_JSON`; JSON that is not a valid request is the core's
/// `request_invalid`. The syntax check runs only on the error path.
pub(crate) fn parse_request(json: &str) -> Result<Request, Failure> {
    Request::from_json_str(json).map_err(|e| {
        match serde_json::from_str::<serde::de::IgnoredAny>(json) {
            Err(syntax) if syntax.is_syntax() || syntax.is_eof() => malformed("request", &syntax),
            _ => Failure::from(e),
        }
    })
}

/// Parses JSON text into a value; syntax errors are `GD_ERR_MALFORMED_JSON`.
pub(crate) fn parse_value(json: &str, what: &str) -> Result<serde_json::Value, Failure> {
    serde_json::from_str(json).map_err(|e| malformed(what, &e))
}

pub(crate) fn malformed(what: &str, e: &serde_json::Error) -> Failure {
    Failure::new(
        gd_status::GD_ERR_MALFORMED_JSON,
        format!("malformed {what} JSON: {e}"),
    )
}

/// Creates an engine from a policy pack directory (a `schema.cedarschema` and `.cedar`
/// files) and an inventory JSON file. On success writes the new handle to `*out` (free
/// it with `gd_engine_free`); on failure `*out` is untouched.
///
/// Errors: `GD_ERR_NULL_ARGUMENT`, `GD_ERR_ZERO_LENGTH`, `GD_ERR_INVALID_UTF8`,
/// `GD_ERR_INPUT_TOO_LARGE` for the arguments; `GD_ERR_IO` when a file cannot be read;
/// `GD_ERR_POLICY_PARSE`, `GD_ERR_POLICY_VALIDATION`, `GD_ERR_POLICY_ANNOTATION`,
/// `GD_ERR_SCHEMA_INVALID` for a bad pack; `GD_ERR_INVENTORY_INVALID` for a bad inventory.
///
/// # Safety
/// `policies_dir` and `inventory_path` are NULL or NUL-terminated strings; `out` is
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_new_from_dir(
    policies_dir: *const c_char,
    inventory_path: *const c_char,
    out: *mut *mut gd_engine,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let dir = unsafe { c_str(policies_dir, "policies_dir") }?;
        // SAFETY: forwarded contract of this export.
        let inventory = unsafe { c_str(inventory_path, "inventory_path") }?;
        let out = out_ptr(out, "out")?;
        let engine = Engine::from_files(dir, inventory)?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { publish(engine, out) }
    }
}

/// Creates an engine with the default policy pack (compiled in) and the example
/// inventory of `policies/examples/inventory.json`: a city to try the engine on. On
/// success writes the new handle to `*out`; on failure `*out` is untouched.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_new_default(out: *mut *mut gd_engine) -> c_int {
    ffi_guard! {
        let out = out_ptr(out, "out")?;
        let engine = Engine::with_defaults()?;
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { publish(engine, out) }
    }
}

/// Releases an engine. NULL is accepted and ignored.
///
/// # Safety
/// `engine` is NULL or a handle from `gd_engine_new_*` that is not freed yet and that
/// no other thread is using; it is not used after this call.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_free(engine: *mut gd_engine) {
    ffi_guard! {
        if !engine.is_null() {
            // SAFETY: by the contract, `engine` came from `Box::into_raw` in `publish`
            // and is released exactly once, here, with no other user left.
            drop(unsafe { Box::from_raw(engine) });
        }
    }
}

/// Decides one request given as JSON in the wire format (docs/FORMATS.md):
/// `{"principal": "zhang.san", "action": "export", "resource": "hukou", "context": {…}}`.
///
/// Returns `GD_OK` whenever a decision was made — allow or deny, the JSON says which —
/// and writes the decision JSON (`{"decision": "allow"|"deny", "reasons": […],
/// "obligations": […], "policy_version": "…", "audit_seq": …}`) to `*out_json`; free it
/// with `gd_string_free`. Any other status means no decision could be made, which the
/// caller must treat as a deny; `*out_json` is then untouched.
///
/// Errors: `GD_ERR_MALFORMED_JSON` (not JSON), `GD_ERR_REQUEST_INVALID` (JSON but not a
/// valid request: missing or unknown field, wrong type, action that does not apply to
/// the resource), `GD_ERR_UNKNOWN_ENTITY` (an id the inventory does not hold), and the
/// argument statuses.
///
/// # Safety
/// `engine` is NULL or a live handle; `request_json` is NULL or a NUL-terminated
/// string; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_decide_json(
    engine: *const gd_engine,
    request_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let json = unsafe { c_str(request_json, "request_json") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let decision = engine.decide(&parse_request(json)?)?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(decision.to_json_string())) };
        Ok(gd_status::GD_OK)
    }
}

/// Decides many requests given as a JSON array of requests, spread over the available
/// cores, and writes a JSON array with one entry per request, in order, to `*out_json`
/// (free it with `gd_string_free`): the decision object, or for a request that could
/// not be decided `{"error": {"code": "request_invalid", "status": "GD_ERR_REQUEST_INVALID",
/// "message": "…"}}` (a well-formed request that fails does not fail the batch).
///
/// Errors (no output): `GD_ERR_MALFORMED_JSON` when the text is not JSON,
/// `GD_ERR_REQUEST_INVALID` when it is not an array, and the argument statuses.
///
/// # Safety
/// As `gd_engine_decide_json`.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_decide_many_json(
    engine: *const gd_engine,
    requests_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let json = unsafe { c_str(requests_json, "requests_json") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let serde_json::Value::Array(items) = parse_value(json, "requests")? else {
            return Err(Failure::new(
                gd_status::GD_ERR_REQUEST_INVALID,
                "invalid request: expected a JSON array of requests",
            ));
        };
        let parsed: Vec<Result<Request, govdata::Error>> =
            items.iter().map(Request::from_json).collect();
        let valid: Vec<Request> = parsed.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
        let mut decided = engine.decide_many(&valid).into_iter();
        let mut out = String::with_capacity(64 + 512 * items.len());
        out.push('[');
        for (i, item) in parsed.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let result = match item {
                Ok(_) => decided.next().unwrap_or_else(|| {
                    Err(govdata::Error::RequestInvalid {
                        message: "internal: batch result missing".into(),
                    })
                }),
                Err(e) => Err(e),
            };
            out.push_str(&batch_entry(result));
        }
        out.push(']');
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(out)) };
        Ok(gd_status::GD_OK)
    }
}

fn batch_entry(result: Result<Decision, govdata::Error>) -> String {
    match result {
        Ok(decision) => decision.to_json_string(),
        Err(e) => {
            let failure = Failure::from(e);
            serde_json::json!({"error": {
                "code": failure.status.code(),
                "status": failure.status.name(),
                "message": failure.message,
            }})
            .to_string()
        }
    }
}

/// The fast path: decides whether `principal` may do `action` on a resource, with ids
/// given as pointer and length (no NUL needed, no JSON), and an optional `purpose`
/// (pass NULL and 0 for none). The context is otherwise empty; use
/// `gd_engine_decide_json` for requests that need more of it.
///
/// Returns `GD_OK` when the request is allowed — and then writes to `*out_obligations`
/// the `GD_OBLIGATION_*` bits the host must apply before acting — or `GD_DENIED` when it
/// is denied (then `*out_obligations` is 0). Every other status means no decision could
/// be made: treat it as a deny. So `if (gd_engine_check(…) == GD_OK)` fails closed.
///
/// `resource_kind` is a `gd_resource_kind`. Errors: `GD_ERR_REQUEST_INVALID` (unknown
/// action or resource kind, or an action that does not apply to the resource kind),
/// `GD_ERR_UNKNOWN_ENTITY`, and the argument statuses (`GD_ERR_ZERO_LENGTH` for an
/// empty id, including an empty non-NULL `purpose`).
///
/// # Safety
/// `engine` is NULL or a live handle; each id pointer is NULL or points to its length
/// in readable bytes; `out_obligations` is NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gd_engine_check(
    engine: *const gd_engine,
    principal: *const c_char,
    principal_len: usize,
    action: *const c_char,
    action_len: usize,
    resource_kind: c_int,
    resource: *const c_char,
    resource_len: usize,
    purpose: *const c_char,
    purpose_len: usize,
    out_obligations: *mut u32,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let principal = unsafe { bytes_str(principal, principal_len, "principal") }?;
        // SAFETY: forwarded contract of this export.
        let action = unsafe { bytes_str(action, action_len, "action") }?;
        // SAFETY: forwarded contract of this export.
        let resource = unsafe { bytes_str(resource, resource_len, "resource") }?;
        // SAFETY: forwarded contract of this export.
        let purpose = unsafe { opt_bytes_str(purpose, purpose_len, "purpose") }?;
        let out_obligations = out_ptr(out_obligations, "out_obligations")?;
        let action = Action::from_str(action).map_err(request_invalid)?;
        let resource = match resource_kind {
            k if k == gd_resource_kind::GD_RESOURCE_DATASET as c_int => Resource::dataset(resource),
            k if k == gd_resource_kind::GD_RESOURCE_SYSTEM as c_int => Resource::system(resource),
            k if k == gd_resource_kind::GD_RESOURCE_AUDIT_LOG as c_int => Resource::audit_log(resource),
            other => return Err(request_invalid(format!("unknown resource kind {other}"))),
        };
        let mut request = Request::new(principal, action, resource);
        if let Some(purpose) = purpose {
            request.context = Context {
                purpose: Some(purpose.to_owned()),
                ..Context::default()
            };
        }
        let decision = engine.decide(&request)?;
        let (status, bits) = if decision.allowed() {
            let bits = decision
                .obligations()
                .iter()
                .fold(0, |bits, o| bits | obligation_bit(o));
            (gd_status::GD_OK, bits)
        } else {
            (gd_status::GD_DENIED, 0)
        };
        // SAFETY: `out_obligations` is non-NULL (checked) and writable by the contract.
        unsafe { out_obligations.write(bits) };
        Ok(status)
    }
}

fn request_invalid(message: impl Into<String>) -> Failure {
    Failure::from(govdata::Error::RequestInvalid {
        message: message.into(),
    })
}

/// Adds or replaces one inventory record. `kind` is `"department"`, `"vendor"`,
/// `"user"`, `"dataset"` or `"system"`; `record_json` is the record's JSON object as
/// in the inventory format. Atomic: on any error nothing changes.
///
/// Errors: `GD_ERR_MALFORMED_JSON`, `GD_ERR_INVENTORY_INVALID` (unknown kind, unknown
/// field or value, dangling reference), and the argument statuses.
///
/// # Safety
/// `engine` is NULL or a live handle; `kind` and `record_json` are NULL or
/// NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_upsert_json(
    engine: *mut gd_engine,
    kind: *const c_char,
    record_json: *const c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let kind = unsafe { c_str(kind, "kind") }?;
        // SAFETY: forwarded contract of this export.
        let json = unsafe { c_str(record_json, "record_json") }?;
        let kind = RecordKind::from_str(kind)?;
        let value = parse_value(json, "record")?;
        engine.upsert(Record::from_json(kind, &value)?)?;
        Ok(gd_status::GD_OK)
    }
}

/// Removes one inventory record by kind and id. Atomic: on any error (unknown kind or
/// id, a record that others still reference) nothing changes.
///
/// Errors: `GD_ERR_INVENTORY_INVALID`, `GD_ERR_UNKNOWN_ENTITY`, and the argument statuses.
///
/// # Safety
/// `engine` is NULL or a live handle; `kind` and `id` are NULL or NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_remove(
    engine: *mut gd_engine,
    kind: *const c_char,
    id: *const c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let kind = unsafe { c_str(kind, "kind") }?;
        // SAFETY: forwarded contract of this export.
        let id = unsafe { c_str(id, "id") }?;
        engine.remove(RecordKind::from_str(kind)?, id)?;
        Ok(gd_status::GD_OK)
    }
}

/// Replaces the whole inventory with one given as JSON text. Atomic: a rejected
/// inventory changes nothing.
///
/// Errors: `GD_ERR_MALFORMED_JSON`, `GD_ERR_INVENTORY_INVALID`, and the argument statuses.
///
/// # Safety
/// `engine` is NULL or a live handle; `inventory_json` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_replace_inventory_json(
    engine: *mut gd_engine,
    inventory_json: *const c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let json = unsafe { c_str(inventory_json, "inventory_json") }?;
        let value = parse_value(json, "inventory")?;
        engine.replace_inventory(Inventory::from_json(&value)?);
        Ok(gd_status::GD_OK)
    }
}

/// Replaces the whole inventory with the one in an inventory JSON file. Atomic.
///
/// Errors: `GD_ERR_IO`, `GD_ERR_INVENTORY_INVALID`, and the argument statuses.
///
/// # Safety
/// `engine` is NULL or a live handle; `inventory_path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_replace_inventory_file(
    engine: *mut gd_engine,
    inventory_path: *const c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let path = unsafe { c_str(inventory_path, "inventory_path") }?;
        engine.replace_inventory(Inventory::from_file(path)?);
        Ok(gd_status::GD_OK)
    }
}

/// Loads the policy pack in `policies_dir` and swaps it in atomically: decisions in
/// flight finish on the old pack, later ones use the new. A pack that does not load
/// changes nothing.
///
/// Errors: `GD_ERR_IO`, `GD_ERR_POLICY_PARSE`, `GD_ERR_POLICY_VALIDATION`,
/// `GD_ERR_POLICY_ANNOTATION`, `GD_ERR_SCHEMA_INVALID`, and the argument statuses.
///
/// # Safety
/// `engine` is NULL or a live handle; `policies_dir` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_reload_policies_dir(
    engine: *mut gd_engine,
    policies_dir: *const c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        // SAFETY: forwarded contract of this export.
        let dir = unsafe { c_str(policies_dir, "policies_dir") }?;
        engine.reload_policies(PolicyPack::from_dir(dir)?);
        Ok(gd_status::GD_OK)
    }
}

/// Swaps the default policy pack (compiled into the library) in atomically.
///
/// # Safety
/// `engine` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_reload_default_policies(engine: *mut gd_engine) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        engine.reload_policies(PolicyPack::default_pack()?);
        Ok(gd_status::GD_OK)
    }
}

/// Writes the version of the current policy pack (`"sha256:…"`, the `policy_version`
/// of every decision) to `*out_version`; free it with `gd_string_free`.
///
/// # Safety
/// `engine` is NULL or a live handle; `out_version` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_engine_policy_version(
    engine: *const gd_engine,
    out_version: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_ref(engine) }?;
        let out_version = out_ptr(out_version, "out_version")?;
        // SAFETY: `out_version` is non-NULL (checked) and writable by the contract.
        unsafe { out_version.write(into_c_string(engine.policy_version())) };
        Ok(gd_status::GD_OK)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_obligation_has_its_own_bit() {
        let mut seen = 0u32;
        for name in govdata::policy::KNOWN_OBLIGATIONS {
            let bit = obligation_bit(name);
            assert_ne!(bit, GD_OBLIGATION_OTHER, "`{name}` has no bit");
            assert_eq!(bit.count_ones(), 1);
            assert_eq!(seen & bit, 0, "`{name}` shares a bit");
            seen |= bit;
        }
        assert_eq!(obligation_bit("something_new"), GD_OBLIGATION_OTHER);
    }

    #[test]
    fn resource_kinds_cover_the_core() {
        assert_eq!(govdata::model::ResourceKind::ALL.len(), 3);
    }
}
