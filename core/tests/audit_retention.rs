//! Retention: six calendar months (not 180 days), whole sealed segments only, only
//! with a verified backup, the purge itself recorded; backup and restore.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod audit_support;

use audit_support::*;
use govdata::audit::{AuditLog, AuditOptions, Clock, Date, SyncMode, Timestamp};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const DAY: i64 = 86_400_000;

fn clocked(start: &str) -> (Arc<AtomicI64>, AuditOptions) {
    let now = Arc::new(AtomicI64::new(
        Timestamp::parse(start).unwrap().unix_millis(),
    ));
    let c = now.clone();
    let clock: Clock = Arc::new(move || Timestamp::from_unix_millis(c.load(Ordering::SeqCst)));
    let opts = AuditOptions::default()
        .sync(SyncMode::None)
        .segment_max_age(Some(Duration::from_secs(86_400)))
        .clock(clock);
    (now, opts)
}

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// A log with ten records a day from 2024-12-01 to 2025-03-31, then today 2025-08-31.
fn year_of_records(dir: &TempDir) -> (Arc<AtomicI64>, AuditLog) {
    let (now, opts) = clocked("2024-12-01T08:00:00Z");
    let log = AuditLog::open(dir.path(), key(), opts).unwrap();
    let mut i = 0;
    while now.load(Ordering::SeqCst) < Timestamp::parse("2025-04-01").unwrap().unix_millis() {
        for _ in 0..10 {
            log.append(&sample_event(i)).unwrap();
            i += 1;
        }
        now.fetch_add(DAY, Ordering::SeqCst);
    }
    now.store(
        Timestamp::parse("2025-08-31T12:00:00Z")
            .unwrap()
            .unix_millis(),
        Ordering::SeqCst,
    );
    (now, log)
}

#[test]
fn six_calendar_months_not_180_days() {
    let dir = TempDir::new("retention");
    let backup = TempDir::new("retention-backup");
    let (_now, log) = year_of_records(&dir);
    log.backup(backup.path()).unwrap();
    // 2025-08-31 minus six calendar months is 2025-02-28; 180 days back is 2025-03-04.
    for before in ["2025-03-01", "2025-03-04", "2025-08-01", "2025-06-01"] {
        let err = log.purge(date(before)).unwrap_err();
        assert_eq!(err.code(), "audit_retention", "{before}");
    }
    let r = log.purge(date("2025-02-28")).unwrap();
    assert!(!r.segments.is_empty());
    let first = log.records().unwrap()[0].clone();
    assert!(first.time >= date("2025-02-28").start(), "{first:?}");
}

#[test]
fn purge_needs_a_verified_backup_and_is_recorded() {
    let dir = TempDir::new("retention");
    let backup = TempDir::new("retention-backup");
    let (_now, log) = year_of_records(&dir);
    let total = log.last_seq();
    // No backup yet: refused.
    assert_eq!(
        log.purge(date("2025-01-01")).unwrap_err().code(),
        "audit_retention"
    );

    let b = log.backup(backup.path()).unwrap();
    assert!(b.copied.len() > 100, "{}", b.copied.len());
    assert_eq!(b.verified.sealed_segments, b.verified.segments);
    AuditLog::verify_dir(backup.path(), &key(), None).unwrap();
    // A second backup copies nothing new but checks what is there.
    let b2 = log.backup(backup.path()).unwrap();
    assert!(b2.copied.is_empty() || b2.copied.len() == 1);

    let r = log.purge(date("2025-01-01")).unwrap();
    assert_eq!(r.segments.len(), 31, "{r:?}"); // December 2024, one segment a day
    let through = r.through_seq.unwrap();
    assert_eq!(through, 310);
    let records = log.records().unwrap();
    assert_eq!(records[0].seq, through + 1);
    assert!(records
        .iter()
        .all(|x| x.event.kind != "decision" || x.time >= date("2025-01-01").start()));
    let purge = records
        .iter()
        .find(|x| x.event.kind == "audit.purge")
        .unwrap();
    assert_eq!(purge.event.fields["through_seq"], through);
    let v = log.verify().unwrap();
    assert_eq!(v.purged_through, Some(through));
    assert!(v.last_seq.unwrap() > total);

    // A backup copy that no longer matches stops the purge there.
    let next = format!("seg-{:010}.log", r.segments.last().unwrap() + 1);
    let mut bytes = std::fs::read(backup.join(&next)).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 1;
    std::fs::write(backup.join(&next), &bytes).unwrap();
    assert_eq!(
        log.purge(date("2025-02-01")).unwrap_err().code(),
        "audit_retention"
    );

    // A segment removed by hand, not by purge, is tampering.
    drop(log);
    let victim = dir.join(&next);
    std::fs::remove_file(&victim).unwrap();
    let err = AuditLog::verify_dir(dir.path(), &key(), None).unwrap_err();
    assert!(
        matches!(err, govdata::Error::AuditTampered { seq, .. } if seq == through + 1),
        "{err:?}"
    );
    // Once the backup copy is repaired, restoring from it brings the deleted segment
    // back, and the purged ones with it.
    std::fs::write(backup.join(&next), {
        bytes[n / 2] ^= 1;
        &bytes
    })
    .unwrap();
    let rr = AuditLog::restore(backup.path(), dir.path(), key(), AuditOptions::default()).unwrap();
    assert!(rr.restored.len() >= 32, "{}", rr.restored.len());
    assert_eq!(rr.verified.first_seq, Some(1));
    let log = AuditLog::open(dir.path(), key(), AuditOptions::default()).unwrap();
    let all = log.records().unwrap();
    assert_eq!(all[0].seq, 1);
    assert!(all.iter().any(|r| r.event.kind == "audit.restore"));
}

#[test]
fn purge_keeps_the_open_segment_and_young_segments() {
    let dir = TempDir::new("retention");
    let backup = TempDir::new("retention-backup");
    let (now, opts) = clocked("2024-01-01T00:00:00Z");
    let log = AuditLog::open(dir.path(), key(), opts).unwrap();
    for i in 0..50 {
        log.append(&sample_event(i)).unwrap();
    }
    now.store(
        Timestamp::parse("2025-06-01").unwrap().unix_millis(),
        Ordering::SeqCst,
    );
    log.backup(backup.path()).unwrap();
    // Only one, open segment: nothing to purge.
    let r = log.purge(date("2024-06-01")).unwrap();
    assert!(r.segments.is_empty());
    assert_eq!(log.records().unwrap().len(), 50);
}
