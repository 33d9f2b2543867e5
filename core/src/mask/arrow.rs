//! Masks and watermarks applied to Apache Arrow record batches (cargo feature
//! `arrow`), column by column: a kept column is passed on without a copy, a masked
//! string column is rebuilt once, and canary rows are placed between the rows.
//!
//! A masked column must be a string column (`Utf8` or `LargeUtf8`); a column of
//! another type may be kept or nulled, and a mask it cannot take is `request_invalid`.

use super::plan::Release;
use super::{Mask, MaskKeys, Plan};
use crate::engine::{Decision, Request};
use crate::error::{Error, Result};
use crate::Inventory;
use arrow_array::cast::AsArray;
use arrow_array::{
    make_array, new_null_array, Array, ArrayRef, GenericStringArray, OffsetSizeTrait, RecordBatch,
    RecordBatchOptions,
};
use arrow_data::transform::MutableArrayData;
use arrow_schema::{DataType, Schema};
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

fn arrow_error(e: arrow_schema::ArrowError) -> Error {
    Error::request(format!("the masked batch cannot be built: {e}"))
}

impl Release<'_> {
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
            for i in 0..n {
                sources.push(i);
                if e.canary_follows() {
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
        let fields: Vec<arrow_schema::Field> = schema
            .fields()
            .iter()
            .zip(plan.columns())
            .map(|(f, c)| {
                let f = f.as_ref().clone();
                if c.mask == Mask::Keep {
                    f
                } else {
                    // A mask may give nulls (free text, a null mask).
                    f.with_nullable(true)
                }
            })
            .collect();
        let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        RecordBatch::try_new_with_options(
            schema,
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
        DataType::Utf8 => Ok(strings(
            plan,
            c,
            array.as_string::<i32>(),
            sources,
            canaries,
        )),
        DataType::LargeUtf8 => Ok(strings(
            plan,
            c,
            array.as_string::<i64>(),
            sources,
            canaries,
        )),
        _ if mask == Mask::Keep => Ok(repeat(array, sources)),
        other => Err(Error::request(format!(
            "column `{}` is of type {other}: a masked column must be a string column",
            plan.columns()[c].name
        ))),
    }
}

fn strings<O: OffsetSizeTrait>(
    plan: &Plan,
    c: usize,
    array: &GenericStringArray<O>,
    sources: &[usize],
    canaries: &[Canary],
) -> ArrayRef {
    let value = |i: usize| plan.mask_value(c, array.is_valid(i).then(|| array.value(i)));
    if canaries.is_empty() {
        let out: GenericStringArray<O> = (0..array.len()).map(value).collect();
        return Arc::new(out);
    }
    let mut next = canaries.iter().peekable();
    let mut previous: Option<String> = None;
    let out: GenericStringArray<O> = sources
        .iter()
        .enumerate()
        .map(|(row, &i)| {
            if let Some((at, cells)) = next.peek() {
                if *at == row {
                    let cell = cells.get(c).cloned().flatten();
                    next.next();
                    return cell.unwrap_or_else(|| previous.clone());
                }
            }
            previous = value(i);
            previous.clone()
        })
        .collect();
    Arc::new(out)
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
