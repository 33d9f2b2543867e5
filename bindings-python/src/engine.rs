//! `Engine`: a thin wrapper over the core's engine.

use crate::audit::AuditLog;
use crate::convert::{self, InventorySource, PolicySource};
pub use crate::decision::{Decision, Reason};
use crate::error::{guard, to_py};
use crate::report::Explanation;
use govdata::engine::Resource;
use govdata::model::Inventory;
use govdata::{Error, PolicyPack, Request};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

type CoreResult<T> = Result<T, Error>;

/// Runs `f` without the GIL (other Python threads run meanwhile), guarding against panics.
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> CoreResult<T> + Send,
) -> PyResult<T> {
    py.detach(|| guard(|| f().map_err(to_py)))
}

/// The policy engine: a policy pack and an inventory. Thread-safe; share one per process.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct Engine {
    inner: Arc<govdata::Engine>,
    /// Whether an audit log is attached: a decision then appends (and may sync) a
    /// record, so it is made without the GIL.
    audited: AtomicBool,
}

impl Engine {
    fn wrap(inner: govdata::Engine, audit: Option<&Bound<'_, AuditLog>>) -> Self {
        let engine = Engine {
            inner: Arc::new(inner),
            audited: AtomicBool::new(false),
        };
        if let Some(log) = audit {
            engine.attach(log.get());
        }
        engine
    }

    fn attach(&self, log: &AuditLog) {
        govdata::platform::record_decisions(&self.inner, Some(log.core()));
        self.audited.store(true, Ordering::Release);
    }

    /// An engine opened elsewhere (a node's), recording into a log when `audited`.
    pub(crate) fn shared(inner: Arc<govdata::Engine>, audited: bool) -> Self {
        Engine {
            inner,
            audited: AtomicBool::new(audited),
        }
    }

    /// The core engine, shared (the vault decides key operations with it).
    pub(crate) fn core(&self) -> &Arc<govdata::Engine> {
        &self.inner
    }

    fn decide_request(&self, py: Python<'_>, request: Request) -> PyResult<Decision> {
        let engine = &self.inner;
        let inner = if self.audited.load(Ordering::Acquire) {
            detached(py, || engine.decide(&request))?
        } else {
            engine.decide(&request).map_err(to_py)?
        };
        Ok(Decision { inner })
    }

    fn explain_request(&self, py: Python<'_>, request: Request) -> PyResult<Explanation> {
        let engine = &self.inner;
        // The explanation is a decision too: recorded (without the GIL) when audited.
        let inner = if self.audited.load(Ordering::Acquire) {
            detached(py, || engine.explain(&request))?
        } else {
            engine.explain(&request).map_err(to_py)?
        };
        Ok(Explanation { inner })
    }
}

#[pymethods]
impl Engine {
    /// An engine over a policy pack (a directory, or a list of directories whose
    /// first holds the schema; `None` is the default pack) and an inventory (a JSON
    /// file path or an inventory dict; `None` is an empty inventory). With `audit`,
    /// every decision is recorded in that log (see `attach_audit`).
    #[new]
    #[pyo3(signature = (policies=None, inventory=None, *, audit=None))]
    fn new(
        py: Python<'_>,
        policies: Option<&Bound<'_, PyAny>>,
        inventory: Option<&Bound<'_, PyAny>>,
        audit: Option<&Bound<'_, AuditLog>>,
    ) -> PyResult<Self> {
        guard(|| {
            let policies = policies
                .filter(|p| !p.is_none())
                .map(PolicySource::extract)
                .transpose()?;
            let inventory = inventory
                .filter(|i| !i.is_none())
                .map(InventorySource::extract)
                .transpose()?;
            let inner = detached(py, || {
                let pack = match &policies {
                    Some(p) => p.load()?,
                    None => PolicyPack::default_pack()?,
                };
                let inventory = match &inventory {
                    Some(i) => i.load()?,
                    None => Inventory::new(),
                };
                Ok(govdata::Engine::new(pack, inventory))
            })?;
            Ok(Engine::wrap(inner, audit))
        })
    }

