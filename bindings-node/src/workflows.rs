//! `Workflows`: the sharing (Art. 14) and destruction (Art. 15) procedures of the
//! core, over an engine and its audit log.
//!
//! Thin: arguments are read into the core's types (the application and the execution
//! details through the core's serde definitions), the core takes the step, and the
//! outcome comes back as a plain object `{ done, decision, record }` whose decision
//! and record are in the core's JSON form. A step is one decision and one durable
//! append, so it is synchronous like `engine.decide`; rebuilding the state from a
//! long log is what `Workflows.open` does on the thread pool.

use crate::args::{self, Options};
use crate::audit::AuditLog;
use crate::error::{guard, invalid_argument, request_invalid, to_js, Result};
use crate::tasks::{Job, Output};
use crate::vault::Vault;
use crate::Engine;
use govdata::workflow::{
    DestructionMethod, ExecutionDetails, ShareApplication, Step, WorkflowConfig,
};
use napi::bindgen_prelude::{AsyncTask, Env, JsValue, Unknown};
use napi::ValueType;
use napi_derive::napi;
use serde::Serialize;
use std::sync::Arc;

/// Opens the core's procedures (what `new Workflows` and `Workflows.open` share).
pub fn open(
    engine: Arc<govdata::Engine>,
    log: Arc<govdata::AuditLog>,
) -> govdata::Result<govdata::Workflows> {
    govdata::platform::open_procedures(engine, log, None, WorkflowConfig::default())
}

fn to_js_value<'env>(env: &'env Env, value: &impl Serialize) -> Result<Unknown<'env>> {
    crate::convert::serialized(env, value)
}

/// One step as JavaScript sees it.
#[derive(Serialize)]
struct StepResult<'a, T> {
    done: bool,
    decision: &'a govdata::Decision,
    record: Option<&'a T>,
}

fn step<'env, T: Serialize>(env: &'env Env, step: &Step<T>) -> Result<Unknown<'env>> {
    to_js_value(
        env,
        &StepResult {
            done: step.allowed(),
            decision: step.decision(),
            record: step.record(),
        },
    )
}

/// The engine and log arguments of `new Workflows` and `Workflows.open`.
fn parts(
    engine: Unknown<'_>,
    log: Unknown<'_>,
) -> Result<(Arc<govdata::Engine>, Arc<govdata::AuditLog>)> {
    let engine = Arc::clone(&args::instance::<Engine>(engine, "engine", "Engine")?.inner);
    let log = Arc::clone(&args::instance::<AuditLog>(log, "auditLog", "AuditLog")?.inner);
    Ok((engine, log))
}

/// The sharing and destruction procedures over an engine and its audit log.
///
/// Opening rebuilds their state from the log (the log is their only store) and makes
/// the engine resolve `context.approval` against it. Open one per engine and log.
#[napi]
pub struct Workflows {
    inner: Arc<govdata::Workflows>,
}

impl std::fmt::Debug for Workflows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workflows").finish_non_exhaustive()
    }
}

impl Workflows {
    /// Wraps procedures the core has opened.
    pub fn from_core(inner: govdata::Workflows) -> Self {
        Workflows {
            inner: Arc::new(inner),
        }
    }

    /// Shares procedures the core has opened (a node's).
    pub fn from_shared(inner: Arc<govdata::Workflows>) -> Self {
        Workflows { inner }
    }
}

