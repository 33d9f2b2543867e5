//! Following the store (`govdata audit watch --store`): every node's new records as
//! they arrive, fed to the alerts detector ([`crate::alerts`]), each alert recorded in
//! the watching node's own audit log (which its shipper then ships) and handed to the
//! caller.
//!
//! Notifications are wake-ups, never the record of what arrived: the watch listens on
//! `govdata_audit` (the insert trigger of `schema_watch.sql` notifies it with the node
//! id) and then reads, per node, the rows after the last `(node, seq)` it has seen. A
//! connection lost, a server restarted or a notification dropped therefore loses no
//! record: the next look, on a new connection, reads on from the same positions. It
//! looks at least every `wait` (one second by default), which also finds silent nodes.
//!
//! Every row is checked before it is believed ([`super::read`]): its MAC under its
//! node's sealing key, its columns against its payload, and — since the watch reads
//! each node's rows one after another — that it continues the chain of the row before
//! it. A row that fails stops the watch with `audit_tampered`.
//!
//! A node is reported silent (`alert.node_silent`) when the store has received nothing
//! from it for `node_silent_secs` by the server's clock, once per silence: it is
//! watched for silence from the first row this watch sees of it, or from the start
//! when its last row is younger than the threshold then (a node already silent when
//! the watch begins is not reported until it has shipped again).

use super::connect::StoreConnector;
use super::read::{db_error, select_rows, NodeKeys, StoredRecord};
use super::rows::{timestamp, StoredRow};
use crate::alerts::{Alert, AlertDetector, AlertThresholds};
use crate::audit::{AuditLog, AuditRecord, SealingKey, Timestamp};
use crate::error::{Error, Result};
use crate::model::Inventory;
use crate::workflow::WorkingCalendar;
use postgres::Client;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The channel the insert trigger notifies.
const CHANNEL: &str = "govdata_audit";
/// Rows read per node in one statement.
const BATCH: i64 = 500;
/// Rows read per node in one look, so that one busy node does not hold up the rest.
const PER_LOOK: usize = 5000;
/// The bits of a detector's record number that hold the sequence number; the rest
/// hold the node's index.
const SEQ_BITS: u32 = 48;

/// How a watch looks at the store.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The thresholds of the alerts (`[alerts]`).
    pub thresholds: AlertThresholds,
    /// The working calendar that places working hours (`[procedures]`).
    pub calendar: WorkingCalendar,
    /// Begin with the records made from this time on; `None`: with the records that
    /// arrive after the watch starts.
    pub since: Option<Timestamp>,
    /// The longest time between two looks (at least every this often, silent nodes
    /// are checked and a lost notification is made up for).
    pub wait: Duration,
}

impl WatchOptions {
    /// New records only, looking at least every second.
    pub fn new(thresholds: AlertThresholds, calendar: WorkingCalendar) -> Self {
        WatchOptions {
            thresholds,
            calendar,
            since: None,
            wait: Duration::from_secs(1),
        }
    }
}

/// An alert raised by a watch, with the records behind it by node.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreAlert {
    /// The alert (its `node` set when every record behind it is one node's).
    pub alert: Alert,
    /// The records that make up the pattern: node and sequence number.
    pub records: Vec<(String, u64)>,
    /// Where the watching node's log recorded it.
    pub audit_seq: u64,
}

impl StoreAlert {
    /// The alert as JSON: `alert` (the kind), `time`, `user`, `department`,
    /// `dataset`, `node`, `records` (`[{"node", "seq"}]`), `message`, `audit_seq`.
    pub fn to_json(&self) -> Value {
        let a = &self.alert;
        json!({
            "alert": a.kind.as_str(),
            "time": a.time.to_string(),
            "user": a.user,
            "department": a.department,
            "dataset": a.dataset,
            "node": a.node,
            "records": refs_json(&self.records),
            "message": a.message,
            "audit_seq": self.audit_seq,
        })
    }
}

fn refs_json(records: &[(String, u64)]) -> Value {
    Value::Array(
        records
            .iter()
            .map(|(node, seq)| json!({"node": node, "seq": seq}))
            .collect(),
    )
}

/// What one look found, in the order it arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum Watched {
    /// A record that arrived.
    Record(StoredRecord),
    /// An alert, already recorded.
    Alert(StoreAlert),
}

/// Where the watch stands in one node's chain.
#[derive(Debug, Clone, Copy)]
struct Position {
    seq: u64,
    head: [u8; 32],
}

