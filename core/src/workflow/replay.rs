//! Rebuilding the procedures' state from the audit log, the only store they have:
//! at [`Workflows::open`](super::Workflows::open), and from records read elsewhere.

use super::records::{self, State};
use super::{DestructionRequest, SharingRequest};
use crate::audit::{AuditLog, AuditRecord};
use crate::error::Result;
use serde::Serialize;
use std::collections::BTreeMap;

/// A record the rebuild could not fit into the procedures (it authenticates, but
/// does not follow from the records before it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The record's sequence number.
    pub seq: u64,
    /// Its kind.
    pub kind: String,
    /// Why it does not fit.
    pub reason: String,
}

/// What rebuilding the state from the log found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RebuildReport {
    /// Records read.
    pub records: u64,
    /// Transitions applied.
    pub transitions: u64,
    /// Sharing requests known.
    pub shares: usize,
    /// Destruction requests known.
    pub destructions: usize,
    /// Records that did not fit.
    pub skipped: Vec<Skipped>,
}

/// Rebuilds the state from every record of the log: the transitions in the order of
/// their original sequence numbers (a purge's copies of retained records come after
/// later records, and may repeat one after an interrupted purge).
pub(super) fn rebuild(log: &AuditLog, state: &mut State) -> Result<RebuildReport> {
    let mut replay = Replayer::default();
    log.for_each_record(|r| {
        replay.feed(&r);
        Ok(())
    })?;
    Ok(replay.finish(state))
}

/// Collects the procedures' records in sequence order (a retained copy stands for its
/// original), then applies them.
#[derive(Default)]
struct Replayer {
    report: RebuildReport,
    transitions: BTreeMap<u64, AuditRecord>,
}

impl Replayer {
    fn feed(&mut self, r: &AuditRecord) {
        self.report.records += 1;
        let Some(original) = r.original() else {
            self.report.skipped.push(Skipped {
                seq: r.seq,
                kind: r.event.kind.clone(),
                reason: "the copy of a retained record does not parse".into(),
            });
            return;
        };
        if records::is_transition(&original.event.kind) {
            self.transitions.entry(original.seq).or_insert(original);
        }
    }

    fn finish(self, state: &mut State) -> RebuildReport {
        let mut report = self.report;
        for (seq, record) in self.transitions {
            match records::apply(state, &record) {
                Ok(()) => report.transitions += 1,
                Err(reason) => report.skipped.push(Skipped {
                    seq,
                    kind: record.event.kind.clone(),
                    reason,
                }),
            }
        }
        report.shares = state.shares.len();
        report.destructions = state.destructions.len();
        report
    }
}

/// The procedures' state rebuilt from records read elsewhere — a log read with
/// [`AuditLog::read_dir`], a backup — without an engine: what [`Workflows::open`]
/// rebuilds, for reports such as the self-assessment.
#[derive(Debug, Clone, Default)]
pub struct Replay {
    /// Every sharing request, by id, with its status as recorded (a share past its
    /// term but not yet expired shows as approved or provisioned).
    pub shares: Vec<SharingRequest>,
    /// Every destruction request, by id.
    pub destructions: Vec<DestructionRequest>,
    /// What the rebuild read, applied and skipped.
    pub report: RebuildReport,
}

/// Rebuilds the procedures' state from `records` (in any order; each transition is
/// applied in sequence order, as [`Workflows::open`] does).
pub fn replay<'a>(records: impl IntoIterator<Item = &'a AuditRecord>) -> Replay {
    let mut replayer = Replayer::default();
    for r in records {
        replayer.feed(r);
    }
    let mut state = State::default();
    let report = replayer.finish(&mut state);
    let shares = state
        .shares
        .into_values()
        .map(|mut s| {
            s.status = s.recorded_status();
            s
        })
        .collect();
    Replay {
        shares,
        destructions: state.destructions.into_values().collect(),
        report,
    }
}
