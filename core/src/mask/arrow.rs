//! Masks and watermarks applied to Apache Arrow record batches (cargo feature
//! `arrow`), column by column: a kept column is passed on without a copy, a masked
//! string column is rebuilt once, and canary rows are placed between the rows.
//!
//! A masked column must be a string column (`Utf8` or `LargeUtf8`); a column of
//! another type may be kept or nulled, and a mask it cannot take is `request_invalid`.
//!
//! [`apply_stream`] is what every front end calls on a stream of batches (an Arrow C
//! stream from Python or C, an IPC stream from Node): it decides, plans and masks the
//! whole stream before anything comes out, so that a failure on the last batch still
//! releases nothing. [`detect`] reads the watermark of a stream.

use super::plan::Release;
use super::watermark::{Detection, Detector};
use super::{Mask, MaskKeys, Plan};
use crate::engine::{Decision, Request};
use crate::error::{Error, Result};
use crate::{Engine, Inventory};
use arrow_array::cast::AsArray;
use arrow_array::{
    make_array, new_null_array, Array, ArrayRef, GenericStringArray, OffsetSizeTrait, RecordBatch,
    RecordBatchIterator, RecordBatchOptions, RecordBatchReader,
};
use arrow_data::transform::MutableArrayData;
use arrow_schema::{ArrowError, DataType, Schema, SchemaRef};
use std::sync::Arc;

/// A generated canary row: its place among the output rows and, per column, the
/// generated (masked) value, or `None` where the row before is repeated.
type Canary = (usize, Vec<Option<Option<String>>>);

/// Carries out `decision`'s obligations on one batch of the request's dataset: the
/// plan of [`Plan::new`] for the batch's columns, then [`Release::push_batch`]. For a
/// stream of batches, make the plan once and push every batch through one release.
pub fn apply(
    request: &Request,
    decision: &Decision,
    inventory: &Inventory,
    batch: &RecordBatch,
    keys: MaskKeys,
) -> Result<RecordBatch> {
    let schema = batch.schema();
    let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let plan = Plan::new(request, decision, inventory, &columns, keys)?;
    let mut release = plan.release();
    release.push_batch(batch)
}

fn arrow_error(e: ArrowError) -> Error {
    Error::request(format!("the masked batch cannot be built: {e}"))
}

fn stream_error(e: ArrowError) -> Error {
    Error::request(format!("the Arrow stream cannot be read: {e}"))
}

/// A whole stream of batches, masked: what [`apply_stream`] releases.
#[derive(Debug)]
pub struct Masked {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    decision: Decision,
    canaries: u64,
    host_obligations: Vec<String>,
}

impl Masked {
    /// The schema of the masked batches (a masked column may hold nulls).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The masked batches, in the order of the input's.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// The decision whose obligations were carried out (its audit record is the one
    /// a watermark names).
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The number of canary rows the watermark placed.
    pub fn canaries(&self) -> u64 {
        self.canaries
    }

    /// The decision's obligations about storing or sending the data, which the host
    /// must still meet (see [`Plan::host_obligations`]).
    pub fn host_obligations(&self) -> &[String] {
        &self.host_obligations
    }

    /// The masked batches as a reader, to hand on as a stream (an Arrow C stream).
    pub fn into_reader(
        self,
    ) -> RecordBatchIterator<std::vec::IntoIter<Result<RecordBatch, ArrowError>>> {
        let batches: Vec<Result<RecordBatch, ArrowError>> =
            self.batches.into_iter().map(Ok).collect();
        RecordBatchIterator::new(batches.into_iter(), self.schema)
    }
}

/// Decides `request` with `engine` (recorded in its audit log, if it has one) and
/// carries out the decision's obligations on every batch of `input`, the request's
/// dataset. Every batch is masked before any is returned: a deny, an obligation the
/// call cannot carry out, a column that is not a declared field, a batch that cannot
/// be read or masked is an error, and no data comes out. Kept columns keep their
/// buffers (no copy) unless the watermark places canary rows among them.
pub fn apply_stream(
    engine: &Engine,
    request: &Request,
    input: impl RecordBatchReader,
    keys: MaskKeys,
) -> Result<Masked> {
    let schema = input.schema();
    let columns: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let decision = engine.decide(request)?;
    let plan = Plan::new(request, &decision, &engine.inventory(), &columns, keys)?;
    let out_schema = plan.output_schema(&schema);
    let mut release = plan.release();
    let mut batches = Vec::new();
    for batch in input {
        let batch = batch.map_err(stream_error)?;
        for masked in release.push_batch_split(&batch)? {
            // Each batch is given the stream's schema, so that every batch of the
            // output has the same one whatever nulls a mask gave.
            batches.push(
                RecordBatch::try_new_with_options(
                    out_schema.clone(),
                    masked.columns().to_vec(),
                    &RecordBatchOptions::new().with_row_count(Some(masked.num_rows())),
                )
                .map_err(arrow_error)?,
            );
        }
    }
    let canaries = release.canaries();
    Ok(Masked {
        schema: out_schema,
        batches,
        decision,
        canaries,
        host_obligations: plan.host_obligations().to_vec(),
    })
}

