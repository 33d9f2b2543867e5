//! `AuditLog` and `AuditView`: thin wrappers over the core's tamper-evident audit log.
//!
//! Arguments are read into the core's own types (`AuditOptions`, `AuditQuery`, `Event`,
//! `Checkpoint`, `Date`); reports come back as dicts. Everything that touches the
//! log's files (opening, appending under a sync mode, verifying, querying, backups,
//! purges, restores, proofs) runs without the GIL.

use crate::convert;
use crate::engine::{detached, Decision, Engine};
use crate::error::{guard, request_invalid, to_py};
use crate::keys;
use govdata::audit::{
    AuditOptions, AuditQuery, AuditRecord, Checkpoint, Date, Event, HashSuite, InclusionProof,
    RecordScope, SyncMode, Timestamp, Verdict,
};
use govdata::Error;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

type CoreResult<T> = Result<T, Error>;

fn to_python<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Records as a list of dicts (`AuditRecord::to_json`: `seq`, `time` and the event).
fn records_list<'py>(py: Python<'py>, records: &[AuditRecord]) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for r in records {
        out.append(to_python(py, &r.to_json())?)?;
    }
    Ok(out)
}

/// The options of `AuditLog(...)` and `AuditLog.restore(...)`.
fn options(
    sync: &str,
    suite: &str,
    scope: &str,
    segment_max_bytes: Option<u64>,
    lock_wait: Option<f64>,
) -> CoreResult<AuditOptions> {
    let mut o = AuditOptions::default()
        .sync(sync.parse::<SyncMode>()?)
        .suite(suite.parse::<HashSuite>()?)
        .scope(scope.parse::<RecordScope>()?);
    if let Some(n) = segment_max_bytes {
        o = o.segment_max_bytes(n);
    }
    if let Some(s) = lock_wait {
        o = o.lock_wait(crate::convert::seconds(s, "lock_wait")?);
    }
    Ok(o)
}

/// A civil date: `"YYYY-MM-DD"` or a `datetime.date`.
fn date(obj: &Bound<'_, PyAny>) -> PyResult<Date> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Date::parse(&s.to_cow()?).map_err(to_py);
    }
    if obj.hasattr("year")? && !obj.hasattr("hour")? {
        let (y, m, d): (i32, u8, u8) = (
            obj.getattr("year")?.extract()?,
            obj.getattr("month")?.extract()?,
            obj.getattr("day")?.extract()?,
        );
        return Date::new(y, m, d).map_err(to_py);
    }
    Err(PyTypeError::new_err(
        "a date must be a \"YYYY-MM-DD\" string or a datetime.date",
    ))
}

/// A point in time: `"YYYY-MM-DD"` (midnight UTC), RFC 3339 in UTC, a `datetime.date`,
/// or a timezone-aware `datetime.datetime`.
fn timestamp(obj: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Timestamp::parse(&s.to_cow()?).map_err(to_py);
    }
    if obj.hasattr("hour")? {
        if obj.call_method0("utcoffset")?.is_none() {
            return Err(PyValueError::new_err(
                "a datetime must be timezone-aware (a naive datetime names no instant)",
            ));
        }
        let secs: f64 = obj.call_method0("timestamp")?.extract()?;
        return Ok(Timestamp::from_unix_millis((secs * 1000.0).round() as i64));
    }
    Ok(date(obj)?.start())
}

/// The filters shared by `query` and `view`.
#[expect(clippy::too_many_arguments, reason = "one keyword argument per filter")]
fn audit_query(
    department: Option<String>,
    user: Option<String>,
    action: Option<&Bound<'_, PyAny>>,
    dataset: Option<String>,
    decision: Option<&str>,
    kind: Option<String>,
    since: Option<&Bound<'_, PyAny>>,
    until: Option<&Bound<'_, PyAny>>,
    limit: Option<usize>,
) -> PyResult<AuditQuery> {
    Ok(AuditQuery {
        department,
        user,
        action: action
            .filter(|a| !a.is_none())
            .map(convert::action)
            .transpose()
            .map_err(to_py)?,
        dataset,
        decision: decision
            .map(str::parse::<Verdict>)
            .transpose()
            .map_err(to_py)?,
        kind,
        since: since.filter(|t| !t.is_none()).map(timestamp).transpose()?,
        until: until.filter(|t| !t.is_none()).map(timestamp).transpose()?,
        limit,
    })
}

fn checkpoint(text: Option<&str>) -> CoreResult<Option<Checkpoint>> {
    text.map(str::parse::<Checkpoint>).transpose()
}

