//! Opening a log: creating a new one, taking the writer's lock, finishing an
//! interrupted purge, and recovering the torn tail a crash left in the last segment.

use super::crypto::{ct_eq, Hash, Mac32};
use super::format::{self, sync_dir, Header, Meta, HEADER_LEN, META_FILE, TORN_DIR};
use super::writer::{new_segment, Writer};
use super::{pad, record, scan, AuditLog, AuditOptions, SealingKey, SyncMode};
use crate::error::{Error, Result};
use crate::lock::StoreLock;
use crate::time::Timestamp;
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// A torn tail: the end of the last segment that a crash left incomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment.
    pub segment: u64,
    /// Where the torn bytes begin in the segment file.
    pub offset: u64,
    /// The sequence number the torn record would have had (it was never acknowledged
    /// under `always` or `batch`).
    pub first_lost_seq: u64,
    /// What is incomplete.
    pub reason: String,
}

/// What opening a log after a crash cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The torn tail that was cut.
    pub torn: TornTail,
    /// How many bytes were cut.
    pub bytes_cut: u64,
    /// Where the cut bytes were kept for inspection.
    pub kept_at: PathBuf,
}

/// Creates `dir` if missing and takes its writer's lock.
pub(super) fn lock_dir(dir: &Path, wait: Duration) -> Result<StoreLock> {
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    StoreLock::acquire(dir, "audit log", wait)
}

