//! Zero padding ahead of the open segment's records, so that in `always` and `batch`
//! modes an append overwrites blocks that are already allocated and written, and its
//! sync flushes data only: the file's size and block map do not change, so there is no
//! filesystem journal commit to wait for (on ext4 that commit is what makes an
//! `fdatasync` after an appending write dearer: see `benches/RESULTS-audit.md`).
//!
//! The padding is a bounded window, not the whole segment: a segment begins with
//! [`PAD_STEP`] bytes of zeros (or its size limit, if smaller) and a background
//! thread, on its own file descriptor, writes and syncs another step of zeros past the
//! end whenever less than half a step is left ahead of the records. So a log holds at
//! most about one and a half steps of zeros in its open segment, and one step in the
//! file [`PREPARED_FILE`], which is the next segment made ready in the background while
//! this one fills: at a roll the header is written over its first bytes and the file
//! renamed into place, with no zeros to write while the append that rolls waits.
//! Filling whole segments ahead (64 MiB by default) would cost as much disk again as
//! the log's open segment and, at a log's creation, a wait of a second or more on a
//! busy disk; a step of a few MiB is written in milliseconds, and each step costs the
//! appends one sync that has to wait for the filesystem journal (the step's own).
//!
//! A sealed segment is cut to its exact length when it is sealed, so backups,
//! retention and verification see records only. In `none` mode nothing is padded (an
//! append there is not synced on its own, so padding would only double the bytes
//! written).
//!
//! Readers treat zeros from a frame boundary to the end of the last segment as the end
//! of the data; see [`super::scan`].

use super::format::{sync_dir, HEADER_LEN};
use crate::disk;
use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The bytes of zeros written ahead of the records at a time.
pub(crate) const PAD_STEP: u64 = 4 << 20;

/// The next segment, prepared: zeros, written and synced.
pub(crate) const PREPARED_FILE: &str = "audit.next";

const CHUNK: usize = 64 << 10;
static ZEROS: [u8; CHUNK] = [0; CHUNK];

/// The padding step of a log whose segments are at most `limit` bytes.
pub(crate) fn step(limit: u64) -> u64 {
    PAD_STEP.min(limit).max(HEADER_LEN as u64)
}

pub(crate) use crate::disk::write_at;

/// Where the last non-zero byte of `b` ends (0 when every byte is zero).
pub(crate) fn nonzero_end(b: &[u8]) -> usize {
    const W: usize = 64;
    let mut end = b.len();
    while end >= W && b[end - W..end] == [0u8; W] {
        end -= W;
    }
    while end > 0 && b[end - 1] == 0 {
        end -= 1;
    }
    end
}

/// Writes zeros over `[from, to)` of `f` and syncs them, or stops early (without a
/// sync) once `cancel` is set. Returns how far the zeros reach.
pub(crate) fn fill(f: &File, from: u64, to: u64, cancel: &AtomicBool) -> io::Result<u64> {
    let mut at = from;
    while at < to {
        if cancel.load(Ordering::Relaxed) {
            return Ok(at);
        }
        let n = usize::try_from(to - at).map_or(CHUNK, |n| n.min(CHUNK));
        write_at(f, &ZEROS[..n], at)?;
        at += n as u64;
    }
    if to > from {
        disk::sync_data(f)?;
    }
    Ok(at)
}

/// What a background job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Task {
    /// Pads the open segment with zeros over `[from, to)`.
    Extend { from: u64, to: u64 },
    /// Prepares the next segment's file, `to` bytes of zeros.
    Next { to: u64 },
}

/// A background job writing zeros.
#[derive(Debug)]
pub(crate) struct Job {
    task: Task,
    cancel: Arc<AtomicBool>,
    handle: JoinHandle<io::Result<u64>>,
}

impl Job {
    /// Pads the segment file at `path` over `[from, to)`, through a file descriptor of
    /// its own (so that a write-back error it sees is still reported to the log's own
    /// descriptor).
    pub(crate) fn extend(path: PathBuf, from: u64, to: u64) -> io::Result<Job> {
        Job::spawn(Task::Extend { from, to }, move |cancel| {
            let f = OpenOptions::new().write(true).open(&path)?;
            fill(&f, from, to, cancel)
        })
    }

