//! Alerts over the audit trail: patterns in recorded decisions that a security officer
//! should look at at once (Art. 8, 18), found by pure logic over records fed in time
//! order.
//!
//! [`AlertDetector`] raises:
//!
//! | kind | when |
//! |---|---|
//! | `alert.denial_burst` | one user is denied `denial_burst_count` times within `denial_burst_window_secs` |
//! | `alert.bulk_export` | one user is allowed `bulk_export_count` exports of data graded `bulk_export_min_grade` or higher within `bulk_export_window_secs` |
//! | `alert.vendor_sensitive` | vendor staff are allowed an action on a dataset holding sensitive personal information (the dataset or one of its fields) |
//! | `alert.off_hours` | a user is allowed an action on a dataset outside working hours: a day that is not a working day of the procedures' calendar, or before `work_start_hour` or from `work_end_hour` on, local time (at most one per user per `off_hours_cooldown_secs`) |
//! | `alert.node_silent` | a node has shipped nothing for `node_silent_secs` ([`AlertDetector::check_nodes`]) |
//!
//! Only decision records are looked at (`kind` = `decision`); the alerts' own records
//! and the procedures' steps are not. Each [`Alert`] converts to an audit [`Event`]
//! ([`Alert::to_event`]) so that it can itself be recorded. The thresholds come from
//! the `[alerts]` section of `govdata.toml` ([`AlertThresholds`], every field optional).
//! The detector reads no log and keeps only the windows it needs; it never blocks or
//! changes a decision.

use crate::audit::{AuditRecord, Event, Outcome, Verdict, DECISION_KIND};
use crate::model::{Action, Grade, Inventory, PersonalInfo};
use crate::time::Timestamp;
use crate::workflow::WorkingCalendar;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// The thresholds of the alerts: the `[alerts]` section of `govdata.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertThresholds {
    /// Denials of one user that make a burst (default 5).
    pub denial_burst_count: u32,
    /// The window of a burst, in seconds (default 300).
    pub denial_burst_window_secs: u64,
    /// The lowest grade whose exports count towards a bulk export (default `L4`).
    pub bulk_export_min_grade: Grade,
    /// Allowed exports of one user that make a bulk export (default 3).
    pub bulk_export_count: u32,
    /// The window of a bulk export, in seconds (default 3600).
    pub bulk_export_window_secs: u64,
    /// Whether vendor staff touching sensitive personal information is an alert
    /// (default true).
    pub vendor_sensitive: bool,
    /// Whether activity outside working hours is an alert (default true).
    pub off_hours: bool,
    /// The first working hour, local time (default 8).
    pub work_start_hour: u8,
    /// The hour the working day ends, local time (default 19).
    pub work_end_hour: u8,
    /// The least time between two off-hours alerts of one user, in seconds (default 3600).
    pub off_hours_cooldown_secs: u64,
    /// How long a node may ship nothing before it is reported, in seconds (default 900).
    pub node_silent_secs: u64,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        AlertThresholds {
            denial_burst_count: 5,
            denial_burst_window_secs: 300,
            bulk_export_min_grade: Grade::L4,
            bulk_export_count: 3,
            bulk_export_window_secs: 3600,
            vendor_sensitive: true,
            off_hours: true,
            work_start_hour: 8,
            work_end_hour: 19,
            off_hours_cooldown_secs: 3600,
            node_silent_secs: 900,
        }
    }
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Many denials of one user in a short time.
    DenialBurst,
    /// Many exports of highly graded data by one user.
    BulkExport,
    /// Vendor staff on sensitive personal information.
    VendorSensitive,
    /// Activity outside working hours.
    OffHours,
    /// A node that stopped shipping its records.
    NodeSilent,
}

