//! The writing side of a log: the open segment's state, appends in batches, group
//! commit, the padding jobs, rolling to a new segment and the head left at close.

use super::crypto::{Hash, Mac32};
use super::format::{
    encode_frame, segment_name, Header, Seal, FRAME_OVERHEAD, HEADER_LEN, HEAD_FILE, KIND_RECORD,
    SEAL_FRAME_LEN,
};
use super::{format, merkle, pad, AuditLog, SyncMode};
use crate::error::{Error, Result};
use crate::time::Timestamp;
use std::fmt;
use std::fs::File;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, MutexGuard};
use std::time::Instant;

pub(super) const BUF_LIMIT: usize = 256 << 10;

pub(super) struct Writer {
    pub(super) file: Arc<File>,
    /// The open segment's file.
    pub(super) path: PathBuf,
    pub(super) seg_index: u64,
    pub(super) seg_first_seq: u64,
    pub(super) seg_first_time: Option<Timestamp>,
    pub(super) seg_max_time: Option<Timestamp>,
    /// Bytes of the open segment, written or buffered.
    pub(super) seg_len: u64,
    /// Bytes of the open segment written to the file.
    pub(super) written_len: u64,
    /// The length of the open segment's file: records, then zero padding.
    pub(super) file_len: u64,
    /// The background job padding the open segment, if one runs.
    pub(super) extend: Option<pad::Job>,
    /// The background job preparing the next segment's file, if one runs.
    pub(super) next: Option<pad::Job>,
    /// The bytes of zeros the prepared next segment holds.
    pub(super) next_len: u64,
    /// A padding job failed: no more for this segment.
    pub(super) pad_failed: bool,
    /// Preparing the next segment failed: no more tries before it begins.
    pub(super) next_failed: bool,
    pub(super) next_seq: u64,
    pub(super) head: Hash,
    pub(super) leaves: Vec<Hash>,
    pub(super) buf: Vec<u8>,
    pub(super) spare: Vec<u8>,
    pub(super) buf_calls: usize,
    pub(super) synced_seq: u64,
    pub(super) syncing: bool,
    pub(super) poisoned: Option<String>,
    pub(super) closed: bool,
}

impl Writer {
    /// The writer of a segment whose good data ends at `end` in a file of `file_len`
    /// bytes.
    pub(super) fn new(
        file: File,
        path: PathBuf,
        header: &Header,
        end: u64,
        file_len: u64,
    ) -> Writer {
        Writer {
            file: Arc::new(file),
            path,
            seg_index: header.index,
            seg_first_seq: header.first_seq,
            seg_first_time: None,
            seg_max_time: None,
            seg_len: end,
            written_len: end,
            file_len,
            extend: None,
            next: None,
            next_len: 0,
            pad_failed: false,
            next_failed: false,
            next_seq: header.first_seq,
            head: header.prev_head,
            leaves: Vec::new(),
            buf: Vec::with_capacity(64 << 10),
            spare: Vec::with_capacity(64 << 10),
            buf_calls: 0,
            synced_seq: header.first_seq - 1,
            syncing: false,
            poisoned: None,
            closed: false,
        }
    }

    /// Waits for a background job (stopping it first when `cancel`) and takes note
    /// of what it did. A failed job only means less padding: appends then extend the
    /// file, and their own syncs report any error of the disk.
    pub(super) fn settle(&mut self, job: pad::Job, cancel: bool) {
        match job.finish(cancel) {
            (pad::Task::Extend { .. }, Ok(end)) => self.file_len = self.file_len.max(end),
            (pad::Task::Extend { .. }, Err(_)) => self.pad_failed = true,
            (pad::Task::Next { .. }, Ok(len)) => self.next_len = len,
            (pad::Task::Next { .. }, Err(_)) => self.next_failed = true,
        }
    }

    /// Stops the job padding the open segment.
    pub(super) fn stop_extend(&mut self) {
        if let Some(j) = self.extend.take() {
            self.settle(j, true);
        }
    }

    /// Stops the job preparing the next segment (it goes on from there later).
    pub(super) fn stop_next(&mut self) {
        if let Some(j) = self.next.take() {
            self.settle(j, true);
        }
    }

