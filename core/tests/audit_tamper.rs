//! Every kind of tampering, in generated cases: `verify` reports it at the first bad
//! sequence number. Hundreds of cases per kind here; `scripts/audit-soak.sh` runs
//! many more (`GOVDATA_AUDIT_CASES`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod audit_support;

use audit_support::*;
use govdata::audit::{AuditLog, AuditOptions, Checkpoint, HashSuite, SyncMode};
use govdata::Error;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;

type Files = Vec<(String, Vec<u8>)>;

struct Base {
    files: Files,
    checkpoint: Checkpoint,
    /// The directory after each append.
    history: Vec<Files>,
}

/// A log of `records` records in segments of 4 KiB. In `batch` (and `always`) the
/// open segment is padded with zeros after its records; in `none` it is not, as in
/// logs written before padding.
fn build(suite: HashSuite, mode: SyncMode, records: u64, key_bytes: [u8; 32]) -> Base {
    let dir = TempDir::new("tamper-base");
    let opts = AuditOptions::default()
        .sync(mode)
        .suite(suite)
        .segment_max_bytes(4096)
        .segment_max_age(None);
    let log = AuditLog::open(
        dir.path(),
        govdata::audit::SealingKey::from_bytes(key_bytes),
        opts,
    )
    .unwrap();
    let mut history = Vec::new();
    for i in 0..records {
        log.append(&sample_event(i)).unwrap();
        log.sync().unwrap();
        history.push(snapshot(dir.path()));
    }
    let checkpoint = log.checkpoint();
    drop(log);
    Base {
        files: snapshot(dir.path()),
        checkpoint,
        history,
    }
}

