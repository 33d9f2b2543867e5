//! `govdata.Platform`: one node opened from its `govdata.toml` by the core's
//! composition root. The binding wires nothing itself: it hands out the parts the core
//! opened and connected, as the classes a host already knows.

use crate::audit::AuditLog;
use crate::engine::{detached, Engine};
use crate::error::guard;
use crate::report::Assessment;
use crate::vault::Vault;
use crate::workflows::Workflows;
use govdata::assess::AssessPeriods;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// One node of the platform: its engine, audit log, procedures and vault, opened
/// from one `govdata.toml` and wired once. Thread-safe.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct Platform {
    inner: Arc<govdata::Platform>,
    engine: Py<Engine>,
    audit_log: Option<Py<AuditLog>>,
    workflows: Option<Py<Workflows>>,
    vault: Option<Py<Vault>>,
}

#[pymethods]
impl Platform {
    /// Opens the node that the configuration file at `path` describes.
    #[new]
    fn new(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        guard(|| {
            let node = Arc::new(detached(py, || govdata::Platform::open(&path))?);
            let engine = Py::new(
                py,
                Engine::shared(node.engine().clone(), node.audit_log().is_some()),
            )?;
            let audit_log = node
                .audit_log()
                .map(|l| Py::new(py, AuditLog::shared(l.clone())))
                .transpose()?;
            let workflows = node
                .workflows()
                .map(|w| Py::new(py, Workflows::shared(w.clone())))
                .transpose()?;
            let vault = node
                .vault()
                .map(|v| Py::new(py, Vault::shared(v.clone())))
                .transpose()?;
            Ok(Platform {
                inner: node,
                engine,
                audit_log,
                workflows,
                vault,
            })
        })
    }

    /// Waits until the platform store holds every record the node appended before
    /// the call, at most `timeout` seconds (`StoreUnavailableError` past it, naming the
    /// shipper's last error; `ConfigInvalidError` for a node without `[store]`).
    fn store_sync(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        let node = self.inner.clone();
        let wait = std::time::Duration::from_secs_f64(timeout.clamp(0.0, 1e9));
        detached(py, move || node.store_sync(wait))
    }

    /// The node's id.
    #[getter]
    fn node_id(&self) -> &str {
        self.inner.node_id()
    }

    /// The engine, recording into the node's audit log when it keeps one.
    #[getter]
    fn engine(&self, py: Python<'_>) -> Py<Engine> {
        self.engine.clone_ref(py)
    }

    /// The audit log, or `None` when the configuration has no `[audit]` section.
    #[getter]
    fn audit_log(&self, py: Python<'_>) -> Option<Py<AuditLog>> {
        self.audit_log.as_ref().map(|l| l.clone_ref(py))
    }

    /// The sharing and destruction procedures (they need the audit log), or `None`.
    #[getter]
    fn workflows(&self, py: Python<'_>) -> Option<Py<Workflows>> {
        self.workflows.as_ref().map(|w| w.clone_ref(py))
    }

    /// The vault, or `None` when the configuration has no `[vault]` section.
    #[getter]
    fn vault(&self, py: Python<'_>) -> Option<Py<Vault>> {
        self.vault.as_ref().map(|v| v.clone_ref(py))
    }

    /// What the node reports about itself (a dict: `node_id`, `policy_version`,
    /// `audit`, `vault`).
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            pythonize::pythonize(py, &self.inner.status())
                .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
        })
    }

    /// The compliance self-assessment (Art. 20) of this node, from the configuration
    /// it was opened with (see `govdata.assess`); its log is read, not written.
    #[pyo3(signature = (*, checkpoint=None, now=None, backup_days=7, key_rotation_days=365, unused_days=90, gap_days=7))]
    #[expect(
        clippy::too_many_arguments,
        reason = "the periods of the assessment as keywords, as the command line's flags"
    )]
    fn assess(
        &self,
        py: Python<'_>,
        checkpoint: Option<String>,
        now: Option<String>,
        backup_days: u32,
        key_rotation_days: u32,
        unused_days: u32,
        gap_days: u32,
    ) -> PyResult<Assessment> {
        let config = self.inner.config().clone();
        guard(|| {
            crate::report::run(
                py,
                move || Ok(config),
                AssessPeriods {
                    now,
                    checkpoint,
                    backup_days: Some(backup_days),
                    key_rotation_days: Some(key_rotation_days),
                    unused_days: Some(unused_days),
                    gap_days: Some(gap_days),
                },
            )
        })
    }

    /// Syncs and closes the audit log, letting go of its lock.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let node = &self.inner;
        guard(|| detached(py, || node.close()))
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("Platform(node_id={:?})", self.inner.node_id())
    }
}
