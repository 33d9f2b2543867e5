//! Reading segments back: every frame, link, MAC and seal checked, in one pass.
//!
//! The same scanner serves opening (recovery of a torn tail), `verify`, reading
//! records, backups and proofs. Only the end of the last segment may be torn; a bad
//! frame anywhere else is tampering and is reported at the first sequence number
//! where the log stops being what it should be.
//!
//! The last segment may end in zero padding (see [`super::pad`]): zeros from a frame
//! boundary to the end of the file are the end of the data. A frame that begins
//! before them and does not check is a torn tail when nothing but zeros follows it, as
//! at the end of an unpadded file. It is also a torn tail when it shows a lost sector:
//! from the frame's start or from a sector boundary inside the frame, the rest of a
//! 512-byte sector is zeros. A power loss leaves exactly that when the sectors of an
//! unsynced write reach the disk out of order: a sector that did not arrive still
//! holds the zeros of the padding (or of a hole past the file's old end), while later
//! sectors of the same write, or of later unsynced writes, did arrive. Any other bad
//! frame with anything but zeros after it (a changed byte, a record cut out) is
//! tampering. A frame never begins with zeros only (its kind byte is not zero), so
//! zeros in the middle of the records are found as a bad frame. A last segment of
//! zeros only is one whose header was never written, as a last segment shorter than a
//! header is. Sealed segments are cut to their exact length when they are sealed: only
//! the last one may hold zeros after its seal (a roll stopped before the cut).
//!
//! Zeroing a sector of the last segment thus reads as a torn tail, as cutting the
//! segment short does: without a checkpoint neither can be told from a crash. The
//! checkpoint a writer leaves at close (`audit.head`) covers both: a reader finds the
//! records it covers missing, and opening refuses to cut them.

use super::crypto::{ct_eq, Hash, HashSuite, Mac32};
use super::format::{
    list_segments, read_frame, FrameRead, Header, Meta, Seal, HEADER_LEN, KIND_RECORD, KIND_SEAL,
    SEAL_FRAME_LEN,
};
use super::merkle;
use super::pad::nonzero_end;
use super::{Checkpoint, TornTail, VerifyReport};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A problem found in one segment. `seq` is `None` when only the caller knows which
/// sequence number the segment should start at (a bad header).
#[derive(Debug)]
pub(crate) struct ScanError {
    pub(crate) seq: Option<u64>,
    pub(crate) message: String,
}

impl ScanError {
    fn at(seq: u64, message: impl Into<String>) -> Self {
        ScanError {
            seq: Some(seq),
            message: message.into(),
        }
    }
    pub(crate) fn into_error(self, default_seq: u64) -> Error {
        Error::AuditTampered {
            seq: self.seq.unwrap_or(default_seq),
            message: self.message,
        }
    }
}

/// What a scan of one segment found.
#[derive(Debug, Clone)]
pub(crate) struct SegScan {
    /// `None` when the header itself is torn (a segment being created at a crash).
    pub(crate) header: Option<Header>,
    /// The sequence number the next record would have.
    pub(crate) next_seq: u64,
    /// The chain head after the last good record.
    pub(crate) head: Hash,
    pub(crate) leaves: Vec<Hash>,
    pub(crate) seal: Option<(Seal, Hash)>,
    /// The end of the good data.
    pub(crate) end: usize,
    /// The torn tail, as (offset, reason).
    pub(crate) torn: Option<(usize, String)>,
    /// The head after record `want`, when the segment holds it.
    pub(crate) wanted_head: Option<Hash>,
}

/// The keys of one log.
pub(crate) struct Ctx<'a> {
    pub(crate) suite: HashSuite,
    pub(crate) mac: &'a Mac32,
    pub(crate) log_id: [u8; 16],
}

