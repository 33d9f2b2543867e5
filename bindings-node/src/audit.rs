//! `AuditLog`: a thin wrapper over the core's tamper-evident audit log.
//!
//! Arguments are read into the core's own types (`AuditOptions`, `AuditQuery`,
//! `Event`, `Checkpoint`, `Date`); reports come back as plain objects with the same
//! snake_case keys as the Python binding's dicts. Appends, syncs and checkpoints are
//! synchronous; everything that reads the whole log or copies segments
//! (verification, records, queries, views, backups, purges, restores, proofs) runs on
//! the thread pool and returns a Promise.

use crate::args::{self, Options};
use crate::error::{guard, invalid_argument, request_invalid, to_js, Result};
use crate::keys;
use crate::tasks::{self, Job};
use crate::Engine;
use govdata::audit::{
    AuditOptions, AuditQuery, AuditRecord, Checkpoint, Date, Event, HashSuite, InclusionProof,
    RecordScope, SyncMode, Timestamp,
};
use napi::bindgen_prelude::{AsyncTask, Env, JsValue, Unknown};
use napi::ValueType;
use napi_derive::napi;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// Records as an array of objects (`AuditRecord::to_json`: `seq`, `time` and the event).
fn records_json(records: &[AuditRecord]) -> Value {
    Value::Array(records.iter().map(AuditRecord::to_json).collect())
}

/// The keys of the options of `new AuditLog(...)` and `AuditLog.restore(...)`.
const LOG_OPTIONS: &[&str] = &["sync", "suite", "scope", "segmentMaxBytes", "lockWaitMs"];

/// The options of `new AuditLog(...)` and `AuditLog.restore(...)`.
fn log_options(options: &Options<'_>) -> Result<AuditOptions> {
    let scope = match options.string("scope")? {
        None => RecordScope::default(),
        Some(scope) => scope.parse::<RecordScope>().map_err(to_js)?,
    };
    let mut o = AuditOptions::default().scope(scope);
    if let Some(sync) = options.string("sync")? {
        o = o.sync(sync.parse::<SyncMode>().map_err(to_js)?);
    }
    if let Some(suite) = options.string("suite")? {
        o = o.suite(suite.parse::<HashSuite>().map_err(to_js)?);
    }
    if let Some(n) = options.integer("segmentMaxBytes")? {
        o = o.segment_max_bytes(n);
    }
    if let Some(ms) = options.integer("lockWaitMs")? {
        o = o.lock_wait(std::time::Duration::from_millis(ms));
    }
    Ok(o)
}

/// An optional checkpoint argument (its text form).
fn checkpoint(value: Option<Unknown<'_>>) -> Result<Option<Checkpoint>> {
    args::opt_string(value, "checkpoint")?
        .map(|text| text.parse::<Checkpoint>().map_err(to_js))
        .transpose()
}

/// The filter argument of `query` and `view` (absent: every record).
fn audit_query(env: &Env, value: Option<Unknown<'_>>) -> Result<AuditQuery> {
    let filter: Value = match value {
        Some(v) if !args::absent(&v) => {
            if v.get_type().ok() != Some(ValueType::Object) {
                return Err(invalid_argument("`filter` must be an object"));
            }
            args::json(env, &v, |m| request_invalid(format!("audit filter: {m}")))?
        }
        _ => Value::Null,
    };
    AuditQuery::from_json(&filter).map_err(to_js)
}

/// A civil date: `"YYYY-MM-DD"`, or a `Date` (its UTC day).
fn date(env: &Env, value: Unknown<'_>) -> Result<Date> {
    if value.is_date().unwrap_or(false) {
        let text: String = args::json(env, &value, |m| {
            invalid_argument(format!("`before` is not a valid Date: {m}"))
        })?;
        return Ok(Timestamp::parse(&text).map_err(to_js)?.date());
    }
    if value.get_type().ok() != Some(ValueType::String) {
        return Err(invalid_argument(
            "`before` must be a \"YYYY-MM-DD\" string or a Date",
        ));
    }
    Date::parse(&args::string(value, "before")?).map_err(to_js)
}

/// The event of `appendEvent(kind, fields)`: the core's `Event` in its JSON form
/// (snake_case keys), `kind` given apart.
fn event(env: &Env, kind: String, value: Option<Unknown<'_>>) -> Result<Event> {
    let mut map: Map<String, Value> = match value {
        Some(v) if !args::absent(&v) => {
            if v.get_type().ok() != Some(ValueType::Object) || v.is_array().unwrap_or(false) {
                return Err(invalid_argument("`event` must be an object"));
            }
            args::json(env, &v, |m| request_invalid(format!("audit event: {m}")))?
        }
        _ => Map::new(),
    };
    if map.contains_key("kind") {
        return Err(request_invalid(
            "audit event: give the kind as the first argument, not as a field",
        ));
    }
    map.insert("kind".into(), Value::String(kind));
    serde_json::from_value(Value::Object(map))
        .map_err(|e| request_invalid(format!("audit event: {e}")))
}

