//! Power loss: every state of the log's files that a power loss can leave, at every
//! point of a run that appends, rolls segments, closes and reopens, in every sync
//! mode, opens to a log that holds every acknowledged record and verifies clean; a
//! synced state modified in a way a power loss cannot is still `audit_tampered`.
//!
//! The run's file operations are traced (`govdata::disk::Trace`) and replayed into
//! the model of `power_loss_support`, which says which states a power loss leaves.
//! Each state is written to a directory of its own and opened with the real code.
//! `scripts/power-loss-soak.sh` runs it with larger samples.
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod audit_support;
mod power_loss_support;

use audit_support::*;
use govdata::audit::{AuditLog, AuditOptions, Event, SyncMode};
use govdata::disk::{Op, Trace};
use govdata::Error;
use power_loss_support::{final_state, materialise, nested_every, replay, replay_from, State};
use std::path::Path;
use std::time::Duration;

const SEGMENT: u64 = 2048;

fn options(sync: SyncMode) -> AuditOptions {
    let mut o = AuditOptions::default()
        .sync(sync)
        .segment_max_bytes(SEGMENT);
    o.batch_max_delay = Duration::ZERO;
    o
}

/// An event of a few hundred bytes, so that records cross sector boundaries.
fn event(i: u64) -> Event {
    Event::new("decision")
        .user("zhang.san")
        .field("request", format!("req-{i}"))
        .field("note", "x".repeat(150 + (i as usize * 97) % 400))
}

/// What a run acknowledged: (operations traced when it was acknowledged, the last
/// sequence number then durable by the mode's promise).
struct Run {
    ops: Vec<Op>,
    acked: Vec<(usize, u64)>,
}

impl Run {
    /// The last record acknowledged durable once `point` operations were done.
    fn acked_at(&self, point: usize) -> u64 {
        self.acked
            .iter()
            .filter(|(at, _)| *at <= point)
            .map(|(_, seq)| *seq)
            .max()
            .unwrap_or(0)
    }
}

/// Appends, rolls, closes, reopens and appends again, tracing the files.
fn run(dir: &Path, sync: SyncMode) -> Run {
    let trace = Trace::start(dir).unwrap();
    let mut acked = Vec::new();
    let mut ack = |trace: &Trace, seq: u64, durable: bool| {
        if durable {
            acked.push((trace.len(), seq));
        }
    };
    let promised = sync != SyncMode::None;
    let mut i = 0;
    let mut next = || {
        i += 1;
        event(i)
    };
    {
        let log = AuditLog::open(dir, key(), options(sync)).unwrap();
        for _ in 0..12 {
            let seq = log.append(&next()).unwrap();
            ack(&trace, seq, promised);
        }
        let batch: Vec<Event> = (0..5).map(|_| next()).collect();
        let r = log.append_batch(&batch).unwrap();
        ack(&trace, *r.end(), promised);
        log.sync().unwrap();
        ack(&trace, log.last_seq(), true);
        for _ in 0..4 {
            let seq = log.append(&next()).unwrap();
            ack(&trace, seq, promised);
        }
        log.close().unwrap();
        ack(&trace, log.last_seq(), true);
    }
    {
        let log = AuditLog::open(dir, key(), options(sync)).unwrap();
        let batch: Vec<Event> = (0..4).map(|_| next()).collect();
        let r = log.append_batch(&batch).unwrap();
        ack(&trace, *r.end(), promised);
        for _ in 0..3 {
            let seq = log.append(&next()).unwrap();
            ack(&trace, seq, promised);
        }
        // Dropped without a close: the drop syncs, but promises nothing.
    }
    Run {
        ops: trace.ops(),
        acked,
    }
}

/// Opens the state in `dir` as a reader and as the writer: no tampering, every
/// acknowledged record there, and a log that takes appends again. With `trace`,
/// returns the file operations of the opening and what follows when the opening
/// recovered a torn tail.
fn check_state(dir: &Path, sync: SyncMode, acked: u64, what: &str, trace: bool) -> Option<Vec<Op>> {
    if !dir.join("audit.meta").exists() {
        assert_eq!(acked, 0, "{what}: the metadata is gone");
        return None;
    }
    let read = AuditLog::verify_dir(dir, &key(), None)
        .unwrap_or_else(|e| panic!("{what}: verify_dir: {e} ({})", e.code()));
    assert!(
        read.last_seq.unwrap_or(0) >= acked,
        "{what}: a reader sees records through {:?}, {acked} were acknowledged",
        read.last_seq
    );
    let traced = trace.then(|| Trace::start(dir).unwrap());
    let log = AuditLog::open(dir, key(), options(sync))
        .unwrap_or_else(|e| panic!("{what}: open: {e} ({})", e.code()));
    let recovered = log.recovery().is_some();
    let last = log.last_seq();
    assert!(
        last >= acked,
        "{what}: opened through {last}, {acked} acknowledged"
    );
    let report = log
        .verify()
        .unwrap_or_else(|e| panic!("{what}: verify after open: {e} ({})", e.code()));
    assert_eq!(report.last_seq.unwrap_or(0), last, "{what}");
    let seq = log.append(&event(1000)).unwrap();
    assert_eq!(seq, last + 1, "{what}");
    log.close().unwrap();
    let ops = traced.map(|t| t.ops());
    let after = AuditLog::verify_dir(dir, &key(), None)
        .unwrap_or_else(|e| panic!("{what}: verify_dir after reopening: {e} ({})", e.code()));
    assert_eq!(after.last_seq, Some(seq), "{what}");
    ops.filter(|_| recovered)
}

