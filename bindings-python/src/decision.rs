//! `Decision` and `Reason`: a decision is the core's own value, read lazily; its reasons
//! are Python objects built once per policy and shared by every decision that cites it.
//!
//! A decision of the engine holds each reason's text behind a shared pointer that lives
//! as long as the pack. The first time a reason is read from Python, its policy id,
//! article and both texts become Python strings inside a frozen `Reason`; that object
//! is kept, keyed by the address of the text, next to a copy of the core's reason
//! (which keeps the text, and so the address, alive). A later decision citing the same
//! policy hands back the same object. A reason that carries an evaluation error is
//! built afresh each time. The table is bounded; a pack reload only leaves entries
//! that nothing matches until it is cleared.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString};
use pyo3::{intern, IntoPyObjectExt};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

/// Why a decision came out as it did: one policy and the article behind it.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct Reason {
    inner: govdata::Reason,
    policy: Py<PyString>,
    article: Py<PyString>,
    zh: Py<PyString>,
    en: Py<PyString>,
}

impl Reason {
    fn new(py: Python<'_>, inner: &govdata::Reason) -> Self {
        Reason {
            policy: PyString::new(py, inner.policy()).unbind(),
            article: PyString::new(py, inner.article()).unbind(),
            zh: PyString::new(py, inner.zh()).unbind(),
            en: PyString::new(py, inner.en()).unbind(),
            inner: inner.clone(),
        }
    }

    /// The wire format: policy, article, zh, en, and error when there is one.
    fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item(intern!(py, "policy"), self.policy.bind(py))?;
        d.set_item(intern!(py, "article"), self.article.bind(py))?;
        d.set_item(intern!(py, "zh"), self.zh.bind(py))?;
        d.set_item(intern!(py, "en"), self.en.bind(py))?;
        if let Some(e) = self.inner.error() {
            d.set_item(intern!(py, "error"), e)?;
        }
        Ok(d)
    }
}

#[pymethods]
impl Reason {
    /// The policy id, or `default-deny` / `engine-error`.
    #[getter]
    fn policy(&self, py: Python<'_>) -> Py<PyString> {
        self.policy.clone_ref(py)
    }
    /// The article, such as `第十七条`.
    #[getter]
    fn article(&self, py: Python<'_>) -> Py<PyString> {
        self.article.clone_ref(py)
    }
    /// The rule in Chinese.
    #[getter]
    fn zh(&self, py: Python<'_>) -> Py<PyString> {
        self.zh.clone_ref(py)
    }
    /// The rule in English.
    #[getter]
    fn en(&self, py: Python<'_>) -> Py<PyString> {
        self.en.clone_ref(py)
    }
    /// For a policy that failed to evaluate (which denies), the evaluation error.
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error()
    }
    /// The reason as a dict in the wire format.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.dict(py)
    }
    fn __repr__(&self) -> String {
        format!(
            "Reason(policy={:?}, article={:?})",
            self.inner.policy(),
            self.inner.article()
        )
    }
}

/// Hashes an address (the keys of the reason table).
#[derive(Default)]
struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = ((n as u64) >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type ReasonTable = HashMap<usize, Py<Reason>, BuildHasherDefault<AddrHasher>>;

/// More distinct reasons than a few packs hold: past this the table starts again.
const REASON_TABLE_LIMIT: usize = 4096;

static REASONS: PyOnceLock<Mutex<ReasonTable>> = PyOnceLock::new();

/// The shared `Reason` of `r` (a fresh one when it carries an error).
fn shared_reason(py: Python<'_>, r: &govdata::Reason) -> PyResult<Py<Reason>> {
    if r.error().is_some() {
        return Py::new(py, Reason::new(py, r));
    }
    let table = REASONS.get_or_init(py, || Mutex::new(ReasonTable::default()));
    // The address of the policy id's text, which the kept copy of the reason holds.
    let key = r.policy().as_ptr() as usize;
    let Ok(mut table) = table.lock() else {
        return Py::new(py, Reason::new(py, r));
    };
    if let Some(obj) = table.get(&key) {
        if obj.get().inner == *r {
            return Ok(obj.clone_ref(py));
        }
    }
    let obj = Py::new(py, Reason::new(py, r))?;
    if table.len() >= REASON_TABLE_LIMIT {
        table.clear();
    }
    table.insert(key, obj.clone_ref(py));
    Ok(obj)
}

/// Empties the reason table (after a pack reload: the old pack's texts can go).
pub(crate) fn forget_reasons(py: Python<'_>) {
    if let Some(table) = REASONS.get(py) {
        if let Ok(mut table) = table.lock() {
            table.clear();
        }
    }
}

/// The outcome of a request.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct Decision {
    pub(crate) inner: govdata::Decision,
}

impl Decision {
    fn reason_list<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for r in self.inner.reasons() {
            list.append(shared_reason(py, r)?)?;
        }
        Ok(list)
    }
}

#[pymethods]
impl Decision {
    /// Whether the request is allowed.
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.allowed()
    }
    /// `"allow"` or `"deny"`.
    #[getter]
    fn decision<'py>(&self, py: Python<'py>) -> &Bound<'py, PyString> {
        if self.inner.allowed() {
            intern!(py, "allow")
        } else {
            intern!(py, "deny")
        }
    }
    /// The determining policies: the permits of an allow, the forbids of a deny, or
    /// `default-deny` when nothing permits.
    #[getter]
    fn reasons<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.reason_list(py)
    }
    /// The policy ids of the reasons.
    #[getter]
    fn reason_ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for r in self.inner.reasons() {
            list.append(shared_reason(py, r)?.get().policy.bind(py))?;
        }
        Ok(list)
    }
    /// The obligations the host must apply before acting on an allow.
    #[getter]
    fn obligations(&self) -> Vec<&str> {
        self.inner
            .obligations()
            .iter()
            .map(String::as_str)
            .collect()
    }
    /// The version (hash) of the policy pack that decided.
    #[getter]
    fn policy_version(&self) -> &str {
        self.inner.policy_version()
    }
    /// The sequence number of the audit record, when an audit log recorded the decision.
    #[getter]
    fn audit_seq(&self) -> Option<u64> {
        self.inner.audit_seq()
    }
    /// The decision as a dict in the wire format.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item(intern!(py, "decision"), self.decision(py))?;
        let reasons = PyList::empty(py);
        for r in self.inner.reasons() {
            reasons.append(shared_reason(py, r)?.get().dict(py)?)?;
        }
        d.set_item(intern!(py, "reasons"), reasons)?;
        d.set_item(intern!(py, "obligations"), self.obligations())?;
        d.set_item(intern!(py, "policy_version"), self.inner.policy_version())?;
        d.set_item(
            intern!(py, "audit_seq"),
            self.inner.audit_seq().into_py_any(py)?,
        )?;
        Ok(d)
    }
    /// The decision as a JSON string in the wire format.
    fn to_json(&self) -> String {
        self.inner.to_json_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "Decision(decision={:?}, reasons={:?}, obligations={:?})",
            self.inner.decision(),
            self.inner.reason_ids(),
            self.inner.obligations()
        )
    }
}
