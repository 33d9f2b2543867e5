//! Crash safety: a writing child process killed with SIGKILL at random moments loses
//! no acknowledged record and leaves no false alarm; a torn last record, cut at every
//! byte offset, recovers to the record before it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod audit_support;

use audit_support::*;
use govdata::audit::{AuditLog, AuditOptions, SyncMode};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD_ENV: &str = "GOVDATA_AUDIT_CRASH_DIR";

fn options(mode: SyncMode) -> AuditOptions {
    AuditOptions::default()
        .sync(mode)
        .segment_max_bytes(16 << 10)
        .segment_max_age(None)
}

/// The writing child: appends from three threads and prints every acknowledged
/// record; runs until it is killed. Does nothing in a normal test run.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mode: SyncMode = std::env::var("GOVDATA_AUDIT_CRASH_MODE")
        .unwrap()
        .parse()
        .unwrap();
    let log = std::sync::Arc::new(AuditLog::open(&dir, key(), options(mode)).unwrap());
    let threads: Vec<_> = (0..3u64)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for n in 0.. {
                    let seq = log.append(&sample_event(n).field("t", t)).unwrap();
                    println!("ACK {seq} {t} {n}");
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

fn trials() -> usize {
    std::env::var("GOVDATA_AUDIT_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

#[test]
fn sigkill_loses_no_acknowledged_record() {
    let exe = std::env::current_exe().unwrap();
    let mut rng = StdRng::seed_from_u64(0xC0FFEE);
    let mut dir = TempDir::new("crash");
    // Acknowledged records that must survive, by seq: (thread, n).
    let mut acked: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let mut total_acks = 0usize;
    for trial in 0..trials() {
        if trial % 5 == 0 {
            dir = TempDir::new("crash");
            acked.clear();
        }
        let mode = match trial % 5 {
            0 | 1 => SyncMode::Always,
            2 | 3 => SyncMode::Batch,
            _ => SyncMode::None,
        };
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .env("GOVDATA_AUDIT_CRASH_MODE", mode.as_str())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut acks = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut it = line.split(' ');
                if it.next() == Some("ACK") {
                    let v: Vec<u64> = it.map(|x| x.parse().unwrap()).collect();
                    acks.push((v[0], v[1], v[2]));
                }
            }
            acks
        });
        std::thread::sleep(Duration::from_millis(rng.gen_range(5..60)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let acks = reader.join().unwrap();
        total_acks += acks.len();
        if mode != SyncMode::None {
            for (seq, t, n) in &acks {
                acked.insert(*seq, (*t, *n));
            }
        }
        if !dir.join("audit.meta").exists() {
            continue; // killed before the log existed
        }
        // Read-only verification of the crashed log: a torn tail at most, never tampering.
        let before = AuditLog::verify_dir(dir.path(), &key(), None).unwrap_or_else(|e| {
            panic!("trial {trial} ({mode:?}): false alarm before recovery: {e}")
        });
        // Recovery, then every acknowledged record is there with its content.
        let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always))
            .unwrap_or_else(|e| panic!("trial {trial} ({mode:?}): open after crash: {e}"));
        if let Some(r) = log.recovery() {
            assert_eq!(before.torn_tail.as_ref(), Some(&r.torn), "trial {trial}");
        }
        let mut present = BTreeMap::new();
        log.for_each_record(|r| {
            let t = r.event.fields.get("t").and_then(|v| v.as_u64()).unwrap();
            let n = r.event.fields.get("n").and_then(|v| v.as_u64()).unwrap();
            present.insert(r.seq, (t, n));
            Ok(())
        })
        .unwrap();
        for (seq, tn) in &acked {
            assert_eq!(
                present.get(seq),
                Some(tn),
                "trial {trial} ({mode:?}): acknowledged record {seq} lost"
            );
        }
        log.verify()
            .unwrap_or_else(|e| panic!("trial {trial}: false alarm after recovery: {e}"));
        // The acknowledged set now includes whatever survived (for the next trials).
        acked = present;
    }
    assert!(
        total_acks > 100,
        "the child acknowledged too few records ({total_acks})"
    );
}

