//! The zero padding of the open segment: read back as the end of the data, reopened
//! and appended to in place; a torn record inside it; zeros inside the records; a
//! roll stopped between the seal and the cut; sealed segments and backups that hold
//! records only; logs written before padding.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod audit_support;

use audit_support::*;
use govdata::audit::{AuditLog, AuditOptions, SyncMode};
use govdata::Error;
use std::path::Path;

fn options(mode: SyncMode, limit: u64) -> AuditOptions {
    AuditOptions::default()
        .sync(mode)
        .segment_max_bytes(limit)
        .segment_max_age(None)
}

/// The segment files of a directory, by name.
fn segments(dir: &Path) -> Vec<(String, Vec<u8>)> {
    snapshot(dir)
        .into_iter()
        .filter(|(n, _)| n.starts_with("seg-"))
        .collect()
}

fn tampered_at(r: govdata::Result<impl std::fmt::Debug>) -> u64 {
    match r {
        Err(Error::AuditTampered { seq, .. }) => seq,
        other => panic!("expected audit_tampered, got {other:?}"),
    }
}

#[test]
fn padding_is_the_end_of_the_data_and_appends_go_on_in_place() {
    for mode in [SyncMode::Always, SyncMode::Batch] {
        let dir = TempDir::new("pad");
        let log = AuditLog::open(dir.path(), key(), options(mode, 64 << 10)).unwrap();
        for i in 0..20 {
            log.append(&sample_event(i)).unwrap();
        }
        // Read beside the writer: the padding is not a torn tail.
        let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
        assert_eq!((v.last_seq, v.torn_tail), (Some(20), None), "{mode:?}");
        let checkpoint = log.checkpoint();
        drop(log);
        let segs = segments(dir.path());
        assert_eq!(segs.len(), 1);
        let bytes = &segs[0].1;
        let end = data_end(bytes);
        assert_eq!(frames(bytes).len(), 20);
        assert_eq!(bytes.len(), 64 << 10, "{mode:?}: padded to the size limit");
        assert!(bytes[end..].iter().all(|&b| b == 0));
        let v = AuditLog::verify_dir(dir.path(), &key(), Some(&checkpoint)).unwrap();
        assert_eq!((v.last_seq, v.torn_tail), (Some(20), None), "{mode:?}");

        let log = AuditLog::open(dir.path(), key(), options(mode, 64 << 10)).unwrap();
        assert!(log.recovery().is_none(), "{mode:?}");
        assert_eq!(log.last_seq(), 20);
        assert_eq!(log.append(&sample_event(20)).unwrap(), 21);
        assert_eq!(log.records().unwrap().len(), 21);
        drop(log);
        let after = &segments(dir.path())[0].1;
        assert_eq!(after.len(), bytes.len(), "{mode:?}: written in place");
        assert_eq!(after[..end], bytes[..end]);
        assert_eq!(frames(after).len(), 21);
        let v = AuditLog::verify_dir(dir.path(), &key(), Some(&checkpoint)).unwrap();
        assert_eq!((v.last_seq, v.torn_tail), (Some(21), None), "{mode:?}");
        // The next segment's file, if prepared, holds zeros only and is no segment.
        if let Ok(next) = std::fs::read(dir.join("audit.next")) {
            assert!(next.iter().all(|&b| b == 0));
        }
    }
}

#[test]
fn the_padding_grows_ahead_of_the_records() {
    let dir = TempDir::new("pad-grow");
    let opts = || options(SyncMode::Batch, 32 << 20);
    let log = AuditLog::open(dir.path(), key(), opts()).unwrap();
    let batch: Vec<_> = (0..200).map(sample_event).collect();
    // About 6 MB of records: past the first 4 MiB of padding.
    while std::fs::metadata(dir.join("seg-0000000000.log"))
        .unwrap()
        .len()
        < 6 << 20
        || log.last_seq() < 20_000
    {
        log.append_batch(&batch).unwrap();
    }
    let last = log.last_seq();
    drop(log);
    let bytes = &segments(dir.path())[0].1;
    let end = data_end(bytes);
    assert!(end > 5 << 20, "{end}");
    assert!(bytes.len() > end, "no padding after {end} bytes");
    assert!(bytes[end..].iter().all(|&b| b == 0));
    let log = AuditLog::open(dir.path(), key(), opts()).unwrap();
    assert!(log.recovery().is_none());
    assert_eq!(log.last_seq(), last);
    drop(log);
    // Reopened with less than half a step of padding left, it pads a step at once.
    let len = std::fs::metadata(dir.join("seg-0000000000.log"))
        .unwrap()
        .len();
    assert!(len >= end as u64 + (2 << 20), "{len} after {end}");
    let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
    assert_eq!((v.last_seq, v.torn_tail), (Some(last), None));
}

