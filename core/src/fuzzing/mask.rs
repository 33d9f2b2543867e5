//! Fuzz bodies of the obligations carried out on data: every mask on any value, and
//! the watermark detector on any file.

use super::must;
use crate::audit::HashSuite;
use crate::mask::watermark::Detector;
use crate::mask::{mask_values, Mask};
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// The masks tried on each value, by name.
const MASKS: &[&str] = &[
    "keep",
    "null",
    "resident_id",
    "mobile",
    "name",
    "address",
    "bank_card",
    "email",
    "date_of_birth",
    "licence_plate",
    "free_text",
    "show_first:4",
    "show_last:4",
    "hash",
    "date_year",
    "redact",
    "pseudonym",
];

/// The key of the pseudonyms and the watermark (fuzzing only).
const MASK_KEY: [u8; 32] = [0x5a; 32];

/// A value under one mask (the first byte picks it, the rest is the value): the mask
/// never fails on a value, gives the same output twice, keeps a redacted value's
/// length in characters and never hands back a free-text or nulled value.
pub fn mask(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = std::str::from_utf8(rest) else {
        return;
    };
    let name = MASKS[usize::from(pick) % MASKS.len()];
    let key = Zeroizing::new(MASK_KEY.to_vec());
    let suite = if pick & 0x80 == 0 {
        HashSuite::Sha256
    } else {
        HashSuite::Sm3
    };
    let run = || {
        must(
            mask_values(name, [Some(value), None], Some(&key), suite),
            name,
        )
    };
    let out = run();
    assert_eq!(out, run(), "mask {name} gave two outputs for one value");
    assert_eq!(out[1], None, "mask {name} turned a null into a value");
    let mask: Mask = must(name.parse(), "a mask name");
    match mask {
        Mask::Null | Mask::Type(crate::model::PiType::FreeText) => {
            assert_eq!(out[0], None, "mask {name} let a value through")
        }
        Mask::Redact | Mask::ShowFirst(_) | Mask::ShowLast(_) => assert_eq!(
            out[0].as_deref().map(|s| s.chars().count()),
            Some(value.chars().count()),
            "mask {name} changed the length"
        ),
        Mask::Keep => assert_eq!(out[0].as_deref(), Some(value)),
        _ => {}
    }
}

/// A leaked file, its cells read by the detector of the fuzz key: no mark was ever
/// made under this key, so none is found (a false match needs a 32-bit MAC forged).
pub fn watermark(data: &[u8]) {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    let detector = DETECTOR.get_or_init(|| {
        let key = Zeroizing::new(MASK_KEY.to_vec());
        must(
            Detector::from_bytes(&key, HashSuite::Sha256),
            "the detector",
        )
    });
    let text = String::from_utf8_lossy(data);
    let mut tally = detector.tally();
    for line in text.lines() {
        for cell in line.split(',') {
            tally.observe(cell);
        }
    }
    assert!(
        tally.finish().is_none(),
        "a mark found in a file never marked"
    );
}