impl AuditLog {
    /// Opens the log in `dir`, creating the directory and a new log if there is none.
    ///
    /// A torn tail of the last segment (a crash during an append) is cut back to the
    /// last complete record and kept under `dir/torn/`; see [`AuditLog::recovery`].
    /// Any other bad record in the last segment is `audit_tampered` (verify and
    /// restore from a backup); a key that is not the log's is `key_invalid`.
    ///
    /// One process writes a log directory at a time: opening takes the directory's
    /// lock (see [`crate::lock`]), waiting up to [`AuditOptions::lock_wait`] for
    /// another writer to close it, and fails with `store_locked` past that, before
    /// anything is written. [`AuditLog::close`] (or dropping the log, or the end of
    /// the process, however it ends) lets go of it.
    pub fn open(dir: impl AsRef<Path>, key: SealingKey, options: AuditOptions) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let lock = lock_dir(&dir, options.lock_wait)?;
        AuditLog::open_locked(dir, key, options, lock)
    }

    /// [`AuditLog::open`] once the directory's lock is held.
    pub(super) fn open_locked(
        dir: PathBuf,
        key: SealingKey,
        options: AuditOptions,
        lock: StoreLock,
    ) -> Result<Self> {
        let (meta, mac) = if dir.join(META_FILE).exists() {
            Meta::read(&dir, &key)?
        } else {
            if !format::list_segments(&dir)?.is_empty() {
                return Err(Error::AuditTampered {
                    seq: 0,
                    message: format!(
                        "`{}` holds segments but no metadata (deleted)",
                        dir.display()
                    ),
                });
            }
            let mut log_id = [0u8; 16];
            getrandom::fill(&mut log_id).map_err(|e| Error::AuditUnavailable {
                message: format!("cannot draw a log id: {e}"),
            })?;
            let meta = Meta {
                suite: options.suite,
                log_id,
                horizon: None,
            };
            let mac = Mac32::new(meta.suite, &key)?;
            meta.write(&dir, &mac)?;
            (meta, mac)
        };
        drop(key);
        let ctx = scan::Ctx {
            suite: meta.suite,
            mac: &mac,
            log_id: meta.log_id,
        };
        let (base_index, base_seq, base_head) = meta.base();
        // Finish an interrupted purge: segments at or below the horizon are purged.
        let mut segs = Vec::new();
        for (i, p) in format::list_segments(&dir)? {
            if i < base_index {
                fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
            } else {
                segs.push((i, p));
            }
        }
        let mut recovery = None;
        // Padding (see `pad`): a new segment begins with a step of zeros after its
        // header in `always` and `batch`, and with its header only in `none`.
        let limit = options.segment_max_bytes;
        let pads = options.sync != SyncMode::None;
        let step = pad::step(limit);
        let pad_to = if pads { step } else { HEADER_LEN as u64 };
        let mut next_len = pad::check_prepared(&dir);
        // The segment before the last, when the last must continue it.
        let prev_of = |segs: &[(u64, PathBuf)]| -> Result<(u64, u64, Hash)> {
            if segs.len() < 2 {
                return Ok((base_index, base_seq, base_head));
            }
            let (pi, pp) = &segs[segs.len() - 2];
            let seal = scan::read_tail_seal(pp, &ctx, *pi).ok_or_else(|| Error::AuditTampered {
                seq: 0,
                message: format!("segment {pi} is not sealed although a later segment follows"),
            })?;
            Ok((pi + 1, seal.last_seq + 1, seal.head))
        };
        let mut writer = loop {
            let Some((index, path)) = segs.last().cloned() else {
                let header = Header {
                    suite: meta.suite,
                    log_id: meta.log_id,
                    index: base_index,
                    first_seq: base_seq,
                    prev_head: base_head,
                };
                next_len = 0;
                let (file, path, len) = new_segment(&dir, &mac, &header, pad_to)?;
                break Writer::new(file, path, &header, HEADER_LEN as u64, len);
            };
            let (exp_index, exp_seq, exp_head) = prev_of(&segs)?;
            let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let mut first_time = None;
            let mut max_time = None;
            let s = scan::scan_segment(&bytes, &ctx, index, true, None, true, &mut |seq, p| {
                let t = record::decode_payload(seq, p)?.time;
                first_time.get_or_insert(t);
                max_time = Some(t);
                Ok(())
            })
            .map_err(|e| e.into_error(exp_seq))?;
            let mut file_len = bytes.len() as u64;
            if let Some((off, reason)) = &s.torn {
                let torn = TornTail {
                    segment: index,
                    offset: *off as u64,
                    first_lost_seq: if s.header.is_some() {
                        s.next_seq
                    } else {
                        exp_seq
                    },
                    reason: reason.clone(),
                };
                // The torn bytes, without the zero padding after them.
                let torn_end = off + pad::nonzero_end(&bytes[*off..]);
                let kept = dir.join(TORN_DIR);
                fs::create_dir_all(&kept).map_err(|e| Error::io(&kept, e))?;
                let kept_at = kept.join(format!(
                    "seg-{index:010}-at-{off}-{}.bin",
                    Timestamp::now().unix_millis()
                ));
                fs::write(&kept_at, &bytes[*off..torn_end]).map_err(|e| Error::io(&kept_at, e))?;
                recovery = Some(RecoveryReport {
                    torn,
                    bytes_cut: (torn_end - off) as u64,
                    kept_at,
                });
                if s.header.is_none() {
                    fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                    sync_dir(&dir)?;
                    segs.pop();
                    continue;
                }
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::io(&path, e))?;
                f.set_len(*off as u64)
                    .and_then(|_| f.sync_all())
                    .map_err(|e| Error::io(&path, e))?;
                file_len = *off as u64;
            }
            let Some(h) = &s.header else {
                continue;
            };
            if index != exp_index || h.first_seq != exp_seq || !ct_eq(&h.prev_head, &exp_head) {
                return Err(Error::AuditTampered {
                    seq: exp_seq,
                    message: format!("segment {index} does not continue the segment before it"),
                });
            }
            if let Some((seal, _)) = &s.seal {
                if file_len > s.end as u64 {
                    // Sealed, but not yet cut to its length when the log stopped.
                    let f = OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(|e| Error::io(&path, e))?;
                    f.set_len(s.end as u64)
                        .and_then(|_| f.sync_all())
                        .map_err(|e| Error::io(&path, e))?;
                }
                let header = Header {
                    suite: meta.suite,
                    log_id: meta.log_id,
                    index: index + 1,
                    first_seq: seal.last_seq + 1,
                    prev_head: seal.head,
                };
                next_len = 0;
                let (file, path, len) = new_segment(&dir, &mac, &header, pad_to)?;
                break Writer::new(file, path, &header, HEADER_LEN as u64, len);
            }
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            let end = s.end as u64;
            // Too little padding left (a log written without, or in `none` mode):
            // pad a step now, before any append has to wait for it. If the zeros
            // cannot be written (a full disk), appends extend the file instead.
            let mut pad_failed = false;
            if pads && file_len < limit && file_len < end + step / 2 {
                let to = limit.min(end + step);
                match pad::fill(&file, file_len.max(end), to, &AtomicBool::new(false)) {
                    Ok(len) => file_len = len,
                    Err(_) => {
                        pad_failed = true;
                        file_len = file.metadata().map_or(file_len, |m| m.len());
                    }
                }
            }
            let mut w = Writer::new(file, path, h, end, file_len);
            w.pad_failed = pad_failed;
            w.seg_first_time = first_time;
            w.seg_max_time = max_time;
            w.next_seq = s.next_seq;
            w.head = s.head;
            w.leaves = s.leaves;
            w.synced_seq = s.next_seq - 1;
            break w;
        };
        writer.next_len = next_len;
        let log = AuditLog {
            dir,
            suite: meta.suite,
            log_id: meta.log_id,
            meta: Mutex::new(meta),
            mac,
            options,
            w: Mutex::new(writer),
            cond: Condvar::new(),
            in_flight: AtomicUsize::new(0),
            maintenance: Mutex::new(()),
            recovery,
            lock: Mutex::new(Some(lock)),
        };
        log.plan(&mut log.lock());
        Ok(log)
    }
}
