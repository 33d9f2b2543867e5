//! The error codes are listed once, in the core (`govdata::error::ERROR_CODES`); the
//! lists the bindings write out for their users (the Python type stubs, the Node
//! typings, the C header) must name exactly those codes, plus each binding's own.

#![allow(clippy::panic, reason = "test helpers fail the test loudly")]

use govdata::error::{ErrorCode, ERROR_CODES};
use std::collections::BTreeSet;
use std::path::Path;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `'…'` or `"…"` string literal in `text`.
fn quoted(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(['\'', '"']) {
        let q = &rest[start..=start];
        let body = &rest[start + 1..];
        let Some(end) = body.find(q) else { break };
        out.push(body[..end].to_owned());
        rest = &body[end + 1..];
    }
    out
}

/// The text from `start` to the first `end` after it.
fn block<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` not found"));
    let body = &text[from + start.len()..];
    &body[..body
        .find(end)
        .unwrap_or_else(|| panic!("no `{end}` after `{start}`"))]
}

fn core_plus(own: &[&str]) -> Vec<String> {
    ERROR_CODES
        .iter()
        .chain(own)
        .map(|c| (*c).to_owned())
        .collect()
}

#[test]
fn the_enum_and_the_list_agree() {
    let from_enum: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(from_enum, ERROR_CODES);
    let unique: BTreeSet<&str> = ERROR_CODES.iter().copied().collect();
    assert_eq!(unique.len(), ERROR_CODES.len(), "a code is listed twice");
}

#[test]
fn the_python_code_literal_and_exception_classes_name_every_code() {
    let types = read("bindings-python/python/govdata/_types.py");
    let literal = quoted(block(&types, "ErrorCode = Literal[", "]"));
    assert_eq!(literal, core_plus(&["internal"]), "_types.py ErrorCode");

    let stubs = read("bindings-python/python/govdata/_native.pyi");
    let classes: BTreeSet<String> = stubs
        .lines()
        .filter_map(|l| l.trim().strip_prefix("code: ClassVar[Literal["))
        .flat_map(quoted)
        .collect();
    let expected: BTreeSet<String> = core_plus(&["internal"]).into_iter().collect();
    assert_eq!(classes, expected, "_native.pyi exception classes");
}

#[test]
fn the_node_typings_name_every_code() {
    let typings = read("bindings-node/index.d.ts");
    let union = quoted(block(&typings, "export type ErrorCode =", "\n\n"));
    assert_eq!(
        union,
        core_plus(&["invalid_argument", "panic"]),
        "index.d.ts ErrorCode"
    );
}

#[test]
fn the_c_header_has_a_status_for_every_code() {
    let header = read("ffi/include/govdata.h");
    let statuses: BTreeSet<String> = header
        .lines()
        .filter_map(|l| {
            let (name, number) = l.trim().trim_end_matches(',').split_once(" = ")?;
            let n: u32 = number.parse().ok()?;
            // 100 and up: the core's codes; below, the C boundary's own statuses.
            (name.starts_with("GD_ERR_") && n >= 100).then(|| name.to_owned())
        })
        .collect();
    let expected: BTreeSet<String> = ERROR_CODES
        .iter()
        .map(|c| format!("GD_ERR_{}", c.to_uppercase()))
        .collect();
    assert_eq!(statuses, expected, "govdata.h GD_ERR_* from 100");
}
