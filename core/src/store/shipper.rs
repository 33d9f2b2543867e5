//! The shipper: a background thread that copies the node's audit log to the store.
//!
//! Its watermark is the store itself: the head the store holds for the node
//! (`govdata.audit_nodes`), read again at every connection, so that a process killed
//! at any moment resumes exactly where the store stands. It reads the durable records
//! after that head from the local log (the spool), checks that the first continues the
//! store's chain, and sends them in batches, each in one transaction of `INSERT … ON
//! CONFLICT DO NOTHING` whose insert trigger refuses anything that does not continue
//! the node's chain (a batch is one statement: the records' columns as arrays,
//! unnested in order); it then reads the head back and compares it with the batch's last
//! record. A gap or a fork is an error it reports (`audit_tampered`) and retries,
//! never papers over. A server that is down or slow is retried with backoff while
//! decisions go on: the thread never holds anything a decision waits for. It wakes
//! when the log appends (the log's append hook), and at least every second.

use super::connect::{describe, unavailable, StoreConnector};
use super::rows::{month_of, system_time, Columns};
use super::StoreStatus;
use crate::audit::export::{ChainBatch, ChainCursor};
use crate::audit::{AuditLog, Timestamp};
use crate::engine::{Decision, DecisionSink, Request};
use crate::error::{Error, Result};
use crate::model::{Grade, Inventory, ResourceKind};
use crate::platform::StoreSection;
use postgres::Client;
use std::collections::BTreeSet;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const IDLE_WAKE: Duration = Duration::from_secs(1);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct State {
    stop: bool,
    pending: bool,
    connected: bool,
    /// The head the store holds for the node, once known.
    shipped_seq: u64,
    /// The time of the oldest record not yet shipped, when known.
    oldest_unshipped: Option<Timestamp>,
    /// Since when records have waited, when their time is not known.
    waiting_since: Instant,
    last_error: Option<(String, String)>,
}