/// The generator of case `kind`; `GOVDATA_AUDIT_SEED` draws other cases.
fn rng(kind: u64) -> StdRng {
    let seed: u64 = std::env::var("GOVDATA_AUDIT_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    StdRng::seed_from_u64(seed.wrapping_mul(1000).wrapping_add(kind))
}

fn cases() -> usize {
    std::env::var("GOVDATA_AUDIT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Segment files in order: (position in `files`, first seq, frames).
/// (offset, length, kind, seq) of each frame.
type FrameList = Vec<(usize, usize, u8, u64)>;

fn segments(files: &Files) -> Vec<(usize, u64, FrameList)> {
    files
        .iter()
        .enumerate()
        .filter(|(_, (n, _))| n.starts_with("seg-"))
        .map(|(i, (_, b))| {
            let first = u64::from_le_bytes(b[40..48].try_into().unwrap());
            (i, first, frames(b))
        })
        .collect()
}

fn expect_tampered(dir: &Path, files: &Files, cp: &Checkpoint, expected: u64, what: &str) {
    lay(dir, files);
    match AuditLog::verify_dir(dir, &key(), Some(cp)) {
        Err(Error::AuditTampered { seq, .. }) if seq == expected => {}
        other => panic!("{what}: expected tampering at record {expected}, got {other:?}"),
    }
}

fn bases() -> Vec<Base> {
    vec![
        build(HashSuite::Sha256, SyncMode::Batch, 45, KEY),
        build(HashSuite::Sm3, SyncMode::None, 37, KEY),
    ]
}

#[test]
fn intact_logs_verify() {
    let dir = TempDir::new("tamper");
    for (bi, b) in bases().iter().enumerate() {
        lay(dir.path(), &b.files);
        let r = AuditLog::verify_dir(dir.path(), &key(), Some(&b.checkpoint)).unwrap();
        assert_eq!(r.last_seq, Some(b.checkpoint.seq()));
        assert!(r.sealed_segments >= 2, "{r:?}");
        assert!(r.torn_tail.is_none());
        // The first base's open segment ends in zero padding, the second's does not;
        // sealed segments end with their seal.
        let segs = segments(&b.files);
        for (k, (fi, _, frames)) in segs.iter().enumerate() {
            let bytes = &b.files[*fi].1;
            if k + 1 < segs.len() {
                assert_eq!(
                    frames.last().map(|f| (f.0 + f.1, f.2)),
                    Some((bytes.len(), 2))
                );
            } else {
                assert_eq!(data_end(bytes) < bytes.len(), bi == 0, "base {bi}");
            }
        }
    }
}

#[test]
fn flipped_byte_in_every_field() {
    let dir = TempDir::new("tamper");
    let mut rng = rng(1);
    for (bi, b) in bases().iter().enumerate() {
        let segs = segments(&b.files);
        for case in 0..cases() {
            let (fi, first, frames) = &segs[rng.gen_range(0..segs.len())];
            let mut files = b.files.clone();
            let bytes = &mut files[*fi].1;
            // A header byte, or a byte of a frame (length, kind, seq, payload, tag, crc).
            let (at, expected, what) = if rng.gen_ratio(1, 10) || frames.is_empty() {
                (rng.gen_range(0..112), *first, "header")
            } else {
                let (off, len, kind, seq) = frames[rng.gen_range(0..frames.len())];
                let field = rng.gen_range(0..6);
                let (lo, hi) = match field {
                    0 => (0, 4),
                    1 => (4, 5),
                    2 => (5, 13),
                    3 => (13, len - 36),
                    4 => (len - 36, len - 4),
                    _ => (len - 4, len),
                };
                let at = off + rng.gen_range(lo..hi);
                if kind == 2 {
                    (at, seq + 1, "seal")
                } else {
                    (
                        at,
                        seq,
                        ["length", "kind", "seq", "payload", "tag", "crc"][field],
                    )
                }
            };
            bytes[at] ^= 1 << rng.gen_range(0..8);
            expect_tampered(
                dir.path(),
                &files,
                &b.checkpoint,
                expected,
                &format!("base {bi} case {case}: flipped {what} byte at {at}"),
            );
        }
    }
}

#[test]
fn flipped_byte_in_the_metadata() {
    let dir = TempDir::new("tamper");
    let b = &bases()[0];
    let mut rng = rng(2);
    let mi = b.files.iter().position(|(n, _)| n == "audit.meta").unwrap();
    for _ in 0..cases() {
        let mut files = b.files.clone();
        let m = &mut files[mi].1;
        let at = rng.gen_range(0..m.len());
        let old = m[at];
        m[at] = loop {
            let c = b"0123456789abcdef{}\":, x"[rng.gen_range(0..23)];
            if c != old {
                break c;
            }
        };
        lay(dir.path(), &files);
        match AuditLog::verify_dir(dir.path(), &key(), Some(&b.checkpoint)) {
            Err(e) => assert!(
                matches!(
                    e.code(),
                    "audit_tampered" | "key_invalid" | "request_invalid"
                ),
                "{e:?}"
            ),
            Ok(_) => {
                // Only whitespace-insignificant edits may pass: the content is the same.
                let text = String::from_utf8_lossy(&files[mi].1);
                assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok());
            }
        }
    }
}

#[test]
fn deleted_record() {
    let dir = TempDir::new("tamper");
    let mut rng = rng(3);
    for b in bases() {
        let segs = segments(&b.files);
        for case in 0..cases() {
            let (fi, _, frames) = &segs[rng.gen_range(0..segs.len())];
            let records: Vec<_> = frames.iter().filter(|f| f.2 == 1).collect();
            if records.is_empty() {
                continue;
            }
            let (off, len, _, seq) = *records[rng.gen_range(0..records.len())];
            let mut files = b.files.clone();
            files[*fi].1.drain(off..off + len);
            expect_tampered(
                dir.path(),
                &files,
                &b.checkpoint,
                seq,
                &format!("case {case}: deleted record {seq}"),
            );
        }
    }
}

#[test]
fn inserted_forged_record() {
    let dir = TempDir::new("tamper");
    let mut rng = rng(4);
    for b in bases() {
        let segs = segments(&b.files);
        for case in 0..cases() {
            let (fi, first, frames) = &segs[rng.gen_range(0..segs.len())];
            // Insert before frame k (or at the end).
            let k = rng.gen_range(0..=frames.len());
            let (at, pos_seq) = match frames.get(k) {
                Some(&(off, _, kind, seq)) => (off, if kind == 2 { seq + 1 } else { seq }),
                None => match frames.last() {
                    Some(&(off, len, _, seq)) => (off + len, seq + 1),
                    None => (112, *first),
                },
            };
            // The forger claims the sequence number of the position, or replays a real
            // record from elsewhere in the log.
            let mut expected = pos_seq;
            let frame = if rng.gen_bool(0.5) {
                let mut payload = serde_json::to_vec(&serde_json::json!({
                    "time": "2025-01-01T00:00:00.000Z", "kind": "decision",
                    "user": "zhang.san", "decision": "allow", "outcome": "success"}))
                .unwrap();
                payload.truncate(rng.gen_range(1..=payload.len()));
                let mut f = Vec::new();
                f.extend_from_slice(&(payload.len() as u32).to_le_bytes());
                f.push(1);
                f.extend_from_slice(&pos_seq.to_le_bytes());
                f.extend_from_slice(&payload);
                f.extend((0..32).map(|_| rng.gen::<u8>()));
                f.extend_from_slice(&[0; 4]);
                fix_crc(&mut f);
                f
            } else {
                let (ofi, _, of) = &segs[rng.gen_range(0..segs.len())];
                let recs: Vec<_> = of.iter().filter(|f| f.2 == 1).collect();
                if recs.is_empty() {
                    continue;
                }
                let (o, l, _, rs) = *recs[rng.gen_range(0..recs.len())];
                let after_seal = k > 0 && frames[k - 1].2 == 2;
                let before_seal = frames.get(k).is_some_and(|f| f.2 == 2);
                if rs == pos_seq && !after_seal && !before_seal {
                    // A copy of the very record that follows: the log is right through
                    // it, and wrong where the next record should be. (Before a seal,
                    // the record that follows is in the next segment: the seal does not
                    // cover the copy.)
                    expected = pos_seq + 1;
                }
                b.files[*ofi].1[o..o + l].to_vec()
            };
            let mut files = b.files.clone();
            let bytes = &mut files[*fi].1;
            bytes.splice(at..at, frame);
            expect_tampered(
                dir.path(),
                &files,
                &b.checkpoint,
                expected,
                &format!("case {case}: inserted at {pos_seq}"),
            );
        }
    }
}

#[test]
fn swapped_records() {
    let dir = TempDir::new("tamper");
    let mut rng = rng(5);
    for b in bases() {
        let segs = segments(&b.files);
        let all: Vec<(usize, usize, usize, u64)> = segs
            .iter()
            .flat_map(|(fi, _, fr)| {
                fr.iter()
                    .filter(|f| f.2 == 1)
                    .map(move |f| (*fi, f.0, f.1, f.3))
            })
            .collect();
        for case in 0..cases() {
            let i = rng.gen_range(0..all.len());
            let j = rng.gen_range(0..all.len());
            if i == j {
                continue;
            }
            let (a, bb) = if all[i].3 < all[j].3 {
                (all[i], all[j])
            } else {
                (all[j], all[i])
            };
            let mut files = b.files.clone();
            let fa = b.files[a.0].1[a.1..a.1 + a.2].to_vec();
            let fb = b.files[bb.0].1[bb.1..bb.1 + bb.2].to_vec();
            // Replace the later one first so the earlier offsets stay valid.
            files[bb.0].1.splice(bb.1..bb.1 + bb.2, fa);
            files[a.0].1.splice(a.1..a.1 + a.2, fb);
            expect_tampered(
                dir.path(),
                &files,
                &b.checkpoint,
                a.3,
                &format!("case {case}: swapped {} and {}", a.3, bb.3),
            );
        }
    }
}

#[test]
fn truncated_tail() {
    let dir = TempDir::new("tamper");
    let mut rng = rng(6);
    for b in bases() {
        let segs = segments(&b.files);
        for case in 0..cases() {
            let s = rng.gen_range(0..segs.len());
            let (fi, first, frames) = &segs[s];
            // Within the records (the zero padding of the open segment holds none).
            let total = data_end(&b.files[*fi].1);
            let cut = rng.gen_range(0..total);
            // The first record not wholly kept.
            let mut expected = *first;
            for &(off, len, _, seq) in frames {
                if off + len <= cut {
                    expected = seq + 1; // after a record or a seal (whose seq is its last record)
                }
            }
            let mut files = b.files.clone();
            if rng.gen_bool(0.5) {
                files[*fi].1.truncate(cut);
            } else {
                // Cut by zeroing, the file keeping its length.
                files[*fi].1[cut..].fill(0);
            }
            // Drop every later segment: the tail of the log is gone.
            let later: Vec<usize> = segs[s + 1..].iter().map(|x| x.0).collect();
            let files: Files = files
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !later.contains(i))
                .map(|(_, f)| f)
                .collect();
            expect_tampered(
                dir.path(),
                &files,
                &b.checkpoint,
                expected,
                &format!("case {case}: cut segment {s} at {cut}"),
            );
            // Without a checkpoint a cut in the last segment reads as a torn tail, never
            // as an intact longer log.
            if let Ok(r) = AuditLog::verify_dir(dir.path(), &key(), None) {
                assert!(r.last_seq.unwrap_or(0) < b.checkpoint.seq());
            }
        }
    }
}

#[test]
fn segment_rolled_back_to_an_older_copy() {
    let dir = TempDir::new("tamper");
    let mut rng = rng(7);
    for b in bases() {
        for case in 0..cases() {
            let t = rng.gen_range(0..b.history.len() - 1);
            let old = &b.history[t];
            let mut files = b.files.clone();
            // The whole directory rolled back, or one segment of it.
            let old_last = if rng.gen_bool(0.3) {
                files = old.clone();
                (t + 1) as u64
            } else {
                let segs_old = segments(old);
                let (ofi, _, ofr) = &segs_old[rng.gen_range(0..segs_old.len())];
                let name = &old[*ofi].0;
                let cur = files.iter().position(|(n, _)| n == name).unwrap();
                if files[cur].1 == old[*ofi].1 {
                    continue;
                }
                files[cur].1 = old[*ofi].1.clone();
                ofr.iter()
                    .filter(|f| f.2 == 1)
                    .map(|f| f.3)
                    .max()
                    .unwrap_or(u64::from_le_bytes(old[*ofi].1[40..48].try_into().unwrap()) - 1)
            };
            expect_tampered(
                dir.path(),
                &files,
                &b.checkpoint,
                old_last + 1,
                &format!("case {case}: rolled back to after record {old_last}"),
            );
        }
    }
}

#[test]
fn segment_spliced_from_another_log() {
    let dir = TempDir::new("tamper");
    let mut rng = rng(8);
    let ours = build(HashSuite::Sha256, SyncMode::Batch, 45, KEY);
    let same_key = build(HashSuite::Sha256, SyncMode::None, 45, KEY);
    let other_key = build(HashSuite::Sha256, SyncMode::Batch, 45, [7; 32]);
    let segs = segments(&ours.files);
    for case in 0..cases() {
        let donor = if rng.gen_bool(0.5) {
            &same_key
        } else {
            &other_key
        };
        let dsegs = segments(&donor.files);
        let mut files = ours.files.clone();
        let s = rng.gen_range(0..segs.len().min(dsegs.len()));
        let (fi, first, _) = &segs[s];
        if rng.gen_bool(0.8) {
            // Replace segment s by the other log's segment s.
            files[*fi].1 = donor.files[dsegs[s].0].1.clone();
            expect_tampered(
                dir.path(),
                &files,
                &ours.checkpoint,
                *first,
                &format!("case {case}: spliced segment {s}"),
            );
        } else {
            // Add the other log's next segment after ours.
            let n = segs.len();
            if let Some(extra) = dsegs.get(n) {
                files.push((
                    donor.files[extra.0].0.clone(),
                    donor.files[extra.0].1.clone(),
                ));
                expect_tampered(
                    dir.path(),
                    &files,
                    &ours.checkpoint,
                    ours.checkpoint.seq() + 1,
                    &format!("case {case}: appended a segment"),
                );
            }
        }
    }
}

#[test]
fn wrong_key_is_key_invalid() {
    let dir = TempDir::new("tamper");
    let b = &bases()[0];
    lay(dir.path(), &b.files);
    let err = AuditLog::verify_dir(
        dir.path(),
        &govdata::audit::SealingKey::from_bytes([1; 32]),
        None,
    )
    .unwrap_err();
    assert_eq!(err.code(), "key_invalid");
}
