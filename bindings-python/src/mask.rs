//! The data obligations from Python: masks, pseudonyms and watermarks carried out by
//! the core on Arrow data that crosses through the Arrow PyCapsule interface.
//!
//! The `govdata` package hands over the capsule of any object with
//! `__arrow_c_stream__` (a pyarrow table, a record batch reader, a frame converted by
//! pyarrow …); the stream is moved out of the capsule and read where its buffers are,
//! masked without the GIL, and handed back as a new `arrow_array_stream` capsule
//! whose kept columns are the input's own buffers. Nothing is copied on the way in
//! or out except the masked values themselves.

use crate::engine::{detached, Decision, Engine};
use crate::error::{guard, to_py};
use crate::keys;
use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use govdata::audit::HashSuite;
use govdata::mask::arrow::{apply_stream, detect};
use govdata::mask::watermark::Detector;
use govdata::mask::MaskKeys;
use govdata::{Error, Result as CoreResult};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use std::ffi::CString;
use zeroize::Zeroizing;

/// The name the Arrow PyCapsule interface gives a stream's capsule.
const STREAM: &std::ffi::CStr = c"arrow_array_stream";

fn suite(name: &str) -> CoreResult<HashSuite> {
    name.parse::<HashSuite>()
}

fn key_bytes(key: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Zeroizing<Vec<u8>>>> {
    key.map(|k| keys::extract(k, "key")?.read().map_err(to_py))
        .transpose()
}

fn stream_error(e: impl std::fmt::Display) -> Error {
    Error::RequestInvalid {
        message: format!("the Arrow C stream cannot be read: {e}"),
    }
}

/// Moves the stream out of an `arrow_array_stream` capsule (whose stream is left
/// released, as the interface asks of a consumer).
#[expect(
    unsafe_code,
    reason = "moving a C stream out of a capsule is the Arrow PyCapsule interface"
)]
fn import(capsule: &Bound<'_, PyCapsule>) -> PyResult<ArrowArrayStreamReader> {
    let ptr = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: a capsule named `arrow_array_stream` holds a pointer to an initialised
    // `struct ArrowArrayStream` (the interface's contract), which `FFI_ArrowArrayStream`
    // lays out exactly (`#[repr(C)]`); `from_raw` moves it out and leaves the
    // capsule's copy released, so the capsule's destructor does not release it again.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr().cast()) };
    ArrowArrayStreamReader::try_new(stream).map_err(|e| to_py(stream_error(e)))
}

/// A capsule that owns `stream` (released when the capsule is collected, unless a
/// consumer moved it out first).
fn export(py: Python<'_>, stream: FFI_ArrowArrayStream) -> PyResult<Bound<'_, PyCapsule>> {
    PyCapsule::new(py, stream, Some(CString::from(STREAM)))
}

/// Decides `request` and carries out its obligations on the Arrow C stream in
/// `stream` (a capsule from `__arrow_c_stream__`): the masked stream's capsule, the
/// decision it carried out and the obligations left to the host, or an error and
/// nothing.
#[pyfunction]
#[pyo3(signature = (engine, request, stream, *, key=None, suite="sha256"))]
pub fn _mask_stream<'py>(
    py: Python<'py>,
    engine: &Bound<'py, Engine>,
    request: &Bound<'py, PyAny>,
    stream: &Bound<'py, PyCapsule>,
    key: Option<&Bound<'py, PyAny>>,
    suite: &str,
) -> PyResult<(Bound<'py, PyCapsule>, Decision, Vec<String>)> {
    guard(|| {
        let reader = import(stream)?;
        let request = crate::convert::request(request).map_err(to_py)?;
        let key = key_bytes(key)?;
        let core = engine.get().core().clone();
        let masked = detached(py, move || {
            let keys = MaskKeys::from_bytes(key.as_ref(), self::suite(suite)?)?;
            let masked = apply_stream(&core, &request, reader, keys)?;
            let decision = masked.decision().clone();
            let host = masked.host_obligations().to_vec();
            let stream = FFI_ArrowArrayStream::new(Box::new(masked.into_reader()));
            Ok((stream, decision, host))
        })?;
        let (stream, decision, host) = masked;
        Ok((export(py, stream)?, Decision { inner: decision }, host))
    })
}

/// Applies one mask by name (`resident_id`, `show_first:4`, `pseudonym` …) to each
/// value: the shared vectors' entry point.
#[pyfunction]
#[pyo3(signature = (mask, values, *, key=None, suite="sha256"))]
pub fn mask_values(
    mask: &str,
    values: Vec<Option<String>>,
    key: Option<&Bound<'_, PyAny>>,
    suite: &str,
) -> PyResult<Vec<Option<String>>> {
    guard(|| {
        let key = key_bytes(key)?;
        govdata::mask::mask_values(
            mask,
            values.iter().map(Option::as_deref),
            key.as_ref(),
            self::suite(suite).map_err(to_py)?,
        )
        .map_err(to_py)
    })
}

/// Reads the watermark of the Arrow C stream in `stream`: `None`, or a dict with
/// `audit_seq`, `votes` and `recipient` (the first of `candidates` the mark names, or
/// `None`).
#[pyfunction]
#[pyo3(signature = (stream, *, key, suite="sha256", candidates=None))]
pub fn _watermark_detect_stream<'py>(
    py: Python<'py>,
    stream: &Bound<'py, PyCapsule>,
    key: &Bound<'py, PyAny>,
    suite: &str,
    candidates: Option<Vec<String>>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    guard(|| {
        let reader = import(stream)?;
        let key = keys::extract(key, "key")?.read().map_err(to_py)?;
        let found = detached(py, move || {
            let detector = Detector::from_bytes(&key, self::suite(suite)?)?;
            Ok(detect(&detector, reader)?.map(|d| {
                let recipient = detector
                    .recipient_among(&d, candidates.iter().flatten().map(String::as_str))
                    .map(str::to_owned);
                (d.audit_seq(), d.votes(), recipient)
            }))
        })?;
        found
            .map(|(seq, votes, recipient)| {
                let d = PyDict::new(py);
                d.set_item("audit_seq", seq)?;
                d.set_item("votes", votes)?;
                d.set_item("recipient", recipient)?;
                Ok(d)
            })
            .transpose()
    })
}
