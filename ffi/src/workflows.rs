//! `gd_workflows`: the sharing (Art. 14) and destruction (Art. 15) procedures.
//!
//! Owns the workflow exports: opening the procedures over an engine and its audit log
//! (which rebuilds their state from the log and makes the engine resolve
//! `context.approval` against it), attaching the vault for crypto-erasure, each step
//! of both procedures, and the list of requests. Each step is JSON out: the core's
//! decision and record, as the CLI prints them. It converts and checks arguments and
//! maps results; the procedures, their rules and their decisions are the core's.

use crate::args::{c_str, into_c_string, opt_c_str, out_ptr};
use crate::audit::{audit_handle, gd_audit};
use crate::engine::{engine_handle, gd_engine, parse_value};
use crate::error::{gd_status, Failure};
use crate::guard::ffi_guard;
use crate::vault::{gd_vault, opt_vault_handle};
use crate::FfiResult;
use govdata::workflow::{
    DestructionMethod, ExecutionDetails, ShareApplication, Step, WorkflowConfig, Workflows,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::os::raw::{c_char, c_int};
use std::str::FromStr;

/// The sharing and destruction procedures over an engine and its audit log.
///
/// Thread safety: every function taking a `gd_workflows` may be called on the same
/// handle from any number of threads at once (steps are taken one at a time inside;
/// decisions citing approvals resolve concurrently with them). Only
/// `gd_workflows_free` must not run concurrently with, or be followed by, any other use
/// of the handle. The handle keeps its own reference to the engine, the audit log and
/// the vault: they may be freed before it. Open one `gd_workflows` per engine and log:
/// opening another replaces the first as the engine's approval resolver.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct gd_workflows {
    // Shared: a node's procedures outlive the handle.
    inner: std::sync::Arc<Workflows>,
}

impl gd_workflows {
    /// A new handle on procedures opened elsewhere (a node's).
    pub(crate) fn from_shared(inner: std::sync::Arc<Workflows>) -> gd_workflows {
        gd_workflows { inner }
    }
}

/// A workflows handle argument.
///
/// # Safety
/// `ptr` is NULL or a live handle from `gd_workflows_open`, not freed during `'a`.
unsafe fn workflows_ref<'a>(ptr: *const gd_workflows) -> Result<&'a Workflows, Failure> {
    // SAFETY: by the contract, a non-NULL `ptr` is a live `Box<gd_workflows>` that no
    // one frees while we borrow it; `Workflows` is `Sync`, so shared use from threads
    // is fine.
    match unsafe { ptr.as_ref() } {
        Some(w) => Ok(&w.inner),
        None => Err(Failure::null("workflows")),
    }
}

/// A JSON object argument read into a core type: text that is not JSON is
/// `GD_ERR_MALFORMED_JSON`, JSON of the wrong shape (unknown or missing field, wrong
/// type, a bad date) is the core's `request_invalid`.
fn parse_json<T: DeserializeOwned>(json: &str, what: &str) -> Result<T, Failure> {
    let value = parse_value(json, what)?;
    serde_json::from_value(value).map_err(|e| {
        Failure::from(govdata::Error::RequestInvalid {
            message: format!("invalid {what}: {e}"),
        })
    })
}

fn to_json_text(value: &Value) -> Result<String, Failure> {
    serde_json::to_string(value)
        .map_err(|e| Failure::new(gd_status::GD_ERR_PANIC, format!("cannot write JSON: {e}")))
}

fn to_json_value(value: &impl Serialize) -> Result<Value, Failure> {
    serde_json::to_value(value)
        .map_err(|e| Failure::new(gd_status::GD_ERR_PANIC, format!("cannot write JSON: {e}")))
}

/// Writes a step's outcome, `{"done": …, "decision": {…}, "record": {…} | null}`, to
/// `out` and returns `GD_OK` for a step that happened, `GD_DENIED` for a refused one.
///
/// # Safety
/// `out` is non-NULL and writable.
unsafe fn publish_step<T: Serialize>(
    step: govdata::Result<Step<T>>,
    out: *mut *mut c_char,
) -> FfiResult {
    let step = step?;
    let record = match step.record() {
        Some(r) => to_json_value(r)?,
        None => Value::Null,
    };
    let text = to_json_text(&json!({
        "done": step.allowed(),
        "decision": step.decision().to_json(),
        "record": record,
    }))?;
    // SAFETY: `out` is non-NULL (checked by the caller) and writable by the contract.
    unsafe { out.write(into_c_string(text)) };
    Ok(if step.allowed() {
        gd_status::GD_OK
    } else {
        gd_status::GD_DENIED
    })
}

