//! The procedures shared by every node (Art. 14, 15), on the platform store: the
//! store's side of [`ProcedureStore`].
//!
//! Steps are taken on a connection of their own, one transaction each
//! (`schema_procedures.sql` says what a transaction writes): the request row is locked
//! with `SELECT … FOR UPDATE` (a new destruction locks its dataset with an advisory
//! lock), so that of two nodes taking the same step at once the second waits, then
//! finds the request moved on. A watcher thread keeps the node's mirror current on a
//! second connection: it `LISTEN`s on `govdata_procedures`, then reads every request
//! whose change number is above the last it handed over — at once when notified, and
//! at least every heartbeat (a quarter of the staleness bound, within 25 ms and 1 s),
//! which is also how the mirror learns that the store is still reached. A connection
//! lost is made again with backoff; the first reading after it hands over every change
//! missed meanwhile. Nothing here is on a decision's path: the engine reads the mirror.

use super::connect::{describe, unavailable, StoreConnector};
use super::rows::system_time;
use crate::error::{Error, Result};
use crate::platform::StoreSection;
use crate::workflow::{
    Procedure, ProcedureMirror, ProcedureRequest, ProcedureStore, ProcedureTransaction,
    RebuildReport, Replay, Transition,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The channel every change of the procedures is notified on.
pub const CHANNEL: &str = "govdata_procedures";

const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// How long the watcher waits on its connection before it looks for a stop.
const STOP_SLICE: Duration = Duration::from_millis(50);

fn db(e: &postgres::Error) -> Error {
    if let Some(d) = e.as_db_error() {
        let code = d.code().code();
        if code.starts_with("GD1") || code == "23505" || code == "23514" {
            return Error::WorkflowInvalid {
                message: format!("the platform store refuses the step: {}", d.message()),
            };
        }
    }
    unavailable(format!("the procedures' store: {}", describe(e)))
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn number(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The procedures shared through the platform store, for one node: the connection
/// its steps are taken on, and the watcher that keeps its mirror current. Stops the
/// watcher when dropped.
pub struct SharedProcedures {
    node_id: String,
    connector: Arc<StoreConnector>,
    steps: Mutex<Option<Client>>,
    watch: Arc<Watch>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SharedProcedures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedProcedures")
            .field("node_id", &self.node_id)
            .field("store", &self.connector.display())
            .finish_non_exhaustive()
    }
}

/// The watcher's part of a node's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchStatus {
    /// Whether the watcher holds a working connection.
    pub connected: bool,
    /// The last change it handed to the mirror.
    pub change: u64,
    /// The last error and its code, if the last attempt failed.
    pub last_error: Option<(String, String)>,
}

#[derive(Debug)]
struct WatchState {
    stop: bool,
    started: bool,
    /// Readings finished (successful or not) since the watcher started.
    readings: u64,
    status: WatchStatus,
}

#[derive(Debug)]
struct Watch {
    connector: Arc<StoreConnector>,
    heartbeat: Duration,
    state: Mutex<WatchState>,
    cond: Condvar,
}

impl Watch {
    fn state(&self) -> MutexGuard<'_, WatchState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stopped(&self) -> bool {
        self.state().stop
    }

    /// Waits until `done` holds, the watcher is stopped or `deadline` passes; the
    /// state then.
    fn wait_until(
        &self,
        deadline: Instant,
        done: impl Fn(&WatchState) -> bool,
    ) -> MutexGuard<'_, WatchState> {
        let mut st = self.state();
        while !st.stop && !done(&st) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = self
                .cond
                .wait_timeout(st, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        st
    }

    /// Sleeps `d` unless stopped meanwhile; whether to go on.
    fn pause(&self, d: Duration) -> bool {
        !self.wait_until(Instant::now() + d, |_| false).stop
    }

    fn finished(&self, result: &Result<u64>, connected: bool) {
        let mut st = self.state();
        st.readings += 1;
        st.status.connected = connected;
        match result {
            Ok(change) => {
                st.status.change = *change;
                st.status.last_error = None;
            }
            Err(e) => st.status.last_error = Some((e.code().to_owned(), e.to_string())),
        }
        drop(st);
        self.cond.notify_all();
    }
}