/// Scans one segment's bytes. `allow_torn`: this is the last segment, whose end may
/// be a torn write or zero padding. `on_record` sees every authenticated record.
pub(crate) fn scan_segment(
    bytes: &[u8],
    ctx: &Ctx<'_>,
    index: u64,
    allow_torn: bool,
    want: Option<u64>,
    keep_leaves: bool,
    on_record: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
) -> std::result::Result<SegScan, ScanError> {
    // Where the padding of the last segment begins at the latest.
    let data_end = if allow_torn {
        nonzero_end(bytes)
    } else {
        bytes.len()
    };
    if allow_torn && (bytes.len() < HEADER_LEN || data_end == 0) {
        return Ok(SegScan {
            header: None,
            next_seq: 0,
            head: [0; 32],
            leaves: Vec::new(),
            seal: None,
            end: 0,
            torn: Some((0, "the segment header is incomplete".into())),
            wanted_head: None,
        });
    }
    let header = Header::decode(bytes, ctx.mac).map_err(|m| ScanError {
        seq: None,
        message: format!("segment {index}: {m}"),
    })?;
    if header.log_id != ctx.log_id {
        return Err(ScanError {
            seq: None,
            message: format!("segment {index} belongs to another log (spliced in)"),
        });
    }
    if header.index != index || header.suite != ctx.suite {
        return Err(ScanError {
            seq: None,
            message: format!(
                "segment file {index} holds segment {} (renamed or moved)",
                header.index
            ),
        });
    }
    let mut seq = header.first_seq;
    let mut head = header.prev_head;
    let mut leaves = Vec::new();
    let mut seal = None;
    let mut torn = None;
    let mut wanted_head = (want == Some(seq.wrapping_sub(1))).then_some(head);
    let mut off = HEADER_LEN;
    let suite = ctx.suite;
    let mut root_leaves: Vec<Hash> = Vec::new();
    while off < bytes.len() {
        if off >= data_end {
            break; // zero padding: the end of the data
        }
        if seal.is_some() {
            return Err(ScanError::at(
                seq,
                format!("segment {index}: data follows the seal"),
            ));
        }
        let rest = &bytes[off..];
        let frame = match read_frame(rest) {
            FrameRead::Ok(f) => f,
            FrameRead::Incomplete => {
                if allow_torn {
                    torn = Some((off, format!("record {seq} is incomplete")));
                    break;
                }
                return Err(ScanError::at(
                    seq,
                    format!("segment {index} ends inside record {seq} (truncated)"),
                ));
            }
            FrameRead::BadChecksum { len } => {
                if allow_torn && (off + len >= data_end || lost_sector(bytes, off, off + len)) {
                    torn = Some((off, format!("record {seq} fails its checksum")));
                    break;
                }
                return Err(ScanError::at(
                    seq,
                    format!(
                        "segment {index}: the frame of record {seq} fails its checksum (modified)"
                    ),
                ));
            }
        };
        match frame.kind {
            KIND_RECORD => {
                if frame.seq != seq {
                    let what = if frame.seq > seq {
                        format!(
                            "record {seq} is missing (record {} is in its place)",
                            frame.seq
                        )
                    } else {
                        format!(
                            "record {seq} is out of order (record {} is in its place: repeated or moved)",
                            frame.seq
                        )
                    };
                    return Err(ScanError::at(seq, format!("segment {index}: {what}")));
                }
                let leaf = suite.leaf(seq, frame.payload);
                let next = suite.link(&head, &leaf);
                if !ct_eq(&ctx.mac.record_tag(&next), frame.tag) {
                    return Err(ScanError::at(
                        seq,
                        format!("segment {index}: record {seq} does not authenticate (modified or forged)"),
                    ));
                }
                on_record(seq, frame.payload).map_err(|e| ScanError::at(seq, e.to_string()))?;
                root_leaves.push(leaf);
                head = next;
                if want == Some(seq) {
                    wanted_head = Some(head);
                }
                seq += 1;
            }
            KIND_SEAL => {
                let Some(s) = Seal::decode_payload(frame.payload) else {
                    return Err(ScanError::at(
                        seq,
                        format!("segment {index}: the seal is malformed"),
                    ));
                };
                if !ct_eq(&s.tag(ctx.mac, &ctx.log_id), frame.tag) {
                    return Err(ScanError::at(
                        seq,
                        format!(
                            "segment {index}: the seal does not authenticate (modified or forged)"
                        ),
                    ));
                }
                if s.index != index || s.first_seq != header.first_seq || frame.seq != s.last_seq {
                    return Err(ScanError::at(
                        seq,
                        format!("segment {index}: the seal belongs to another segment"),
                    ));
                }
                if s.last_seq >= seq {
                    return Err(ScanError::at(
                        seq,
                        format!(
                            "segment {index}: record {seq} is missing (the segment is sealed through record {})",
                            s.last_seq
                        ),
                    ));
                }
                if s.last_seq + 1 < seq {
                    return Err(ScanError::at(
                        s.last_seq + 1,
                        format!(
                            "segment {index}: record {} is not covered by the seal (inserted)",
                            s.last_seq + 1
                        ),
                    ));
                }
                if !ct_eq(&s.head, &head) {
                    return Err(ScanError::at(
                        seq,
                        format!("segment {index}: the chain head differs from the seal"),
                    ));
                }
                if merkle::root(suite, &root_leaves) != s.root {
                    return Err(ScanError::at(
                        seq,
                        format!("segment {index}: the Merkle root differs from the seal"),
                    ));
                }
                let tag = frame.tag;
                let mut t = [0u8; 32];
                t.copy_from_slice(tag);
                seal = Some((s, t));
            }
            other => {
                return Err(ScanError::at(
                    seq,
                    format!(
                        "segment {index}: unknown frame kind {other} where record {seq} should be"
                    ),
                ));
            }
        }
        off += frame.len;
    }
    let end = torn.as_ref().map_or(off, |(o, _)| *o);
    if keep_leaves {
        leaves = root_leaves;
    }
    Ok(SegScan {
        header: Some(header),
        next_seq: seq,
        head,
        leaves,
        seal,
        end,
        torn,
        wanted_head,
    })
}