    /// The default policy pack and the example inventory: a city to try the engine on.
    #[staticmethod]
    #[pyo3(signature = (*, audit=None))]
    fn default(py: Python<'_>, audit: Option<&Bound<'_, AuditLog>>) -> PyResult<Self> {
        let inner = detached(py, govdata::Engine::with_defaults)?;
        Ok(Engine::wrap(inner, audit))
    }

    /// Records every later decision in `log` (replacing any log attached before):
    /// each decision then carries its record's `audit_seq`, and a decision that cannot
    /// be recorded is a deny.
    fn attach_audit(&self, log: &Bound<'_, AuditLog>) {
        self.attach(log.get());
    }

    /// Stops recording decisions.
    fn detach_audit(&self) {
        govdata::platform::record_decisions(&self.inner, None);
        self.audited.store(false, Ordering::Release);
    }

    /// Whether an audit log records this engine's decisions.
    #[getter]
    fn audited(&self) -> bool {
        self.inner.has_decision_sink()
    }

    /// Decides one request, given either as a dict in the wire format or as keywords.
    #[pyo3(signature = (request=None, /, *, principal=None, action=None, resource=None, context=None))]
    fn decide(
        &self,
        py: Python<'_>,
        request: Option<&Bound<'_, PyAny>>,
        principal: Option<&Bound<'_, PyAny>>,
        action: Option<&Bound<'_, PyAny>>,
        resource: Option<&Bound<'_, PyAny>>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Decision> {
        guard(|| {
            let request = match request {
                Some(r) => {
                    if principal.is_some()
                        || action.is_some()
                        || resource.is_some()
                        || context.is_some()
                    {
                        return Err(PyTypeError::new_err(
                            "decide() takes a request dict or keywords, not both",
                        ));
                    }
                    convert::request(r)
                }
                None => convert::request_from_parts(principal, action, resource, context),
            }
            .map_err(to_py)?;
            self.decide_request(py, request)
        })
    }