impl SharedProcedures {
    /// The shared procedures of node `node_id` on the store `section` names; a mirror
    /// not reached for longer than `staleness` resolves no approval. `config_invalid`
    /// for a section that cannot work; a store that cannot be reached is not an error
    /// here (steps fail with `store_unavailable`, the watcher retries).
    pub fn new(node_id: &str, section: &StoreSection, staleness: Duration) -> Result<Self> {
        let connector = Arc::new(StoreConnector::from_section(section)?);
        let heartbeat = (staleness / 4).clamp(Duration::from_millis(25), Duration::from_secs(1));
        Ok(SharedProcedures {
            node_id: node_id.to_owned(),
            connector: connector.clone(),
            steps: Mutex::new(None),
            watch: Arc::new(Watch {
                connector,
                heartbeat,
                state: Mutex::new(WatchState {
                    stop: false,
                    started: false,
                    readings: 0,
                    status: WatchStatus {
                        connected: false,
                        change: 0,
                        last_error: None,
                    },
                }),
                cond: Condvar::new(),
            }),
            thread: Mutex::new(None),
        })
    }

    /// What the watcher reports.
    pub fn status(&self) -> WatchStatus {
        self.watch.state().status.clone()
    }

    /// Stops the watcher and waits for it (it looks for a stop every 50 ms), and lets go of the
    /// steps' connection.
    pub fn stop(&self) {
        self.watch.state().stop = true;
        self.watch.cond.notify_all();
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
        *self.steps.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The steps' connection, in a transaction just begun. A connection the server
    /// closed meanwhile is found out by the `BEGIN`: then once more on a new one
    /// (nothing of the step has run yet).
    fn begin_on(&self, slot: &mut Option<Client>) -> Result<()> {
        if slot.as_ref().is_some_and(Client::is_closed) {
            *slot = None;
        }
        if let Some(c) = slot.as_mut() {
            match c.batch_execute("BEGIN") {
                Ok(()) => return Ok(()),
                Err(e) if !c.is_closed() => return Err(db(&e)),
                Err(_) => *slot = None,
            }
        }
        let mut c = self.connector.connect()?;
        c.batch_execute("BEGIN").map_err(|e| db(&e))?;
        *slot = Some(c);
        Ok(())
    }
}

impl Drop for SharedProcedures {
    fn drop(&mut self) {
        self.stop();
    }
}

impl ProcedureStore for SharedProcedures {
    fn begin(&self) -> Result<Box<dyn ProcedureTransaction + '_>> {
        let mut slot = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        self.begin_on(&mut slot)?;
        Ok(Box::new(Step {
            slot,
            node_id: &self.node_id,
            done: false,
        }))
    }

    fn watch(&self, mirror: Weak<dyn ProcedureMirror>, first: Duration) -> Result<()> {
        {
            let mut st = self.watch.state();
            if st.started {
                return Err(Error::WorkflowInvalid {
                    message: "the procedures' store already keeps a mirror".into(),
                });
            }
            st.started = true;
        }
        let watch = self.watch.clone();
        let thread = std::thread::Builder::new()
            .name(format!("govdata-procedures-{}", self.node_id))
            .spawn(move || run(&watch, &mirror))
            .map_err(|e| unavailable(format!("cannot start the procedures' watcher: {e}")))?;
        *self.thread.lock().unwrap_or_else(|p| p.into_inner()) = Some(thread);
        // The first reading, whether it succeeds or not.
        drop(
            self.watch
                .wait_until(Instant::now() + first, |st| st.readings > 0),
        );
        Ok(())
    }
}

/// One step's transaction, on the steps' connection (held until it ends). Rolled back
/// when dropped before it is committed.
struct Step<'a> {
    slot: MutexGuard<'a, Option<Client>>,
    node_id: &'a str,
    done: bool,
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let rolled_back = self
            .slot
            .as_mut()
            .is_some_and(|c| !c.is_closed() && c.batch_execute("ROLLBACK").is_ok());
        if !rolled_back {
            // A connection in an unknown state is not used again.
            *self.slot = None;
        }
    }
}