/// Opens the sharing and destruction procedures over `engine` and `audit`: rebuilds
/// their state from every record of the log (the log is their only store) and installs
/// them as the engine's approval resolver, so that a request's `context.approval` is
/// honoured only when it names an approval of these procedures that is valid for that
/// request. Every step is a decision of `engine` and a record in `audit`. Review
/// deadlines are the national defaults. On success writes the new handle to `*out`
/// (free it with `gd_workflows_free`); on failure `*out` is untouched.
///
/// Errors: `GD_ERR_AUDIT_TAMPERED` (a record of the log does not verify),
/// `GD_ERR_IO`, and the argument statuses.
///
/// # Safety
/// `engine` and `audit` are NULL or live handles; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_workflows_open(
    engine: *const gd_engine,
    audit: *const gd_audit,
    out: *mut *mut gd_workflows,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let engine = unsafe { engine_handle(engine) }?;
        // SAFETY: forwarded contract of this export.
        let audit = unsafe { audit_handle(audit) }?;
        let out = out_ptr(out, "out")?;
        let flows = govdata::platform::open_procedures(
            engine.shared(),
            audit.shared(),
            None,
            WorkflowConfig::default(),
        )?;
        let handle = Box::into_raw(Box::new(gd_workflows {
            inner: std::sync::Arc::new(flows),
        }));
        // SAFETY: `out` is non-NULL (checked) and writable by the contract.
        unsafe { out.write(handle) };
        Ok(gd_status::GD_OK)
    }
}

/// Releases the procedures. NULL is accepted and ignored. The engine keeps resolving
/// approvals against the state as it stood until another `gd_workflows_open` on it.
///
/// # Safety
/// `workflows` is NULL or a handle from `gd_workflows_open` that is not freed yet and
/// that no other thread is using; it is not used after this call.
#[no_mangle]
pub unsafe extern "C" fn gd_workflows_free(workflows: *mut gd_workflows) {
    ffi_guard! {
        if !workflows.is_null() {
            // SAFETY: by the contract, `workflows` came from `Box::into_raw` in
            // `gd_workflows_open` and is released exactly once, here, with no other
            // user left.
            drop(unsafe { Box::from_raw(workflows) });
        }
    }
}

/// Makes `vault` carry out crypto-erasure (`crypto_erase` destructions run its shred,
/// itself a `manage_keys` decision for the executor and witness); NULL detaches it.
/// Without a vault, executing a `crypto_erase` destruction is `GD_ERR_WORKFLOW_INVALID`.
/// The procedures keep their own reference to the vault.
///
/// # Safety
/// `workflows` is NULL or a live handle; `vault` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn gd_workflows_set_vault(
    workflows: *const gd_workflows,
    vault: *const gd_vault,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let flows = unsafe { workflows_ref(workflows) }?;
        // SAFETY: forwarded contract of this export.
        let vault = unsafe { opt_vault_handle(vault) };
        govdata::platform::shred_with(flows, vault.map(|v| v.shared()).as_ref());
        Ok(gd_status::GD_OK)
    }
}