    /// Decides one request (a dict in the wire format, or keywords) and explains the
    /// decision: the forbids that fired, the permits that allowed it, or for a default
    /// deny the permits that came closest and the condition each lacked.
    #[pyo3(signature = (request=None, /, *, principal=None, action=None, resource=None, context=None))]
    fn explain(
        &self,
        py: Python<'_>,
        request: Option<&Bound<'_, PyAny>>,
        principal: Option<&Bound<'_, PyAny>>,
        action: Option<&Bound<'_, PyAny>>,
        resource: Option<&Bound<'_, PyAny>>,
        context: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Explanation> {
        guard(|| {
            let request = match request {
                Some(r) => {
                    if principal.is_some()
                        || action.is_some()
                        || resource.is_some()
                        || context.is_some()
                    {
                        return Err(PyTypeError::new_err(
                            "explain() takes a request dict or keywords, not both",
                        ));
                    }
                    convert::request(r)
                }
                None => convert::request_from_parts(principal, action, resource, context),
            }
            .map_err(to_py)?;
            self.explain_request(py, request)
        })
    }

    /// Explains one request given as JSON text in the wire format.
    fn explain_json(&self, py: Python<'_>, request: &str) -> PyResult<Explanation> {
        guard(|| {
            let request = Request::from_json_str(request).map_err(to_py)?;
            self.explain_request(py, request)
        })
    }

    /// Decides one request given as JSON text in the wire format.
    fn decide_json(&self, py: Python<'_>, request: &str) -> PyResult<Decision> {
        guard(|| {
            let request = Request::from_json_str(request).map_err(to_py)?;
            self.decide_request(py, request)
        })
    }

    /// Decides many requests (dicts in the wire format) in parallel, without the GIL.
    /// With `errors="raise"` the first bad request raises (its index is in the
    /// message); with `errors="return"` its exception takes its place in the list.
    #[pyo3(signature = (requests, *, errors="raise"))]
    fn decide_many<'py>(
        &self,
        py: Python<'py>,
        requests: &Bound<'py, PyAny>,
        errors: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let raise = match errors {
                "raise" => true,
                "return" => false,
                other => {
                    return Err(PyValueError::new_err(format!(
                        "errors must be \"raise\" or \"return\", not {other:?}"
                    )))
                }
            };
            let mut parsed: Vec<Request> = Vec::new();
            // For each request: its index in `parsed`, or the error that replaced it.
            let mut slots: Vec<Result<usize, Error>> = Vec::new();
            for (i, item) in requests.try_iter()?.enumerate() {
                match convert::request(&item?) {
                    Ok(r) => {
                        slots.push(Ok(parsed.len()));
                        parsed.push(r);
                    }
                    Err(e) if raise => return Err(to_py(at_index(i, e))),
                    Err(e) => slots.push(Err(e)),
                }
            }
            let engine = &self.inner;
            let decided = py.detach(|| guard(|| Ok(engine.decide_many(&parsed))))?;
            let mut decided: Vec<Option<CoreResult<govdata::Decision>>> =
                decided.into_iter().map(Some).collect();
            let out = PyList::empty(py);
            for (i, slot) in slots.into_iter().enumerate() {
                let result = match slot {
                    Ok(k) => decided
                        .get_mut(k)
                        .and_then(Option::take)
                        .unwrap_or_else(|| Err(convert_missing(k))),
                    Err(e) => Err(e),
                };
                match result {
                    Ok(inner) => out.append(Decision { inner })?,
                    Err(e) if raise => return Err(to_py(at_index(i, e))),
                    Err(e) => out.append(to_py(at_index(i, e)).into_value(py))?,
                }
            }
            Ok(out)
        })
    }

    /// The resources among `resources` (dataset ids, or `{"type", "id"}` dicts) that
    /// `principal` may act on with `action` in `context`, in their order: the filter
    /// an ETL job applies to a batch. Evaluated in parallel, without the GIL. Any bad
    /// input raises for the whole batch, so nothing is dropped for the wrong reason.
    #[pyo3(signature = (principal, action, resources, context=None))]
    fn allowed_resources<'py>(
        &self,
        py: Python<'py>,
        principal: &str,
        action: &Bound<'py, PyAny>,
        resources: &Bound<'py, PyAny>,
        context: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let action = convert::action(action).map_err(to_py)?;
            let context = convert::context(context).map_err(to_py)?;
            let items: Vec<Bound<'py, PyAny>> = requests_items(resources)?;
            let parsed = items
                .iter()
                .map(convert::resource)
                .collect::<CoreResult<Vec<Resource>>>()
                .map_err(to_py)?;
            let engine = &self.inner;
            let principal = principal.to_owned();
            let allowed = detached(py, || {
                engine.allowed_resources(&principal, action, &parsed, &context)
            })?;
            // The allowed resources are a subsequence of the input: hand back the
            // caller's own objects.
            let out = PyList::empty(py);
            let mut next = allowed.iter().peekable();
            for (item, res) in items.iter().zip(parsed.iter()) {
                if next.peek() == Some(&res) {
                    out.append(item)?;
                    next.next();
                }
            }
            Ok(out)
        })
    }

    /// Adds or replaces one inventory record (`kind`: department, vendor, user,
    /// dataset or system); on error nothing changes.
    fn upsert(&self, kind: &str, record: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(|| {
            let kind = convert::record_kind(kind).map_err(to_py)?;
            let record = convert::record(kind, record).map_err(to_py)?;
            self.inner.upsert(record).map_err(to_py)
        })
    }

    /// Removes one inventory record; on error nothing changes.
    fn remove(&self, kind: &str, id: &str) -> PyResult<()> {
        guard(|| {
            let kind = convert::record_kind(kind).map_err(to_py)?;
            self.inner.remove(kind, id).map_err(to_py)
        })
    }

    /// Replaces the whole inventory atomically (a JSON file path or an inventory dict).
    fn replace_inventory(&self, py: Python<'_>, inventory: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(|| {
            let source = InventorySource::extract(inventory)?;
            let engine = &self.inner;
            detached(py, || {
                engine.replace_inventory(source.load()?);
                Ok(())
            })
        })
    }

    /// Replaces the policy pack atomically (`None` is the default pack). Requests in
    /// flight finish on the old pack; a pack that does not load changes nothing.
    #[pyo3(signature = (policies=None))]
    fn reload_policies(&self, py: Python<'_>, policies: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        guard(|| {
            let source = policies
                .filter(|p| !p.is_none())
                .map(PolicySource::extract)
                .transpose()?;
            let engine = &self.inner;
            detached(py, || {
                let pack = match &source {
                    Some(s) => s.load()?,
                    None => PolicyPack::default_pack()?,
                };
                engine.reload_policies(pack);
                Ok(())
            })?;
            crate::decision::forget_reasons(py);
            Ok(())
        })
    }

    /// The version (hash) of the current policy pack.
    #[getter]
    fn policy_version(&self) -> String {
        self.inner.policy_version()
    }

    /// A snapshot of the current inventory as a dict (the inventory format).
    fn inventory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let value = self.inner.inventory().to_json();
            pythonize::pythonize(py, &value).map_err(|e| PyValueError::new_err(e.to_string()))
        })
    }

    fn __repr__(&self) -> String {
        format!("Engine(policy_version={:?})", self.inner.policy_version())
    }

    /// For benchmarks: decides `requests` one after the other, `rounds` times over, in
    /// Rust (read before the clock starts, without the GIL), and returns the seconds
    /// taken: the same decisions a Python loop over `engine.decide` makes.
    fn _time_decide_in_rust(
        &self,
        py: Python<'_>,
        requests: &Bound<'_, PyAny>,
        rounds: u64,
    ) -> PyResult<f64> {
        guard(|| {
            let parsed = parse_all(requests)?;
            let engine = &self.inner;
            detached(py, || {
                let start = Instant::now();
                for _ in 0..rounds {
                    for request in &parsed {
                        std::hint::black_box(engine.decide(std::hint::black_box(request))?);
                    }
                }
                Ok(start.elapsed().as_secs_f64())
            })
        })
    }

    /// For benchmarks: the core's `decide_many` over `requests` (read before the clock
    /// starts, without the GIL); returns the seconds taken, dropping the decisions
    /// included (as a Python caller's list of them is freed).
    fn _time_decide_many_in_rust(
        &self,
        py: Python<'_>,
        requests: &Bound<'_, PyAny>,
    ) -> PyResult<f64> {
        guard(|| {
            let parsed = parse_all(requests)?;
            let engine = &self.inner;
            detached(py, || {
                let start = Instant::now();
                for d in std::hint::black_box(engine.decide_many(&parsed)) {
                    d?;
                }
                Ok(start.elapsed().as_secs_f64())
            })
        })
    }

    /// For benchmarks and differential tests against other Cedar bindings: the pack as
    /// Cedar text, the whole inventory as Cedar entities JSON, and each request as a
    /// Cedar request dict.
    fn _plain_cedar<'py>(
        &self,
        py: Python<'py>,
        requests: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let plain = self.inner.plain_cedar().map_err(to_py)?;
            let out = PyDict::new(py);
            out.set_item("policies", plain.policies_text())?;
            let entities = plain.entities_json().map_err(to_py)?;
            out.set_item("entities", to_python(py, &entities)?)?;
            let list = PyList::empty(py);
            for item in requests.try_iter()? {
                let request = convert::request(&item?).map_err(to_py)?;
                let json = plain.request_json(&request).map_err(to_py)?;
                list.append(to_python(py, &json)?)?;
            }
            out.set_item("requests", list)?;
            Ok(out)
        })
    }
}

fn to_python<'py>(py: Python<'py>, value: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn parse_all(requests: &Bound<'_, PyAny>) -> PyResult<Vec<Request>> {
    let mut parsed = Vec::new();
    for item in requests.try_iter()? {
        parsed.push(convert::request(&item?).map_err(to_py)?);
    }
    Ok(parsed)
}

fn requests_items<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    obj.try_iter()?.collect()
}

fn at_index(index: usize, err: Error) -> Error {
    match err {
        Error::RequestInvalid { message } => Error::RequestInvalid {
            message: format!("request #{index}: {message}"),
        },
        other => other,
    }
}

fn convert_missing(k: usize) -> Error {
    Error::RequestInvalid {
        message: format!("internal: no decision for request #{k}"),
    }
}