fn request_of(procedure: &str, text: &str, change: i64) -> Result<(ProcedureRequest, u64)> {
    let procedure: Procedure = procedure.parse()?;
    Ok((ProcedureRequest::from_json(procedure, text)?, count(change)))
}

impl Step<'_> {
    fn client(&mut self) -> Result<&mut Client> {
        self.slot
            .as_mut()
            .ok_or_else(|| unavailable("no connection to the procedures' store"))
    }

    fn one(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Option<(ProcedureRequest, u64)>> {
        let row = self.client()?.query_opt(sql, params).map_err(|e| db(&e))?;
        row.map(|r| request_of(r.get(0), r.get(1), r.get(2)))
            .transpose()
    }
}

impl ProcedureTransaction for Step<'_> {
    fn lock(&mut self, procedure: Procedure, id: &str) -> Result<Option<(ProcedureRequest, u64)>> {
        self.one(
            "SELECT procedure, request::text, change FROM govdata.procedure_requests
             WHERE id = $1 AND procedure = $2 FOR UPDATE",
            &[&id, &procedure.as_str()],
        )
    }

    fn lock_open_destruction(&mut self, dataset: &str) -> Result<Option<(ProcedureRequest, u64)>> {
        self.client()?
            .execute(
                "SELECT pg_advisory_xact_lock(hashtext('govdata.destruction'), hashtext($1))",
                &[&dataset],
            )
            .map_err(|e| db(&e))?;
        self.one(
            "SELECT procedure, request::text, change FROM govdata.procedure_requests
             WHERE procedure = 'destruction' AND dataset = $1 AND status IN ('requested', 'approved')
             FOR UPDATE",
            &[&dataset],
        )
    }

    fn next_number(&mut self, procedure: Procedure) -> Result<u64> {
        let sql = match procedure {
            Procedure::Sharing => "SELECT nextval('govdata.sharing_numbers')",
            Procedure::Destruction => "SELECT nextval('govdata.destruction_numbers')",
        };
        let row = self.client()?.query_one(sql, &[]).map_err(|e| db(&e))?;
        Ok(count(row.get(0)))
    }

    fn store(&mut self, transitions: &[Transition], requests: &[ProcedureRequest]) -> Result<u64> {
        let node_id = self.node_id;
        let client = self.client()?;
        let change: i64 = client
            .query_one(
                "UPDATE govdata.procedure_head SET change = change + 1 RETURNING change",
                &[],
            )
            .map_err(|e| db(&e))?
            .get(0);
        for t in transitions {
            let e = &t.record.event;
            let event = serde_json::to_string(e)
                .map_err(|x| Error::request(format!("cannot encode a transition: {x}")))?;
            let decision_seq = e
                .fields
                .get("decision_seq")
                .and_then(serde_json::Value::as_u64)
                .map(number);
            client
                .execute(
                    "INSERT INTO govdata.procedure_steps
                       (request_id, step, change, kind, node_id, seq, decision_seq, user_id, time, event)
                     VALUES ($1, (SELECT coalesce(max(step), 0) + 1 FROM govdata.procedure_steps WHERE request_id = $1),
                       $2, $3, $4, $5, $6, $7, $8, CAST($9::text AS jsonb))",
                    &[
                        &t.request,
                        &change,
                        &e.kind,
                        &node_id,
                        &number(t.record.seq),
                        &decision_seq,
                        &e.user,
                        &system_time(t.record.time),
                        &event,
                    ],
                )
                .map_err(|x| db(&x))?;
        }
        for r in requests {
            let json = r.to_json()?;
            client
                .execute(
                    "INSERT INTO govdata.procedure_requests (id, procedure, dataset, status, steps, change, request)
                     VALUES ($1, $2, $3, $4, (SELECT max(step) FROM govdata.procedure_steps WHERE request_id = $1),
                       $5, CAST($6::text AS jsonb))
                     ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, steps = EXCLUDED.steps,
                       change = EXCLUDED.change, request = EXCLUDED.request, updated_at = now()",
                    &[
                        &r.id(),
                        &r.procedure().as_str(),
                        &r.dataset(),
                        &r.status(),
                        &change,
                        &json,
                    ],
                )
                .map_err(|x| db(&x))?;
        }
        Ok(count(change))
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        let result = self.client()?.batch_execute("COMMIT").map_err(|e| db(&e));
        // Committed, or (an error at COMMIT) rolled back by the server: either way
        // the transaction is over.
        self.done = result.is_ok();
        result
    }
}