    /// Takes note of the background jobs that are done.
    pub(super) fn reap_finished(&mut self) {
        if let Some(j) = self.extend.take_if(|j| j.is_finished()) {
            self.settle(j, false);
        }
        if let Some(j) = self.next.take_if(|j| j.is_finished()) {
            self.settle(j, false);
        }
    }

    pub(super) fn usable(&self) -> Result<()> {
        if let Some(p) = &self.poisoned {
            return Err(Error::AuditUnavailable { message: p.clone() });
        }
        if self.closed {
            return Err(Error::AuditUnavailable {
                message: "the log is closed".into(),
            });
        }
        Ok(())
    }
}

pub(super) struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(super) fn unavailable(context: &str, e: impl fmt::Display) -> String {
    format!("{context}: {e}; the log refuses further appends until it is reopened")
}

/// Begins segment `header.index` in the prepared file (see [`pad`]), padded to
/// `pad_to` bytes: its file, path and length.
pub(super) fn new_segment(
    dir: &Path,
    mac: &Mac32,
    header: &Header,
    pad_to: u64,
) -> Result<(File, PathBuf, u64)> {
    let name = segment_name(header.index);
    let (file, file_len) = pad::install(dir, &name, &header.encode(mac), pad_to)?;
    Ok((file, dir.join(name), file_len))
}

