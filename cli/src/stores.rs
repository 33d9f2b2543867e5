//! How the command line opens the stores it writes: the audit log and the vault
//! wait for another process that writes them (see `govdata::lock`) for
//! `GOVDATA_LOCK_WAIT` seconds (a decimal number; 5 when unset), so that calls
//! started at the same time queue behind one another and all succeed.

use std::time::Duration;

/// The environment variable that sets the wait.
pub const LOCK_WAIT_VAR: &str = "GOVDATA_LOCK_WAIT";

/// How long to wait for a store that another process holds.
pub fn lock_wait() -> govdata::Result<Duration> {
    match std::env::var(LOCK_WAIT_VAR) {
        Err(_) => Ok(govdata::lock::DEFAULT_LOCK_WAIT),
        Ok(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(|| govdata::Error::RequestInvalid {
                message: format!(
                    "{LOCK_WAIT_VAR} must be a number of seconds, not `{}`",
                    text.escape_debug()
                ),
            }),
    }
}