/// The tamper-evident audit log: hash-chained, MAC-sealed segments in a directory.
///
/// Attach it to an engine (`engine.attachAudit(log)` or `new Engine({ audit })`) and
/// every decision is recorded and carries its `audit_seq`. The sealing key is never
/// stored or shown. One process writes a log directory at a time.
#[napi]
pub struct AuditLog {
    pub(crate) inner: Arc<govdata::AuditLog>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.inner.dir())
            .finish_non_exhaustive()
    }
}

#[napi]
impl AuditLog {
    /// Opens the log in `dir`, creating it if there is none, sealed with `key` (a
    /// `Key`, 32 bytes, or the path of a file holding them). Options: `sync`
    /// (`'always'`: fsync before an append returns, the default; `'batch'`: group
    /// commit; `'none'`), `suite` (`'sha256'` or `'sm3'`, for a new log), `scope`
    /// (`'all'` decisions, or those the regulation `'required'`), `segmentMaxBytes`.
    /// A key that is not the log's throws `key_invalid`; a damaged last segment,
    /// `audit_tampered`.
    #[napi(
        constructor,
        catch_unwind,
        ts_args_type = "dir: string, key: KeyInput, options?: AuditLogOptions"
    )]
    pub fn new(
        env: Env,
        dir: Unknown<'_>,
        key: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> napi::Result<Self> {
        guard(|| {
            let dir = PathBuf::from(args::string(dir, "dir")?);
            let key = keys::sealing_key(&keys::from_js(&key, "key")?)?;
            let options = log_options(&Options::new(options, "options", LOG_OPTIONS)?)?;
            let inner = govdata::AuditLog::open(&dir, key, options).map_err(to_js)?;
            Ok(AuditLog {
                inner: Arc::new(inner),
            })
        })
        .map_err(|e| crate::error::into_napi(&env, &e))
    }

    /// The log's directory.
    #[napi(getter, catch_unwind)]
    pub fn dir(&self) -> Result<String> {
        guard(|| Ok(self.inner.dir().display().to_string()))
    }

    /// The hash suite: `'sha256'` or `'sm3'`.
    #[napi(getter, catch_unwind, ts_return_type = "AuditSuite")]
    pub fn suite(&self) -> Result<&'static str> {
        guard(|| Ok(self.inner.suite().as_str()))
    }

    /// The sync mode: `'always'`, `'batch'` or `'none'`.
    #[napi(getter, catch_unwind, ts_return_type = "SyncMode")]
    pub fn sync_mode(&self) -> Result<&'static str> {
        guard(|| Ok(self.inner.sync_mode().as_str()))
    }

    /// The sequence number of the last record (0 for an empty log).
    #[napi(getter, catch_unwind)]
    pub fn last_seq(&self) -> Result<f64> {
        guard(|| Ok(self.inner.last_seq() as f64))
    }

    /// What opening the log cut after a crash (a torn tail), or `null`.
    #[napi(getter, catch_unwind, ts_return_type = "RecoveryReport | null")]
    pub fn recovery<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        guard(|| {
            let value = match self.inner.recovery() {
                Some(r) => r.to_json(),
                None => Value::Null,
            };
            crate::convert::json_value(env, value)
        })
    }

    /// Appends an event of the host's own (a workflow step, an administrative act)
    /// and returns its sequence number once it is as durable as the sync mode
    /// promises. `event` holds the other fields of an audit record (`user`,
    /// `department`, `action`, `resource`, `decision`, `policies`, `policy_version`,
    /// `outcome`) and `fields`, an object of free JSON fields. After a failed write,
    /// or once closed, the log throws `audit_unavailable`.
    #[napi(catch_unwind, ts_args_type = "kind: string, event?: AuditEvent")]
    pub fn append_event(
        &self,
        env: &Env,
        kind: Unknown<'_>,
        event: Option<Unknown<'_>>,
    ) -> Result<f64> {
        guard(|| {
            let event = self::event(env, args::string(kind, "kind")?, event)?;
            let seq = self.inner.append(&event).map_err(to_js)?;
            Ok(seq as f64)
        })
    }

    /// Makes every record appended so far durable (in any sync mode).
    #[napi(catch_unwind)]
    pub fn sync(&self) -> Result<()> {
        guard(|| self.inner.sync().map_err(to_js))
    }

    /// Seals the open segment now and begins a new one (before a backup, say).
    #[napi(catch_unwind)]
    pub fn seal(&self) -> Result<()> {
        guard(|| self.inner.seal().map_err(to_js))
    }

    /// Syncs and closes the log; later appends throw `audit_unavailable` (and an
    /// engine that records into it then denies).
    #[napi(catch_unwind)]
    pub fn close(&self) -> Result<()> {
        guard(|| self.inner.close().map_err(to_js))
    }

    /// A checkpoint of the current head, as text: keep it outside the log, and
    /// `verify(checkpoint)` later finds truncation and rollback.
    #[napi(catch_unwind)]
    pub fn checkpoint(&self) -> Result<String> {
        guard(|| Ok(self.inner.checkpoint().to_string()))
    }

    /// Checks every record, link and seal (and, with a checkpoint, that the log still
    /// holds the chain it names) on the thread pool. Resolves to the report; the first
    /// bad record rejects with `audit_tampered`, whose `.seq` is its sequence number.
    #[napi(
        catch_unwind,
        ts_args_type = "checkpoint?: string",
        ts_return_type = "Promise<VerifyReport>"
    )]
    pub fn verify(&self, checkpoint: Option<Unknown<'_>>) -> AsyncTask<Job> {
        Job::spawn("verify", || {
            let checkpoint = self::checkpoint(checkpoint)?;
            let log = Arc::clone(&self.inner);
            Ok(tasks::json(move || {
                let report = match &checkpoint {
                    Some(c) => log.verify_with(c),
                    None => log.verify(),
                }?;
                Ok(report.to_json())
            }))
        })
    }

    /// Verifies the log in `dir` without opening it for writing (a log another
    /// process writes, a backup), on the thread pool.
    #[napi(
        catch_unwind,
        ts_args_type = "dir: string, key: KeyInput, checkpoint?: string",
        ts_return_type = "Promise<VerifyReport>"
    )]
    pub fn verify_dir(
        dir: Unknown<'_>,
        key: Unknown<'_>,
        checkpoint: Option<Unknown<'_>>,
    ) -> AsyncTask<Job> {
        Job::spawn("verifyDir", || {
            let dir = PathBuf::from(args::string(dir, "dir")?);
            let key = keys::sealing_key(&keys::from_js(&key, "key")?)?;
            let checkpoint = self::checkpoint(checkpoint)?;
            Ok(tasks::json(move || {
                let report = govdata::AuditLog::verify_dir(&dir, &key, checkpoint.as_ref())?;
                Ok(report.to_json())
            }))
        })
    }

    /// Every record, oldest first (each verified as it is read), on the thread pool.
    #[napi(catch_unwind, ts_return_type = "Promise<AuditRecord[]>")]
    pub fn records(&self) -> AsyncTask<Job> {
        Job::spawn("records", || {
            let log = Arc::clone(&self.inner);
            Ok(tasks::json(move || Ok(records_json(&log.records()?))))
        })
    }

    /// The records matching every filter given, oldest first; no access decision
    /// (the host's own use; people view records through `view`). `since` (inclusive)
    /// and `until` (exclusive) are `'YYYY-MM-DD'`, RFC 3339 UTC text or a `Date`;
    /// `limit` keeps the latest records. Runs on the thread pool.
    #[napi(
        catch_unwind,
        ts_args_type = "filter?: AuditFilter",
        ts_return_type = "Promise<AuditRecord[]>"
    )]
    pub fn query(&self, env: &Env, filter: Option<Unknown<'_>>) -> AsyncTask<Job> {
        Job::spawn("query", || {
            let q = audit_query(env, filter)?;
            let log = Arc::clone(&self.inner);
            Ok(tasks::json(move || Ok(records_json(&log.query(&q)?))))
        })
    }

    /// Shows `viewer` the records matching the filter if `engine` allows it: a
    /// `view_audit` decision with `audit_department` set to `filter.department`,
    /// recorded in this log. A department's security officer sees that department
    /// (Art. 18); the auditors of the operator and of the management department see
    /// everyone. Resolves to the decision, whether it allowed, and the records (none on
    /// a deny).
    #[napi(
        catch_unwind,
        ts_args_type = "engine: Engine, viewer: string, filter?: AuditFilter",
        ts_return_type = "Promise<AuditView>"
    )]
    pub fn view(
        &self,
        env: &Env,
        engine: Unknown<'_>,
        viewer: Unknown<'_>,
        filter: Option<Unknown<'_>>,
    ) -> AsyncTask<Job> {
        Job::spawn("view", || {
            let engine = Arc::clone(&args::instance::<Engine>(engine, "engine", "Engine")?.inner);
            let viewer = args::string(viewer, "viewer")?;
            let q = audit_query(env, filter)?;
            let log = Arc::clone(&self.inner);
            Ok(tasks::json(move || {
                let view = log.view(&engine, &viewer, &q)?;
                Ok(json!({
                    "decision": view.decision.to_json(),
                    "allowed": view.decision.allowed(),
                    "records": records_json(&view.records),
                }))
            }))
        })
    }

    /// Copies every sealed segment to `dest` (a verifiable log of its own), verifies
    /// the copy, remembers it for `purge` and records the backup, on the thread pool.
    #[napi(
        catch_unwind,
        ts_args_type = "dest: string",
        ts_return_type = "Promise<BackupReport>"
    )]
    pub fn backup(&self, dest: Unknown<'_>) -> AsyncTask<Job> {
        Job::spawn("backup", || {
            let dest = PathBuf::from(args::string(dest, "dest")?);
            let log = Arc::clone(&self.inner);
            Ok(tasks::json(move || Ok(log.backup(&dest)?.to_json())))
        })
    }

    /// Removes whole sealed segments whose records are all older than `before`
    /// (`'YYYY-MM-DD'` or a `Date`), each only when a verified backup holds it, and
    /// records the purge, on the thread pool. Anything younger than six calendar
    /// months is refused with `audit_retention`.
    #[napi(
        catch_unwind,
        ts_args_type = "before: string | Date",
        ts_return_type = "Promise<PurgeReport>"
    )]
    pub fn purge(&self, env: &Env, before: Unknown<'_>) -> AsyncTask<Job> {
        Job::spawn("purge", || {
            let before = date(env, before)?;
            let log = Arc::clone(&self.inner);
            Ok(tasks::json(move || Ok(log.purge(before)?.to_json())))
        })
    }

    /// Brings segments back from the backup `backup` into the log in `dir` (which
    /// must not be open): missing or altered segments are replaced by the backup's
    /// verified copies, the log is verified and the restore recorded in it. Runs on
    /// the thread pool.
    #[napi(
        catch_unwind,
        ts_args_type = "backup: string, dir: string, key: KeyInput, options?: AuditLogOptions",
        ts_return_type = "Promise<RestoreReport>"
    )]
    pub fn restore(
        backup: Unknown<'_>,
        dir: Unknown<'_>,
        key: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<Job> {
        Job::spawn("restore", || {
            let backup = PathBuf::from(args::string(backup, "backup")?);
            let dir = PathBuf::from(args::string(dir, "dir")?);
            let key = keys::sealing_key(&keys::from_js(&key, "key")?)?;
            let options = log_options(&Options::new(options, "options", LOG_OPTIONS)?)?;
            Ok(tasks::json(move || {
                let report = govdata::AuditLog::restore(&backup, &dir, key, options)?;
                Ok(report.to_json())
            }))
        })
    }

    /// An inclusion proof that record `seq`, in a sealed segment, is in the log;
    /// anyone with the sealing key checks it with `AuditLog.checkProof`. Runs on the
    /// thread pool.
    #[napi(
        catch_unwind,
        ts_args_type = "seq: number",
        ts_return_type = "Promise<InclusionProof>"
    )]
    pub fn prove(&self, seq: Unknown<'_>) -> AsyncTask<Job> {
        Job::spawn("prove", || {
            let seq = args::integer(seq, "seq")?;
            let log = Arc::clone(&self.inner);
            Ok(tasks::json(move || {
                let proof = log.prove(seq)?;
                serde_json::to_value(&proof).map_err(|e| govdata::Error::RequestInvalid {
                    message: format!("cannot encode the inclusion proof: {e}"),
                })
            }))
        })
    }

    /// Checks an inclusion proof under the sealing key, without the log, and returns
    /// the record it proves; a proof that does not check throws `audit_tampered`.
    #[napi(
        catch_unwind,
        ts_args_type = "proof: InclusionProof, key: KeyInput",
        ts_return_type = "AuditRecord"
    )]
    pub fn check_proof<'env>(
        env: &'env Env,
        proof: Unknown<'_>,
        key: Unknown<'_>,
    ) -> napi::Result<Unknown<'env>> {
        guard(|| {
            if proof.get_type().ok() != Some(ValueType::Object) {
                return Err(invalid_argument("`proof` must be an object"));
            }
            let proof: InclusionProof = args::json(env, &proof, |m| {
                request_invalid(format!("inclusion proof: {m}"))
            })?;
            let key = keys::sealing_key(&keys::from_js(&key, "key")?)?;
            let record = proof.verify(&key).map_err(to_js)?;
            crate::convert::json_value(env, record.to_json())
        })
        .map_err(|e| crate::error::into_napi(env, &e))
    }

    /// A description of the log (never its key).
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_description(&self) -> Result<String> {
        guard(|| {
            Ok(format!(
                "AuditLog(dir={:?}, suite={:?}, sync={:?}, last_seq={})",
                self.inner.dir().display().to_string(),
                self.inner.suite().as_str(),
                self.inner.sync_mode().as_str(),
                self.inner.last_seq()
            ))
        })
    }
}