impl AlertKind {
    /// The wire name: `denial_burst`, `bulk_export`, `vendor_sensitive`, `off_hours`,
    /// `node_silent`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::DenialBurst => "denial_burst",
            AlertKind::BulkExport => "bulk_export",
            AlertKind::VendorSensitive => "vendor_sensitive",
            AlertKind::OffHours => "off_hours",
            AlertKind::NodeSilent => "node_silent",
        }
    }

    /// The audit event kind: `alert.` and the wire name.
    pub fn event_kind(self) -> String {
        format!("alert.{}", self.as_str())
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// When it was raised: the time of the record that completed the pattern, or the
    /// time of the check.
    pub time: Timestamp,
    /// The user concerned.
    pub user: Option<String>,
    /// The user's department, when the record names it.
    pub department: Option<String>,
    /// The dataset concerned, for an alert about one dataset.
    pub dataset: Option<String>,
    /// The node concerned, for `node_silent`.
    pub node: Option<String>,
    /// The sequence numbers of the records that make up the pattern.
    pub records: Vec<u64>,
    /// What was seen, for a person.
    pub message: String,
}

impl Alert {
    /// The alert as an audit event of kind `alert.<kind>`, to record it.
    pub fn to_event(&self) -> Event {
        let mut event = Event::new(self.kind.event_kind())
            .outcome(Outcome::Failure)
            .field("alert", self.kind.as_str())
            .field("message", self.message.clone())
            .field("raised", self.time.to_string());
        event.user = self.user.clone();
        event.department = self.department.clone();
        if let Some(d) = &self.dataset {
            event = event.field("dataset", d.clone());
        }
        if let Some(n) = &self.node {
            event = event.field("node", n.clone());
        }
        if !self.records.is_empty() {
            event = event.field("records", self.records.clone());
        }
        event
    }
}

/// Finds the alerts in a stream of audit records.
#[derive(Debug, Clone)]
pub struct AlertDetector {
    thresholds: AlertThresholds,
    calendar: WorkingCalendar,
    denials: HashMap<String, VecDeque<(i64, u64)>>,
    exports: HashMap<String, VecDeque<(i64, u64)>>,
    off_hours_last: HashMap<String, i64>,
}

/// Drops the entries of `queue` older than `window_ms` before `now`, adds `(now, seq)`
/// and tells whether it now holds `count` entries (then empties it, so that one burst
/// raises one alert).
fn window_full(
    queue: &mut VecDeque<(i64, u64)>,
    now: i64,
    seq: u64,
    window_ms: i64,
    count: u32,
) -> Option<Vec<u64>> {
    while queue.front().is_some_and(|(t, _)| now - *t > window_ms) {
        queue.pop_front();
    }
    queue.push_back((now, seq));
    if count > 0 && queue.len() >= count as usize {
        let seqs = queue.iter().map(|(_, s)| *s).collect();
        queue.clear();
        Some(seqs)
    } else {
        None
    }
}

fn secs_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

impl AlertDetector {
    /// A detector with `thresholds`, working hours on the days of `calendar` (the
    /// procedures' working calendar, whose time zone also places the hours).
    pub fn new(thresholds: AlertThresholds, calendar: WorkingCalendar) -> Self {
        AlertDetector {
            thresholds,
            calendar,
            denials: HashMap::new(),
            exports: HashMap::new(),
            off_hours_last: HashMap::new(),
        }
    }

    /// The thresholds.
    pub fn thresholds(&self) -> &AlertThresholds {
        &self.thresholds
    }

    /// Whether `t` falls within working hours.
    pub fn is_working_time(&self, t: Timestamp) -> bool {
        let day = self.calendar.local_date(t);
        if !self.calendar.is_working_day(day) {
            return false;
        }
        let local = t.unix_millis() + i64::from(self.calendar.utc_offset_minutes()) * 60_000;
        let hour = local.rem_euclid(86_400_000) / 3_600_000;
        hour >= i64::from(self.thresholds.work_start_hour)
            && hour < i64::from(self.thresholds.work_end_hour)
    }