impl AuditLog {
    pub(super) fn append_payloads(
        &self,
        time: Timestamp,
        payloads: &[Vec<u8>],
    ) -> Result<RangeInclusive<u64>> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let _flight = InFlight(&self.in_flight);
        let mut w = self.lock();
        w.usable()?;
        // Sealing writes under the lock, after any sync running outside it: wait for
        // that sync before numbering the batch, so that the batch stays contiguous.
        let bytes: u64 = payloads
            .iter()
            .map(|p| (p.len() + FRAME_OVERHEAD) as u64)
            .sum();
        let may_roll = w.seg_len + bytes + SEAL_FRAME_LEN as u64 > self.options.segment_max_bytes
            || self.is_old(&w, time);
        while may_roll && w.syncing {
            w = self.cond.wait(w).unwrap_or_else(|p| p.into_inner());
        }
        w.usable()?;
        let first = w.next_seq;
        let suite = self.suite;
        for p in payloads {
            let frame = (p.len() + FRAME_OVERHEAD) as u64;
            let full = w.seg_len + frame + SEAL_FRAME_LEN as u64 > self.options.segment_max_bytes;
            let old = self.is_old(&w, time);
            if w.next_seq > w.seg_first_seq && (full || old) {
                w = self.roll(w)?;
            }
            let seq = w.next_seq;
            let leaf = suite.leaf(seq, p);
            let head = suite.link(&w.head, &leaf);
            let tag = self.mac.record_tag(&head);
            encode_frame(&mut w.buf, KIND_RECORD, seq, p, &tag);
            w.leaves.push(leaf);
            w.head = head;
            w.next_seq += 1;
            w.seg_len += frame;
            w.seg_first_time.get_or_insert(time);
            w.seg_max_time = Some(w.seg_max_time.map_or(time, |m| m.max(time)));
        }
        let last = w.next_seq - 1;
        if payloads.is_empty() {
            return Ok(first..=last);
        }
        w.buf_calls += 1;
        match self.options.sync {
            SyncMode::None => {
                if w.buf.len() >= BUF_LIMIT && !w.syncing {
                    self.write_out(&mut w, false)?;
                }
                Ok(first..=last)
            }
            SyncMode::Always | SyncMode::Batch => {
                if self.options.sync == SyncMode::Batch && w.syncing {
                    self.cond.notify_all();
                }
                self.wait_durable(w, last)?;
                Ok(first..=last)
            }
        }
    }

    /// Whether new segments and the open one are padded (see [`pad`]).
    pub(super) fn pads(&self) -> bool {
        self.options.sync != SyncMode::None
    }

    /// How many bytes a new segment's file begins with.
    pub(super) fn pad_to(&self) -> u64 {
        if self.pads() {
            pad::step(self.options.segment_max_bytes)
        } else {
            HEADER_LEN as u64
        }
    }

    /// Starts the background jobs the padding needs, unless they run: another step
    /// of zeros when less than half a step is left ahead of the records, and the next
    /// segment's file. Called under the lock after a sync, a roll and an open.
    pub(super) fn plan(&self, w: &mut Writer) {
        w.reap_finished();
        if !self.pads() || w.poisoned.is_some() || w.closed {
            return;
        }
        let limit = self.options.segment_max_bytes;
        let step = pad::step(limit);
        if w.extend.is_none() && !w.pad_failed && w.file_len < w.seg_len + step / 2 {
            // Records not yet written lie below `seg_len`, and later ones are kept off
            // the job's bytes by `clear_way`. When the records have caught up with the
            // padding, it resumes a little ahead of them rather than under their feet.
            let from = w.file_len.max(w.seg_len + step / 4);
            let to = limit.min(from + step);
            if from < to {
                match pad::Job::extend(w.path.clone(), from, to) {
                    Ok(j) => w.extend = Some(j),
                    // No thread: appends extend the file instead.
                    Err(_) => w.pad_failed = true,
                }
            }
        }
        if w.next.is_none() && !w.next_failed && w.next_len < step {
            match pad::Job::next(self.dir.clone(), step) {
                Ok(j) => w.next = Some(j),
                // Prepared at the roll instead.
                Err(_) => w.next_failed = true,
            }
        }
    }

    /// Before records are written below `end`: stops a job padding there.
    pub(super) fn clear_way(&self, w: &mut Writer, end: u64) {
        if w.extend.as_ref().is_some_and(|j| j.overlaps(end)) {
            w.stop_extend();
        }
    }

    /// Whether the open segment's first record is older than the age limit at `time`.
    pub(super) fn is_old(&self, w: &Writer, time: Timestamp) -> bool {
        match (w.seg_first_time, self.options.segment_max_age) {
            (Some(t0), Some(age)) => {
                time.unix_millis() - t0.unix_millis()
                    >= i64::try_from(age.as_millis()).unwrap_or(i64::MAX)
            }
            _ => false,
        }
    }

    /// Writes the buffer (under the lock, no sync in progress) and optionally syncs.
    pub(super) fn write_out(&self, w: &mut Writer, sync: bool) -> Result<()> {
        let at = w.written_len;
        self.clear_way(w, at + w.buf.len() as u64);
        let res = pad::write_at(&w.file, &w.buf, at).and_then(|_| {
            if sync {
                w.file.sync_data()
            } else {
                Ok(())
            }
        });
        match res {
            Ok(()) => {
                w.written_len += w.buf.len() as u64;
                w.file_len = w.file_len.max(w.written_len);
                w.buf.clear();
                w.buf_calls = 0;
                if sync {
                    w.synced_seq = w.next_seq - 1;
                }
                Ok(())
            }
            Err(e) => {
                let m = unavailable("writing the audit log failed", e);
                w.poisoned = Some(m.clone());
                self.cond.notify_all();
                Err(Error::AuditUnavailable { message: m })
            }
        }
    }

    /// Waits until `target` is on disk, leading a group commit when no one else is.
    pub(super) fn wait_durable<'a>(
        &'a self,
        mut w: MutexGuard<'a, Writer>,
        target: u64,
    ) -> Result<()> {
        loop {
            if let Some(p) = &w.poisoned {
                return Err(Error::AuditUnavailable { message: p.clone() });
            }
            if w.synced_seq >= target {
                return Ok(());
            }
            if w.syncing {
                w = self.cond.wait(w).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            w.syncing = true;
            if self.options.sync == SyncMode::Batch {
                let deadline = Instant::now() + self.options.batch_max_delay;
                while self.in_flight.load(Ordering::SeqCst) > w.buf_calls {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    w = self
                        .cond
                        .wait_timeout(w, deadline - now)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
            }
            let spare = std::mem::take(&mut w.spare);
            let buf = std::mem::replace(&mut w.buf, spare);
            w.buf_calls = 0;
            let upto = w.next_seq - 1;
            let at = w.written_len;
            self.clear_way(&mut w, at + buf.len() as u64);
            let file = Arc::clone(&w.file);
            drop(w);
            let res = pad::write_at(&file, &buf, at).and_then(|_| file.sync_data());
            w = self.lock();
            w.syncing = false;
            match res {
                Ok(()) => {
                    w.written_len += buf.len() as u64;
                    w.file_len = w.file_len.max(w.written_len);
                    w.synced_seq = w.synced_seq.max(upto);
                    let mut buf = buf;
                    buf.clear();
                    w.spare = buf;
                    self.plan(&mut w);
                }
                Err(e) => {
                    w.poisoned = Some(unavailable("syncing the audit log failed", e));
                }
            }
            self.cond.notify_all();
        }
    }

    /// Seals the open segment and begins the next one (under the lock, which it
    /// never releases: callers wait for a running sync first).
    pub(super) fn roll<'a>(
        &'a self,
        mut w: MutexGuard<'a, Writer>,
    ) -> Result<MutexGuard<'a, Writer>> {
        while w.syncing {
            w = self.cond.wait(w).unwrap_or_else(|p| p.into_inner());
        }
        w.usable()?;
        let seal = Seal {
            index: w.seg_index,
            first_seq: w.seg_first_seq,
            last_seq: w.next_seq - 1,
            head: w.head,
            root: merkle::root(self.suite, &w.leaves),
            sealed_at: self.now().unix_millis(),
        };
        let mut buf = std::mem::take(&mut w.buf);
        seal.encode_frame(&self.mac, &self.log_id, &mut buf);
        w.buf = buf;
        self.write_out(&mut w, true)?;
        // Cut the sealed segment to its length (no padding after the seal) before the
        // next segment appears.
        w.stop_extend();
        let cut = w.file.metadata().and_then(|m| {
            if m.len() == w.written_len {
                return Ok(());
            }
            w.file.set_len(w.written_len)?;
            w.file.sync_all()
        });
        if let Err(e) = cut {
            let m = unavailable("sealing an audit segment failed", e);
            w.poisoned = Some(m.clone());
            self.cond.notify_all();
            return Err(Error::AuditUnavailable { message: m });
        }
        let header = Header {
            suite: self.suite,
            log_id: self.log_id,
            index: w.seg_index + 1,
            first_seq: w.next_seq,
            prev_head: w.head,
        };
        // The prepared next segment: a job preparing it stops where it is, and the
        // rest of its zeros is written now.
        w.stop_next();
        match new_segment(&self.dir, &self.mac, &header, self.pad_to()) {
            Ok((file, path, file_len)) => {
                w.file = Arc::new(file);
                w.path = path;
                w.seg_index = header.index;
                w.seg_first_seq = header.first_seq;
                w.seg_first_time = None;
                w.seg_max_time = None;
                w.seg_len = HEADER_LEN as u64;
                w.written_len = HEADER_LEN as u64;
                w.file_len = file_len;
                w.next_len = 0;
                w.pad_failed = false;
                w.next_failed = false;
                w.leaves.clear();
                self.plan(&mut w);
                self.cond.notify_all();
                Ok(w)
            }
            Err(e) => {
                let m = unavailable("beginning a new audit segment failed", &e);
                w.poisoned = Some(m.clone());
                self.cond.notify_all();
                Err(Error::AuditUnavailable { message: m })
            }
        }
    }

    /// Leaves the checkpoint of every record acknowledged so far in the directory
    /// (`audit.head`), once they are all durable: a reader that holds no checkpoint
    /// of its own verifies against it, so that a log cut back below what its writer
    /// acknowledged is found as tampering rather than read as a torn tail.
    pub(super) fn leave_head(&self) -> Result<()> {
        let w = self.lock();
        if w.poisoned.is_some() || w.synced_seq + 1 < w.next_seq {
            return Ok(());
        }
        drop(w);
        let text = format!("{}\n", self.checkpoint());
        format::write_atomic(&self.dir, HEAD_FILE, text.as_bytes())
    }
}