fn describe(state: &State) -> String {
    state
        .iter()
        .map(|(p, b)| format!("{}:{}", p.display(), b.len()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn sweep(sync: SyncMode) {
    let work = power_loss_support::WorkDir::new(&format!("audit-{}", sync.as_str()));
    let live = work.join("live");
    std::fs::create_dir_all(&live).unwrap();
    let run = run(&live, sync);
    assert!(
        run.ops.len() > 20,
        "the trace holds {} operations",
        run.ops.len()
    );
    let at = work.join("state");
    let again = work.join("state-again");
    let salt = |point: usize| run.acked_at(point).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let every = nested_every();
    let (mut recoveries, mut nested) = (0, 0);
    let n = replay(&run.ops, &salt, &mut |state, point| {
        let acked = run.acked_at(point);
        materialise(state, &at);
        let what = format!(
            "{} after operation {point} of {} ({:?}), records through {acked} acknowledged, files {}",
            sync.as_str(),
            run.ops.len(),
            point.checked_sub(1).map(|p| &run.ops[p]).map(short),
            describe(state)
        );
        let Some(ops) = check_state(&at, sync, acked, &what, true) else {
            return;
        };
        recoveries += 1;
        if recoveries % every != 0 {
            return;
        }
        // A power loss again while this state is recovered: the acknowledged
        // records are still all there.
        nested += replay_from(state, &ops, &|_| 0, &mut |again_state, p| {
            materialise(again_state, &again);
            let what = format!("{what}, then a power loss after operation {p} of its recovery");
            check_state(&again, sync, acked, &what, false);
        });
    });
    eprintln!(
        "power loss, {}: {} operations traced, {n} crash states checked, {recoveries} of them recovered a torn tail; {nested} states of a power loss during recovery checked",
        sync.as_str(),
        run.ops.len()
    );
    tampering_is_still_found(&final_state(&run.ops), &work.join("tampered"), sync);
}

fn short(op: &Op) -> String {
    match op {
        Op::Write { path, offset, data } => {
            format!("write {} at {offset}, {} bytes", path.display(), data.len())
        }
        other => format!("{other:?}"),
    }
}

#[test]
fn power_loss_always() {
    sweep(SyncMode::Always);
}

#[test]
fn power_loss_batch() {
    sweep(SyncMode::Batch);
}

#[test]
fn power_loss_none() {
    sweep(SyncMode::None);
}

/// The records of the last segment of a synced state: (offset, frame length).
fn frames(seg: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut at = 112;
    while at + 4 <= seg.len() {
        let len = u32::from_le_bytes(seg[at..at + 4].try_into().unwrap()) as usize;
        if len == 0 {
            break;
        }
        out.push((at, len + 49));
        at += len + 49;
    }
    out
}

fn last_segment(state: &State) -> std::path::PathBuf {
    state
        .keys()
        .filter(|p| p.to_string_lossy().starts_with("seg-"))
        .max()
        .cloned()
        .unwrap()
}

fn assert_tampered(dir: &Path, what: &str) {
    match AuditLog::verify_dir(dir, &key(), None) {
        Err(Error::AuditTampered { .. }) => {}
        other => panic!("{what}: verify_dir gave {other:?}"),
    }
}

fn assert_open_tampered(dir: &Path, sync: SyncMode, what: &str) {
    match AuditLog::open(dir, key(), options(sync)) {
        Err(Error::AuditTampered { .. }) => {}
        other => panic!("{what}: open gave {other:?}"),
    }
}

/// Changes a synced state in ways a power loss cannot: each is still tampering.
fn tampering_is_still_found(synced: &State, at: &Path, sync: SyncMode) {
    materialise(synced, at);
    AuditLog::verify_dir(at, &key(), None).unwrap();
    let seg = last_segment(synced);
    let bytes = &synced[&seg];
    let fr = frames(bytes);
    assert!(fr.len() >= 3, "{} records in the last segment", fr.len());
    let (mid, mid_len) = fr[fr.len() / 2];

    // A byte of a synced record flipped, records after it.
    let mut s = synced.clone();
    s.get_mut(&seg).unwrap()[mid + mid_len / 2] ^= 0x20;
    materialise(&s, at);
    assert_tampered(at, "a flipped byte");
    assert_open_tampered(at, sync, "a flipped byte");

    // A synced record deleted from the middle.
    let mut s = synced.clone();
    s.get_mut(&seg).unwrap().drain(mid..mid + mid_len);
    materialise(&s, at);
    assert_tampered(at, "a deleted record");
    assert_open_tampered(at, sync, "a deleted record");

    // The last synced record cut off: the checkpoint left at close covers it.
    let (last, _) = fr[fr.len() - 1];
    let mut s = synced.clone();
    s.get_mut(&seg).unwrap().truncate(last);
    materialise(&s, at);
    assert_tampered(at, "a cut record");

    // A synced record's sector zeroed, as a lost sector would look, records after
    // it: the checkpoint left at close covers them.
    let mut s = synced.clone();
    let from = (mid / 512 + 1) * 512;
    let b = s.get_mut(&seg).unwrap();
    let to = (from + 512).min(b.len());
    b[from..to].fill(0);
    materialise(&s, at);
    assert_tampered(at, "a zeroed sector");
    assert_open_tampered(at, sync, "a zeroed sector");
}

/// A log of two synced records and an unsynced batch of three after them, as the
/// files stand once written (the batch too): the segment's bytes and the offset of
/// the batch's first frame. The checkpoint left at close is removed, as a crash
/// leaves none, unless `keep_head`.
fn batch_after_two(dir: &Path, keep_head: bool) -> (std::path::PathBuf, usize) {
    {
        let log = AuditLog::open(dir, key(), options(SyncMode::Always)).unwrap();
        log.append(&event(1)).unwrap();
        log.append(&event(2)).unwrap();
        let batch: Vec<Event> = (3..6).map(event).collect();
        log.append_batch(&batch).unwrap();
    }
    if !keep_head {
        std::fs::remove_file(dir.join("audit.head")).unwrap();
    }
    let seg = dir.join("seg-0000000000.log");
    let fr = frames(&std::fs::read(&seg).unwrap());
    assert_eq!(fr.len(), 5);
    (seg, fr[2].0)
}

/// The sector where an unsynced batch begins did not reach the disk, later sectors
/// of the batch did: a torn tail, cut at the batch, not tampering (it was tampering
/// before the scan looked for lost sectors).
#[test]
fn a_lost_sector_of_an_unsynced_write_is_a_torn_tail() {
    let work = power_loss_support::WorkDir::new("lost-sector");
    let dir = work.join("log");
    let (seg, at) = batch_after_two(&dir, false);
    let mut bytes = std::fs::read(&seg).unwrap();
    let sector_end = (at / 512 + 1) * 512;
    bytes[at..sector_end].fill(0);
    assert!(bytes[sector_end..].iter().any(|b| *b != 0));
    std::fs::write(&seg, &bytes).unwrap();

    let read = AuditLog::verify_dir(&dir, &key(), None).unwrap();
    assert_eq!(read.last_seq, Some(2));
    assert_eq!(read.torn_tail.unwrap().first_lost_seq, 3);
    let log = AuditLog::open(&dir, key(), options(SyncMode::Always)).unwrap();
    assert_eq!(log.recovery().unwrap().torn.first_lost_seq, 3);
    assert_eq!(log.last_seq(), 2);
    assert_eq!(log.append(&event(3)).unwrap(), 3);
    log.close().unwrap();
    assert_eq!(
        AuditLog::verify_dir(&dir, &key(), None).unwrap().last_seq,
        Some(3)
    );
}

/// The same bytes, but the records were synced and the checkpoint left at close
/// covers them: opening refuses to cut them, and a reader finds them changed.
#[test]
fn a_zeroed_sector_that_the_checkpoint_covers_is_tampering() {
    let work = power_loss_support::WorkDir::new("zeroed-sector");
    let dir = work.join("log");
    let (seg, at) = batch_after_two(&dir, true);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[at..(at / 512 + 1) * 512].fill(0);
    std::fs::write(&seg, &bytes).unwrap();
    assert_tampered(&dir, "a zeroed sector under the checkpoint");
    match AuditLog::open(&dir, key(), options(SyncMode::Always)) {
        Err(Error::AuditTampered { seq: 3, .. }) => {}
        other => panic!("open gave {other:?}"),
    }
}

/// A changed byte in the last frames, with records after it and no zero sector, is
/// still tampering without any checkpoint.
#[test]
fn a_changed_byte_before_later_records_is_still_tampering() {
    let work = power_loss_support::WorkDir::new("changed-byte");
    let dir = work.join("log");
    let (seg, at) = batch_after_two(&dir, false);
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[at + 20] ^= 0x01;
    std::fs::write(&seg, &bytes).unwrap();
    assert_tampered(&dir, "a changed byte");
    assert_open_tampered(&dir, SyncMode::Always, "a changed byte");
}