    /// Looks at the next record (records come in time order), with the inventory that
    /// says who is vendor staff and what a dataset holds; returns the alerts it
    /// completes.
    pub fn observe(&mut self, record: &AuditRecord, inventory: &Inventory) -> Vec<Alert> {
        let e = &record.event;
        let mut alerts = Vec::new();
        if e.kind != DECISION_KIND {
            return alerts;
        }
        let Some(user) = e.user.as_deref() else {
            return alerts;
        };
        let now = record.time.unix_millis();
        let dataset = record.dataset().and_then(|id| inventory.dataset(id));
        let alert = |kind, dataset: Option<&str>, records, message| Alert {
            kind,
            time: record.time,
            user: Some(user.to_owned()),
            department: e.department.clone(),
            dataset: dataset.map(str::to_owned),
            node: None,
            records,
            message,
        };
        let t = &self.thresholds;
        match e.decision {
            Some(Verdict::Deny) => {
                let queue = self.denials.entry(user.to_owned()).or_default();
                if let Some(seqs) = window_full(
                    queue,
                    now,
                    record.seq,
                    secs_ms(t.denial_burst_window_secs),
                    t.denial_burst_count,
                ) {
                    alerts.push(alert(
                        AlertKind::DenialBurst,
                        None,
                        seqs,
                        format!(
                            "`{user}` was denied {} times within {} s",
                            t.denial_burst_count, t.denial_burst_window_secs
                        ),
                    ));
                }
            }
            Some(Verdict::Allow) => {
                let Some(ds) = dataset else {
                    return alerts;
                };
                let graded_high = ds
                    .grade
                    .is_some_and(|g| g.ordinal() >= t.bulk_export_min_grade.ordinal());
                if e.action == Some(Action::Export) && graded_high {
                    let queue = self.exports.entry(user.to_owned()).or_default();
                    if let Some(seqs) = window_full(
                        queue,
                        now,
                        record.seq,
                        secs_ms(t.bulk_export_window_secs),
                        t.bulk_export_count,
                    ) {
                        alerts.push(alert(
                            AlertKind::BulkExport,
                            Some(&ds.id),
                            seqs,
                            format!(
                                "`{user}` exported data graded {} or higher {} times within {} s",
                                t.bulk_export_min_grade,
                                t.bulk_export_count,
                                t.bulk_export_window_secs
                            ),
                        ));
                    }
                }
                let sensitive = ds.personal_info == PersonalInfo::Sensitive
                    || ds
                        .fields
                        .iter()
                        .any(|f| f.sensitivity == PersonalInfo::Sensitive);
                let vendor = inventory.user(user).and_then(|u| u.vendor.as_deref());
                if let (true, true, Some(vendor)) = (t.vendor_sensitive, sensitive, vendor) {
                    alerts.push(alert(
                        AlertKind::VendorSensitive,
                        Some(&ds.id),
                        vec![record.seq],
                        format!(
                            "vendor staff `{user}` of `{vendor}` was allowed `{}` on `{}`, which holds sensitive personal information",
                            e.action.map_or("?", |a| a.as_str()),
                            ds.id
                        ),
                    ));
                }
                if t.off_hours && !self.is_working_time(record.time) {
                    let cooldown = secs_ms(self.thresholds.off_hours_cooldown_secs);
                    let last = self.off_hours_last.get(user).copied();
                    if last.is_none_or(|l| now - l >= cooldown) {
                        self.off_hours_last.insert(user.to_owned(), now);
                        alerts.push(alert(
                            AlertKind::OffHours,
                            Some(&ds.id),
                            vec![record.seq],
                            format!(
                                "`{user}` was allowed `{}` on `{}` outside working hours",
                                e.action.map_or("?", |a| a.as_str()),
                                ds.id
                            ),
                        ));
                    }
                }
            }
            None => {}
        }
        alerts
    }

    /// The nodes among `last_seen` (node id, time of its last shipped record) that
    /// have shipped nothing for `node_silent_secs` at `now`.
    pub fn check_nodes<'a>(
        &self,
        last_seen: impl IntoIterator<Item = (&'a str, Timestamp)>,
        now: Timestamp,
    ) -> Vec<Alert> {
        let limit = secs_ms(self.thresholds.node_silent_secs);
        last_seen
            .into_iter()
            .filter(|(_, seen)| now.unix_millis() - seen.unix_millis() >= limit)
            .map(|(node, seen)| Alert {
                kind: AlertKind::NodeSilent,
                time: now,
                user: None,
                department: None,
                dataset: None,
                node: Some(node.to_owned()),
                records: Vec::new(),
                message: format!(
                    "node `{node}` has shipped nothing since {seen} ({} s)",
                    (now.unix_millis() - seen.unix_millis()) / 1000
                ),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