/// The size of the sectors a disk persists whole (the smallest in use).
const SECTOR: usize = 512;

/// Whether the frame over `[start, end)` shows a sector that a power loss kept from
/// the disk: from `start`, or from a sector boundary before `end`, the rest of the
/// sector (as far as the file goes) is zeros.
fn lost_sector(bytes: &[u8], start: usize, end: usize) -> bool {
    let end = end.min(bytes.len());
    let mut at = start;
    while at < end {
        let sector_end = (at / SECTOR + 1) * SECTOR;
        if bytes[at..sector_end.min(bytes.len())]
            .iter()
            .all(|b| *b == 0)
        {
            return true;
        }
        at = sector_end;
    }
    false
}

/// Reads the seal at the end of a sealed segment file without scanning it.
pub(crate) fn read_tail_seal(path: &Path, ctx: &Ctx<'_>, index: u64) -> Option<Seal> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() < HEADER_LEN + SEAL_FRAME_LEN {
        return None;
    }
    let at = bytes.len() - SEAL_FRAME_LEN;
    match read_frame(&bytes[at..]) {
        FrameRead::Ok(f) if f.kind == KIND_SEAL && f.len == SEAL_FRAME_LEN => {
            let s = Seal::decode_payload(f.payload)?;
            (ct_eq(&s.tag(ctx.mac, &ctx.log_id), f.tag) && s.index == index).then_some(s)
        }
        _ => None,
    }
}

/// How to walk a directory.
pub(crate) struct Walk<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) meta: &'a Meta,
    pub(crate) mac: &'a Mac32,
    /// The last segment and the length to read of it (a log being written).
    pub(crate) limit: Option<(u64, u64)>,
    pub(crate) checkpoint: Option<&'a Checkpoint>,
}

fn read_limited(path: &Path, limit: Option<u64>) -> Result<Vec<u8>> {
    match limit {
        None => std::fs::read(path).map_err(|e| Error::io(path, e)),
        Some(n) => {
            let mut bytes = Vec::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(n).read_to_end(&mut bytes))
                .map_err(|e| Error::io(path, e))?;
            Ok(bytes)
        }
    }
}

/// The segment files after the purge horizon, in order.
pub(crate) fn live_segments(dir: &Path, meta: &Meta) -> Result<Vec<(u64, PathBuf)>> {
    let (base_index, _, _) = meta.base();
    Ok(list_segments(dir)?
        .into_iter()
        .filter(|(i, _)| *i >= base_index)
        .collect())
}

/// A consumer of the authenticated records of a walk.
pub(crate) type OnRecord<'a> = &'a mut dyn FnMut(u64, &[u8]) -> Result<()>;

