//! `govdata test` run as a user runs it: the default pack passes its own suites, a
//! wrong expectation fails with the file, case and policy ids, a malformed file is an
//! error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn govdata() -> Command {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govdata-test-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const WRONG_SUITE: &str = r#"{
  "article": "第十七条",
  "inventory": "policies/examples/inventory.json",
  "cases": [
    {"name": "vendor staff get a super-administrator right",
     "request": {"principal": "ops.admin", "action": "grant_superadmin",
                 "resource": {"type": "System", "id": "lake-db"},
                 "context": {"grantee": "vendor.li"}},
     "expect": {"decision": "allow", "reasons": ["art17-grant-superadmin"],
                "obligations": ["dual_control"]}},
    {"name": "a designated admin of the owning department gets the right",
     "request": {"principal": "ops.admin", "action": "grant_superadmin",
                 "resource": {"type": "System", "id": "lake-db"},
                 "context": {"grantee": "dba.chen"}},
     "expect": {"decision": "allow", "reasons": ["art17-grant-superadmin"], "obligations": []}}
  ]
}"#;

#[test]
fn the_default_pack_passes_all_its_suites() {
    let out = govdata().current_dir(root()).arg("test").output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let last = stdout.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{stdout}");
    let passed: usize = last.split(' ').next().unwrap().parse().unwrap();
    assert!(passed >= 100, "{last}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn runs_from_any_directory_with_an_explicit_pack() {
    // Inventory paths are found from the test file's directory upwards.
    let out = govdata()
        .current_dir(std::env::temp_dir())
        .arg("test")
        .arg(root().join("policies/tests"))
        .arg("--policies")
        .arg(root().join("policies"))
        .arg("--verbose")
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("PASS "), "{stdout}");
    assert!(
        stdout.contains("art17.json: vendor staff never get a database super-administrator right"),
        "{stdout}"
    );
}

#[test]
fn a_wrong_suite_fails_naming_the_file_case_and_policies() {
    let dir = temp_dir("wrong");
    std::fs::write(dir.join("art17-wrong.json"), WRONG_SUITE).unwrap();
    let out = govdata()
        .current_dir(root())
        .arg("test")
        .arg(&dir)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let fails: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert_eq!(fails.len(), 1, "{stdout}");
    let line = fails[0];
    for part in [
        "art17-wrong.json",
        "vendor staff get a super-administrator right",
        "expected allow [art17-grant-superadmin] with obligations [dual_control]",
        "got deny [art17-no-vendor-superadmin]",
        "missing reasons: art17-grant-superadmin",
        "unexpected reasons: art17-no-vendor-superadmin",
        "missing obligations: dual_control",
    ] {
        assert!(line.contains(part), "`{part}` not in: {line}");
    }
    assert_eq!(
        stdout.lines().last(),
        Some("1 passed, 1 failed"),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_output_lists_every_case() {
    let dir = temp_dir("json");
    std::fs::write(dir.join("art17-wrong.json"), WRONG_SUITE).unwrap();
    let out = govdata()
        .current_dir(root())
        .args(["test", "--json"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["passed"], 1);
    assert_eq!(report["failed"], 1);
    let case = &report["suites"][0]["cases"][0];
    assert_eq!(case["passed"], false);
    assert_eq!(case["actual"]["decision"], "deny");
    assert_eq!(
        case["unexpected_reasons"],
        serde_json::json!(["art17-no-vendor-superadmin"])
    );
    assert_eq!(report["suites"][0]["cases"][1]["passed"], true);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_malformed_file_is_an_error_naming_the_file_and_code() {
    let dir = temp_dir("malformed");
    std::fs::write(dir.join("broken.json"), "{\"cases\": [").unwrap();
    let out = govdata()
        .current_dir(root())
        .arg("test")
        .arg(&dir)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.starts_with("error[request_invalid]:"), "{stderr}");
    assert!(stderr.contains("broken.json"), "{stderr}");

    // A case with a field the format does not know is malformed too.
    std::fs::write(
        dir.join("broken.json"),
        r#"{"inventory": "policies/examples/inventory.json", "cases": [
             {"name": "x", "request": {}, "expect": {"decision": "deny"}, "extra": 1}]}"#,
    )
    .unwrap();
    let out = govdata()
        .current_dir(root())
        .arg("test")
        .arg(&dir)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("broken.json") && stderr.contains("extra"),
        "{stderr}"
    );

    // An inventory that does not exist.
    std::fs::write(
        dir.join("broken.json"),
        r#"{"inventory": "no/such/inventory.json", "cases": [
             {"name": "x", "request": {}, "expect": {"decision": "deny"}}]}"#,
    )
    .unwrap();
    let out = govdata()
        .current_dir(root())
        .arg("test")
        .arg(&dir)
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error[io]:"), "{stderr}");
    assert!(stderr.contains("broken.json"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