/// Submits a sharing request by `requester` (an inventory user) for `dataset`, a
/// `request_share` decision. `application_json` is the request's content:
/// `{"purpose": "…", "legal_basis": "…", "fields": ["name", …], "until": "2099-12-31",
/// "scenario_risk": "low", "recipient_department": "…"}` (the last is optional: the
/// requester's department). Data shared without conditions is approved at once;
/// conditional data waits for the providing department's review; data not for sharing
/// (`none`) is refused.
///
/// Writes the outcome to `*out_json` (free it with `gd_string_free`):
/// `{"done": true|false, "decision": {…}, "record": {…}|null}` — the decision in the
/// wire format of `gd_engine_decide_json` and the sharing request as it now stands
/// (its `id` is what the later steps take). Returns `GD_OK` when the step happened and
/// `GD_DENIED` when it was refused (the JSON says why, and the refusal is recorded in
/// the log); any other status means no step was taken and `*out_json` is untouched.
///
/// Errors: `GD_ERR_MALFORMED_JSON` (not JSON), `GD_ERR_REQUEST_INVALID` (an unknown,
/// missing or empty field, a bad date), `GD_ERR_UNKNOWN_ENTITY` (a user or dataset the
/// inventory does not hold), `GD_ERR_AUDIT_UNAVAILABLE` (the step cannot be recorded:
/// nothing changed), and the argument statuses.
///
/// # Safety
/// `workflows` is NULL or a live handle; `requester`, `dataset` and `application_json`
/// are NULL or NUL-terminated strings; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_share_request_json(
    workflows: *const gd_workflows,
    requester: *const c_char,
    dataset: *const c_char,
    application_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let flows = unsafe { workflows_ref(workflows) }?;
        // SAFETY: forwarded contract of this export.
        let requester = unsafe { c_str(requester, "requester") }?;
        // SAFETY: forwarded contract of this export.
        let dataset = unsafe { c_str(dataset, "dataset") }?;
        // SAFETY: forwarded contract of this export.
        let application = unsafe { c_str(application_json, "application_json") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let application: ShareApplication = parse_json(application, "sharing application")?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { publish_step(flows.request_share(requester, dataset, application), out_json) }
    }
}

/// Reviews the submitted sharing request `id` as `reviewer`, a `review_share` decision
/// of the providing department (its security officer or data steward; never the
/// requester, never vendor staff). `approve` non-zero approves, with `comment` (or
/// NULL); zero rejects, with `comment` as the reason, which is then required. The
/// outcome and the statuses are those of `gd_share_request_json`; an approval's id is
/// the record's `approval.id` (`apr-…`), which later requests cite as
/// `context.approval`.
///
/// Errors: `GD_ERR_UNKNOWN_ENTITY` (no such request), `GD_ERR_WORKFLOW_INVALID` (the
/// request is not waiting for review), `GD_ERR_REQUEST_INVALID` (a blank reason), and
/// the argument statuses.
///
/// # Safety
/// `workflows` is NULL or a live handle; `reviewer`, `id` and `comment` are NULL or
/// NUL-terminated strings; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_share_review_json(
    workflows: *const gd_workflows,
    reviewer: *const c_char,
    id: *const c_char,
    approve: c_int,
    comment: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let flows = unsafe { workflows_ref(workflows) }?;
        // SAFETY: forwarded contract of this export.
        let reviewer = unsafe { c_str(reviewer, "reviewer") }?;
        // SAFETY: forwarded contract of this export.
        let id = unsafe { c_str(id, "id") }?;
        // SAFETY: forwarded contract of this export.
        let comment = unsafe { opt_c_str(comment, "comment") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let step = if approve != 0 {
            flows.approve_share(reviewer, id, comment)
        } else {
            let reason = comment.ok_or_else(|| Failure::null("comment"))?;
            flows.reject_share(reviewer, id, reason)
        };
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { publish_step(step, out_json) }
    }
}

/// Provisions the approved sharing request `id` to its receiving department as
/// `provisioner` (a `share` decision citing the approval; the policies name who
/// provisions and the obligations that come with it). The outcome and the statuses
/// are those of `gd_share_request_json`; once provisioned, users of the receiving
/// department may cite the approval id in their queries.
///
/// Errors: `GD_ERR_UNKNOWN_ENTITY`, `GD_ERR_WORKFLOW_INVALID` (not approved, or past
/// its term), and the argument statuses.
///
/// # Safety
/// `workflows` is NULL or a live handle; `provisioner` and `id` are NULL or
/// NUL-terminated strings; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_share_provision_json(
    workflows: *const gd_workflows,
    provisioner: *const c_char,
    id: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let flows = unsafe { workflows_ref(workflows) }?;
        // SAFETY: forwarded contract of this export.
        let provisioner = unsafe { c_str(provisioner, "provisioner") }?;
        // SAFETY: forwarded contract of this export.
        let id = unsafe { c_str(id, "id") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { publish_step(flows.provision_share(provisioner, id), out_json) }
    }
}

