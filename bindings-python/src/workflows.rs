//! `Workflows` and `StepResult`: the sharing (Art. 14) and destruction (Art. 15)
//! procedures of the core, over an engine and its audit log.
//!
//! Thin: arguments are read into the core's types (the application and the execution
//! details through the core's serde definitions), the core takes the step, and the
//! outcome is handed back as the existing `Decision` and the record as a dict. Every
//! step and the rebuild from the log run without the GIL (they append to and sync the
//! log).

use crate::audit::AuditLog;
use crate::engine::{detached, Decision, Engine};
use crate::error::{guard, request_invalid, to_py};
use crate::vault::Vault;
use govdata::workflow::{
    DestructionMethod, ExecutionDetails, ShareApplication, Step, WorkflowConfig,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Serialize;
use std::sync::Arc;

fn to_python<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// The outcome of one step: `done` (the step happened) or refused, with the engine's
/// decision and, when done, the request as it now stands.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct StepResult {
    done: bool,
    decision: Py<Decision>,
    record: Py<PyAny>,
}

impl StepResult {
    fn new<T: Serialize>(py: Python<'_>, step: Step<T>) -> PyResult<Self> {
        let done = step.allowed();
        let record = match step.record() {
            Some(r) => to_python(py, r)?.unbind(),
            None => py.None(),
        };
        let decision = match step {
            Step::Done { decision, .. } | Step::Refused { decision } => decision,
        };
        Ok(StepResult {
            done,
            decision: Py::new(py, Decision { inner: decision })?,
            record,
        })
    }
}

#[pymethods]
impl StepResult {
    /// Whether the step happened (`False`: refused, and the refusal is recorded).
    #[getter]
    fn done(&self) -> bool {
        self.done
    }
    /// The engine's decision on the step (its reasons say why a refused step was).
    #[getter]
    fn decision(&self, py: Python<'_>) -> Py<Decision> {
        self.decision.clone_ref(py)
    }
    /// The request after the step (a dict), or `None` when the step was refused.
    #[getter]
    fn record(&self, py: Python<'_>) -> Py<PyAny> {
        self.record.clone_ref(py)
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        let id = self
            .record
            .bind(py)
            .get_item("id")
            .ok()
            .map(|i| i.to_string());
        let status = self
            .record
            .bind(py)
            .get_item("status")
            .ok()
            .map(|s| s.to_string());
        format!(
            "StepResult(done={}, decision={:?}, id={:?}, status={:?})",
            if self.done { "True" } else { "False" },
            self.decision.get().inner.decision(),
            id,
            status
        )
    }
}

/// The sharing and destruction procedures over an engine and its audit log.
///
/// Opening rebuilds their state from the log (the log is their only store) and makes
/// the engine resolve `context.approval` against it. Thread-safe; open one per engine
/// and log.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct Workflows {
    inner: Arc<govdata::workflow::Workflows>,
}

impl Workflows {
    pub(crate) fn shared(inner: Arc<govdata::workflow::Workflows>) -> Self {
        Workflows { inner }
    }

    fn step<T: Serialize + Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&govdata::workflow::Workflows) -> govdata::Result<Step<T>> + Send,
    ) -> PyResult<StepResult> {
        guard(|| {
            let flows = &self.inner;
            let step = detached(py, || f(flows))?;
            StepResult::new(py, step)
        })
    }
}

#[pymethods]
impl Workflows {
    /// Opens the procedures over `engine` and `audit_log`: every step is a decision of
    /// the engine and a record in the log.
    #[new]
    fn new(
        py: Python<'_>,
        engine: &Bound<'_, Engine>,
        audit_log: &Bound<'_, AuditLog>,
    ) -> PyResult<Self> {
        let engine = engine.get().core().clone();
        let log = audit_log.get().core().clone();
        let inner = detached(py, || {
            govdata::platform::open_procedures(engine, log, None, WorkflowConfig::default())
        })?;
        Ok(Workflows {
            inner: Arc::new(inner),
        })
    }

