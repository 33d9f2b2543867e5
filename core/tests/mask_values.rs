//! Every mask against the shared table of inputs and outputs (tests/vectors/masks,
//! which every language's suite reads), and keyed pseudonyms: stable under one key,
//! different under another, and the same as an independent HMAC.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

use govdata::audit::HashSuite;
use govdata::mask::{Mask, PseudonymKey};
use serde_json::Value;
use zeroize::Zeroizing;

fn vectors(name: &str) -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/masks/").to_owned() + name;
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn key(bytes: &[u8], suite: HashSuite) -> PseudonymKey {
    PseudonymKey::from_bytes(&Zeroizing::new(bytes.to_vec()), suite).unwrap()
}

#[test]
fn every_mask_gives_the_shared_table_s_output() {
    let v = vectors("masks.json");
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 60);
    let mut failures = Vec::new();
    for c in cases {
        let mask: Mask = c["mask"].as_str().unwrap().parse().unwrap();
        let got = mask.apply(c["in"].as_str(), None);
        if got.as_deref() != c["out"].as_str() {
            failures.push(format!(
                "{} {} → {:?}, expected {}",
                c["mask"], c["in"], got, c["out"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_type_of_personal_information_has_a_case_with_a_malformed_value() {
    let v = vectors("masks.json");
    for t in govdata::model::PiType::ALL {
        let n = v["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["mask"] == t.as_str())
            .count();
        assert!(n >= 1, "no case for `{t}`");
    }
}

#[test]
fn pseudonyms_match_an_independent_hmac_in_both_suites() {
    let v = vectors("pseudonyms.json");
    let bytes = hex::decode(v["key_hex"].as_str().unwrap()).unwrap();
    for c in v["cases"].as_array().unwrap() {
        let suite = c["suite"].as_str().unwrap().parse::<HashSuite>().unwrap();
        let k = key(&bytes, suite);
        assert_eq!(
            k.pseudonym(c["in"].as_str().unwrap()),
            c["out"].as_str().unwrap(),
            "{c}"
        );
        let through_mask = Mask::Pseudonym.apply(c["in"].as_str(), Some(&k));
        assert_eq!(through_mask.as_deref(), c["out"].as_str());
    }
}

#[test]
fn pseudonyms_are_stable_under_one_key_and_differ_under_another() {
    let a = key(&[7u8; 32], HashSuite::Sha256);
    let a_again = key(&[7u8; 32], HashSuite::Sha256);
    let b = key(&[8u8; 32], HashSuite::Sha256);
    let sm3 = key(&[7u8; 32], HashSuite::Sm3);
    let id = "110105199003071234";
    assert_eq!(a.pseudonym(id), a_again.pseudonym(id));
    assert_ne!(a.pseudonym(id), b.pseudonym(id));
    assert_ne!(a.pseudonym(id), sm3.pseudonym(id));
    assert_ne!(a.pseudonym(id), a.pseudonym("110105199003071235"));
    assert_eq!(a.pseudonym(id).len(), 32);
}

#[test]
fn a_short_pseudonym_key_is_key_invalid() {
    let e = PseudonymKey::from_bytes(&Zeroizing::new(vec![1u8; 16]), HashSuite::Sha256)
        .err()
        .unwrap();
    assert_eq!(e.code(), "key_invalid");
}

#[test]
fn a_pseudonym_without_a_key_is_null_never_the_value() {
    assert_eq!(Mask::Pseudonym.apply(Some("13812345678"), None), None);
}

#[test]
fn an_unknown_mask_name_is_request_invalid() {
    for name in ["passport", "show_first:x", ""] {
        assert_eq!(
            name.parse::<Mask>().unwrap_err().code(),
            "request_invalid",
            "{name}"
        );
    }
}