/// Revokes the approved or provisioned sharing request `id` before its term ends, as
/// `user`, with `reason` (required): a `review_share` decision of the providing
/// department. Its approval no longer resolves. The outcome and the statuses are those
/// of `gd_share_request_json`.
///
/// Errors: `GD_ERR_UNKNOWN_ENTITY`, `GD_ERR_WORKFLOW_INVALID` (not approved or
/// provisioned), `GD_ERR_REQUEST_INVALID` (a blank reason), and the argument statuses.
///
/// # Safety
/// `workflows` is NULL or a live handle; `user`, `id` and `reason` are NULL or
/// NUL-terminated strings; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_share_revoke_json(
    workflows: *const gd_workflows,
    user: *const c_char,
    id: *const c_char,
    reason: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let flows = unsafe { workflows_ref(workflows) }?;
        // SAFETY: forwarded contract of this export.
        let user = unsafe { c_str(user, "user") }?;
        // SAFETY: forwarded contract of this export.
        let id = unsafe { c_str(id, "id") }?;
        // SAFETY: forwarded contract of this export.
        let reason = unsafe { c_str(reason, "reason") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { publish_step(flows.revoke_share(user, id, reason), out_json) }
    }
}

/// Requests the destruction of `dataset` by `method` (`"crypto_erase"`,
/// `"logical_delete"`, `"overwrite"` or `"physical_destroy"`) as `requester`, with
/// `reason` (required): a `request_destruction` decision. A dataset has at most one
/// open destruction. The outcome and the statuses are those of
/// `gd_share_request_json`; the record is the destruction request (its `id` is
/// `dst-…`).
///
/// Errors: `GD_ERR_REQUEST_INVALID` (an unknown method, a blank reason),
/// `GD_ERR_UNKNOWN_ENTITY`, `GD_ERR_WORKFLOW_INVALID` (the dataset already has an open
/// destruction), and the argument statuses.
///
/// # Safety
/// `workflows` is NULL or a live handle; `requester`, `dataset`, `method` and
/// `reason` are NULL or NUL-terminated strings; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_destruction_request_json(
    workflows: *const gd_workflows,
    requester: *const c_char,
    dataset: *const c_char,
    method: *const c_char,
    reason: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let flows = unsafe { workflows_ref(workflows) }?;
        // SAFETY: forwarded contract of this export.
        let requester = unsafe { c_str(requester, "requester") }?;
        // SAFETY: forwarded contract of this export.
        let dataset = unsafe { c_str(dataset, "dataset") }?;
        // SAFETY: forwarded contract of this export.
        let method = unsafe { c_str(method, "method") }?;
        // SAFETY: forwarded contract of this export.
        let reason = unsafe { c_str(reason, "reason") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let method = DestructionMethod::from_str(method)?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe {
            publish_step(flows.request_destruction(requester, dataset, method, reason), out_json)
        }
    }
}

/// Approves the requested destruction `id` as `approver` (an `approve_destruction`
/// decision: the owning department's security officer, never the requester), granted
/// to `executor` (NULL: the requester), who alone may carry it out within the
/// approval's validity (30 days). The outcome and the statuses are those of
/// `gd_share_request_json`; the approval id is the record's `approval.id`.
///
/// Errors: `GD_ERR_UNKNOWN_ENTITY`, `GD_ERR_WORKFLOW_INVALID` (not waiting for
/// approval), and the argument statuses.
///
/// # Safety
/// `workflows` is NULL or a live handle; `approver`, `id` and `executor` are NULL or
/// NUL-terminated strings; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_destruction_approve_json(
    workflows: *const gd_workflows,
    approver: *const c_char,
    id: *const c_char,
    executor: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let flows = unsafe { workflows_ref(workflows) }?;
        // SAFETY: forwarded contract of this export.
        let approver = unsafe { c_str(approver, "approver") }?;
        // SAFETY: forwarded contract of this export.
        let id = unsafe { c_str(id, "id") }?;
        // SAFETY: forwarded contract of this export.
        let executor = unsafe { opt_c_str(executor, "executor") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { publish_step(flows.approve_destruction(approver, id, executor), out_json) }
    }
}