/// Reads the watermark of a stream of batches with `detector`: every value of its
/// string columns is a cell that votes.
pub fn detect(detector: &Detector, input: impl RecordBatchReader) -> Result<Option<Detection>> {
    let mut tally = detector.tally();
    for batch in input {
        let batch = batch.map_err(stream_error)?;
        for column in batch.columns() {
            match column.data_type() {
                DataType::Utf8 => column
                    .as_string::<i32>()
                    .iter()
                    .flatten()
                    .for_each(|v| tally.observe(v)),
                DataType::LargeUtf8 => column
                    .as_string::<i64>()
                    .iter()
                    .flatten()
                    .for_each(|v| tally.observe(v)),
                DataType::Utf8View => column
                    .as_string_view()
                    .iter()
                    .flatten()
                    .for_each(|v| tally.observe(v)),
                _ => {}
            }
        }
    }
    Ok(tally.finish())
}

impl Plan {
    /// The schema of the batches this plan releases from batches of `input`: the same
    /// fields, a masked one made nullable (a mask may give nulls).
    pub fn output_schema(&self, input: &Schema) -> SchemaRef {
        let fields: Vec<arrow_schema::Field> = input
            .fields()
            .iter()
            .zip(self.columns())
            .map(|(f, c)| {
                let f = f.as_ref().clone();
                if c.mask == Mask::Keep {
                    f
                } else {
                    f.with_nullable(true)
                }
            })
            .collect();
        Arc::new(Schema::new_with_metadata(fields, input.metadata().clone()))
    }
}

impl Release<'_> {
    /// [`Release::push_batch`] for a stream: without a watermark, a large batch comes
    /// out as one batch per chunk of rows that the cores masked, so that no masked
    /// column is copied again to join its chunks (kept columns are slices of the
    /// input's buffers); with a watermark, one batch as `push_batch` gives.
    pub fn push_batch_split(&mut self, batch: &RecordBatch) -> Result<Vec<RecordBatch>> {
        let plan = self.plan;
        let n = batch.num_rows();
        if self.embedder.is_some() || n <= CHUNK_ROWS {
            return Ok(vec![self.push_batch(batch)?]);
        }
        self.push_batch(&batch.slice(0, 0))?; // checks the columns against the plan
        let rows = chunks(n);
        let mut columns: Vec<Vec<ArrayRef>> =
            vec![Vec::with_capacity(plan.columns().len()); rows.len()];
        for (c, array) in batch.columns().iter().enumerate() {
            let mask = plan.columns()[c].mask;
            let pieces: Vec<ArrayRef> = match array.data_type() {
                _ if mask == Mask::Keep => {
                    rows.iter().map(|r| array.slice(r.start, r.len())).collect()
                }
                _ if mask == Mask::Null => rows
                    .iter()
                    .map(|r| new_null_array(array.data_type(), r.len()))
                    .collect(),
                DataType::Utf8 => masked_pieces(plan, c, array.as_string::<i32>())?
                    .into_iter()
                    .map(|a| Arc::new(a) as ArrayRef)
                    .collect(),
                DataType::LargeUtf8 => masked_pieces(plan, c, array.as_string::<i64>())?
                    .into_iter()
                    .map(|a| Arc::new(a) as ArrayRef)
                    .collect(),
                _ => return Err(not_a_string_column(plan, c, array)),
            };
            for (chunk, piece) in columns.iter_mut().zip(pieces) {
                chunk.push(piece);
            }
        }
        let schema = plan.output_schema(&batch.schema());
        columns
            .into_iter()
            .zip(rows)
            .map(|(cols, r)| {
                RecordBatch::try_new_with_options(
                    schema.clone(),
                    cols,
                    &RecordBatchOptions::new().with_row_count(Some(r.len())),
                )
                .map_err(arrow_error)
            })
            .collect()
    }

    /// Masks one record batch whose columns are the plan's, in its order, and places
    /// canary rows when the decision asks for a watermark. Nothing is returned for a
    /// batch that does not fit the plan.
    pub fn push_batch(&mut self, batch: &RecordBatch) -> Result<RecordBatch> {
        let plan = self.plan;
        let schema = batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let planned: Vec<&str> = plan.columns().iter().map(|c| c.name.as_str()).collect();
        if names != planned {
            return Err(Error::request(format!(
                "the batch's columns [{}] are not the plan's [{}]",
                names.join(", "),
                planned.join(", ")
            )));
        }
        let n = batch.num_rows();
        let mut sources: Vec<usize> = Vec::new();
        let mut canaries: Vec<Canary> = Vec::new();
        if let Some(e) = self.embedder.as_mut() {
            sources.reserve(n + n / 16);
            let coins = e.canaries_follow(n);
            for (i, follows) in coins.into_iter().enumerate() {
                sources.push(i);
                if follows {
                    canaries.push((sources.len(), e.canary()));
                    sources.push(i);
                }
            }
        }
        let rows = if canaries.is_empty() {
            n
        } else {
            sources.len()
        };
        let columns = (0..planned.len())
            .map(|c| column(plan, c, batch.column(c), &sources, &canaries, rows))
            .collect::<Result<Vec<_>>>()?;
        RecordBatch::try_new_with_options(
            plan.output_schema(&schema),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(arrow_error)
    }
}

