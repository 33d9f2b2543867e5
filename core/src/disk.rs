//! The file operations through which the audit log and the vault's key store change
//! the disk: positioned writes, lengths, syncs, creating, renaming and removing files,
//! and syncing a directory. Each is the standard library's, and nothing more in a
//! build for use.
//!
//! Under the `testing` feature each also reports itself, once done, to the traces that
//! watch a directory above the file ([`Trace`]): the power-loss tests replay such a
//! trace into a model of a disk and check every state a power loss can leave. A file
//! written through a handle is named by the handle's path at that moment (on Linux,
//! from `/proc/self/fd`); elsewhere such writes go unreported.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// Writes all of `buf` at `offset`.
#[cfg(unix)]
pub(crate) fn write_at(f: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, buf, offset)?;
    trace::file(f, |path| Op::Write {
        path,
        offset,
        data: buf.to_vec(),
    });
    Ok(())
}

/// Writes all of `buf` at `offset`.
#[cfg(windows)]
pub(crate) fn write_at(f: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match f.seek_write(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes all of `buf` at `offset` (the file is written by one thread at a time).
#[cfg(not(any(unix, windows)))]
pub(crate) fn write_at(mut f: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(buf)
}

/// Makes the file's data (and its length) durable.
pub(crate) fn sync_data(f: &File) -> io::Result<()> {
    f.sync_data()?;
    trace::file(f, |path| Op::Sync { path });
    Ok(())
}

/// Makes the file's data and metadata durable.
pub(crate) fn sync_all(f: &File) -> io::Result<()> {
    f.sync_all()?;
    trace::file(f, |path| Op::Sync { path });
    Ok(())
}

/// Cuts or extends the file to `len` bytes.
pub(crate) fn set_len(f: &File, len: u64) -> io::Result<()> {
    f.set_len(len)?;
    trace::file(f, |path| Op::SetLen { path, len });
    Ok(())
}

/// Opens `path` for writing (and reading when `read`), creating it empty if missing
/// and keeping what it holds otherwise.
pub(crate) fn open_or_create(path: &Path, read: bool) -> io::Result<File> {
    let existed = trace::active() && path.exists();
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(read)
        .write(true)
        .open(path)?;
    if !existed {
        trace::path(path, |path| Op::Create { path });
    }
    Ok(f)
}

/// Creates `path` empty for writing, or empties it.
pub(crate) fn create_truncate(path: &Path) -> io::Result<File> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(path)?;
    trace::path(path, |path| Op::Create { path });
    Ok(f)
}

/// Renames `from` to `to`, replacing `to`.
pub(crate) fn rename(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    if let (Some((id, from)), Some((_, to))) = (trace::relative(from), trace::relative(to)) {
        trace::push(&id, Op::Rename { from, to });
    }
    Ok(())
}

/// Removes the file `path`.
pub(crate) fn remove_file(path: &Path) -> io::Result<()> {
    fs::remove_file(path)?;
    trace::path(path, |path| Op::Remove { path });
    Ok(())
}

/// Makes the directory's entries (created, renamed, removed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    trace::path(dir, |path| Op::SyncDir { path });
    Ok(())
}

#[cfg(feature = "testing")]
pub use trace::Trace;

/// One operation on the disk, its path relative to the traced directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `data` written at `offset`.
    Write {
        /// The file.
        path: PathBuf,
        /// Where.
        offset: u64,
        /// What.
        data: Vec<u8>,
    },
    /// The file cut or extended to `len` bytes.
    SetLen {
        /// The file.
        path: PathBuf,
        /// Its new length.
        len: u64,
    },
    /// The file's data and length made durable (`fdatasync` or `fsync`).
    Sync {
        /// The file.
        path: PathBuf,
    },
    /// The file created empty (or emptied).
    Create {
        /// The file.
        path: PathBuf,
    },
    /// A file renamed over another.
    Rename {
        /// The old name.
        from: PathBuf,
        /// The new one.
        to: PathBuf,
    },
    /// A file removed.
    Remove {
        /// The file.
        path: PathBuf,
    },
    /// A directory's entries made durable.
    SyncDir {
        /// The directory (empty: the traced one).
        path: PathBuf,
    },
}

/// The traces (under the `testing` feature) and their no-op stand-ins otherwise.
#[cfg(not(feature = "testing"))]
mod trace {
    use super::Op;
    use std::fs::File;
    use std::path::{Path, PathBuf};

