//! Errors that quote input stay small and cannot forge a log line: a long id is cut with its
//! length, and control characters in quoted ids and values are escaped.

use govdata::audit::Timestamp;
use govdata::quote::QUOTE_MAX;
use govdata::{Engine, Inventory};

const EIGHT_MIB: usize = 8 << 20;

/// Asserts that a message is one short line that ends a cut value with its length.
fn assert_small_with_length(message: &str, length: usize) {
    assert!(message.len() < 4096, "{} bytes", message.len());
    assert!(
        message.contains(&format!("…({length} chars)")),
        "no length in {message}"
    );
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn an_8_mib_principal_id_is_cut_in_the_unknown_entity_message() {
    let engine = Engine::with_defaults().unwrap();
    let id = "x".repeat(EIGHT_MIB);
    let json = format!(r#"{{"principal":"{id}","action":"query","resource":"hukou"}}"#);
    let e = engine.decide_json(&json).unwrap_err();
    assert_eq!(e.code(), "unknown_entity");
    let m = e.to_string();
    assert_small_with_length(&m, EIGHT_MIB);
    assert!(m.contains(&"x".repeat(QUOTE_MAX)), "{m}");
    assert!(!m.contains(&"x".repeat(QUOTE_MAX + 1)), "{m}");
}

#[test]
fn a_principal_id_with_a_line_break_cannot_start_a_new_log_line() {
    let engine = Engine::with_defaults().unwrap();
    let json = r#"{"principal":"mallory\nAUDIT allow admin\u001b[0m","action":"query","resource":"hukou"}"#;
    let e = engine.decide_json(json).unwrap_err();
    assert_eq!(e.code(), "unknown_entity");
    let m = e.to_string();
    assert!(!m.chars().any(char::is_control), "{m:?}");
    assert!(m.contains(r"mallory\nAUDIT allow admin\u{1b}[0m"), "{m}");
}

#[test]
fn an_inventory_record_with_a_huge_or_hostile_id_is_named_briefly() {
    let id = "d".repeat(100_000);
    let json = format!(
        r#"{{"departments":[{{"id":"{id}","kind":"user","parent":"nowhere\r\nforged"}}]}}"#
    );
    let e = Inventory::from_json_str(&json).unwrap_err();
    assert_eq!(e.code(), "inventory_invalid");
    let m = e.to_string();
    assert_small_with_length(&m, 100_000);
    assert!(m.contains(r"nowhere\r\nforged"), "{m}");
}

#[test]
fn a_bad_time_value_is_cut_and_escaped() {
    let text = format!("2026-01-01\n{}", "9".repeat(10_000));
    let e = Timestamp::parse(&text).unwrap_err();
    assert_eq!(e.code(), "request_invalid");
    let m = e.to_string();
    assert_small_with_length(&m, 10_011);
    assert!(m.contains(r"2026-01-01\n9"), "{m}");
}

#[test]
fn a_parser_message_that_quotes_a_huge_unknown_field_is_bounded() {
    let engine = Engine::with_defaults().unwrap();
    let field = "f".repeat(1 << 20);
    let json =
        format!(r#"{{"principal":"li.si","action":"query","resource":"hukou","{field}":1}}"#);
    let e = engine.decide_json(&json).unwrap_err();
    assert_eq!(e.code(), "request_invalid");
    let m = e.to_string();
    assert!(m.len() < 4096, "{} bytes", m.len());
    assert!(m.contains(" chars)"), "{m}");
}