/// The watcher: reads, then waits for a notification or the heartbeat, until stopped
/// or the mirror is gone.
fn run(w: &Watch, mirror: &Weak<dyn ProcedureMirror>) {
    let mut client: Option<Client> = None;
    let mut change = 0u64;
    let mut backoff = BACKOFF_MIN;
    while !w.stopped() {
        let Some(m) = mirror.upgrade() else {
            break;
        };
        let result = read(w, &mut client, &mut change, &*m);
        drop(m);
        if result.is_err() {
            client = None;
        }
        w.finished(&result, client.is_some());
        if result.is_err() {
            if !w.pause(backoff) {
                break;
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
            continue;
        }
        backoff = BACKOFF_MIN;
        if let Some(c) = client.as_mut() {
            if wait(w, c).is_err() {
                client = None;
            }
        }
    }
}

/// Waits for a notification, at most a heartbeat, in slices short enough for a stop
/// to be seen at once; whatever else arrived meanwhile is read by the next query.
fn wait(w: &Watch, c: &mut Client) -> std::result::Result<(), postgres::Error> {
    let deadline = Instant::now() + w.heartbeat;
    loop {
        let now = Instant::now();
        // A connection the server closed is found out by the next reading.
        if now >= deadline || w.stopped() || c.is_closed() {
            return Ok(());
        }
        let mut n = c.notifications();
        if n.timeout_iter((deadline - now).min(STOP_SLICE))
            .next()?
            .is_some()
        {
            return n.iter().count().map(|_| ());
        }
    }
}

/// Hands every request changed after `change` to the mirror, then tells it when the
/// store was reached.
fn read(
    w: &Watch,
    client: &mut Option<Client>,
    change: &mut u64,
    mirror: &dyn ProcedureMirror,
) -> Result<u64> {
    if client.as_ref().is_none_or(Client::is_closed) {
        let mut c = w.connector.connect()?;
        c.batch_execute(&format!("LISTEN {CHANNEL}"))
            .map_err(|e| db(&e))?;
        *client = Some(c);
    }
    let Some(c) = client.as_mut() else {
        return Err(unavailable("no connection to the procedures' store"));
    };
    let at = Instant::now();
    let rows = c
        .query(
            "SELECT procedure, request::text, change FROM govdata.procedure_requests
             WHERE change > $1 ORDER BY change",
            &[&number(*change)],
        )
        .map_err(|e| db(&e))?;
    let mut moved = Vec::with_capacity(rows.len());
    for r in &rows {
        let (request, c) = request_of(r.get(0), r.get(1), r.get(2))?;
        moved.push((c, request));
    }
    let last = moved.iter().map(|(c, _)| *c).max().unwrap_or(*change);
    mirror.changed(moved);
    *change = last;
    mirror.reached(at);
    Ok(last)
}

/// Every request of the shared procedures as the store holds it: what the
/// self-assessment reads in place of a log's replay.
pub fn read_procedures(section: &StoreSection) -> Result<Replay> {
    let mut c = StoreConnector::from_section(section)?.connect()?;
    let rows = c
        .query(
            "SELECT procedure, request::text, change FROM govdata.procedure_requests ORDER BY id",
            &[],
        )
        .map_err(|e| db(&e))?;
    let steps: i64 = c
        .query_one("SELECT count(*) FROM govdata.procedure_steps", &[])
        .map_err(|e| db(&e))?
        .get(0);
    let mut replay = Replay::default();
    for r in &rows {
        match request_of(r.get(0), r.get(1), r.get(2))?.0 {
            ProcedureRequest::Sharing(s) => replay.shares.push(s),
            ProcedureRequest::Destruction(d) => replay.destructions.push(d),
        }
    }
    replay.report = RebuildReport {
        records: count(steps),
        transitions: count(steps),
        shares: replay.shares.len(),
        destructions: replay.destructions.len(),
        skipped: Vec::new(),
    };
    Ok(replay)
}