#[test]
fn sealed_segments_and_backups_hold_records_only() {
    let dir = TempDir::new("pad-sealed");
    let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always, 8192)).unwrap();
    for i in 0..80 {
        log.append(&sample_event(i)).unwrap();
    }
    let segs = segments(dir.path());
    assert!(segs.len() >= 3, "{}", segs.len());
    for (name, bytes) in &segs[..segs.len() - 1] {
        let last = *frames(bytes).last().unwrap();
        assert_eq!((last.0 + last.1, last.2), (bytes.len(), 2), "{name}");
    }
    let (_, open) = segs.last().unwrap();
    assert_eq!(open.len(), 8192);
    let backup = TempDir::new("pad-backup");
    let report = log.backup(backup.path()).unwrap();
    assert_eq!(report.copied.len(), segs.len() - 1);
    let copies = segments(backup.path());
    assert_eq!(copies[..], segs[..segs.len() - 1]);
    assert!(!backup.join("audit.next").exists());
    let v = AuditLog::verify_dir(backup.path(), &key(), None).unwrap();
    assert_eq!(v.sealed_segments, v.segments);
    drop(log);
}

#[test]
fn a_torn_record_inside_the_padding_is_cut() {
    let dir = TempDir::new("pad-torn");
    let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always, 64 << 10)).unwrap();
    for i in 0..6 {
        log.append(&sample_event(i)).unwrap();
    }
    drop(log);
    as_after_a_crash(dir.path());
    let files = snapshot(dir.path());
    let si = files
        .iter()
        .position(|(n, _)| n.starts_with("seg-"))
        .unwrap();
    let seg = files[si].1.clone();
    let (off, len, _, seq) = *frames(&seg).last().unwrap();
    assert_eq!(seq, 6);
    // Record 6 written only up to `cut` over the padding; the length field is written
    // (so the record is torn, not absent).
    for cut in [4, 13, 20, len / 2, len - 1] {
        let mut f = files.clone();
        f[si].1[off + cut..off + len].fill(0);
        lay(dir.path(), &f);
        let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
        let torn = v.torn_tail.clone().expect("a torn tail");
        assert_eq!(
            (v.last_seq, torn.offset, torn.first_lost_seq),
            (Some(5), off as u64, 6)
        );
        let log = AuditLog::open(dir.path(), key(), options(SyncMode::Batch, 64 << 10)).unwrap();
        let rep = log.recovery().unwrap();
        assert_eq!(rep.torn, torn);
        assert!(rep.bytes_cut as usize <= cut, "{cut}: {}", rep.bytes_cut);
        assert_eq!(log.append(&sample_event(60)).unwrap(), 6);
        drop(log);
        let after = &segments(dir.path())[0].1;
        assert_eq!(after.len(), 64 << 10, "padded again after the cut");
        let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
        assert_eq!((v.last_seq, v.torn_tail), (Some(6), None));
    }
}

/// Whether zeros over `[lo, hi)` in the frame at `off` reach from the frame's start,
/// or from a sector boundary inside it, to the end of a 512-byte sector: the shape a
/// sector that never reached the disk leaves.
fn looks_like_a_lost_sector(off: usize, lo: usize, hi: usize) -> bool {
    let mut at = off;
    while at < hi {
        let end = (at / 512 + 1) * 512;
        if lo <= at && end <= hi {
            return true;
        }
        at = end;
    }
    false
}

