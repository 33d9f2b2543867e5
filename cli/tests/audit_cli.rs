//! The fixed command-line shapes of the audit log and their exit codes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn govdata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap()
}

fn scratch() -> PathBuf {
    let p = std::env::temp_dir().join(format!("govdata-cli-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn decide_appends_and_verify_purge_report_with_their_exit_codes() {
    let dir = scratch();
    let key = dir.join("seal.key");
    std::fs::write(&key, [5u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let log = dir.join("log");
    let req = dir.join("req.json");
    std::fs::write(
        &req,
        r#"{"principal":"vendor.wang","action":"export","resource":"hukou"}"#,
    )
    .unwrap();
    let inv = "policies/examples/inventory.json";

    let out = govdata(&[
        "decide",
        "--inventory",
        inv,
        s(&req),
        "--audit",
        s(&log),
        "--audit-key-file",
        s(&key),
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decision["audit_seq"], 1);

    let out = govdata(&["audit", "verify", s(&log), "--key-file", s(&key)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let cp = text
        .lines()
        .find_map(|l| l.strip_prefix("checkpoint: "))
        .unwrap()
        .to_owned();
    let out = govdata(&[
        "audit",
        "verify",
        s(&log),
        "--key-file",
        s(&key),
        "--checkpoint",
        &cp,
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");

    // Retention: a date within six calendar months of today is refused.
    let today = govdata::audit::Timestamp::now().date();
    let recent = today.minus_months(3).to_string();
    let out = govdata(&[
        "audit",
        "purge",
        s(&log),
        "--key-file",
        s(&key),
        "--before",
        &recent,
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("error[audit_retention]"),
        "{out:?}"
    );

    // Tampering: exit 1 with the first bad record.
    let seg = log.join("seg-0000000000.log");
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[150] ^= 0x20;
    std::fs::write(&seg, &bytes).unwrap();
    let out = govdata(&[
        "audit",
        "verify",
        s(&log),
        "--key-file",
        s(&key),
        "--checkpoint",
        &cp,
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[audit_tampered]") && err.contains("record 1"),
        "{err}"
    );

    // Any other error: exit 2.
    let bad_key = dir.join("bad.key");
    std::fs::write(&bad_key, [6u8; 31]).unwrap();
    std::fs::set_permissions(
        &bad_key,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let out = govdata(&["audit", "verify", s(&log), "--key-file", s(&bad_key)]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
