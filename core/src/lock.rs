//! One writer per store, enforced by the operating system.
//!
//! The audit log's directory and the vault's key store are each written by one
//! process at a time. A writer holds an exclusive advisory lock (`flock(2)` on Unix,
//! `LockFileEx` on Windows, through the standard library) on the file
//! [`LOCK_FILE`] inside the store's directory. The kernel releases the lock when the
//! holder's file is closed — by the holder, or by the kernel when the process dies,
//! even by `SIGKILL` — so a crash never leaves a stale lock behind, unlike a PID file.
//!
//! A second writer waits up to a configurable time ([`DEFAULT_LOCK_WAIT`] unless the
//! store's options say otherwise), polling, so that short command-line calls queue
//! behind one another and all succeed; past the wait it fails with `store_locked`,
//! naming the store and the holder's process id, before anything is written.
//!
//! The holder writes its process id into the lock file for that message only: the id
//! says who holds the lock now, never whether it is held (a dead holder's id stays in
//! the file, and the lock is free). Readers never take the lock: the stores' files are
//! written so that a reader sees whole records (the audit log) or a whole file (the
//! key store, replaced by rename).
//!
//! It must not decide anything, and it must not be taken by readers.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The name of the lock file in a store's directory.
pub const LOCK_FILE: &str = "govdata.lock";

/// How long a writer waits for a store that another process holds, unless told
/// otherwise.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(5);

/// The longest pause between two tries while waiting.
const MAX_POLL: Duration = Duration::from_millis(20);

/// An exclusive lock on a store's directory; released when dropped.
#[derive(Debug)]
pub(crate) struct StoreLock {
    file: File,
    /// The lock file, for `Debug`.
    #[allow(dead_code)]
    path: PathBuf,
}

impl StoreLock {
    /// Takes the lock of the store in `dir` (which must exist), waiting up to `wait`
    /// for another holder to let go. `store` names the store in the error.
    pub(crate) fn acquire(dir: &Path, store: &str, wait: Duration) -> Result<StoreLock> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let waited = started.elapsed();
                    if waited >= wait {
                        return Err(Error::StoreLocked {
                            store: format!("{store} `{}`", dir.display()),
                            holder: holder_of(&mut file),
                            waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
                        });
                    }
                    std::thread::sleep(pause.min(wait - waited));
                    pause = (pause * 2).min(MAX_POLL);
                }
                Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
            }
        }
        // Only for the message another waiter prints; a failure here costs nothing
        // but that message's process id.
        let _ = write_holder(&mut file);
        Ok(StoreLock { file, path })
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first keeps the window
        // in which the file names a holder that has let go as short as it can be.
        let _ = self.file.unlock();
    }
}

fn write_holder(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(format!("{}\n", std::process::id()).as_bytes())
}

fn holder_of(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("govdata-lock-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_second_holder_waits_then_fails_naming_the_holder() {
        let d = dir("second");
        let first = StoreLock::acquire(&d, "audit log", DEFAULT_LOCK_WAIT).unwrap();
        let started = Instant::now();
        let err = StoreLock::acquire(&d, "audit log", Duration::from_millis(150)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(150));
        assert_eq!(err.code(), "store_locked");
        match &err {
            Error::StoreLocked { holder, store, .. } => {
                assert_eq!(*holder, Some(std::process::id()));
                assert!(store.contains("audit log"), "{store}");
            }
            other => panic!("unexpected {other:?}"),
        }
        drop(first);
        StoreLock::acquire(&d, "audit log", Duration::ZERO).unwrap();
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn a_waiter_gets_the_lock_when_the_holder_lets_go() {
        let d = dir("queue");
        let first = StoreLock::acquire(&d, "vault", DEFAULT_LOCK_WAIT).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(first);
        });
        StoreLock::acquire(&d, "vault", Duration::from_secs(10)).unwrap();
        releaser.join().unwrap();
        std::fs::remove_dir_all(&d).ok();
    }
}