/// Zeros inside the records are tampering, unless they are the shape of a lost sector
/// of an unsynced write: that is a torn tail without a checkpoint, and tampering with
/// one.
#[test]
fn zeros_inside_the_records_are_tampering() {
    let dir = TempDir::new("pad-zeros");
    let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always, 64 << 10)).unwrap();
    for i in 0..10 {
        log.append(&sample_event(i)).unwrap();
    }
    let checkpoint = log.checkpoint();
    drop(log);
    as_after_a_crash(dir.path());
    let files = snapshot(dir.path());
    let si = files
        .iter()
        .position(|(n, _)| n.starts_with("seg-"))
        .unwrap();
    let seg = &files[si].1;
    let fr = frames(seg);
    for k in 0..fr.len() - 1 {
        let (off, len, _, seq) = fr[k];
        let next = fr[k + 1].0;
        for (lo, hi, what) in [
            (off, off + len, "a whole record (a frame of length zero)"),
            (off, off + 4, "its length field"),
            (off + 13, off + len - 4, "its payload and tag"),
            (
                off + len / 2,
                next + 10,
                "from inside it into the next record",
            ),
        ] {
            let mut f = files.clone();
            f[si].1[lo..hi].fill(0);
            lay(dir.path(), &f);
            let what = format!("record {seq}: {what}");
            if looks_like_a_lost_sector(off, lo, hi) {
                // What a power loss leaves when the sectors of an unsynced write
                // reach the disk out of order: without a checkpoint, a torn tail.
                let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
                assert_eq!(v.last_seq, Some(seq - 1), "{what}");
                assert_eq!(v.torn_tail.map(|t| t.first_lost_seq), Some(seq), "{what}");
                assert_eq!(
                    tampered_at(AuditLog::verify_dir(dir.path(), &key(), Some(&checkpoint))),
                    seq,
                    "{what}"
                );
                let log =
                    AuditLog::open(dir.path(), key(), options(SyncMode::Always, 64 << 10)).unwrap();
                assert_eq!(log.last_seq(), seq - 1, "{what}");
                continue;
            }
            assert_eq!(
                tampered_at(AuditLog::verify_dir(dir.path(), &key(), None)),
                seq,
                "{what}"
            );
            assert_eq!(
                tampered_at(AuditLog::verify_dir(dir.path(), &key(), Some(&checkpoint))),
                seq,
                "{what}"
            );
            assert_eq!(
                tampered_at(AuditLog::open(
                    dir.path(),
                    key(),
                    options(SyncMode::Always, 64 << 10)
                )),
                seq,
                "{what}"
            );
        }
    }
    // The last record zeroed reads as a shorter log: a checkpoint finds the
    // truncation.
    let (off, len, _, seq) = *fr.last().unwrap();
    let mut f = files.clone();
    f[si].1[off..off + len].fill(0);
    lay(dir.path(), &f);
    let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
    assert_eq!((v.last_seq, v.torn_tail), (Some(seq - 1), None));
    assert_eq!(
        tampered_at(AuditLog::verify_dir(dir.path(), &key(), Some(&checkpoint))),
        seq
    );
    // Zeros after the seal of a segment that another follows are tampering too.
    let dir = TempDir::new("pad-zeros-seal");
    let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always, 8192)).unwrap();
    for i in 0..40 {
        log.append(&sample_event(i)).unwrap();
    }
    drop(log);
    as_after_a_crash(dir.path());
    let mut f = snapshot(dir.path());
    let si = f.iter().position(|(n, _)| n.starts_with("seg-")).unwrap();
    let last_sealed = frames(&f[si].1).last().unwrap().3;
    f[si].1.resize(8192, 0);
    lay(dir.path(), &f);
    assert_eq!(
        tampered_at(AuditLog::verify_dir(dir.path(), &key(), None)),
        last_sealed + 1
    );
}

