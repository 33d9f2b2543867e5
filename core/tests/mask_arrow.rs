//! Obligations carried out on Arrow record batches (cargo feature `arrow`): masked
//! string columns, kept columns passed on without a copy, canary rows the detector
//! reads back, and every way the call fails closed with no batch out.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

mod mask_support;

use arrow_array::cast::AsArray;
use arrow_array::{
    Array, ArrayRef, Int32Array, Int64Array, LargeStringArray, RecordBatch, StringArray,
};
use govdata::mask::arrow::apply;
use govdata::mask::watermark::Detector;
use govdata::mask::{MaskKeys, Plan};
use mask_support::*;
use std::sync::Arc;

fn batch(rows: &[Vec<String>]) -> RecordBatch {
    let col = |i: usize| rows.iter().map(move |r| Some(r[i].as_str()));
    let sfzh: ArrayRef = Arc::new(StringArray::from_iter(col(0)));
    let xm: ArrayRef = Arc::new(LargeStringArray::from_iter(col(1)));
    let sjhm: ArrayRef = Arc::new(StringArray::from_iter(col(2)));
    let hjlb: ArrayRef = Arc::new(Int32Array::from_iter_values(0..rows.len() as i32));
    RecordBatch::try_from_iter([("sfzh", sfzh), ("xm", xm), ("sjhm", sjhm), ("hjlb", hjlb)])
        .unwrap()
}

fn apply_as(
    engine: &govdata::Engine,
    principal: &str,
    b: &RecordBatch,
    keys: MaskKeys,
) -> govdata::Result<RecordBatch> {
    let request = query(principal, "hukou");
    let decision = engine.decide(&request)?;
    apply(&request, &decision, &engine.inventory(), b, keys)
}

#[test]
fn string_columns_are_masked_and_a_kept_column_is_not_copied() {
    let engine = engine_with("mask:standard").unwrap();
    let mut rows = people(1, 100);
    rows[0][0] = "11010519900307123X".into();
    rows[0][1] = "欧阳娜娜".into();
    let b = batch(&rows);
    let out = apply_as(&engine, "zhang.san", &b, MaskKeys::default()).unwrap();
    assert_eq!(out.num_rows(), 100);
    assert_eq!(
        out.column(0).as_string::<i32>().value(0),
        "110105********123X"
    );
    assert_eq!(out.column(1).as_string::<i64>().value(0), "欧阳**");
    assert!(out.column(2).as_string::<i32>().value(5).contains("****"));
    assert!(
        Arc::ptr_eq(out.column(3), b.column(3)),
        "the kept column is the same buffer"
    );
}

#[test]
fn the_strict_profile_nulls_the_id_column() {
    let engine = engine_with("mask:strict").unwrap();
    let out = apply_as(
        &engine,
        "zhang.san",
        &batch(&people(2, 10)),
        MaskKeys::default(),
    )
    .unwrap();
    assert_eq!(out.column(0).null_count(), 10);
    assert!(out.schema().field(0).is_nullable());
}

#[test]
fn a_watermarked_batch_carries_canary_rows_the_detector_reads() {
    let engine = default_engine();
    let b = batch(&people(3, 4_000));
    let out = apply_as(&engine, "zhang.san", &b, keys(9)).unwrap();
    assert!(out.num_rows() > 4_000);
    // The kept integer column repeats the row before each canary.
    let hjlb = out.column(3).as_any().downcast_ref::<Int32Array>().unwrap();
    assert_eq!(hjlb.len(), out.num_rows());
    let detector = Detector::new(watermark_key(9), None);
    let mut tally = detector.tally();
    for c in [0, 2] {
        let col = out.column(c).as_string::<i32>();
        col.iter().flatten().for_each(|v| tally.observe(v));
    }
    let found = tally.finish().expect("the mark is read");
    assert!(detector.names(&found, "zhang.san"));
}

#[test]
fn one_release_carries_a_stream_of_batches_and_refuses_a_batch_of_other_columns() {
    let engine = engine_with("mask:standard,watermark").unwrap();
    let request = query("zhang.san", "hukou");
    let decision = engine.decide(&request).unwrap();
    let b = batch(&people(4, 1_000));
    let names = ["sfzh", "xm", "sjhm", "hjlb"];
    let plan = Plan::new(&request, &decision, &engine.inventory(), &names, keys(9)).unwrap();
    let mut release = plan.release();
    let first = release.push_batch(&b).unwrap().num_rows();
    let second = release.push_batch(&b).unwrap().num_rows();
    assert!(first > 1_000 && second > 1_000);
    assert_ne!(
        first, second,
        "the keyed coin goes on counting rows across batches"
    );
    let other = b.project(&[0, 1]).unwrap();
    assert_eq!(
        release.push_batch(&other).unwrap_err().code(),
        "request_invalid"
    );
}

