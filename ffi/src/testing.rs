//! Exports for the C test suite and the C bench only (feature `testing`, never in the
//! header): a deliberate panic inside the guard of each return kind, so the C tests see
//! `GD_ERR_PANIC` and NULL for real; and the Rust side of the bench, the same decisions
//! made by Rust code in the same process, so the ratio compares like with like.

use crate::args::{c_str, out_ptr};
use crate::engine::gd_engine;
use crate::error::{gd_status, Failure};
use crate::guard::ffi_guard;
use govdata::{Action, Request, Resource};
use std::os::raw::{c_char, c_int};
use std::str::FromStr;
use std::time::Instant;

/// Panics inside the guard of a status-returning export; returns `GD_ERR_PANIC`.
#[no_mangle]
pub extern "C" fn gd_testing_panic_status() -> c_int {
    ffi_guard! { deliberate_panic::<Result<gd_status, Failure>>() }
}

/// Panics inside the guard of a pointer-returning export; returns NULL.
#[no_mangle]
pub extern "C" fn gd_testing_panic_ptr() -> *const c_char {
    ffi_guard! { deliberate_panic::<*const c_char>() }
}

/// Panics inside the guard of a `void` export; returns normally.
#[no_mangle]
pub extern "C" fn gd_testing_panic_void() {
    ffi_guard! { deliberate_panic::<()>() }
}

#[expect(
    clippy::panic,
    reason = "the C tests need a real panic inside the guard"
)]
fn deliberate_panic<T>() -> T {
    panic!("deliberate panic for the tests")
}

/// The bench's Rust side of the fast path: for `rounds` rounds, decides each of the `n`
/// dataset requests (`principals[i]`, `actions[i]`, `datasets[i]`) through
/// `Engine::decide(&Request::new(…))`, as a Rust caller holding ids as `&str` and an
/// `Action` would. Writes the number of allows to `*out_allowed` and the nanoseconds
/// spent in the decision loop (the argument conversion is outside it) to `*out_nanos`.
///
/// # Safety
/// `engine` a live handle; the three arrays have `n` NUL-terminated strings each.
#[no_mangle]
pub unsafe extern "C" fn gd_testing_bench_rust_check(
    engine: *const gd_engine,
    principals: *const *const c_char,
    actions: *const *const c_char,
    datasets: *const *const c_char,
    n: usize,
    rounds: usize,
    out_allowed: *mut u64,
    out_nanos: *mut u64,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract.
        let engine = unsafe { engine_of(engine) }?;
        let out_allowed = out_ptr(out_allowed, "out_allowed")?;
        let out_nanos = out_ptr(out_nanos, "out_nanos")?;
        let mut input: Vec<(&str, Action, &str)> = Vec::with_capacity(n);
        for i in 0..n {
            // SAFETY: by the contract each array has `n` valid string pointers.
            let (p, a, d) = unsafe { (*principals.add(i), *actions.add(i), *datasets.add(i)) };
            // SAFETY: by the contract these are NUL-terminated strings.
            let (p, a, d) = unsafe { (c_str(p, "principal")?, c_str(a, "action")?, c_str(d, "dataset")?) };
            let a = Action::from_str(a).map_err(|m| Failure::new(gd_status::GD_ERR_REQUEST_INVALID, m))?;
            input.push((p, a, d));
        }
        let mut allowed = 0u64;
        let start = Instant::now();
        for _ in 0..rounds {
            for (p, a, d) in &input {
                let decision = engine.decide(&Request::new(*p, *a, Resource::dataset(*d)))?;
                allowed += u64::from(decision.allowed());
            }
        }
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        // SAFETY: both are non-NULL (checked) and writable by the contract.
        unsafe {
            out_allowed.write(allowed);
            out_nanos.write(nanos);
        }
        Ok(gd_status::GD_OK)
    }
}

/// The bench's Rust side of the JSON call: `Engine::decide_json(text)` followed by
/// `Decision::to_json_string()` for each of `n` request texts, `rounds` times.
///
/// # Safety
/// `engine` a live handle; `requests` has `n` NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn gd_testing_bench_rust_decide_json(
    engine: *const gd_engine,
    requests: *const *const c_char,
    n: usize,
    rounds: usize,
    out_allowed: *mut u64,
    out_nanos: *mut u64,
) -> c_int {
    ffi_guard! {
        // SAFETY: forwarded contract.
        let engine = unsafe { engine_of(engine) }?;
        let out_allowed = out_ptr(out_allowed, "out_allowed")?;
        let out_nanos = out_ptr(out_nanos, "out_nanos")?;
        let mut input: Vec<String> = Vec::with_capacity(n);
        for i in 0..n {
            // SAFETY: by the contract `requests` has `n` NUL-terminated strings.
            let text = unsafe { c_str(*requests.add(i), "request") }?;
            input.push(text.to_owned());
        }
        let mut allowed = 0u64;
        let start = Instant::now();
        for _ in 0..rounds {
            for text in &input {
                let decision = engine.decide_json(text)?;
                let json = decision.to_json_string();
                allowed += u64::from(json.starts_with("{\"decision\":\"allow\""));
            }
        }
        let nanos = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        // SAFETY: both are non-NULL (checked) and writable by the contract.
        unsafe {
            out_allowed.write(allowed);
            out_nanos.write(nanos);
        }
        Ok(gd_status::GD_OK)
    }
}

/// # Safety
/// `ptr` is NULL or a live handle.
unsafe fn engine_of<'a>(ptr: *const gd_engine) -> Result<&'a govdata::Engine, Failure> {
    // SAFETY: forwarded contract.
    match unsafe { ptr.as_ref() } {
        Some(e) => Ok(e.engine()),
        None => Err(Failure::null("engine")),
    }
}
