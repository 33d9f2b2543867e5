//! Traceable watermarks: the mark of an extract names its recipient and audit record
//! after the rows are reordered, columns dropped and a 10 % sample kept; no clean file
//! and no other key reads a mark.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

mod mask_support;

use govdata::mask::watermark::{Detection, Detector};
use govdata::mask::{MaskKeys, Plan};
use mask_support::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::sync::OnceLock;

/// The detector of key 9, built once: its table holds every canary value.
fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(|| Detector::new(watermark_key(9), Some(&pseudonym_key(9))))
}

fn extract(obligations: &str, rows: usize) -> (Vec<Vec<Option<String>>>, u64) {
    let engine = engine_with(obligations).unwrap();
    let request = query("zhang.san", "hukou");
    let decision = engine.decide(&request).unwrap();
    let plan = Plan::new(&request, &decision, &engine.inventory(), COLUMNS, keys(9)).unwrap();
    let seq = decision.audit_seq().unwrap();
    (release(&plan, &people(42, rows)), seq)
}

fn read(detector: &Detector, rows: &[Vec<Option<String>>], keep: &[usize]) -> Option<Detection> {
    let mut tally = detector.tally();
    for row in rows {
        for &c in keep {
            if let Some(v) = &row[c] {
                tally.observe(v);
            }
        }
    }
    tally.finish()
}

fn all_columns() -> Vec<usize> {
    (0..COLUMNS.len()).collect()
}

fn assert_names(detector: &Detector, found: Option<Detection>, seq: u64) {
    let d = found.expect("the mark is read");
    assert_eq!(d.audit_seq(), seq);
    assert!(detector.names(&d, "zhang.san"));
    assert!(!detector.names(&d, "li.si"));
    assert_eq!(
        detector.recipient_among(&d, ["wang.wu", "zhang.san"]),
        Some("zhang.san")
    );
}

#[test]
fn a_masked_extract_names_its_recipient_and_audit_record() {
    let (rows, seq) = extract("mask:standard,watermark", 2_000);
    assert!(rows.len() > 2_000, "canary rows are added");
    let detector = detector();
    assert_names(detector, read(detector, &rows, &all_columns()), seq);
}

#[test]
fn the_mark_survives_reordering_dropped_columns_and_a_ten_percent_sample() {
    let (mut rows, seq) = extract("mask:standard,watermark", 20_000);
    let detector = detector();
    let mut rng = StdRng::seed_from_u64(7);
    rows.shuffle(&mut rng);
    assert_names(detector, read(detector, &rows, &all_columns()), seq);
    // Only the ID column; only the mobile column.
    assert_names(detector, read(detector, &rows, &[0]), seq);
    assert_names(detector, read(detector, &rows, &[2]), seq);
    // A 10 % sample of the rows, in another order, with two columns.
    let sample: Vec<_> = rows
        .choose_multiple(&mut rng, rows.len() / 10)
        .cloned()
        .collect();
    assert_names(detector, read(detector, &sample, &[0, 2]), seq);
}

/// The hardest leak the tests make: a 10 % sample of a 16,000-row extract with only its
/// masked mobile column, whose masked form (3 + 4 digits) real values often share with
/// a canary. Stray votes then tie with a position's one or two true ones, which the
/// keyed check resolves: 100 samples, each read.
#[test]
fn a_ten_percent_sample_of_one_masked_column_is_read() {
    let (rows, seq) = extract("mask:standard,watermark", 16_000);
    let detector = detector();
    let mut rng = StdRng::seed_from_u64(11);
    let mut read_back = 0;
    for _ in 0..100 {
        let sample: Vec<_> = rows
            .choose_multiple(&mut rng, rows.len() / 10)
            .cloned()
            .collect();
        if let Some(d) = read(detector, &sample, &[2]) {
            assert_names(detector, Some(d), seq);
            read_back += 1;
        }
    }
    assert!(read_back >= 100, "{read_back} of 100 samples read");
}

#[test]
fn an_unmasked_extract_and_a_pseudonymized_one_carry_the_mark_too() {
    let (rows, seq) = extract("watermark", 3_000);
    let detector = detector();
    assert_names(detector, read(detector, &rows, &[1, 3]), seq);
    let (rows, seq) = extract("mask:pseudonymize,watermark", 3_000);
    assert_names(detector, read(detector, &rows, &[0]), seq);
}

#[test]
fn another_key_reads_no_mark() {
    let (rows, _) = extract("mask:standard,watermark", 5_000);
    let other = Detector::new(watermark_key(10), None);
    assert_eq!(read(&other, &rows, &all_columns()), None);
}

#[test]
fn an_extract_without_the_obligation_has_no_canary_rows_and_no_mark() {
    let (rows, _) = extract("mask:standard", 5_000);
    assert_eq!(rows.len(), 5_000);
    let detector = detector();
    assert_eq!(read(detector, &rows, &all_columns()), None);
}

/// The stated false-match probability is at most 2⁻²³ per file; 10,000 clean files,
/// masked and unmasked, large and small, must give none.
#[test]
fn no_false_match_over_ten_thousand_clean_files() {
    let detector = detector();
    let engine = engine_with("mask:standard").unwrap();
    let request = query("zhang.san", "hukou");
    let decision = engine.decide(&request).unwrap();
    let plan = Plan::new(
        &request,
        &decision,
        &engine.inventory(),
        COLUMNS,
        MaskKeys::default(),
    )
    .unwrap();
    let mut matches = 0;
    for file in 0..10_000u64 {
        let rows = people(file, if file % 1_000 == 0 { 2_000 } else { 10 });
        let mut tally = detector.tally();
        for row in &rows {
            for (i, v) in row.iter().enumerate() {
                if file % 2 == 0 {
                    tally.observe(v);
                } else if let Some(m) = plan.mask_value(i, Some(v)) {
                    tally.observe(&m);
                }
            }
        }
        if tally.finish().is_some() {
            matches += 1;
        }
    }
    assert_eq!(matches, 0);
}
