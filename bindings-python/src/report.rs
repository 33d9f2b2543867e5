//! `Explanation` and `Assessment`: the core's explanation of a decision and its
//! compliance self-assessment, handed over as they are. Their JSON (`to_json`) is the
//! core's text, the very bytes `govdata explain --json` and `govdata assess --json -`
//! print for the same inputs.

use crate::convert::PolicySource;
use crate::decision::Decision;
use crate::engine::detached;
use crate::error::{guard, to_py};
use govdata::assess::{AssessPeriods, Severity};
use govdata::platform::{Overrides, PlatformConfig};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Serialize;
use std::path::PathBuf;

fn to_python<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Why the engine decided a request as it did: the forbids that fired, the permits
/// that allowed it, the policies that could not be evaluated, and for a default deny
/// the permits that came closest with the condition each lacked.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct Explanation {
    pub(crate) inner: govdata::Explanation,
}

#[pymethods]
impl Explanation {
    /// The decision explained.
    #[getter]
    fn decision(&self) -> Decision {
        Decision {
            inner: self.inner.decision().clone(),
        }
    }

    /// The forbids that fired (dicts: policy, article, zh, en, file, line).
    #[getter]
    fn forbids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.forbids())
    }

    /// The permits that allowed the request.
    #[getter]
    fn permits<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.permits())
    }

    /// The policies that could not be evaluated (each a deny: fail closed).
    #[getter]
    fn errors<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.errors())
    }

    /// For a default deny, the permits whose scope matches, closest first, each with
    /// how many of its conditions held and the first that did not.
    #[getter]
    fn closest<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.closest())
    }

    /// Whether the deny is the default one: no forbid fired, no permit applied.
    #[getter]
    fn is_default_deny(&self) -> bool {
        self.inner.is_default_deny()
    }

    /// The explanation as a dict (the JSON's structure).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.to_json())
    }

    /// The explanation as JSON: what `govdata explain --json` prints, byte for byte.
    fn to_json(&self) -> String {
        self.inner.to_json_string()
    }

    fn __repr__(&self) -> String {
        format!(
            "Explanation(decision={:?}, forbids={}, permits={}, closest={})",
            self.inner.decision().decision(),
            self.inner.forbids().len(),
            self.inner.permits().len(),
            self.inner.closest().len()
        )
    }
}

/// A compliance self-assessment (Art. 20): findings per article, with their
/// severity, the records they cite and what to do about each.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct Assessment {
    inner: govdata::Assessment,
}

#[pymethods]
impl Assessment {
    /// The time of the assessment (RFC 3339, UTC).
    #[getter]
    fn now(&self) -> String {
        self.inner.now.to_string()
    }

    /// The counts: total, max_severity, by_severity, by_article, by_department, by_code.
    #[getter]
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.summary)
    }

    /// The findings (dicts), most severe first.
    #[getter]
    fn findings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner.findings)
    }

    /// How many findings are at `severity` (info, low, medium, high, critical) or above.
    fn findings_at_or_above(&self, severity: &str) -> PyResult<usize> {
        let severity: Severity = severity.parse().map_err(to_py)?;
        Ok(self.inner.findings_at_or_above(severity))
    }

    /// The report as a dict (the JSON's structure).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_python(py, &self.inner)
    }

    /// The report as JSON: what `govdata assess --json -` prints, byte for byte.
    fn to_json(&self) -> String {
        self.inner.to_json_string()
    }

    /// The report as a self-contained HTML page.
    fn to_html(&self) -> String {
        self.inner.to_html()
    }

    fn __repr__(&self) -> String {
        format!(
            "Assessment(now={:?}, findings={})",
            self.inner.now.to_string(),
            self.inner.findings.len()
        )
    }
}

/// Assesses `config` (without the GIL).
pub(crate) fn run(
    py: Python<'_>,
    config: impl FnOnce() -> govdata::Result<PlatformConfig> + Send,
    periods: AssessPeriods,
) -> PyResult<Assessment> {
    let inner = detached(py, || {
        let config = config()?;
        let (options, checkpoint) = periods.resolve()?;
        config.assess(&options, checkpoint.as_ref())
    })?;
    Ok(Assessment { inner })
}

/// The compliance self-assessment (Art. 20) of a node: the inventory, the policy
/// pack, the audit log (verified and read, never written) and the vault's key store
/// (its status read) that the configuration file `config` names, the keywords
/// overriding it — as `govdata assess --config … --inventory … …` would, with the same
/// report. Key files must be readable by their owner only. `now` is YYYY-MM-DD or
/// RFC 3339 UTC (now if omitted); `checkpoint` a head of the log kept elsewhere.
#[pyfunction]
#[pyo3(signature = (config=None, *, inventory=None, policies=None, audit_dir=None, audit_key_file=None, vault_dir=None, master_key_file=None, checkpoint=None, now=None, backup_days=7, key_rotation_days=365, unused_days=90, gap_days=7))]
#[expect(
    clippy::too_many_arguments,
    reason = "the sources and periods of the assessment as keywords, as the command line's flags"
)]
pub fn assess(
    py: Python<'_>,
    config: Option<PathBuf>,
    inventory: Option<PathBuf>,
    policies: Option<&Bound<'_, PyAny>>,
    audit_dir: Option<PathBuf>,
    audit_key_file: Option<PathBuf>,
    vault_dir: Option<PathBuf>,
    master_key_file: Option<PathBuf>,
    checkpoint: Option<String>,
    now: Option<String>,
    backup_days: u32,
    key_rotation_days: u32,
    unused_days: u32,
    gap_days: u32,
) -> PyResult<Assessment> {
    guard(|| {
        let policies = policies
            .filter(|p| !p.is_none())
            .map(PolicySource::extract)
            .transpose()?
            .map(|p| p.dirs().to_vec())
            .unwrap_or_default();
        let overrides = Overrides {
            inventory,
            policies,
            audit_dir,
            audit_key_file,
            vault_dir,
            master_key_file,
            lock_wait: None,
        };
        run(
            py,
            move || PlatformConfig::layered(config.as_deref(), "python", &overrides),
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