    #[inline(always)]
    pub(super) fn active() -> bool {
        false
    }
    #[inline(always)]
    pub(super) fn file(_: &File, _: impl FnOnce(PathBuf) -> Op) {}
    #[inline(always)]
    pub(super) fn path(_: &Path, _: impl FnOnce(PathBuf) -> Op) {}
    #[inline(always)]
    pub(super) fn relative(_: &Path) -> Option<(u64, PathBuf)> {
        None
    }
    #[inline(always)]
    pub(super) fn push(_: &u64, _: Op) {}
}

#[cfg(feature = "testing")]
mod trace {
    use super::Op;
    use std::fs::File;
    use std::path::{Component, Path, PathBuf};
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::{Mutex, MutexGuard};

    struct Watch {
        id: u64,
        root: PathBuf,
        ops: Vec<Op>,
    }

    static WATCHES: Mutex<Vec<Watch>> = Mutex::new(Vec::new());
    static ACTIVE: AtomicUsize = AtomicUsize::new(0);
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);

    fn watches() -> MutexGuard<'static, Vec<Watch>> {
        WATCHES.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The operations on the files under one directory, in the order they were done,
    /// from [`Trace::start`] until the trace is dropped.
    #[derive(Debug)]
    pub struct Trace {
        id: u64,
    }

    impl Trace {
        /// Watches `dir` (which must exist) and everything under it.
        pub fn start(dir: &Path) -> std::io::Result<Trace> {
            let root = dir.canonicalize()?;
            let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
            watches().push(Watch {
                id,
                root,
                ops: Vec::new(),
            });
            ACTIVE.fetch_add(1, Ordering::SeqCst);
            Ok(Trace { id })
        }

        /// How many operations the trace holds so far.
        pub fn len(&self) -> usize {
            self.with(|w| w.ops.len())
        }

        /// Whether the trace holds no operation yet.
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// The operations so far.
        pub fn ops(&self) -> Vec<Op> {
            self.with(|w| w.ops.clone())
        }

        fn with<T: Default>(&self, f: impl FnOnce(&Watch) -> T) -> T {
            watches()
                .iter()
                .find(|w| w.id == self.id)
                .map(f)
                .unwrap_or_default()
        }
    }

    impl Drop for Trace {
        fn drop(&mut self) {
            watches().retain(|w| w.id != self.id);
            ACTIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }

    pub(super) fn active() -> bool {
        ACTIVE.load(Ordering::Relaxed) > 0
    }

    /// `path` made absolute and rid of `.` and `..` (its parent canonical when it
    /// exists, for a file that may not exist any more).
    fn absolute(path: &Path) -> Option<PathBuf> {
        if let Ok(p) = path.canonicalize() {
            return Some(p);
        }
        let parent = path.parent()?.canonicalize().ok()?;
        let name = path.file_name()?;
        Some(parent.join(name))
    }

    /// The trace watching `path` and the path relative to its directory.
    pub(super) fn relative(path: &Path) -> Option<(u64, PathBuf)> {
        if !active() {
            return None;
        }
        let abs = absolute(path)?;
        watches().iter().find_map(|w| {
            let rel = abs.strip_prefix(&w.root).ok()?;
            let clean = rel.components().all(|c| matches!(c, Component::Normal(_)));
            clean.then(|| (w.id, rel.to_path_buf()))
        })
    }

    pub(super) fn push(id: &u64, op: Op) {
        if let Some(w) = watches().iter_mut().find(|w| w.id == *id) {
            w.ops.push(op);
        }
    }

    pub(super) fn path(path: &Path, op: impl FnOnce(PathBuf) -> Op) {
        if let Some((id, rel)) = relative(path) {
            push(&id, op(rel));
        }
    }

    #[cfg(target_os = "linux")]
    pub(super) fn file(f: &File, op: impl FnOnce(PathBuf) -> Op) {
        use std::os::fd::AsRawFd;
        if !active() {
            return;
        }
        let link = format!("/proc/self/fd/{}", f.as_raw_fd());
        if let Ok(p) = std::fs::read_link(link) {
            path(&p, op);
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn file(_: &File, _: impl FnOnce(PathBuf) -> Op) {}
}

/// The permission bits of the file at `path` when its group or others may read or
/// write it, `None` when only its owner may (always `None` off Unix): a key file must
/// be its owner's alone.
pub(crate) fn shared_mode(path: &Path) -> io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path)?.permissions().mode();
        Ok((mode & 0o077 != 0).then_some(mode & 0o777))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(None)
    }
}