fn column(
    plan: &Plan,
    c: usize,
    array: &ArrayRef,
    sources: &[usize],
    canaries: &[Canary],
    rows: usize,
) -> Result<ArrayRef> {
    let mask = plan.columns()[c].mask;
    if mask == Mask::Keep && canaries.is_empty() {
        return Ok(array.clone());
    }
    if mask == Mask::Null {
        return Ok(new_null_array(array.data_type(), rows));
    }
    match array.data_type() {
        DataType::Utf8 => strings(plan, c, array.as_string::<i32>(), sources, canaries),
        DataType::LargeUtf8 => strings(plan, c, array.as_string::<i64>(), sources, canaries),
        _ if mask == Mask::Keep => Ok(repeat(array, sources)),
        _ => Err(not_a_string_column(plan, c, array)),
    }
}

fn not_a_string_column(plan: &Plan, c: usize, array: &ArrayRef) -> Error {
    Error::request(format!(
        "column `{}` is of type {}: a masked column must be a string column",
        plan.columns()[c].name,
        array.data_type()
    ))
}

/// The rows masked together by one task: enough work that a task's bookkeeping is
/// lost in it, few enough rows that both cores share even one column.
const CHUNK_ROWS: usize = 32 * 1024;

/// The masked values of a run of rows: their bytes, where each ends, and the rows
/// (of the whole column) that a mask turned into nulls.
struct Piece {
    values: String,
    ends: Vec<usize>,
    nulled: Vec<usize>,
}

fn piece<O: OffsetSizeTrait>(
    mask: Mask,
    key: Option<&super::PseudonymKey>,
    array: &GenericStringArray<O>,
    rows: std::ops::Range<usize>,
) -> Piece {
    let start = array.value_offsets()[rows.start].as_usize();
    let end = array.value_offsets()[rows.end].as_usize();
    let mut values = String::with_capacity(end - start);
    let mut ends = Vec::with_capacity(rows.len());
    let mut nulled = Vec::new();
    for i in rows {
        if array.is_valid(i) && !mask.apply_into(array.value(i), key, &mut values) {
            nulled.push(i);
        }
        ends.push(values.len());
    }
    Piece {
        values,
        ends,
        nulled,
    }
}

/// The rows of each masking task of a column of `n` rows.
fn chunks(n: usize) -> Vec<std::ops::Range<usize>> {
    (0..n)
        .step_by(CHUNK_ROWS)
        .map(|s| s..(s + CHUNK_ROWS).min(n))
        .collect()
}