/// When the store last received a row of a node, and whether its silence since has
/// been reported.
#[derive(Debug, Clone, Copy)]
struct Silence {
    last: Timestamp,
    reported: bool,
}

/// A watch over the store. See the module's documentation.
pub struct StoreWatch {
    connector: StoreConnector,
    keys: Vec<SealingKey>,
    log: Arc<AuditLog>,
    detector: AlertDetector,
    options: WatchOptions,
    client: Option<Client>,
    node_keys: Option<NodeKeys>,
    /// `None` until the first connection places the watch.
    positions: Option<BTreeMap<String, Position>>,
    silence: BTreeMap<String, Silence>,
    /// Node ids by index, for the detector's record numbers.
    names: Vec<String>,
    index: HashMap<String, u64>,
}

impl std::fmt::Debug for StoreWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWatch")
            .field("store", &self.connector)
            .field("log", &self.log.dir())
            .field("connected", &self.connected())
            .finish_non_exhaustive()
    }
}

fn lost(e: &postgres::Error) -> Error {
    db_error("audit watch --store", e)
}

impl StoreWatch {
    /// A watch of the store `connector` reaches, checking rows under `keys` (each
    /// node's found by its key check value) and recording alerts in `log`. It
    /// connects at the first [`StoreWatch::next`].
    pub fn new(
        connector: StoreConnector,
        keys: Vec<SealingKey>,
        log: Arc<AuditLog>,
        options: WatchOptions,
    ) -> StoreWatch {
        StoreWatch {
            connector,
            keys,
            log,
            detector: AlertDetector::new(options.thresholds.clone(), options.calendar.clone()),
            options,
            client: None,
            node_keys: None,
            positions: None,
            silence: BTreeMap::new(),
            names: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Whether the watch holds a working connection.
    pub fn connected(&self) -> bool {
        self.client.as_ref().is_some_and(|c| !c.is_closed())
    }

    /// Looks once: reads what arrived since the last look (waiting up to the
    /// options' `wait` for a notification when nothing had), raises the alerts it
    /// completes and those of silent nodes, records each alert in the log, and
    /// returns records and alerts in order. `inventory` says who is vendor staff and
    /// how data is graded.
    ///
    /// `store_unavailable` when the connection is lost (call again: the next look
    /// reconnects and reads on from where this one stood); `audit_tampered` for a row
    /// that does not check; an error of the log when an alert cannot be recorded.
    pub fn next(&mut self, inventory: &Inventory) -> Result<Vec<Watched>> {
        let result = self.look(inventory);
        if let Err(Error::StoreUnavailable { .. }) = &result {
            self.client = None;
        }
        result
    }

    fn look(&mut self, inventory: &Inventory) -> Result<Vec<Watched>> {
        if !self.connected() {
            self.connect()?;
        }
        let mut out = self.catch_up(inventory)?;
        if out.is_empty() {
            self.wait()?;
            out = self.catch_up(inventory)?;
        }
        Ok(out)
    }

    fn client(&mut self) -> Result<&mut Client> {
        self.client.as_mut().ok_or_else(|| Error::StoreUnavailable {
            message: "audit watch --store: not connected".into(),
        })
    }

    /// A new connection that listens, and the nodes' keys read again; the first one
    /// also places the watch.
    fn connect(&mut self) -> Result<()> {
        let mut client = self.connector.connect()?;
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .map_err(|e| lost(&e))?;
        self.node_keys = Some(NodeKeys::load(&mut client, &self.keys)?);
        self.client = Some(client);
        if self.positions.is_none() {
            let positions = self.start_positions()?;
            self.positions = Some(positions);
        }
        Ok(())
    }

    /// Where the watch begins in each node's chain: at its head (new records only), or
    /// before its first record made at `since` or later.
    fn start_positions(&mut self) -> Result<BTreeMap<String, Position>> {
        let since = self.options.since.map(super::rows::system_time);
        let silent_ms = secs_ms(self.options.thresholds.node_silent_secs);
        let client = self.client()?;
        let nodes = client
            .query(
                "SELECT n.node_id, n.head_seq, n.head, r.stored_at, now()
                 FROM govdata.audit_nodes n
                 LEFT JOIN govdata.audit_records r ON r.node_id = n.node_id AND r.seq = n.head_seq
                 ORDER BY n.node_id",
                &[],
            )
            .map_err(|e| lost(&e))?;
        let mut positions = BTreeMap::new();
        let mut silence = BTreeMap::new();
        for n in &nodes {
            let node: String = n.get(0);
            let head_seq = u64::try_from(n.get::<_, i64>(1)).unwrap_or(0);
            let now = timestamp(n.get::<_, SystemTime>(4));
            if let Some(last) = n.get::<_, Option<SystemTime>>(3).map(timestamp) {
                // A node already silent is not reported until it ships again.
                let reported = now.unix_millis() - last.unix_millis() >= silent_ms;
                silence.insert(node.clone(), Silence { last, reported });
            }
            let position = match since {
                None => Position {
                    seq: head_seq,
                    head: hash_of(&n.get::<_, Vec<u8>>(2), &node)?,
                },
                Some(t) => {
                    let first = client
                        .query_opt(
                            "SELECT seq, prev_head FROM govdata.audit_records
                             WHERE node_id = $1 AND time >= $2 ORDER BY seq LIMIT 1",
                            &[&node, &t],
                        )
                        .map_err(|e| lost(&e))?;
                    match first {
                        Some(r) => Position {
                            seq: u64::try_from(r.get::<_, i64>(0))
                                .unwrap_or(1)
                                .saturating_sub(1),
                            head: hash_of(&r.get::<_, Vec<u8>>(1), &node)?,
                        },
                        None => Position {
                            seq: head_seq,
                            head: hash_of(&n.get::<_, Vec<u8>>(2), &node)?,
                        },
                    }
                }
            };
            positions.insert(node, position);
        }
        self.silence = silence;
        Ok(positions)
    }

    /// Waits for a notification, at most the options' `wait`, then takes the others
    /// already there: one look reads what they all announce.
    fn wait(&mut self) -> Result<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let wait = self.options.wait;
        let client = self.client()?;
        let first = client
            .notifications()
            .timeout_iter(wait)
            .next()
            .map_err(|e| lost(&e))?;
        if first.is_some() {
            let mut notes = client.notifications();
            let mut pending = notes.iter();
            for _ in 0..PER_LOOK {
                if pending.next().map_err(|e| lost(&e))?.is_none() {
                    break;
                }
            }
        }
        if client.is_closed() {
            return Err(Error::StoreUnavailable {
                message: "audit watch --store: the server closed the connection".into(),
            });
        }
        Ok(())
    }

    /// Reads every node's rows after its position, checks them, feeds them to the
    /// detector in time order and checks for silent nodes.
    fn catch_up(&mut self, inventory: &Inventory) -> Result<Vec<Watched>> {
        let client = self.client()?;
        let nodes = client
            .query(
                "SELECT node_id, first_seq, base_head, head_seq, now() FROM govdata.audit_nodes",
                &[],
            )
            .map_err(|e| lost(&e))?;
        let now = nodes.first().map(|n| timestamp(n.get::<_, SystemTime>(4)));
        let mut arrived: Vec<StoredRecord> = Vec::new();
        let known = self
            .node_keys
            .as_ref()
            .is_some_and(|nk| nodes.iter().all(|n| nk.knows(&n.get::<_, String>(0))));
        if !known {
            // Nodes registered since the keys were read.
            if let (Some(nk), Some(c)) = (self.node_keys.as_mut(), self.client.as_mut()) {
                nk.refresh(c, &self.keys)?;
            }
        }
        for n in &nodes {
            let node: String = n.get(0);
            let head_seq = u64::try_from(n.get::<_, i64>(3)).unwrap_or(0);
            let positions = self.positions.get_or_insert_with(BTreeMap::new);
            let at = match positions.get(&node) {
                Some(p) => *p,
                None => {
                    // A node registered since the watch began: from its first record.
                    let p = Position {
                        seq: u64::try_from(n.get::<_, i64>(1))
                            .unwrap_or(1)
                            .saturating_sub(1),
                        head: hash_of(&n.get::<_, Vec<u8>>(2), &node)?,
                    };
                    positions.insert(node.clone(), p);
                    p
                }
            };
            if head_seq > at.seq {
                self.read_node(&node, at, &mut arrived)?;
            }
        }
        arrived.sort_by(|a, b| {
            (a.record.time, &a.node_id, a.record.seq).cmp(&(
                b.record.time,
                &b.node_id,
                b.record.seq,
            ))
        });
        let mut out = Vec::with_capacity(arrived.len());
        for r in arrived {
            let n = self.number(&r.node_id, r.record.seq);
            let fed = AuditRecord {
                seq: n,
                time: r.record.time,
                event: r.record.event.clone(),
            };
            let alerts = self.detector.observe(&fed, inventory);
            out.push(Watched::Record(r));
            for a in alerts {
                out.push(Watched::Alert(self.raise(a)?));
            }
        }
        if let Some(now) = now {
            for a in self.silent_nodes(now) {
                out.push(Watched::Alert(self.raise(a)?));
            }
        }
        Ok(out)
    }

    /// Reads `node`'s rows after `at` (at most [`PER_LOOK`]), each continuing the one
    /// before it.
    fn read_node(
        &mut self,
        node: &str,
        mut at: Position,
        out: &mut Vec<StoredRecord>,
    ) -> Result<()> {
        let start = at.seq;
        let sql = select_rows("WHERE node_id = $1 AND seq > $2 ORDER BY seq LIMIT $3");
        loop {
            let after = i64::try_from(at.seq).unwrap_or(i64::MAX);
            let client = self.client()?;
            let rows = client
                .query(&sql, &[&node, &after, &BATCH])
                .map_err(|e| lost(&e))?;
            let got = rows.len();
            for row in &rows {
                let row = StoredRow::read(row);
                if row.seq != at.seq + 1 || row.prev_head != Some(at.head) {
                    return Err(Error::AuditTampered {
                        seq: row.seq,
                        message: format!(
                            "node `{node}`: record {} does not continue record {} in the store (a record was changed, deleted, inserted or replayed from another node)",
                            row.seq, at.seq
                        ),
                    });
                }
                let Some(keys) = self.node_keys.as_ref() else {
                    return Err(Error::StoreUnavailable {
                        message: "audit watch --store: not connected".into(),
                    });
                };
                let (record, head) = keys.authenticate(&row)?;
                at = Position { seq: row.seq, head };
                self.silence.insert(
                    node.to_owned(),
                    Silence {
                        last: row.stored_at,
                        reported: false,
                    },
                );
                out.push(record);
            }
            if let Some(p) = self.positions.as_mut() {
                p.insert(node.to_owned(), at);
            }
            let read = usize::try_from(at.seq - start).unwrap_or(usize::MAX);
            if got < usize::try_from(BATCH).unwrap_or(usize::MAX) || read >= PER_LOOK {
                return Ok(());
            }
        }
    }

    /// The detector's number of a node's record: the node's index above the sequence
    /// number (sequence numbers of different nodes are alike).
    fn number(&mut self, node: &str, seq: u64) -> u64 {
        let i = match self.index.get(node) {
            Some(i) => *i,
            None => {
                let i = self.names.len() as u64;
                self.names.push(node.to_owned());
                self.index.insert(node.to_owned(), i);
                i
            }
        };
        (i << SEQ_BITS) | (seq & ((1 << SEQ_BITS) - 1))
    }

    /// The node and sequence number behind a detector's number.
    fn reference(&self, n: u64) -> (String, u64) {
        let node = usize::try_from(n >> SEQ_BITS)
            .ok()
            .and_then(|i| self.names.get(i))
            .cloned()
            .unwrap_or_default();
        (node, n & ((1 << SEQ_BITS) - 1))
    }

    /// The nodes silent for the threshold at `now` not yet reported.
    fn silent_nodes(&mut self, now: Timestamp) -> Vec<Alert> {
        let due: Vec<(String, Timestamp)> = self
            .silence
            .iter()
            .filter(|(_, s)| !s.reported)
            .map(|(n, s)| (n.clone(), s.last))
            .collect();
        let alerts = self
            .detector
            .check_nodes(due.iter().map(|(n, t)| (n.as_str(), *t)), now);
        for a in &alerts {
            if let Some(s) = a.node.as_ref().and_then(|n| self.silence.get_mut(n)) {
                s.reported = true;
            }
        }
        alerts
    }

    /// Records `alert` in the log, its records named by node.
    fn raise(&mut self, mut alert: Alert) -> Result<StoreAlert> {
        let records: Vec<(String, u64)> =
            alert.records.iter().map(|n| self.reference(*n)).collect();
        alert.records = records.iter().map(|(_, s)| *s).collect();
        if let Some((first, _)) = records.first() {
            if records.iter().all(|(n, _)| n == first) {
                alert.node = Some(first.clone());
            }
        }
        let mut event = alert.to_event();
        if !records.is_empty() {
            event = event.field("records", refs_json(&records));
        }
        let audit_seq = self.log.append(&event)?;
        Ok(StoreAlert {
            alert,
            records,
            audit_seq,
        })
    }
}

fn secs_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

fn hash_of(bytes: &[u8], node: &str) -> Result<[u8; 32]> {
    <[u8; 32]>::try_from(bytes).map_err(|_| Error::AuditTampered {
        seq: 0,
        message: format!("node `{node}`: the store's head of its chain is malformed"),
    })
}
