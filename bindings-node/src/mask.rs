//! The data obligations from Node: a decision's masks, pseudonyms and watermark
//! carried out by the core on an Arrow IPC stream (`engine.applyIpc`), one mask on a
//! list of values (`maskValues`, the shared vectors' entry point) and a leaked
//! stream's watermark read back (`detectWatermark`).
//!
//! A stream's bytes are copied once out of the caller's buffer on the JavaScript
//! thread; the batches are decoded from that copy without another, masked on the
//! thread pool, and the masked stream is handed back as a `Buffer` that owns the
//! encoder's output (no copy). The core decides and masks the whole stream before
//! anything comes back, so a failure rejects and no data is released.

use crate::args::{self, Options};
use crate::error::{guard, invalid_argument, to_js, Result};
use crate::tasks::{self, Job, Output};
use crate::Engine;
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::ArrowError;
use govdata::audit::HashSuite;
use govdata::mask::arrow::{apply_stream, detect};
use govdata::mask::watermark::Detector;
use govdata::mask::MaskKeys;
use govdata::platform::SecretSource;
use napi::bindgen_prelude::{AsyncTask, Env, Unknown};
use napi_derive::napi;
use std::sync::Arc;
use zeroize::Zeroizing;

/// The key and suite options of the calls of this module.
struct KeyOptions {
    key: Option<SecretSource>,
    suite: HashSuite,
}

impl KeyOptions {
    fn read(options: &Options<'_>) -> Result<Self> {
        let suite = match options.string("suite")? {
            Some(s) => s.parse::<HashSuite>().map_err(to_js)?,
            None => HashSuite::Sha256,
        };
        Ok(KeyOptions {
            key: options.key("key")?,
            suite,
        })
    }

    /// The key's bytes (a key file is read here, off the event loop when called
    /// from a task).
    fn bytes(&self) -> govdata::Result<Option<Zeroizing<Vec<u8>>>> {
        self.key.as_ref().map(SecretSource::read).transpose()
    }
}

fn ipc_error(e: ArrowError) -> govdata::Error {
    govdata::Error::RequestInvalid {
        message: format!("not a valid Arrow IPC stream: {e}"),
    }
}

/// The batches of an Arrow IPC stream, decoded without copying their buffers.
fn decode(
    bytes: Vec<u8>,
) -> govdata::Result<
    RecordBatchIterator<std::vec::IntoIter<std::result::Result<RecordBatch, ArrowError>>>,
> {
    let mut buffer = Buffer::from_vec(bytes);
    let mut decoder = StreamDecoder::new();
    let mut batches = Vec::new();
    while !buffer.is_empty() {
        if let Some(batch) = decoder.decode(&mut buffer).map_err(ipc_error)? {
            batches.push(Ok(batch));
        }
    }
    decoder.finish().map_err(ipc_error)?;
    let schema = decoder
        .schema()
        .ok_or_else(|| govdata::Error::RequestInvalid {
            message: "not a valid Arrow IPC stream: it holds no schema".into(),
        })?;
    Ok(RecordBatchIterator::new(batches.into_iter(), schema))
}

/// An Arrow IPC stream of `batches`.
fn encode(masked: govdata::mask::arrow::Masked) -> govdata::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut writer = StreamWriter::try_new(&mut out, &masked.schema()).map_err(ipc_error)?;
    for batch in masked.batches() {
        writer.write(batch).map_err(ipc_error)?;
    }
    writer.finish().map_err(ipc_error)?;
    drop(writer);
    Ok(out)
}