/// The tamper-evident audit log: hash-chained, MAC-sealed segments in a directory.
/// Thread-safe; attach it to an engine (`engine.attach_audit(log)`) and every decision
/// is recorded. The sealing key (32 bytes, or the path of a file holding them) is
/// never stored or shown.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct AuditLog {
    inner: Arc<govdata::audit::AuditLog>,
}

impl AuditLog {
    /// The log as the vault's key event sink.
    pub(crate) fn shared(inner: Arc<govdata::audit::AuditLog>) -> Self {
        AuditLog { inner }
    }

    pub(crate) fn core(&self) -> &Arc<govdata::audit::AuditLog> {
        &self.inner
    }
}

#[pymethods]
impl AuditLog {
    /// Opens the log in `dir`, creating it if there is none. `sync`: `"always"`
    /// (fsync before an append returns), `"batch"` (group commit) or `"none"`;
    /// `suite`: `"sha256"` or `"sm3"` (for a new log; an existing log keeps its own);
    /// `scope`: `"all"` decisions or those the regulation `"required"`.
    /// `lock_wait`: seconds to wait for another process that writes the log to close
    /// it (`StoreLockedError` past that; 5 by default).
    #[new]
    #[pyo3(signature = (dir, key, *, sync="always", suite="sha256", scope="all", segment_max_bytes=None, lock_wait=None))]
    #[expect(
        clippy::too_many_arguments,
        reason = "keyword arguments of the log's configuration"
    )]
    fn new(
        py: Python<'_>,
        dir: PathBuf,
        key: &Bound<'_, PyAny>,
        sync: &str,
        suite: &str,
        scope: &str,
        segment_max_bytes: Option<u64>,
        lock_wait: Option<f64>,
    ) -> PyResult<Self> {
        guard(|| {
            let options =
                options(sync, suite, scope, segment_max_bytes, lock_wait).map_err(to_py)?;
            let key = keys::extract(key, "key")?.sealing_key().map_err(to_py)?;
            let inner = detached(py, || govdata::audit::AuditLog::open(&dir, key, options))?;
            Ok(AuditLog {
                inner: Arc::new(inner),
            })
        })
    }

    /// The log's directory.
    #[getter]
    fn dir(&self) -> PathBuf {
        self.inner.dir().to_path_buf()
    }

    /// The hash suite: `"sha256"` or `"sm3"`.
    #[getter]
    fn suite(&self) -> &'static str {
        self.inner.suite().as_str()
    }

    /// The sync mode: `"always"`, `"batch"` or `"none"`.
    #[getter]
    fn sync_mode(&self) -> &'static str {
        self.inner.sync_mode().as_str()
    }

    /// The sequence number of the last record (0 for an empty log).
    #[getter]
    fn last_seq(&self) -> u64 {
        self.inner.last_seq()
    }

    /// What opening the log cut after a crash (a torn tail), or `None`.
    #[getter]
    fn recovery<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .recovery()
            .map(|r| to_python(py, &r.to_json()))
            .transpose()
    }

    /// Appends an event of the host's own (a workflow step, an administrative act)
    /// and returns its sequence number once it is as durable as the sync mode
    /// promises. Keyword arguments other than the named ones become the event's free
    /// fields (JSON values).
    #[pyo3(signature = (kind, /, *, user=None, department=None, action=None, resource=None, decision=None, policies=None, policy_version=None, outcome=None, **fields))]
    #[expect(
        clippy::too_many_arguments,
        reason = "one keyword argument per event field"
    )]
    fn append_event(
        &self,
        py: Python<'_>,
        kind: &str,
        user: Option<&Bound<'_, PyAny>>,
        department: Option<&Bound<'_, PyAny>>,
        action: Option<&Bound<'_, PyAny>>,
        resource: Option<&Bound<'_, PyAny>>,
        decision: Option<&Bound<'_, PyAny>>,
        policies: Option<&Bound<'_, PyAny>>,
        policy_version: Option<&Bound<'_, PyAny>>,
        outcome: Option<&Bound<'_, PyAny>>,
        fields: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<u64> {
        guard(|| {
            let value = |o: &Bound<'_, PyAny>, name: &str| -> CoreResult<Value> {
                crate::de::from_py::<Value>(o)
                    .map_err(|e| request_invalid(format!("`{name}`: {e}")))
            };
            let mut m = Map::new();
            m.insert("kind".into(), Value::String(kind.to_owned()));
            let named = [
                ("user", user),
                ("department", department),
                ("action", action),
                ("resource", resource),
                ("decision", decision),
                ("policies", policies),
                ("policy_version", policy_version),
                ("outcome", outcome),
            ];
            for (name, obj) in named {
                if let Some(o) = obj.filter(|o| !o.is_none()) {
                    m.insert(name.into(), value(o, name).map_err(to_py)?);
                }
            }
            if let Some(f) = fields {
                m.insert("fields".into(), value(f.as_any(), "fields").map_err(to_py)?);
            }
            let event: Event = serde_json::from_value(Value::Object(m))
                .map_err(|e| to_py(request_invalid(format!("audit event: {e}"))))?;
            let log = &self.inner;
            detached(py, || log.append(&event))
        })
    }

    /// Makes every record appended so far durable (in any sync mode).
    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        let log = &self.inner;
        detached(py, || log.sync())
    }

    /// Seals the open segment now and begins a new one (before a backup, say).
    fn seal(&self, py: Python<'_>) -> PyResult<()> {
        let log = &self.inner;
        detached(py, || log.seal())
    }

    /// Syncs and closes the log; later appends raise `AuditUnavailableError` (and an
    /// engine that records into it then denies).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let log = &self.inner;
        detached(py, || log.close())
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// A checkpoint of the current head, as text: keep it outside the log, and
    /// `verify(checkpoint=...)` later finds truncation and rollback.
    fn checkpoint(&self) -> String {
        self.inner.checkpoint().to_string()
    }

    /// Checks every record, link and seal (and, with a checkpoint, that the log still
    /// holds the chain it names). Returns the report; the first bad record raises
    /// `AuditTamperedError`, whose `.seq` is its sequence number.
    #[pyo3(signature = (checkpoint=None))]
    fn verify<'py>(
        &self,
        py: Python<'py>,
        checkpoint: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let checkpoint = self::checkpoint(checkpoint).map_err(to_py)?;
            let log = &self.inner;
            let report = detached(py, || match &checkpoint {
                Some(c) => log.verify_with(c),
                None => log.verify(),
            })?;
            to_python(py, &report.to_json())
        })
    }

    /// Verifies the log in `dir` without opening it for writing (a log another
    /// process writes, a backup).
    #[staticmethod]
    #[pyo3(signature = (dir, key, checkpoint=None))]
    fn verify_dir<'py>(
        py: Python<'py>,
        dir: PathBuf,
        key: &Bound<'py, PyAny>,
        checkpoint: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let checkpoint = self::checkpoint(checkpoint).map_err(to_py)?;
            let key = keys::extract(key, "key")?.sealing_key().map_err(to_py)?;
            let report = detached(py, || {
                govdata::audit::AuditLog::verify_dir(&dir, &key, checkpoint.as_ref())
            })?;
            to_python(py, &report.to_json())
        })
    }

    /// Every record, oldest first, as dicts (verifying each).
    fn records<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let log = &self.inner;
            let records = detached(py, || log.records())?;
            records_list(py, &records)
        })
    }

    /// The records matching every filter given, oldest first, as dicts; no access
    /// decision (the host's own use; people view through `view`). `since` and
    /// `until` are `"YYYY-MM-DD"`, RFC 3339 UTC text, a `date` or an aware `datetime`;
    /// `limit` keeps the latest records.
    #[pyo3(signature = (*, department=None, user=None, action=None, dataset=None, decision=None, kind=None, since=None, until=None, limit=None))]
    #[expect(clippy::too_many_arguments, reason = "one keyword argument per filter")]
    fn query<'py>(
        &self,
        py: Python<'py>,
        department: Option<String>,
        user: Option<String>,
        action: Option<&Bound<'py, PyAny>>,
        dataset: Option<String>,
        decision: Option<&str>,
        kind: Option<String>,
        since: Option<&Bound<'py, PyAny>>,
        until: Option<&Bound<'py, PyAny>>,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let q = audit_query(
                department, user, action, dataset, decision, kind, since, until, limit,
            )?;
            let log = &self.inner;
            let records = detached(py, || log.query(&q))?;
            records_list(py, &records)
        })
    }

    /// Shows `viewer` the records matching the filters if the engine allows it (a
    /// `view_audit` decision with `audit_department` set to `department`, recorded in
    /// this log): a department's security officer sees that department (Art. 18), the
    /// auditors of the operator and of the management department see everyone.
    #[pyo3(signature = (engine, viewer, *, department=None, user=None, action=None, dataset=None, decision=None, kind=None, since=None, until=None, limit=None))]
    #[expect(clippy::too_many_arguments, reason = "one keyword argument per filter")]
    fn view<'py>(
        &self,
        py: Python<'py>,
        engine: &Bound<'py, Engine>,
        viewer: &str,
        department: Option<String>,
        user: Option<String>,
        action: Option<&Bound<'py, PyAny>>,
        dataset: Option<String>,
        decision: Option<&str>,
        kind: Option<String>,
        since: Option<&Bound<'py, PyAny>>,
        until: Option<&Bound<'py, PyAny>>,
        limit: Option<usize>,
    ) -> PyResult<AuditView> {
        guard(|| {
            let q = audit_query(
                department, user, action, dataset, decision, kind, since, until, limit,
            )?;
            let log = &self.inner;
            let core = engine.get().core();
            let view = detached(py, || log.view(core, viewer, &q))?;
            Ok(AuditView {
                decision: Py::new(
                    py,
                    Decision {
                        inner: view.decision,
                    },
                )?,
                records: records_list(py, &view.records)?.unbind(),
            })
        })
    }

    /// Copies every sealed segment to `dest` (a verifiable log of its own), verifies
    /// the copy, remembers it for `purge` and records the backup. Returns the report.
    fn backup<'py>(&self, py: Python<'py>, dest: PathBuf) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let log = &self.inner;
            let report = detached(py, || log.backup(&dest))?;
            to_python(py, &report.to_json())
        })
    }

    /// Removes whole sealed segments whose records are all older than `before`
    /// (`"YYYY-MM-DD"` or a `date`), each only when a verified backup holds it, and
    /// records the purge. Anything younger than six calendar months is refused with
    /// `AuditRetentionError`.
    fn purge<'py>(
        &self,
        py: Python<'py>,
        before: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let before = date(before)?;
            let log = &self.inner;
            let report = detached(py, || log.purge(before))?;
            to_python(py, &report.to_json())
        })
    }

    /// Brings segments back from the backup `backup` into the log in `dir` (which
    /// must not be open): missing or altered segments are replaced by the backup's
    /// verified copies, the log is verified and the restore recorded in it.
    #[staticmethod]
    #[pyo3(signature = (backup, dir, key, *, sync="always", suite="sha256", scope="all", lock_wait=None))]
    #[expect(
        clippy::too_many_arguments,
        reason = "keyword arguments of the log's configuration"
    )]
    fn restore<'py>(
        py: Python<'py>,
        backup: PathBuf,
        dir: PathBuf,
        key: &Bound<'py, PyAny>,
        sync: &str,
        suite: &str,
        scope: &str,
        lock_wait: Option<f64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let options = options(sync, suite, scope, None, lock_wait).map_err(to_py)?;
            let key = keys::extract(key, "key")?.sealing_key().map_err(to_py)?;
            let report = detached(py, || {
                govdata::audit::AuditLog::restore(&backup, &dir, key, options)
            })?;
            to_python(py, &report.to_json())
        })
    }

    /// An inclusion proof (a dict) that record `seq`, in a sealed segment, is in the
    /// log; anyone with the sealing key checks it with `AuditLog.check_proof`.
    fn prove<'py>(&self, py: Python<'py>, seq: u64) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let log = &self.inner;
            let proof = detached(py, || log.prove(seq))?;
            pythonize::pythonize(py, &proof).map_err(|e| PyValueError::new_err(e.to_string()))
        })
    }

    /// Checks an inclusion proof under the sealing key, without the log, and returns
    /// the record it proves; a proof that does not check raises `AuditTamperedError`.
    #[staticmethod]
    fn check_proof<'py>(
        py: Python<'py>,
        proof: &Bound<'py, PyAny>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let proof: InclusionProof = crate::de::from_py(proof)
                .map_err(|e| to_py(request_invalid(format!("inclusion proof: {e}"))))?;
            let key = keys::extract(key, "key")?.sealing_key().map_err(to_py)?;
            let record = detached(py, || proof.verify(&key))?;
            to_python(py, &record.to_json())
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "AuditLog(dir={:?}, suite={:?}, sync={:?}, last_seq={})",
            self.inner.dir().display().to_string(),
            self.inner.suite().as_str(),
            self.inner.sync_mode().as_str(),
            self.inner.last_seq()
        )
    }
}

/// What `AuditLog.view` showed: the `view_audit` decision (recorded in the log) and
/// the records, empty when it denies.
#[derive(Debug)]
#[pyclass(module = "govdata", frozen)]
pub struct AuditView {
    decision: Py<Decision>,
    records: Py<PyList>,
}

#[pymethods]
impl AuditView {
    /// The decision on viewing; its `audit_seq` is the record of the viewing.
    #[getter]
    fn decision(&self, py: Python<'_>) -> Py<Decision> {
        self.decision.clone_ref(py)
    }

    /// Whether the viewer was allowed to see the records.
    #[getter]
    fn allowed(&self) -> bool {
        self.decision.get().inner.allowed()
    }

    /// The records the viewer may see, as dicts (empty on a deny).
    #[getter]
    fn records(&self, py: Python<'_>) -> Py<PyList> {
        self.records.clone_ref(py)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "AuditView(decision={:?}, records={})",
            self.decision.get().inner.decision(),
            self.records.bind(py).len()
        )
    }
}
