//! `govdata prove` run as a user runs it. Needs the cvc5 solver: without it these
//! tests fail (scripts/test.sh installs it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn govdata() -> Command {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govdata-prove-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_default_pack_keeps_every_invariant() {
    let out = govdata().arg("prove").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    for id in [
        "[art17-no-vendor-superadmin] 第十七条",
        "[art10-no-catalog-ungraded] 第十条",
        "[art14-no-share-none] 第十四条",
        "[art8-no-purge] 第八条",
    ] {
        assert!(stdout.contains(&format!("✔ 成立 holds  {id}")), "{stdout}");
    }
    assert!(
        stdout.contains("4 invariants: 4 hold, 0 broken"),
        "{stdout}"
    );
}

#[test]
fn a_pack_that_breaks_an_invariant_prints_the_counterexample() {
    // The default pack without its article 17 file, and a department policy that lets
    // platform administrators grant super-administrator rights to anyone.
    let base = temp_dir("base");
    for entry in std::fs::read_dir(root().join("policies")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if path.is_file() && name != "art17-superadmin.cedar" {
            std::fs::copy(&path, base.join(&name)).unwrap();
        }
    }
    let dept = temp_dir("dept");
    std::fs::write(
        dept.join("grant.cedar"),
        r#"@id("dept-grant") @article("第十七条") @zh("授予") @en("grant")
permit (principal, action == Action::"grant_superadmin", resource is System);"#,
    )
    .unwrap();
    let out = govdata()
        .arg("prove")
        .arg("--policies")
        .arg(&base)
        .arg("--extra")
        .arg(&dept)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("✘ 不成立 broken [art17-no-vendor-superadmin] 第十七条"),
        "{stdout}"
    );
    assert!(
        stdout.contains("反例 counterexample for Action::\"grant_superadmin\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("允许的策略 allowed by: dept-grant"),
        "{stdout}"
    );
    assert!(stdout.contains("\"grantee\""), "{stdout}");
    assert!(stdout.contains("\"vendor\""), "{stdout}");
    assert!(
        stdout.contains("4 invariants: 3 hold, 1 broken"),
        "{stdout}"
    );

    let out = govdata()
        .args(["prove", "--json", "--policies"])
        .arg(&base)
        .arg("--extra")
        .arg(&dept)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["all_hold"], false);
    assert_eq!(v["invariants"][0]["holds"], false);
    assert_eq!(
        v["invariants"][0]["counterexamples"][0]["allowed_by"],
        serde_json::json!(["dept-grant"])
    );
    let _ = std::fs::remove_dir_all(&base);
    let _ = std::fs::remove_dir_all(&dept);
}

#[test]
fn a_missing_solver_is_an_error() {
    let out = govdata()
        .arg("prove")
        .env("CVC5", "/nonexistent/cvc5")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error[solver]: "), "{stderr}");
    assert!(stderr.contains("apt-get install cvc5"), "{stderr}");
}

#[test]
fn a_bad_department_file_is_an_error() {
    let dept = temp_dir("bad");
    std::fs::write(
        dept.join("bad.cedar"),
        "permit (principal, action, resource) when {",
    )
    .unwrap();
    let out = govdata()
        .arg("prove")
        .arg("--extra")
        .arg(&dept)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error[policy_parse]: "), "{stderr}");
    assert!(stderr.contains("bad.cedar"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dept);
}