#[napi]
impl Engine {
    /// Decides `request` (recorded in the attached audit log, whose record a
    /// watermark names) and carries out the decision's obligations on `ipc`, an Arrow
    /// IPC stream of the request's dataset: masks and pseudonyms column by column as
    /// the masking profile says, canary rows for a watermark. On the thread pool;
    /// resolves to the masked stream as a `Buffer`. Rejects, and releases nothing,
    /// when the decision denies or carries an obligation this call cannot carry out
    /// (`access_denied`), when a column is not a declared field of the dataset or
    /// `ipc` is not a valid stream (`request_invalid`), or when a key the
    /// obligations need is not given (`key_not_found`). `key` (at least 32 bytes, a
    /// `Key` or a key file) keys the pseudonyms and the watermark; `suite` is
    /// `'sha256'` (the default) or `'sm3'`.
    #[napi(
        catch_unwind,
        ts_args_type = "request: Request, ipc: Uint8Array, options?: MaskOptions",
        ts_return_type = "Promise<Buffer>"
    )]
    pub fn apply_ipc(
        &self,
        env: &Env,
        request: Unknown<'_>,
        ipc: Unknown<'_>,
        options: Option<Unknown<'_>>,
    ) -> AsyncTask<Job> {
        Job::spawn("applyIpc", || {
            let request = self.stringify.request(env, &request)?;
            let bytes = args::bytes(ipc, "ipc")?.to_vec();
            let keys = KeyOptions::read(&Options::new(options, "options", &["key", "suite"])?)?;
            let engine = Arc::clone(&self.inner);
            Ok(move || {
                let work = || -> govdata::Result<Vec<u8>> {
                    let key = keys.bytes()?;
                    let keys = MaskKeys::from_bytes(key.as_ref(), keys.suite)?;
                    let masked = apply_stream(&engine, &request, decode(bytes)?, keys)?;
                    encode(masked)
                };
                work().map(Output::Bytes).map_err(to_js)
            })
        })
    }
}

/// Applies one mask by name (`resident_id`, `mobile`, `show_first:4`, `hash`,
/// `pseudonym` …) to each value (a string or `null`): the shared vectors' entry
/// point. A pseudonym needs `key` (`key_not_found` without it); an unknown mask is
/// `request_invalid`.
#[napi(
    catch_unwind,
    ts_args_type = "mask: string, values: Array<string | null>, options?: MaskOptions",
    ts_return_type = "Array<string | null>"
)]
pub fn mask_values(
    env: Env,
    mask: Unknown<'_>,
    values: Unknown<'_>,
    options: Option<Unknown<'_>>,
) -> Result<Vec<Option<String>>> {
    guard(|| {
        let mask = args::string(mask, "mask")?;
        let values: Vec<Option<String>> = args::json(&env, &values, |m| {
            invalid_argument(format!(
                "`values` must be an array of strings and nulls: {m}"
            ))
        })?;
        let keys = KeyOptions::read(&Options::new(options, "options", &["key", "suite"])?)?;
        let key = keys.bytes().map_err(to_js)?;
        govdata::mask::mask_values(
            &mask,
            values.iter().map(Option::as_deref),
            key.as_ref(),
            keys.suite,
        )
        .map_err(to_js)
    })
}

/// Reads the watermark of `ipc`, an Arrow IPC stream (a leaked extract), on the
/// thread pool. Resolves to `null` when no mark under `key` is found, or to
/// `{ audit_seq, votes, recipient }`: the audit record of the decision that released
/// the extract, the cells that voted for it, and the first of `candidates` the mark
/// names (`null` if none does).
#[napi(
    catch_unwind,
    ts_args_type = "ipc: Uint8Array, options: WatermarkOptions",
    ts_return_type = "Promise<WatermarkDetection | null>"
)]
pub fn detect_watermark(env: Env, ipc: Unknown<'_>, options: Unknown<'_>) -> AsyncTask<Job> {
    Job::spawn("detectWatermark", || {
        let bytes = args::bytes(ipc, "ipc")?.to_vec();
        let options = Options::new(Some(options), "options", &["key", "suite", "candidates"])?;
        let keys = KeyOptions::read(&options)?;
        if keys.key.is_none() {
            return Err(invalid_argument(
                "`options.key` is required to read a watermark",
            ));
        }
        let candidates: Vec<String> = match options.value("candidates")? {
            Some(v) => args::json(&env, &v, |m| {
                invalid_argument(format!(
                    "`options.candidates` must be an array of strings: {m}"
                ))
            })?,
            None => Vec::new(),
        };
        Ok(tasks::json(move || {
            let Some(key) = keys.bytes()? else {
                return Ok(serde_json::Value::Null);
            };
            let detector = Detector::from_bytes(&key, keys.suite)?;
            let found = detect(&detector, decode(bytes)?)?;
            Ok(match found {
                None => serde_json::Value::Null,
                Some(d) => serde_json::json!({
                    "audit_seq": d.audit_seq(),
                    "votes": d.votes(),
                    "recipient": detector.recipient_among(&d, candidates.iter().map(String::as_str)),
                }),
            })
        }))
    })
}
