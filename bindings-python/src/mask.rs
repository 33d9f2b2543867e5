//! The data obligations from Python: masks, pseudonyms and watermarks carried out by
//! the core on Arrow data. Tables cross the boundary as Arrow IPC streams (the
//! `govdata` package converts pyarrow tables and pandas frames); the masking runs
//! without the GIL.

use crate::engine::{detached, Engine};
use crate::error::{guard, to_py};
use crate::keys;
use arrow_array::RecordBatch;
use arrow_ipc::reader::StreamReader;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{ArrowError, SchemaRef};
use govdata::audit::HashSuite;
use govdata::mask::watermark::Detector;
use govdata::mask::{Mask, MaskKeys, Plan, PseudonymKey, WatermarkKey};
use govdata::{Error, Result as CoreResult};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use zeroize::Zeroizing;

fn suite(name: &str) -> CoreResult<HashSuite> {
    name.parse::<HashSuite>()
}

fn key_bytes(key: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Zeroizing<Vec<u8>>>> {
    key.map(|k| keys::extract(k, "key")?.read().map_err(to_py))
        .transpose()
}

fn ipc_error(e: ArrowError) -> Error {
    Error::RequestInvalid {
        message: format!("not a valid Arrow IPC stream: {e}"),
    }
}

fn read_batches(data: &[u8]) -> CoreResult<(SchemaRef, Vec<RecordBatch>)> {
    let reader = StreamReader::try_new(data, None).map_err(ipc_error)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(ipc_error)?;
    Ok((schema, batches))
}

/// Decides `request` and carries out its obligations on the Arrow IPC stream `data`:
/// the masked stream, or an error and nothing.
#[pyfunction]
#[pyo3(signature = (engine, request, data, *, key=None, suite="sha256"))]
pub fn _mask_ipc<'py>(
    py: Python<'py>,
    engine: &Bound<'py, Engine>,
    request: &Bound<'py, PyAny>,
    data: &[u8],
    key: Option<&Bound<'py, PyAny>>,
    suite: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    guard(|| {
        let request = crate::convert::request(request).map_err(to_py)?;
        let key = key_bytes(key)?;
        let core = engine.get().core().clone();
        let out = detached(py, || {
            let suite = self::suite(suite)?;
            let keys = match &key {
                Some(k) => MaskKeys {
                    pseudonym: Some(PseudonymKey::from_bytes(k, suite)?),
                    watermark: Some(WatermarkKey::from_bytes(k, suite)?),
                },
                None => MaskKeys::default(),
            };
            let (schema, batches) = read_batches(data)?;
            let decision = core.decide(&request)?;
            let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            let plan = Plan::new(&request, &decision, &core.inventory(), &columns, keys)?;
            let mut release = plan.release();
            let masked = batches
                .iter()
                .map(|b| release.push_batch(b))
                .collect::<CoreResult<Vec<_>>>()?;
            let out_schema = match masked.first() {
                Some(b) => b.schema(),
                None => schema.clone(),
            };
            let mut buf = Vec::new();
            let mut writer = StreamWriter::try_new(&mut buf, &out_schema).map_err(ipc_error)?;
            for b in &masked {
                writer.write(b).map_err(ipc_error)?;
            }
            writer.finish().map_err(ipc_error)?;
            drop(writer);
            Ok(buf)
        })?;
        Ok(PyBytes::new(py, &out))
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
        let mask: Mask = mask.parse().map_err(to_py)?;
        let key = match key_bytes(key)? {
            Some(k) => Some(
                PseudonymKey::from_bytes(&k, self::suite(suite).map_err(to_py)?).map_err(to_py)?,
            ),
            None => None,
        };
        if mask.needs_key() && key.is_none() {
            return Err(to_py(Error::KeyNotFound {
                id: "pseudonym".into(),
            }));
        }
        Ok(values
            .iter()
            .map(|v| mask.apply(v.as_deref(), key.as_ref()))
            .collect())
    })
}

/// Reads the watermark of an Arrow IPC stream: `None`, or a dict with `audit_seq`,
/// `votes` and `recipient` (the first of `candidates` the mark names, or `None`).
#[pyfunction]
#[pyo3(signature = (data, *, key, suite="sha256", candidates=None))]
pub fn _watermark_detect_ipc<'py>(
    py: Python<'py>,
    data: &[u8],
    key: &Bound<'py, PyAny>,
    suite: &str,
    candidates: Option<Vec<String>>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    guard(|| {
        let key = keys::extract(key, "key")?.read().map_err(to_py)?;
        let found = detached(py, || {
            let suite = self::suite(suite)?;
            let detector = Detector::new(
                WatermarkKey::from_bytes(&key, suite)?,
                Some(&PseudonymKey::from_bytes(&key, suite)?),
            );
            let (_, batches) = read_batches(data)?;
            let mut tally = detector.tally();
            for b in &batches {
                for col in b.columns() {
                    if let Some(s) = col.as_any().downcast_ref::<arrow_array::StringArray>() {
                        s.iter().flatten().for_each(|v| tally.observe(v));
                    } else if let Some(s) =
                        col.as_any().downcast_ref::<arrow_array::LargeStringArray>()
                    {
                        s.iter().flatten().for_each(|v| tally.observe(v));
                    }
                }
            }
            Ok(tally.finish().map(|d| {
                let recipient = candidates
                    .iter()
                    .flatten()
                    .find(|c| detector.names(&d, c))
                    .cloned();
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