/// A crash after the seal of a segment was written but before the segment was cut to
/// its length (and before the next segment began).
#[test]
fn a_roll_stopped_before_the_cut_is_finished_at_open() {
    let dir = TempDir::new("pad-roll");
    let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always, 8192)).unwrap();
    for i in 0..40 {
        log.append(&sample_event(i)).unwrap();
    }
    drop(log);
    as_after_a_crash(dir.path());
    let mut f = snapshot(dir.path());
    let seg_names: Vec<String> = f
        .iter()
        .filter(|(n, _)| n.starts_with("seg-"))
        .map(|(n, _)| n.clone())
        .collect();
    // Keep the segments up to the last sealed one, padded after its seal.
    let open_name = seg_names.last().unwrap().clone();
    f.retain(|(n, _)| *n != open_name);
    let sealed_name = seg_names[seg_names.len() - 2].clone();
    let si = f.iter().position(|(n, _)| *n == sealed_name).unwrap();
    let exact = f[si].1.clone();
    let last_sealed = frames(&exact).last().unwrap().3;
    f[si].1.resize(8192, 0);
    lay(dir.path(), &f);
    let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
    assert_eq!((v.last_seq, v.torn_tail), (Some(last_sealed), None));
    assert_eq!(v.sealed_segments, v.segments);
    let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always, 8192)).unwrap();
    assert!(log.recovery().is_none());
    assert_eq!(std::fs::read(dir.join(&sealed_name)).unwrap(), exact);
    assert_eq!(log.append(&sample_event(1)).unwrap(), last_sealed + 1);
    log.verify().unwrap();
    drop(log);
    let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
    assert_eq!(v.last_seq, Some(last_sealed + 1));
}

/// A log written before padding (the open segment ends with its last record), and one
/// written in `none` mode, open in every mode and are padded from then on.
#[test]
fn a_log_without_padding_opens_and_is_padded() {
    for mode in [SyncMode::Always, SyncMode::Batch, SyncMode::None] {
        let dir = TempDir::new("pad-old");
        let log = AuditLog::open(dir.path(), key(), options(SyncMode::None, 64 << 10)).unwrap();
        for i in 0..10 {
            log.append(&sample_event(i)).unwrap();
        }
        drop(log);
        // As an older version leaves it: no prepared file, segments cut to their data.
        let _ = std::fs::remove_file(dir.join("audit.next"));
        let (name, bytes) = segments(dir.path()).pop().unwrap();
        let end = data_end(&bytes);
        std::fs::write(dir.join(&name), &bytes[..end]).unwrap();
        let log = AuditLog::open(dir.path(), key(), options(mode, 64 << 10)).unwrap();
        assert!(log.recovery().is_none(), "{mode:?}");
        assert_eq!(log.append(&sample_event(10)).unwrap(), 11, "{mode:?}");
        log.verify().unwrap();
        drop(log);
        let after = std::fs::read(dir.join(&name)).unwrap();
        assert_eq!(after[..end], bytes[..end]);
        assert_eq!(frames(&after).len(), 11);
        if mode == SyncMode::None {
            assert_eq!(after.len(), data_end(&after), "{mode:?}: no padding");
        } else {
            assert_eq!(after.len(), 64 << 10, "{mode:?}: padded");
        }
        let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
        assert_eq!((v.last_seq, v.torn_tail), (Some(11), None), "{mode:?}");
    }
}

/// A prepared next segment holding anything but zeros is not used.
#[test]
fn a_spoiled_prepared_file_is_discarded() {
    let dir = TempDir::new("pad-next");
    let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always, 8192)).unwrap();
    log.append(&sample_event(0)).unwrap();
    drop(log);
    let mut junk = vec![0u8; 8192];
    junk[8000] = 1;
    std::fs::write(dir.join("audit.next"), &junk).unwrap();
    let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always, 8192)).unwrap();
    let mut i = 1;
    while segments(dir.path()).len() < 2 {
        log.append(&sample_event(i)).unwrap();
        i += 1;
    }
    drop(log);
    // The segment that began at the roll holds zeros after its records.
    let (_, open) = segments(dir.path()).pop().unwrap();
    assert_eq!(open.len(), 8192);
    assert!(open[data_end(&open)..].iter().all(|&b| b == 0));
    let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
    assert_eq!((v.last_seq, v.torn_tail), (Some(i), None));
}