/// Walks every segment of a log: verifies it all and hands each record to
/// `on_record` (in order). Without a callback, segments are checked in parallel.
pub(crate) fn walk(w: &Walk<'_>, on_record: Option<OnRecord<'_>>) -> Result<VerifyReport> {
    let ctx = Ctx {
        suite: w.meta.suite,
        mac: w.mac,
        log_id: w.meta.log_id,
    };
    let (base_index, base_seq, base_head) = w.meta.base();
    let mut segs = live_segments(w.dir, w.meta)?;
    if let Some((idx, _)) = w.limit {
        segs.retain(|(i, _)| *i <= idx);
    }
    let n = segs.len();
    let segs_idx: Vec<u64> = segs.iter().map(|(i, _)| *i).collect();
    let want = w.checkpoint.map(|c| c.seq);
    let limit_of = |i: u64| w.limit.and_then(|(li, len)| (li == i).then_some(len));
    let mut report = VerifyReport {
        records: 0,
        first_seq: None,
        last_seq: None,
        segments: n,
        sealed_segments: 0,
        torn_tail: None,
        head: None,
        purged_through: w.meta.horizon.map(|h| h.seq),
    };
    let mut expect_seq = base_seq;
    let mut expect_head = base_head;
    let check = |k: usize,
                 scan: std::result::Result<SegScan, ScanError>,
                 expect_seq: &mut u64,
                 expect_head: &mut Hash,
                 report: &mut VerifyReport,
                 wanted: &mut Option<Hash>|
     -> Result<()> {
        let index = segs_idx[k];
        let expected_index = base_index + k as u64;
        if index != expected_index {
            return Err(Error::AuditTampered {
                seq: *expect_seq,
                message: format!("segment {expected_index} is missing"),
            });
        }
        let s = scan.map_err(|e| e.into_error(*expect_seq))?;
        let Some(h) = &s.header else {
            report.torn_tail = Some(TornTail {
                segment: index,
                offset: 0,
                first_lost_seq: *expect_seq,
                reason: "the segment header is incomplete".into(),
            });
            return Ok(());
        };
        if h.first_seq != *expect_seq {
            return Err(Error::AuditTampered {
                seq: *expect_seq,
                message: format!(
                    "segment {index} starts at record {} where record {} should be",
                    h.first_seq, expect_seq
                ),
            });
        }
        if !ct_eq(&h.prev_head, expect_head) {
            return Err(Error::AuditTampered {
                seq: *expect_seq,
                message: format!(
                    "segment {index} does not continue the chain of the segment before it"
                ),
            });
        }
        if s.seal.is_none() && k + 1 < n {
            return Err(Error::AuditTampered {
                seq: s.next_seq,
                message: format!(
                    "segment {index} ends at record {} without a seal although later segments follow (truncated or rolled back)",
                    s.next_seq.saturating_sub(1)
                ),
            });
        }
        if s.seal.is_some() {
            report.sealed_segments += 1;
        }
        if let Some((off, reason)) = &s.torn {
            report.torn_tail = Some(TornTail {
                segment: index,
                offset: *off as u64,
                first_lost_seq: s.next_seq,
                reason: reason.clone(),
            });
        }
        if s.wanted_head.is_some() {
            *wanted = s.wanted_head;
        }
        if s.next_seq > h.first_seq {
            report.first_seq.get_or_insert(h.first_seq);
            report.last_seq = Some(s.next_seq - 1);
            report.records += s.next_seq - h.first_seq;
        }
        *expect_seq = s.next_seq;
        *expect_head = s.head;
        Ok(())
    };
    let mut wanted: Option<Hash> = (want == Some(base_seq.wrapping_sub(1))).then_some(base_head);
    match on_record {
        None => {
            let scans: Vec<Result<std::result::Result<SegScan, ScanError>>> = segs
                .par_iter()
                .enumerate()
                .map(|(k, (i, p))| {
                    let bytes = read_limited(p, limit_of(*i))?;
                    Ok(scan_segment(
                        &bytes,
                        &ctx,
                        *i,
                        k + 1 == n,
                        want,
                        false,
                        &mut |_, _| Ok(()),
                    ))
                })
                .collect();
            for (k, s) in scans.into_iter().enumerate() {
                check(
                    k,
                    s?,
                    &mut expect_seq,
                    &mut expect_head,
                    &mut report,
                    &mut wanted,
                )?;
            }
        }
        Some(f) => {
            for (k, (i, p)) in segs.iter().enumerate() {
                let bytes = read_limited(p, limit_of(*i))?;
                let s = scan_segment(&bytes, &ctx, *i, k + 1 == n, want, false, f);
                check(
                    k,
                    s,
                    &mut expect_seq,
                    &mut expect_head,
                    &mut report,
                    &mut wanted,
                )?;
            }
        }
    }
    let last = expect_seq - 1;
    report.head = Some(Checkpoint::new(w.mac, w.meta.log_id, last, expect_head));
    if let Some(cp) = w.checkpoint {
        cp.check(w.mac, &w.meta.log_id)?;
        if cp.seq + 1 < base_seq {
            // The checkpoint predates the purge horizon: nothing left to compare.
        } else if cp.seq > last {
            return Err(Error::AuditTampered {
                seq: last + 1,
                message: format!(
                    "the log ends at record {last} but the checkpoint covers record {}: records {}..={} were truncated or rolled back",
                    cp.seq,
                    last + 1,
                    cp.seq
                ),
            });
        } else if wanted.map(|h| ct_eq(&h, &cp.head)) != Some(true) {
            return Err(Error::AuditTampered {
                seq: cp.seq,
                message: format!(
                    "the chain at record {} differs from the checkpoint (rewritten or rolled back)",
                    cp.seq
                ),
            });
        }
    }
    Ok(report)
}
