//! How the command line reports errors: the stable code first, then the message and
//! any help, on standard error.

use std::process::ExitCode;

/// Exit status for "an error, no answer": bad input, unreadable files, a bad pack.
pub const EXIT_ERROR: u8 = 2;

/// Prints an error with its code and returns the error exit status.
pub fn fail(err: &govdata::Error) -> ExitCode {
    eprintln!("error[{}]: {err}", err.code());
    if let Some(help) = err.help() {
        eprintln!("  help: {help}");
    }
    ExitCode::from(EXIT_ERROR)
}