    /// What rebuilding the state from the log found (a dict).
    #[getter]
    fn rebuild_report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, self.inner.rebuild_report())
    }

    /// Makes `vault` carry out crypto-erasure (`None` detaches it).
    fn set_vault(&self, vault: Option<&Bound<'_, Vault>>) {
        govdata::platform::shred_with(&self.inner, vault.map(|v| v.get().core()));
    }

    /// Submits a sharing request by `requester` for `dataset`.
    #[pyo3(signature = (requester, dataset, *, purpose, legal_basis, fields, until, scenario_risk, recipient_department=None))]
    #[expect(
        clippy::too_many_arguments,
        reason = "the fields of the sharing application as keywords"
    )]
    fn request_share(
        &self,
        py: Python<'_>,
        requester: String,
        dataset: String,
        purpose: &Bound<'_, PyAny>,
        legal_basis: &Bound<'_, PyAny>,
        fields: &Bound<'_, PyAny>,
        until: &Bound<'_, PyAny>,
        scenario_risk: &Bound<'_, PyAny>,
        recipient_department: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<StepResult> {
        let app = PyDict::new(py);
        app.set_item("purpose", purpose)?;
        app.set_item("legal_basis", legal_basis)?;
        app.set_item("fields", fields)?;
        app.set_item("until", until)?;
        app.set_item("scenario_risk", scenario_risk)?;
        if let Some(r) = recipient_department.filter(|r| !r.is_none()) {
            app.set_item("recipient_department", r)?;
        }
        let application: ShareApplication = crate::de::from_py(app.as_any())
            .map_err(|e| to_py(request_invalid(format!("invalid sharing application: {e}"))))?;
        self.step(py, move |f| {
            f.request_share(&requester, &dataset, application)
        })
    }

    /// Approves the submitted sharing request `id` as `reviewer`.
    #[pyo3(signature = (reviewer, id, comment=None))]
    fn approve_share(
        &self,
        py: Python<'_>,
        reviewer: &str,
        id: &str,
        comment: Option<&str>,
    ) -> PyResult<StepResult> {
        self.step(py, |f| f.approve_share(reviewer, id, comment))
    }

    /// Rejects the submitted sharing request `id` as `reviewer`, with `reason`.
    fn reject_share(
        &self,
        py: Python<'_>,
        reviewer: &str,
        id: &str,
        reason: &str,
    ) -> PyResult<StepResult> {
        self.step(py, |f| f.reject_share(reviewer, id, reason))
    }

    /// Provisions the approved sharing request `id` as `provisioner`.
    fn provision_share(&self, py: Python<'_>, provisioner: &str, id: &str) -> PyResult<StepResult> {
        self.step(py, |f| f.provision_share(provisioner, id))
    }

    /// Revokes the approved or provisioned sharing request `id` as `user`, with `reason`.
    fn revoke_share(
        &self,
        py: Python<'_>,
        user: &str,
        id: &str,
        reason: &str,
    ) -> PyResult<StepResult> {
        self.step(py, |f| f.revoke_share(user, id, reason))
    }

    /// Records the expiry of every share whose term has ended; returns them (dicts).
    fn expire_shares<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let flows = &self.inner;
            let expired = detached(py, || flows.expire_shares())?;
            to_python(py, &expired)
        })
    }

    /// The sharing request `id` as it stands now (a dict), or `None`.
    fn share<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.share(id))
    }

    /// Every sharing request as it stands now (dicts, by id).
    fn shares<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.shares())
    }

    /// The sharing requests whose review is past its deadline (dicts, by id).
    fn overdue_shares<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.overdue_shares())
    }

    /// Requests the destruction of `dataset` by `method` as `requester`, with `reason`.
    fn request_destruction(
        &self,
        py: Python<'_>,
        requester: &str,
        dataset: &str,
        method: &str,
        reason: &str,
    ) -> PyResult<StepResult> {
        let method = method.parse::<DestructionMethod>().map_err(to_py)?;
        self.step(py, |f| {
            f.request_destruction(requester, dataset, method, reason)
        })
    }

    /// Approves the requested destruction `id` as `approver`, granted to `executor`
    /// (the requester when `None`).
    #[pyo3(signature = (approver, id, executor=None))]
    fn approve_destruction(
        &self,
        py: Python<'_>,
        approver: &str,
        id: &str,
        executor: Option<&str>,
    ) -> PyResult<StepResult> {
        self.step(py, |f| f.approve_destruction(approver, id, executor))
    }

    /// Rejects the requested destruction `id` as `approver`, with `reason`.
    fn reject_destruction(
        &self,
        py: Python<'_>,
        approver: &str,
        id: &str,
        reason: &str,
    ) -> PyResult<StepResult> {
        self.step(py, |f| f.reject_destruction(approver, id, reason))
    }

    /// Carries out the approved destruction `id` as `executor`, with a `witness`, the
    /// external `operator` (physical destruction) and a `note`.
    #[pyo3(signature = (executor, id, *, witness=None, operator=None, note=None))]
    fn execute_destruction(
        &self,
        py: Python<'_>,
        executor: &str,
        id: &str,
        witness: Option<String>,
        operator: Option<String>,
        note: Option<String>,
    ) -> PyResult<StepResult> {
        let details = ExecutionDetails {
            witness,
            operator,
            note,
        };
        self.step(py, |f| f.execute_destruction(executor, id, details))
    }

    /// The destruction request `id` (a dict), or `None`.
    fn destruction<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.destruction(id))
    }

    /// Every destruction request (dicts, by id).
    fn destructions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.destructions())
    }

    fn __repr__(&self) -> String {
        format!(
            "Workflows(shares={}, destructions={})",
            self.inner.shares().len(),
            self.inner.destructions().len()
        )
    }
}
