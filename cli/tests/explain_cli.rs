//! `govdata explain` run as a user runs it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn explain(args: &[&str], request: &str) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_govdata"))
        .arg("explain")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_forbid_is_shown_in_both_languages() {
    let (code, out, err) = explain(
        &[],
        r#"{"principal": "ops.admin", "action": "grant_superadmin",
            "resource": {"type": "System", "id": "lake-db"}, "context": {"grantee": "vendor.li"}}"#,
    );
    assert_eq!(code, Some(1), "{err}");
    for part in [
        "✘ 拒绝 deny",
        "[art17-no-vendor-superadmin] 第十七条",
        "数据库、操作系统最高管理员权限不得转交供应商人员",
        "database and OS super-administrator rights may not be given to vendor staff",
    ] {
        assert!(out.contains(part), "`{part}` not in:\n{out}");
    }
}

#[test]
fn a_default_deny_shows_the_closest_permit_and_the_condition_it_lacked() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let inventory = root.join("policies/examples/inventory.json");
    let policies = root.join("policies");
    let (code, out, err) = explain(
        &[
            "--inventory",
            inventory.to_str().unwrap(),
            "--policies",
            policies.to_str().unwrap(),
        ],
        r#"{"principal": "zhang.san", "action": "query", "resource": "hukou",
            "context": {"scenario_risk": "high"}}"#,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("[default-deny] 第三条"), "{out}");
    assert!(
        out.contains("1. [art10-query-own-l4-analyst] 第十条  4/5 条件成立 conditions held"),
        "{out}"
    );
    assert!(
        out.contains("缺少的条件 condition not met: context.risk <= 2"),
        "{out}"
    );
}

#[test]
fn json_output_and_an_allow() {
    let (code, out, err) = explain(
        &["--json"],
        r#"{"principal": "zhang.san", "action": "query", "resource": "hukou",
            "context": {"scenario_risk": "low"}}"#,
    );
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["decision"]["decision"], "allow");
    assert_eq!(v["permits"][0]["policy"], "art10-query-own-l4-analyst");
    assert_eq!(
        v["decision"]["obligations"],
        serde_json::json!(["mask_personal_info", "watermark"])
    );
}

#[test]
fn a_bad_request_is_an_error() {
    let (code, _, err) = explain(
        &[],
        r#"{"principal": "zhang.san", "action": "fly", "resource": "hukou"}"#,
    );
    assert_eq!(code, Some(2));
    assert!(err.starts_with("error[request_invalid]"), "{err}");
}