#[napi]
impl Workflows {
    /// Opens the procedures over `engine` and `auditLog` on the calling thread: every
    /// step is a decision of the engine and a record in the log. For a long log,
    /// `Workflows.open` rebuilds off the event loop.
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "engine: Engine, auditLog: AuditLog"
    )]
    pub fn new(engine: Unknown<'_>, audit_log: Unknown<'_>) -> Result<Self> {
        guard(|| {
            let (engine, log) = parts(engine, audit_log)?;
            Ok(Workflows::from_core(open(engine, log).map_err(to_js)?))
        })
    }

    /// `new Workflows(engine, auditLog)` with the state rebuilt from the log on the
    /// thread pool.
    #[napi(
        catch_unwind,
        ts_args_type = "engine: Engine, auditLog: AuditLog",
        ts_return_type = "Promise<Workflows>"
    )]
    pub fn open(engine: Unknown<'_>, audit_log: Unknown<'_>) -> AsyncTask<Job> {
        Job::spawn("Workflows.open", || {
            let (engine, log) = parts(engine, audit_log)?;
            Ok(move || {
                let inner = self::open(engine, log).map_err(to_js)?;
                Ok(Output::Workflows(inner))
            })
        })
    }

    /// What rebuilding the state from the log found.
    #[napi(getter, catch_unwind, ts_return_type = "RebuildReport")]
    pub fn rebuild_report<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        guard(|| to_js_value(env, self.inner.rebuild_report()))
    }

    /// Makes `vault` carry out crypto-erasure (`null` detaches it).
    #[napi(catch_unwind, ts_args_type = "vault: Vault | null")]
    pub fn set_vault(&self, vault: Option<Unknown<'_>>) -> Result<()> {
        guard(|| {
            let vault = match vault {
                Some(v) if !args::absent(&v) => Some(args::instance::<Vault>(v, "vault", "Vault")?),
                _ => None,
            };
            govdata::platform::shred_with(&self.inner, vault.as_ref().map(|v| &v.inner));
            Ok(())
        })
    }

    /// Submits a sharing request by `requester` for `dataset`: `application` holds
    /// `purpose`, `legal_basis`, `fields`, `until` (`'YYYY-MM-DD'`, RFC 3339 or a
    /// `Date`), `scenario_risk` and optionally `recipient_department`.
    #[napi(
        catch_unwind,
        ts_args_type = "requester: string, dataset: string, application: ShareApplication",
        ts_return_type = "StepResult<SharingRequest>"
    )]
    pub fn request_share<'env>(
        &self,
        env: &'env Env,
        requester: Unknown<'_>,
        dataset: Unknown<'_>,
        application: Unknown<'_>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let requester = args::string(requester, "requester")?;
            let dataset = args::string(dataset, "dataset")?;
            if application.get_type().ok() != Some(ValueType::Object)
                || application.is_array().unwrap_or(false)
            {
                return Err(invalid_argument("`application` must be an object"));
            }
            let application: ShareApplication = args::json(env, &application, |m| {
                request_invalid(format!("invalid sharing application: {m}"))
            })?;
            let s = self
                .inner
                .request_share(&requester, &dataset, application)
                .map_err(to_js)?;
            step(env, &s)
        })
    }

    /// Approves the submitted sharing request `id` as `reviewer`.
    #[napi(
        catch_unwind,
        ts_args_type = "reviewer: string, id: string, comment?: string",
        ts_return_type = "StepResult<SharingRequest>"
    )]
    pub fn approve_share<'env>(
        &self,
        env: &'env Env,
        reviewer: Unknown<'_>,
        id: Unknown<'_>,
        comment: Option<Unknown<'_>>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let reviewer = args::string(reviewer, "reviewer")?;
            let id = args::string(id, "id")?;
            let comment = args::opt_string(comment, "comment")?;
            let s = self
                .inner
                .approve_share(&reviewer, &id, comment.as_deref())
                .map_err(to_js)?;
            step(env, &s)
        })
    }

    /// Rejects the submitted sharing request `id` as `reviewer`, with `reason`.
    #[napi(
        catch_unwind,
        ts_args_type = "reviewer: string, id: string, reason: string",
        ts_return_type = "StepResult<SharingRequest>"
    )]
    pub fn reject_share<'env>(
        &self,
        env: &'env Env,
        reviewer: Unknown<'_>,
        id: Unknown<'_>,
        reason: Unknown<'_>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let reviewer = args::string(reviewer, "reviewer")?;
            let id = args::string(id, "id")?;
            let reason = args::string(reason, "reason")?;
            let s = self
                .inner
                .reject_share(&reviewer, &id, &reason)
                .map_err(to_js)?;
            step(env, &s)
        })
    }

    /// Provisions the approved sharing request `id` as `provisioner`.
    #[napi(
        catch_unwind,
        ts_args_type = "provisioner: string, id: string",
        ts_return_type = "StepResult<SharingRequest>"
    )]
    pub fn provision_share<'env>(
        &self,
        env: &'env Env,
        provisioner: Unknown<'_>,
        id: Unknown<'_>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let provisioner = args::string(provisioner, "provisioner")?;
            let id = args::string(id, "id")?;
            let s = self
                .inner
                .provision_share(&provisioner, &id)
                .map_err(to_js)?;
            step(env, &s)
        })
    }

    /// Revokes the approved or provisioned sharing request `id` as `user`, with
    /// `reason`.
    #[napi(
        catch_unwind,
        ts_args_type = "user: string, id: string, reason: string",
        ts_return_type = "StepResult<SharingRequest>"
    )]
    pub fn revoke_share<'env>(
        &self,
        env: &'env Env,
        user: Unknown<'_>,
        id: Unknown<'_>,
        reason: Unknown<'_>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let user = args::string(user, "user")?;
            let id = args::string(id, "id")?;
            let reason = args::string(reason, "reason")?;
            let s = self
                .inner
                .revoke_share(&user, &id, &reason)
                .map_err(to_js)?;
            step(env, &s)
        })
    }

    /// Records the expiry of every share whose term has ended; returns them.
    #[napi(catch_unwind, ts_return_type = "SharingRequest[]")]
    pub fn expire_shares<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        guard(|| {
            let expired = self.inner.expire_shares().map_err(to_js)?;
            to_js_value(env, &expired)
        })
    }

    /// The sharing request `id` as it stands now, or `null`.
    #[napi(
        catch_unwind,
        ts_args_type = "id: string",
        ts_return_type = "SharingRequest | null"
    )]
    pub fn share<'env>(&self, env: &'env Env, id: Unknown<'_>) -> Result<Unknown<'env>> {
        guard(|| {
            let id = args::string(id, "id")?;
            to_js_value(env, &self.inner.share(&id))
        })
    }

    /// Every sharing request as it stands now, by id.
    #[napi(catch_unwind, ts_return_type = "SharingRequest[]")]
    pub fn shares<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        guard(|| to_js_value(env, &self.inner.shares()))
    }

    /// The sharing requests whose review is past its deadline, by id.
    #[napi(catch_unwind, ts_return_type = "SharingRequest[]")]
    pub fn overdue_shares<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        guard(|| to_js_value(env, &self.inner.overdue_shares()))
    }

    /// Requests the destruction of `dataset` by `method` as `requester`, with
    /// `reason`.
    #[napi(
        catch_unwind,
        ts_args_type = "requester: string, dataset: string, method: DestructionMethod, reason: string",
        ts_return_type = "StepResult<DestructionRequest>"
    )]
    pub fn request_destruction<'env>(
        &self,
        env: &'env Env,
        requester: Unknown<'_>,
        dataset: Unknown<'_>,
        method: Unknown<'_>,
        reason: Unknown<'_>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let requester = args::string(requester, "requester")?;
            let dataset = args::string(dataset, "dataset")?;
            let method = args::string(method, "method")?
                .parse::<DestructionMethod>()
                .map_err(to_js)?;
            let reason = args::string(reason, "reason")?;
            let s = self
                .inner
                .request_destruction(&requester, &dataset, method, &reason)
                .map_err(to_js)?;
            step(env, &s)
        })
    }

    /// Approves the requested destruction `id` as `approver`, granted to `executor`
    /// (the requester when absent).
    #[napi(
        catch_unwind,
        ts_args_type = "approver: string, id: string, executor?: string",
        ts_return_type = "StepResult<DestructionRequest>"
    )]
    pub fn approve_destruction<'env>(
        &self,
        env: &'env Env,
        approver: Unknown<'_>,
        id: Unknown<'_>,
        executor: Option<Unknown<'_>>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let approver = args::string(approver, "approver")?;
            let id = args::string(id, "id")?;
            let executor = args::opt_string(executor, "executor")?;
            let s = self
                .inner
                .approve_destruction(&approver, &id, executor.as_deref())
                .map_err(to_js)?;
            step(env, &s)
        })
    }

    /// Rejects the requested destruction `id` as `approver`, with `reason`.
    #[napi(
        catch_unwind,
        ts_args_type = "approver: string, id: string, reason: string",
        ts_return_type = "StepResult<DestructionRequest>"
    )]
    pub fn reject_destruction<'env>(
        &self,
        env: &'env Env,
        approver: Unknown<'_>,
        id: Unknown<'_>,
        reason: Unknown<'_>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let approver = args::string(approver, "approver")?;
            let id = args::string(id, "id")?;
            let reason = args::string(reason, "reason")?;
            let s = self
                .inner
                .reject_destruction(&approver, &id, &reason)
                .map_err(to_js)?;
            step(env, &s)
        })
    }

    /// Carries out the approved destruction `id` as `executor`: crypto-erasure through
    /// the vault (`setVault`), or the record of an external method. `details` names
    /// the `witness` (dual control), the external `operator` (physical destruction)
    /// and a `note`.
    #[napi(
        catch_unwind,
        ts_args_type = "executor: string, id: string, details?: ExecutionDetails",
        ts_return_type = "StepResult<DestructionRequest>"
    )]
    pub fn execute_destruction<'env>(
        &self,
        env: &'env Env,
        executor: Unknown<'_>,
        id: Unknown<'_>,
        details: Option<Unknown<'_>>,
    ) -> Result<Unknown<'env>> {
        guard(|| {
            let executor = args::string(executor, "executor")?;
            let id = args::string(id, "id")?;
            let options = Options::new(details, "details", &["witness", "operator", "note"])?;
            let details = ExecutionDetails {
                witness: options.string("witness")?,
                operator: options.string("operator")?,
                note: options.string("note")?,
            };
            let s = self
                .inner
                .execute_destruction(&executor, &id, details)
                .map_err(to_js)?;
            step(env, &s)
        })
    }

    /// The destruction request `id`, or `null`.
    #[napi(
        catch_unwind,
        ts_args_type = "id: string",
        ts_return_type = "DestructionRequest | null"
    )]
    pub fn destruction<'env>(&self, env: &'env Env, id: Unknown<'_>) -> Result<Unknown<'env>> {
        guard(|| {
            let id = args::string(id, "id")?;
            to_js_value(env, &self.inner.destruction(&id))
        })
    }

    /// Every destruction request, by id.
    #[napi(catch_unwind, ts_return_type = "DestructionRequest[]")]
    pub fn destructions<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        guard(|| to_js_value(env, &self.inner.destructions()))
    }

    /// A description of the procedures' state.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_description(&self) -> Result<String> {
        guard(|| {
            Ok(format!(
                "Workflows(shares={}, destructions={})",
                self.inner.shares().len(),
                self.inner.destructions().len()
            ))
        })
    }
}