    /// Prepares (or goes on preparing) the next segment's file in `dir`.
    pub(crate) fn next(dir: PathBuf, to: u64) -> io::Result<Job> {
        Job::spawn(Task::Next { to }, move |cancel| {
            let f = disk::open_or_create(&dir.join(PREPARED_FILE), false)?;
            let len = f.metadata()?.len();
            fill(&f, len, to, cancel)
        })
    }

    fn spawn(
        task: Task,
        work: impl FnOnce(&AtomicBool) -> io::Result<u64> + Send + 'static,
    ) -> io::Result<Job> {
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let handle = std::thread::Builder::new()
            .name("govdata-audit-pad".into())
            .spawn(move || work(&flag))?;
        Ok(Job {
            task,
            cancel,
            handle,
        })
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// Whether the job may write zeros below `end` of the open segment.
    pub(crate) fn overlaps(&self, end: u64) -> bool {
        matches!(self.task, Task::Extend { from, .. } if from < end)
    }

    /// Waits for the job (stopping it first when `cancel`): how far its zeros reach.
    pub(crate) fn finish(self, cancel: bool) -> (Task, io::Result<u64>) {
        if cancel {
            self.cancel.store(true, Ordering::Relaxed);
        }
        let r = self
            .handle
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the padding thread panicked")));
        (self.task, r)
    }
}

/// The usable length of the prepared next segment in `dir` (0: none). A prepared file
/// holding anything but zeros after the header's place is removed.
pub(crate) fn check_prepared(dir: &Path) -> u64 {
    let path = dir.join(PREPARED_FILE);
    let mut bytes = Vec::new();
    let read = File::open(&path).and_then(|mut f| f.read_to_end(&mut bytes));
    if read.is_err() {
        return 0;
    }
    // An interrupted roll may have written a header over the first bytes: the next
    // roll writes its own there.
    if nonzero_end(&bytes) > HEADER_LEN.min(bytes.len()) {
        let _ = disk::remove_file(&path);
        return 0;
    }
    bytes.len() as u64
}

/// Makes the prepared file (padded to at least `pad_to` bytes, now if it was not
/// ready) segment file `name`, beginning with `header`: header written and synced,
/// then renamed into place and the directory synced. Returns the file and its length.
/// When the zeros cannot be written (a full disk), the segment begins without them.
pub(crate) fn install(dir: &Path, name: &str, header: &[u8], pad_to: u64) -> Result<(File, u64)> {
    let prepared = dir.join(PREPARED_FILE);
    let io = |e| Error::io(&prepared, e);
    let f = disk::open_or_create(&prepared, true).map_err(io)?;
    let len = f.metadata().map_err(io)?.len();
    write_at(&f, header, 0).map_err(io)?;
    let from = len.max(header.len() as u64);
    let end = if pad_to > from {
        match fill(&f, from, pad_to, &AtomicBool::new(false)) {
            Ok(end) => end,
            Err(_) => {
                disk::set_len(&f, from).map_err(io)?;
                from
            }
        }
    } else {
        from
    };
    disk::sync_all(&f).map_err(io)?;
    let path = dir.join(name);
    disk::rename(&prepared, &path).map_err(|e| Error::io(&path, e))?;
    sync_dir(dir)?;
    Ok((f, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonzero_end_finds_the_last_nonzero_byte() {
        assert_eq!(nonzero_end(&[]), 0);
        assert_eq!(nonzero_end(&[0; 300]), 0);
        for at in [0usize, 1, 63, 64, 65, 127, 128, 299] {
            let mut b = vec![0u8; 300];
            b[at] = 7;
            assert_eq!(nonzero_end(&b), at + 1, "{at}");
            assert_eq!(nonzero_end(&b[..at + 1]), at + 1, "{at}");
        }
    }

    #[test]
    fn step_is_bounded_by_the_segment_limit() {
        assert_eq!(step(64 << 20), PAD_STEP);
        assert_eq!(step(4096), 4096);
        assert_eq!(step(10), HEADER_LEN as u64);
    }
}