/// Column `c` of the plan applied to every value of `array`, chunk by chunk on all
/// cores: one array per chunk of [`chunks`], each built from one values buffer and
/// one offsets buffer (no allocation per value), the input's validity kept.
fn masked_pieces<O: OffsetSizeTrait>(
    plan: &Plan,
    c: usize,
    array: &GenericStringArray<O>,
) -> Result<Vec<GenericStringArray<O>>> {
    use rayon::prelude::*;
    let mask = plan.columns()[c].mask;
    let key = plan.pseudonym_key();
    chunks(array.len())
        .into_par_iter()
        .map(|rows| {
            let p = piece(mask, key, array, rows.clone());
            piece_array(plan, c, array, rows, p)
        })
        .collect()
}

/// The array of one masked chunk.
fn piece_array<O: OffsetSizeTrait>(
    plan: &Plan,
    c: usize,
    array: &GenericStringArray<O>,
    rows: std::ops::Range<usize>,
    p: Piece,
) -> Result<GenericStringArray<O>> {
    let too_long = || {
        Error::request(format!(
            "column `{}`: the masked values do not fit the column's offsets",
            plan.columns()[c].name
        ))
    };
    let mut offsets: Vec<O> = Vec::with_capacity(p.ends.len() + 1);
    offsets.push(O::usize_as(0));
    for &e in &p.ends {
        offsets.push(O::from_usize(e).ok_or_else(too_long)?);
    }
    let inherited = array.nulls().map(|v| v.slice(rows.start, rows.len()));
    let nulls = if p.nulled.is_empty() {
        inherited
    } else {
        let mut valid = arrow_buffer::BooleanBufferBuilder::new(rows.len());
        match &inherited {
            Some(v) => valid.append_buffer(v.inner()),
            None => valid.append_n(rows.len(), true),
        }
        for i in p.nulled {
            valid.set_bit(i - rows.start, false);
        }
        Some(arrow_buffer::NullBuffer::new(valid.finish()))
    };
    let mut values = p.values.into_bytes();
    values.shrink_to_fit();
    GenericStringArray::try_new(
        arrow_buffer::OffsetBuffer::new(offsets.into()),
        arrow_buffer::Buffer::from_vec(values),
        nulls,
    )
    .map_err(arrow_error)
}

/// [`masked_pieces`] as one array.
fn masked_strings<O: OffsetSizeTrait>(
    plan: &Plan,
    c: usize,
    array: &GenericStringArray<O>,
) -> Result<GenericStringArray<O>> {
    let mut pieces = masked_pieces(plan, c, array)?;
    if pieces.len() == 1 {
        if let Some(p) = pieces.pop() {
            return Ok(p);
        }
    }
    let bytes = pieces.iter().map(|p| p.value_data().len()).sum();
    let mut out =
        arrow_array::builder::GenericStringBuilder::<O>::with_capacity(array.len(), bytes);
    for p in &pieces {
        for v in p.iter() {
            out.append_option(v);
        }
    }
    Ok(out.finish())
}

fn strings<O: OffsetSizeTrait>(
    plan: &Plan,
    c: usize,
    array: &GenericStringArray<O>,
    sources: &[usize],
    canaries: &[Canary],
) -> Result<ArrayRef> {
    let masked = masked_strings(plan, c, array)?;
    if canaries.is_empty() {
        return Ok(Arc::new(masked));
    }
    let mut out = arrow_array::builder::GenericStringBuilder::<O>::with_capacity(
        sources.len(),
        masked.value_data().len() + canaries.len() * 32,
    );
    let mut next = canaries.iter().peekable();
    for (row, &i) in sources.iter().enumerate() {
        if let Some((at, cells)) = next.peek() {
            if *at == row {
                let generated = cells.get(c).cloned().flatten();
                next.next();
                if let Some(cell) = generated {
                    out.append_option(cell);
                    continue;
                }
            }
        }
        out.append_option(masked.is_valid(i).then(|| masked.value(i)));
    }
    Ok(Arc::new(out.finish()))
}

/// The rows `sources` of `array`, in that order (consecutive runs copied at once).
fn repeat(array: &ArrayRef, sources: &[usize]) -> ArrayRef {
    let data = array.to_data();
    let mut out = MutableArrayData::new(vec![&data], false, sources.len());
    let mut start = 0;
    while start < sources.len() {
        let mut end = start + 1;
        while end < sources.len() && sources[end] == sources[end - 1] + 1 {
            end += 1;
        }
        out.extend(0, sources[start], sources[end - 1] + 1);
        start = end;
    }
    make_array(out.freeze())
}
