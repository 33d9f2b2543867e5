//! The panic boundary every export runs inside.
//!
//! `ffi_guard! { body }` is the whole body of every `extern "C"` function of this crate
//! (a test scans the sources for exports without it). It runs the body under
//! `catch_unwind`, so a panic never unwinds into C (undefined behaviour) and never
//! aborts the host: it becomes `GD_ERR_PANIC` for a status-returning export, NULL for
//! one returning a pointer, and nothing for one returning `void`. The body's value says
//! what the export returns, through [`Boundary`].

use crate::error::{clear_last_error, gd_status, set_last_error, Failure};
use std::any::Any;
use std::os::raw::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The whole body of an export; see the module documentation.
macro_rules! ffi_guard {
    ($($body:tt)*) => {
        $crate::guard::run(move || { $($body)* })
    };
}
pub(crate) use ffi_guard;

/// What an export's body evaluates to, and how that becomes the C return value.
pub(crate) trait Boundary {
    /// The C return type.
    type Ret;
    /// The C return value for a body that ran to completion.
    fn finish(self) -> Self::Ret;
    /// The C return value for a body that panicked.
    fn panicked() -> Self::Ret;
}

/// A fallible call: the status (and the last error) reflect this call only.
impl Boundary for Result<gd_status, Failure> {
    type Ret = c_int;
    fn finish(self) -> c_int {
        match self {
            Ok(status) => {
                clear_last_error();
                status as c_int
            }
            Err(failure) => {
                set_last_error(&failure.message);
                failure.status as c_int
            }
        }
    }
    fn panicked() -> c_int {
        gd_status::GD_ERR_PANIC as c_int
    }
}

/// A call that reads the last error and so must leave it as it is.
#[derive(Debug)]
pub(crate) struct Quiet(pub(crate) gd_status);

impl Boundary for Quiet {
    type Ret = c_int;
    fn finish(self) -> c_int {
        self.0 as c_int
    }
    fn panicked() -> c_int {
        gd_status::GD_ERR_PANIC as c_int
    }
}

/// A call that cannot fail (a free function).
impl Boundary for () {
    type Ret = ();
    fn finish(self) {}
    fn panicked() {}
}

/// A call returning a static string, NULL when there is none.
impl Boundary for *const c_char {
    type Ret = *const c_char;
    fn finish(self) -> *const c_char {
        self
    }
    fn panicked() -> *const c_char {
        std::ptr::null()
    }
}

/// Runs an export's body; see the module documentation.
pub(crate) fn run<B: Boundary>(body: impl FnOnce() -> B) -> B::Ret {
    // AssertUnwindSafe: after a panic the body's state is dropped, never observed again;
    // the engine itself keeps its invariants under panics (it swaps whole `Arc`s).
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value.finish(),
        Err(payload) => {
            set_last_error(&format!(
                "internal error (a bug in govdata, please report it): {}",
                panic_message(payload.as_ref())
            ));
            B::panicked()
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "panic"
    }
}