#[derive(Debug)]
struct Shared {
    node_id: String,
    log: Arc<AuditLog>,
    connector: StoreConnector,
    batch_size: usize,
    lag_max_records: Option<u64>,
    lag_max_seconds: Option<u64>,
    fail_closed: bool,
    state: Mutex<State>,
    /// Wakes the thread (an append, a stop).
    wake: Condvar,
    /// Signals progress (a batch shipped, an error), for [`Shipper::sync`].
    progress: Condvar,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The shipper of one node's audit log. Stops (and joins its thread) on
/// [`Shipper::stop`] or when dropped.
#[derive(Debug)]
pub struct Shipper {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

enum Step {
    Shipped,
    Idle,
}

impl Shipper {
    /// Starts shipping `log` as node `node_id` to the store `section` names.
    /// `config_invalid` for a section that cannot work (a plain-text connection to a
    /// network address, a CA file that does not parse, a password that cannot be
    /// read); a store that cannot be reached is not an error here: the thread retries.
    pub fn start(node_id: &str, log: Arc<AuditLog>, section: &StoreSection) -> Result<Shipper> {
        let connector = StoreConnector::from_section(section)?;
        let shared = Arc::new(Shared {
            node_id: node_id.to_owned(),
            log: log.clone(),
            connector,
            batch_size: section.batch_size.max(1),
            lag_max_records: section.lag_max_records,
            lag_max_seconds: section.lag_max_seconds,
            fail_closed: section.fail_closed,
            state: Mutex::new(State {
                stop: false,
                pending: true,
                connected: false,
                shipped_seq: 0,
                oldest_unshipped: None,
                waiting_since: Instant::now(),
                last_error: None,
            }),
            wake: Condvar::new(),
            progress: Condvar::new(),
        });
        let weak: Weak<Shared> = Arc::downgrade(&shared);
        log.on_append(Some(Box::new(move |_| {
            if let Some(s) = weak.upgrade() {
                s.state().pending = true;
                s.wake.notify_one();
            }
        })));
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("govdata-shipper-{node_id}"))
            .spawn(move || run(&worker))
            .map_err(|e| unavailable(format!("cannot start the shipper's thread: {e}")))?;
        Ok(Shipper {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// What the shipper reports.
    pub fn status(&self) -> StoreStatus {
        let s = &self.shared;
        let last = s.log.last_seq();
        let st = s.state();
        let lag_records = last.saturating_sub(st.shipped_seq);
        let lag_seconds = if lag_records == 0 {
            0
        } else {
            match st.oldest_unshipped {
                Some(t) => {
                    let ms = Timestamp::now().unix_millis() - t.unix_millis();
                    u64::try_from(ms / 1000).unwrap_or(0)
                }
                None => st.waiting_since.elapsed().as_secs(),
            }
        };
        let lag_exceeded = s.lag_max_records.is_some_and(|m| lag_records > m)
            || s.lag_max_seconds.is_some_and(|m| lag_seconds > m);
        StoreStatus {
            connected: st.connected,
            shipped_seq: st.shipped_seq,
            lag_records,
            lag_seconds,
            lag_exceeded,
            fail_closed: s.fail_closed,
            last_error: st.last_error.as_ref().map(|(_, m)| m.clone()),
            last_error_code: st.last_error.as_ref().map(|(c, _)| c.clone()),
        }
    }

    /// Waits until the store holds every record appended before the call, at most
    /// `timeout`; `store_unavailable` (with the last error) past it.
    pub fn sync(&self, timeout: Duration) -> Result<()> {
        let s = &self.shared;
        let target = s.log.last_seq();
        let deadline = Instant::now() + timeout;
        let mut st = s.state();
        st.pending = true;
        s.wake.notify_one();
        loop {
            if st.shipped_seq >= target && st.connected {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline || st.stop {
                let why = match &st.last_error {
                    Some((_, m)) => m.clone(),
                    None => "no error yet".to_owned(),
                };
                return Err(unavailable(format!(
                    "the store holds node `{}` through record {} of {} after {} ms ({why})",
                    s.node_id,
                    st.shipped_seq,
                    target,
                    timeout.as_millis()
                )));
            }
            st = s
                .progress
                .wait_timeout(st, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Stops the thread (after the batch under way) and waits for it.
    pub fn stop(&self) {
        self.shared.log.on_append(None);
        {
            let mut st = self.shared.state();
            st.stop = true;
        }
        self.shared.wake.notify_all();
        self.shared.progress.notify_all();
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    /// Whether the lag is beyond a bound and decisions on L4 and above fail closed.
    fn closed_for_high_grades(&self) -> Option<StoreStatus> {
        if !self.shared.fail_closed {
            return None;
        }
        let st = self.status();
        st.lag_exceeded.then_some(st)
    }
}

impl Drop for Shipper {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sleeps `d` unless stopped meanwhile; whether to go on.
fn pause(s: &Shared, d: Duration, wake_on_append: bool) -> bool {
    let deadline = Instant::now() + d;
    let mut st = s.state();
    loop {
        if st.stop {
            return false;
        }
        if wake_on_append && st.pending {
            st.pending = false;
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        st = s
            .wake
            .wait_timeout(st, deadline - now)
            .map(|(g, _)| g)
            .unwrap_or_else(|p| p.into_inner().0);
    }
}

fn run(s: &Shared) {
    let mut client: Option<Client> = None;
    let mut cursor = ChainCursor::default();
    let mut head: Option<(u64, [u8; 32])> = None;
    let mut backoff = BACKOFF_MIN;
    loop {
        if s.state().stop {
            break;
        }
        match step(s, &mut client, &mut cursor, &mut head) {
            Ok(Step::Shipped) => {
                backoff = BACKOFF_MIN;
            }
            Ok(Step::Idle) => {
                backoff = BACKOFF_MIN;
                if !pause(s, IDLE_WAKE, true) {
                    break;
                }
            }
            Err(e) => {
                let lost = client.as_ref().is_none_or(|c| c.is_closed())
                    || matches!(e, Error::StoreUnavailable { .. });
                if lost {
                    client = None;
                    head = None;
                }
                {
                    let mut st = s.state();
                    st.connected = client.is_some();
                    st.last_error = Some((e.code().to_owned(), e.to_string()));
                }
                s.progress.notify_all();
                if !pause(s, backoff, false) {
                    break;
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

fn db(s: &Shared, e: &postgres::Error) -> Error {
    if let Some(d) = e.as_db_error() {
        if d.code().code().starts_with("GD1") {
            return Error::AuditTampered {
                seq: 0,
                message: format!(
                    "the store refuses node `{}`'s records: {}",
                    s.node_id,
                    d.message()
                ),
            };
        }
    }
    unavailable(format!("`{}`: {}", s.connector.display(), describe(e)))
}

/// Registers the node if the store does not know it, and reads its head.
fn register(s: &Shared, c: &mut Client) -> Result<(u64, [u8; 32])> {
    let id = s.log.identity();
    let (first_seq, base_head) = s.log.chain_base();
    let first = i64::try_from(first_seq).unwrap_or(i64::MAX);
    c.execute(
        "INSERT INTO govdata.audit_nodes (node_id, log_id, suite, key_check, binding, first_seq, base_head, head_seq, head)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7) ON CONFLICT (node_id) DO NOTHING",
        &[
            &s.node_id,
            &id.log_id.as_slice(),
            &id.suite.as_str(),
            &id.key_check,
            &s.log.node_binding(&s.node_id).as_slice(),
            &first,
            &base_head.as_slice(),
            &(first - 1),
        ],
    )
    .map_err(|e| db(s, &e))?;
    let row = c
        .query_one(
            "SELECT log_id, head_seq, head FROM govdata.audit_nodes WHERE node_id = $1",
            &[&s.node_id],
        )
        .map_err(|e| db(s, &e))?;
    let log_id: Vec<u8> = row.get(0);
    if log_id != id.log_id {
        return Err(Error::AuditTampered {
            seq: 0,
            message: format!(
                "node id `{}` belongs in the store to another audit log ({}, this one is {}): give each node its own id",
                s.node_id,
                hex::encode(&log_id),
                hex::encode(id.log_id)
            ),
        });
    }
    head_of(s, &row, 1)
}

fn head_of(s: &Shared, row: &postgres::Row, at: usize) -> Result<(u64, [u8; 32])> {
    let seq: i64 = row.get(at);
    let h: Vec<u8> = row.get(at + 1);
    let mut head = [0u8; 32];
    if h.len() != 32 {
        return Err(Error::AuditTampered {
            seq: 0,
            message: format!("the store's head of node `{}` is malformed", s.node_id),
        });
    }
    head.copy_from_slice(&h);
    Ok((u64::try_from(seq).unwrap_or(0), head))
}

fn step(
    s: &Shared,
    client: &mut Option<Client>,
    cursor: &mut ChainCursor,
    head: &mut Option<(u64, [u8; 32])>,
) -> Result<Step> {
    if client.as_ref().is_none_or(|c| c.is_closed()) {
        *client = Some(s.connector.connect()?);
        *head = None;
        s.state().connected = true;
    }
    let Some(c) = client.as_mut() else {
        return Err(unavailable("no connection"));
    };
    let (head_seq, head_hash) = match *head {
        Some(h) => h,
        None => {
            let h = register(s, c)?;
            *head = Some(h);
            let mut st = s.state();
            st.connected = true;
            st.shipped_seq = h.0;
            h
        }
    };
    let batch = s.log.read_chain(cursor, head_seq, s.batch_size)?;
    if batch.records.is_empty() && batch.seals.is_empty() {
        let mut st = s.state();
        st.oldest_unshipped = None;
        st.waiting_since = Instant::now();
        st.last_error = None;
        drop(st);
        s.progress.notify_all();
        return Ok(Step::Idle);
    }
    if let Some(first) = batch.records.first() {
        s.state().oldest_unshipped = Some(first.record.time);
        if first.prev_head != head_hash {
            return Err(Error::AuditTampered {
                seq: first.record.seq,
                message: format!(
                    "the store's chain of node `{}` through record {head_seq} differs from the local log's (a fork): the store or the local log was altered, or another log was shipped under this node id",
                    s.node_id
                ),
            });
        }
    }
    let new_head = send(s, c, &batch, (head_seq, head_hash))?;
    *head = Some(new_head);
    {
        let mut st = s.state();
        st.shipped_seq = new_head.0;
        st.connected = true;
        st.last_error = None;
        st.oldest_unshipped = None;
        st.waiting_since = Instant::now();
    }
    s.progress.notify_all();
    Ok(Step::Shipped)
}

/// Sends one batch in one transaction and returns the store's head after it.
fn send(
    s: &Shared,
    c: &mut Client,
    batch: &ChainBatch,
    before: (u64, [u8; 32]),
) -> Result<(u64, [u8; 32])> {
    let mut tx = c.transaction().map_err(|e| db(s, &e))?;
    let months: BTreeSet<String> = batch
        .records
        .iter()
        .map(|r| month_of(r.record.time))
        .collect();
    for m in &months {
        tx.execute("SELECT govdata.ensure_month(CAST($1::text AS date))", &[m])
            .map_err(|e| db(s, &e))?;
    }
    if !batch.records.is_empty() {
        insert_records(s, &mut tx, &batch.records)?;
    }
    for seal in &batch.seals {
        let sealed_at = system_time(Timestamp::from_unix_millis(seal.sealed_at));
        tx.execute(
            "INSERT INTO govdata.audit_seals (node_id, segment, first_seq, last_seq, sealed_at, payload, tag)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (node_id, segment) DO NOTHING",
            &[
                &s.node_id,
                &i64::try_from(seal.segment).unwrap_or(i64::MAX),
                &i64::try_from(seal.first_seq).unwrap_or(i64::MAX),
                &i64::try_from(seal.last_seq).unwrap_or(i64::MAX),
                &sealed_at,
                &seal.payload,
                &seal.tag.as_slice(),
            ],
        )
        .map_err(|e| db(s, &e))?;
    }
    let row = tx
        .query_one(
            "SELECT head_seq, head FROM govdata.audit_nodes WHERE node_id = $1",
            &[&s.node_id],
        )
        .map_err(|e| db(s, &e))?;
    let after = head_of(s, &row, 0)?;
    let expect = batch
        .records
        .last()
        .map_or(before, |r| (r.record.seq, r.head));
    if after != expect {
        return Err(Error::AuditTampered {
            seq: expect.0,
            message: format!(
                "after the batch the store holds node `{}` through record {} where the local log has record {}: the store's chain was altered",
                s.node_id, after.0, expect.0
            ),
        });
    }
    tx.commit().map_err(|e| db(s, &e))?;
    Ok(after)
}

/// The batch's records in one statement (one round trip, however many records): the
/// columns as arrays, unnested in sequence order, so that the insert trigger sees each
/// record continue the one before it.
fn insert_records(
    s: &Shared,
    tx: &mut postgres::Transaction<'_>,
    records: &[crate::audit::export::ChainedRecord],
) -> Result<()> {
    let n = records.len();
    let mut seq = Vec::with_capacity(n);
    let mut time = Vec::with_capacity(n);
    let mut text: [Vec<Option<String>>; 11] = Default::default();
    let mut bytes: [Vec<&[u8]>; 4] = Default::default();
    for r in records {
        let col = Columns::of(&r.record);
        seq.push(i64::try_from(r.record.seq).unwrap_or(i64::MAX));
        time.push(system_time(r.record.time));
        let policies = serde_json::Value::from(col.policies).to_string();
        for (list, value) in text.iter_mut().zip([
            Some(col.kind),
            col.user_id,
            col.department,
            col.action,
            col.resource_type,
            col.resource_id,
            col.decision,
            Some(policies),
            col.policy_version,
            Some(col.outcome),
            Some(col.fields.to_string()),
        ]) {
            list.push(value);
        }
        for (list, value) in bytes.iter_mut().zip([
            r.payload.as_slice(),
            r.prev_head.as_slice(),
            r.head.as_slice(),
            r.tag.as_slice(),
        ]) {
            list.push(value);
        }
    }
    let [kind, user_id, department, action, resource_type, resource_id, decision, policies, policy_version, outcome, fields] =
        &text;
    let [payload, prev_head, head, tag] = &bytes;
    tx.execute(
        "INSERT INTO govdata.audit_records (node_id, seq, month, time, kind, user_id, department, action,
           resource_type, resource_id, decision, policies, policy_version, outcome, fields, payload,
           prev_head, head, tag)
         SELECT $1, r.seq, date_trunc('month', r.time AT TIME ZONE 'UTC')::date, r.time, r.kind, r.user_id,
           r.department, r.action, r.resource_type, r.resource_id, r.decision,
           ARRAY(SELECT jsonb_array_elements_text(r.policies::jsonb)), r.policy_version, r.outcome,
           r.fields::jsonb, r.payload, r.prev_head, r.head, r.tag
         FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                     $15::bytea[], $16::bytea[], $17::bytea[], $18::bytea[])
           WITH ORDINALITY AS r(seq, time, kind, user_id, department, action, resource_type, resource_id,
                                decision, policies, policy_version, outcome, fields, payload, prev_head,
                                head, tag, ord)
         ORDER BY r.ord
         ON CONFLICT (node_id, seq, month) DO NOTHING",
        &[
            &s.node_id,
            &seq,
            &time,
            kind,
            user_id,
            department,
            action,
            resource_type,
            resource_id,
            decision,
            policies,
            policy_version,
            outcome,
            fields,
            payload,
            prev_head,
            head,
            tag,
        ],
    )
    .map_err(|e| db(s, &e))?;
    Ok(())
}

/// The engine's decision sink when the node ships to a store: the audit log, and
/// beyond a lag bound with `fail_closed`, a refusal of allowed decisions on L4,
/// important and core data (the engine turns it into a deny).
#[derive(Debug)]
pub(crate) struct StoreGate {
    log: Arc<AuditLog>,
    shipper: Arc<Shipper>,
}

impl StoreGate {
    pub(crate) fn new(log: Arc<AuditLog>, shipper: Arc<Shipper>) -> StoreGate {
        StoreGate { log, shipper }
    }
}

fn high_grade(request: &Request, inventory: &Inventory) -> bool {
    request.resource.kind == ResourceKind::Dataset
        && inventory
            .dataset(&request.resource.id)
            .and_then(|d| d.grade)
            .is_some_and(|g| g >= Grade::L4)
}

impl DecisionSink for StoreGate {
    fn record(
        &self,
        request: &Request,
        inventory: &Inventory,
        decision: &Decision,
    ) -> Result<Option<u64>> {
        if decision.allowed() && high_grade(request, inventory) {
            if let Some(st) = self.shipper.closed_for_high_grades() {
                return Err(unavailable(format!(
                    "the platform store lags {} records and {} s behind this node, beyond the configured bound: decisions on L4, important and core data fail closed until it catches up",
                    st.lag_records, st.lag_seconds
                )));
            }
        }
        DecisionSink::record(&*self.log, request, inventory, decision)
    }
}