#[test]
fn a_deny_a_dual_control_an_undeclared_column_or_a_masked_number_gives_no_batch() {
    let b = batch(&people(5, 10));
    let e = apply_as(&default_engine(), "vendor.li", &b, keys(9)).unwrap_err();
    assert_eq!(e.code(), "access_denied");
    let e = apply_as(
        &engine_with("mask:standard,dual_control").unwrap(),
        "zhang.san",
        &b,
        keys(9),
    )
    .unwrap_err();
    assert_eq!(e.code(), "access_denied");

    let engine = engine_with("mask:standard").unwrap();
    let extra: ArrayRef = Arc::new(StringArray::from(vec!["x"; 10]));
    let mut cols: Vec<(&str, ArrayRef)> = vec![("sfzh", b.column(0).clone())];
    cols.push(("passport", extra));
    let undeclared = RecordBatch::try_from_iter(cols).unwrap();
    let e = apply_as(&engine, "zhang.san", &undeclared, MaskKeys::default()).unwrap_err();
    assert_eq!(e.code(), "request_invalid");

    let numbers: ArrayRef = Arc::new(Int64Array::from(vec![13812345678i64; 10]));
    let typed = RecordBatch::try_from_iter([("sjhm", numbers)]).unwrap();
    let e = apply_as(&engine, "zhang.san", &typed, MaskKeys::default()).unwrap_err();
    assert_eq!(e.code(), "request_invalid");
}

#[test]
fn a_column_of_many_chunks_is_masked_value_for_value_as_one_value_is() {
    // More rows than one masking task takes, nulls, malformed and non-BMP values, in
    // both string types, and a slice that starts inside the buffers.
    let rows = people(6, 100_000);
    let odd = [
        "",
        "𠀋一",
        "11010519900307123X",
        "1101051990030712",
        "１３８",
    ];
    let sfzh: Vec<Option<String>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| match i % 97 {
            0 => None,
            k if k < 6 => Some(odd[k - 1].to_owned()),
            _ => Some(r[0].clone()),
        })
        .collect();
    let names: Vec<Option<&str>> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i % 13 != 0).then_some(r[1].as_str()))
        .collect();
    let b = RecordBatch::try_from_iter([
        (
            "sfzh",
            Arc::new(StringArray::from_iter(sfzh.iter().map(Option::as_deref))) as ArrayRef,
        ),
        (
            "xm",
            Arc::new(LargeStringArray::from_iter(names.iter().copied())) as ArrayRef,
        ),
    ])
    .unwrap()
    .slice(7, 99_000);
    let engine = engine_with("mask:standard").unwrap();
    let out = apply_as(&engine, "zhang.san", &b, MaskKeys::default()).unwrap();
    assert_eq!(out.num_rows(), 99_000);
    let id = govdata::mask::Mask::Type(govdata::model::PiType::ResidentId);
    let name = govdata::mask::Mask::Type(govdata::model::PiType::Name);
    let got_ids = out.column(0).as_string::<i32>();
    let got_names = out.column(1).as_string::<i64>();
    for i in 0..99_000 {
        let want = id.apply(sfzh[i + 7].as_deref(), None);
        assert_eq!(
            got_ids.is_valid(i).then(|| got_ids.value(i)),
            want.as_deref(),
            "row {i}"
        );
        let want = name.apply(names[i + 7], None);
        assert_eq!(
            got_names.is_valid(i).then(|| got_names.value(i)),
            want.as_deref(),
            "row {i}"
        );
    }
}

#[test]
fn a_stream_is_decided_once_and_masked_whole_before_anything_comes_out() {
    use arrow_array::RecordBatchIterator;
    use govdata::mask::arrow::apply_stream;
    let engine = engine_with("mask:standard").unwrap();
    let b = batch(&people(7, 300));
    let request = query("zhang.san", "hukou");
    let reader = RecordBatchIterator::new(vec![Ok(b.clone()), Ok(b.slice(0, 10))], b.schema());
    let masked = apply_stream(&engine, &request, reader, MaskKeys::default()).unwrap();
    assert_eq!(masked.batches().len(), 2);
    assert_eq!(masked.batches()[1].num_rows(), 10);
    assert!(masked.decision().allowed() && masked.decision().audit_seq().is_some());
    assert!(masked.schema().field(0).is_nullable());
    assert!(Arc::ptr_eq(masked.batches()[0].column(3), b.column(3)));
    // A stream whose second batch fails releases nothing.
    let failing = RecordBatchIterator::new(
        vec![
            Ok(b.clone()),
            Err(arrow_schema::ArrowError::ComputeError("cut".into())),
        ],
        b.schema(),
    );
    let e = apply_stream(&engine, &request, failing, MaskKeys::default()).unwrap_err();
    assert_eq!(e.code(), "request_invalid");
}

#[test]
fn a_large_batch_of_a_stream_comes_out_in_chunks_of_the_input_s_kept_buffers() {
    use arrow_array::RecordBatchIterator;
    use govdata::mask::arrow::apply_stream;
    let engine = engine_with("mask:standard").unwrap();
    let b = batch(&people(8, 100_000));
    let whole = apply_as(&engine, "zhang.san", &b, MaskKeys::default()).unwrap();
    let reader = RecordBatchIterator::new(vec![Ok(b.clone())], b.schema());
    let request = query("zhang.san", "hukou");
    let masked = apply_stream(&engine, &request, reader, MaskKeys::default()).unwrap();
    assert!(masked.batches().len() > 1, "masked in chunks");
    let rows: usize = masked.batches().iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 100_000);
    // The chunks hold the values the whole batch gets, in order.
    let mut at = 0;
    for chunk in masked.batches() {
        assert_eq!(
            chunk,
            &whole
                .slice(at, chunk.num_rows())
                .with_schema(chunk.schema())
                .unwrap()
        );
        at += chunk.num_rows();
    }
    // The kept column is the input's buffer, sliced, never copied.
    let kept = masked.batches()[1].column(3).to_data();
    let input = b.column(3).to_data();
    let base = input.buffers()[0].as_ptr() as usize;
    let ptr = kept.buffers()[0].as_ptr() as usize;
    assert!(ptr >= base && ptr < base + input.buffers()[0].len());
}