/// Rejects the requested destruction `id` as `approver`, with `reason` (required): an
/// `approve_destruction` decision. The outcome and the statuses are those of
/// `gd_share_request_json`.
///
/// Errors: `GD_ERR_UNKNOWN_ENTITY`, `GD_ERR_WORKFLOW_INVALID`,
/// `GD_ERR_REQUEST_INVALID` (a blank reason), and the argument statuses.
///
/// # Safety
/// `workflows` is NULL or a live handle; `approver`, `id` and `reason` are NULL or
/// NUL-terminated strings; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_destruction_reject_json(
    workflows: *const gd_workflows,
    approver: *const c_char,
    id: *const c_char,
    reason: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let flows = unsafe { workflows_ref(workflows) }?;
        // SAFETY: forwarded contract of this export.
        let approver = unsafe { c_str(approver, "approver") }?;
        // SAFETY: forwarded contract of this export.
        let id = unsafe { c_str(id, "id") }?;
        // SAFETY: forwarded contract of this export.
        let reason = unsafe { c_str(reason, "reason") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { publish_step(flows.reject_destruction(approver, id, reason), out_json) }
    }
}

/// Carries out the approved destruction `id` as `executor` (a `destroy` decision
/// citing the approval; only the user it was granted to). `details_json` is NULL or
/// `{"witness": "…", "operator": "…", "note": "…"}` (each optional): a witness, another
/// platform user, is required under dual control and for physical destruction, which
/// also names the external operator. `crypto_erase` runs the vault's shred (see
/// `gd_workflows_set_vault`) and records the destroyed key ids; the other methods are
/// carried out by the host and recorded here. The outcome and the statuses are those
/// of `gd_share_request_json`.
///
/// Errors: `GD_ERR_MALFORMED_JSON`, `GD_ERR_REQUEST_INVALID` (an unknown field),
/// `GD_ERR_UNKNOWN_ENTITY`, `GD_ERR_WORKFLOW_INVALID` (not approved, a lapsed
/// approval, no vault for crypto-erasure), the vault's statuses when its shred fails
/// (`GD_ERR_ACCESS_DENIED`, `GD_ERR_KEY_NOT_FOUND` …; the failure is recorded), and
/// the argument statuses.
///
/// # Safety
/// `workflows` is NULL or a live handle; `executor`, `id` and `details_json` are NULL
/// or NUL-terminated strings; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_destruction_execute_json(
    workflows: *const gd_workflows,
    executor: *const c_char,
    id: *const c_char,
    details_json: *const c_char,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let flows = unsafe { workflows_ref(workflows) }?;
        // SAFETY: forwarded contract of this export.
        let executor = unsafe { c_str(executor, "executor") }?;
        // SAFETY: forwarded contract of this export.
        let id = unsafe { c_str(id, "id") }?;
        // SAFETY: forwarded contract of this export.
        let details = unsafe { opt_c_str(details_json, "details_json") }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let details: ExecutionDetails = match details {
            Some(text) => parse_json(text, "execution details")?,
            None => ExecutionDetails::default(),
        };
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { publish_step(flows.execute_destruction(executor, id, details), out_json) }
    }
}

/// Writes every request of both procedures as they stand now to `*out_json` (free it
/// with `gd_string_free`): `{"shares": [{…}, …], "destructions": [{…}, …]}`, each in
/// id order, the sharing requests with their current status (a term that ended is
/// `expired`) and `overdue` flag. For the host's own use: the list is no decision.
///
/// # Safety
/// `workflows` is NULL or a live handle; `out_json` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gd_workflows_list_json(
    workflows: *const gd_workflows,
    out_json: *mut *mut c_char,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract of this export.
        let flows = unsafe { workflows_ref(workflows) }?;
        let out_json = out_ptr(out_json, "out_json")?;
        let text = to_json_text(&json!({
            "shares": to_json_value(&flows.shares())?,
            "destructions": to_json_value(&flows.destructions())?,
        }))?;
        // SAFETY: `out_json` is non-NULL (checked) and writable by the contract.
        unsafe { out_json.write(into_c_string(text)) };
        Ok(gd_status::GD_OK)
    }
}