/// The last record cut at every byte offset recovers to the record before it: in a
/// file that ends at the cut (as a log written without padding does), followed by
/// zeros or by garbage, and inside the zero padding of the open segment (the write of
/// the record stopped at the cut, or garbage landed in its place). Where the written
/// part of the record is zeros only, nothing was torn: the padding begins there.
#[test]
fn torn_last_record_at_every_offset() {
    let base = TempDir::new("torn-base");
    let log = AuditLog::open(base.path(), key(), options(SyncMode::Always)).unwrap();
    for i in 0..5 {
        log.append(&sample_event(i)).unwrap();
    }
    drop(log);
    as_after_a_crash(base.path());
    let files = snapshot(base.path());
    let si = files
        .iter()
        .position(|(n, _)| n.starts_with("seg-"))
        .unwrap();
    let seg = &files[si].1;
    let (off, len, _, seq) = *frames(seg).last().unwrap();
    assert_eq!(seq, 5);
    // The open segment is padded: zeros after the last record, to the size limit.
    assert_eq!(seg.len(), 16 << 10);
    assert!(seg[off + len..].iter().all(|&b| b == 0));
    let dir = TempDir::new("torn");
    let mut rng = StdRng::seed_from_u64(9);
    for cut in 0..len {
        for variant in 0..5 {
            let garbage = matches!(variant, 2 | 4);
            let bytes = match variant {
                0 => seg[..off + cut].to_vec(),
                1 => {
                    let mut b = seg[..off + cut].to_vec();
                    b.resize(off + len + rng.gen_range(0..512), 0);
                    b
                }
                2 => {
                    if cut == 0 {
                        continue;
                    }
                    let mut b = seg[..off + cut].to_vec();
                    b.extend((cut..len).map(|_| rng.gen::<u8>()));
                    b
                }
                3 => {
                    let mut b = seg.clone();
                    b[off + cut..off + len].fill(0);
                    b
                }
                _ => {
                    let mut b = seg.clone();
                    b[off + cut..off + len]
                        .iter_mut()
                        .for_each(|x| *x = rng.gen());
                    b
                }
            };
            let clean = !garbage && seg[off..off + cut].iter().all(|&b| b == 0);
            let what = format!("cut {cut} variant {variant}");
            let mut f = files.clone();
            f[si].1 = bytes.clone();
            lay(dir.path(), &f);
            let r = AuditLog::verify_dir(dir.path(), &key(), None)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(r.last_seq, Some(4), "{what}");
            assert_eq!(r.torn_tail.is_some(), !clean, "{what}");
            let log = AuditLog::open(dir.path(), key(), options(SyncMode::None)).unwrap();
            match log.recovery() {
                Some(rep) => {
                    assert!(!clean, "{what}");
                    assert_eq!(rep.torn.first_lost_seq, 5, "{what}");
                    assert_eq!(rep.torn.offset as usize, off, "{what}");
                    let kept = std::fs::read(&rep.kept_at).unwrap();
                    assert_eq!(kept.len() as u64, rep.bytes_cut, "{what}");
                    assert_eq!(kept[..], bytes[off..off + kept.len()], "{what}");
                    assert_ne!(kept.last(), Some(&0), "{what}: padding kept as torn bytes");
                }
                None => assert!(clean, "{what}"),
            }
            assert_eq!(log.last_seq(), 4);
            assert_eq!(log.append(&sample_event(99)).unwrap(), 5);
            let v = log.verify().unwrap();
            assert_eq!((v.last_seq, v.torn_tail), (Some(5), None));
            drop(log);
            let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
            assert_eq!((v.last_seq, v.torn_tail), (Some(5), None), "{what}");
        }
    }
}

/// The same cut after a clean close is no crash: the writer acknowledged the record
/// and left its checkpoint, so the cut is tampering, found without any checkpoint of
/// the reader's own.
#[test]
fn a_record_cut_after_a_clean_close_is_tampering() {
    let dir = TempDir::new("cut-after-close");
    let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always)).unwrap();
    for i in 0..5 {
        log.append(&sample_event(i)).unwrap();
    }
    log.close().unwrap();
    drop(log);
    let files = snapshot(dir.path());
    let (name, seg) = files.iter().find(|(n, _)| n.starts_with("seg-")).unwrap();
    let (off, _, _, seq) = *frames(seg).last().unwrap();
    assert_eq!(seq, 5);
    let mut cut = seg.clone();
    cut[off..].fill(0);
    std::fs::write(dir.join(name), &cut).unwrap();
    let e = AuditLog::verify_dir(dir.path(), &key(), None).unwrap_err();
    assert_eq!(e.code(), "audit_tampered");
    assert!(e.to_string().contains("audit.head"), "{e}");
    // A damaged head is tampering too, never a reason to skip the check.
    std::fs::write(dir.join(name), seg).unwrap();
    AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
    std::fs::write(dir.join("audit.head"), b"gdaudit1:00:1:00:00\n").unwrap();
    assert_eq!(
        AuditLog::verify_dir(dir.path(), &key(), None)
            .unwrap_err()
            .code(),
        "audit_tampered"
    );
}

/// A crash while a new segment's header was being written.
#[test]
fn torn_segment_header_recovers() {
    let dir = TempDir::new("torn-header");
    let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always)).unwrap();
    for i in 0..200 {
        log.append(&sample_event(i)).unwrap();
    }
    let last = log.last_seq();
    drop(log);
    as_after_a_crash(dir.path());
    let segs: Vec<_> = snapshot(dir.path())
        .into_iter()
        .filter(|(n, _)| n.starts_with("seg-"))
        .collect();
    assert!(segs.len() >= 3);
    // Make the open segment empty, then cut its header.
    let (name, bytes) = segs.last().unwrap();
    let sealed_last = last - frames(bytes).len() as u64;
    for cut in [0usize, 1, 50, 111] {
        std::fs::write(dir.join(name), &bytes[..cut]).unwrap();
        let v = AuditLog::verify_dir(dir.path(), &key(), None).unwrap();
        assert_eq!(v.last_seq, Some(sealed_last));
        let log = AuditLog::open(dir.path(), key(), options(SyncMode::Always)).unwrap();
        assert!(log.recovery().is_some() || cut == 0);
        assert_eq!(log.append(&sample_event(1)).unwrap(), sealed_last + 1);
        log.verify().unwrap();
        drop(log);
        as_after_a_crash(dir.path());
        std::fs::write(dir.join(name), &bytes[..112]).unwrap();
    }
}
