//! `govdata keygen` and `govdata bundle build | sign | verify`: a key pair with a
//! private file only its owner reads, and a bundle that verifies only signed, intact
//! and under a trusted key, each refusal with the code `bundle_invalid`.

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
        .env_remove("GOVDATA_CONFIG")
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("govdata-cli-bundle-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

fn refused(out: &Output, reason: &str) {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "error[bundle_invalid]: policy bundle refused ({reason})"
        )),
        "{err}"
    );
}

#[test]
fn keygen_build_sign_verify() {
    let dir = scratch("flow");
    for alg in ["ed25519", "sm2"] {
        let key = dir.join(format!("{alg}.key"));
        let out = govdata(&["keygen", "--alg", alg, "-o", s(&key)]);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let v = json(&out);
        assert_eq!(v["algorithm"], alg);
        assert_eq!(v["key_id"].as_str().unwrap().len(), 32);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(std::fs::read_to_string(dir.join(format!("{alg}.key.pub")))
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----"));
        // Never over an existing key.
        assert_eq!(
            govdata(&["keygen", "--alg", alg, "-o", s(&key)])
                .status
                .code(),
            Some(2)
        );
    }
    let (sm2, sm2_pub) = (dir.join("sm2.key"), dir.join("sm2.key.pub"));
    let ed_pub = dir.join("ed25519.key.pub");
    let bundle = dir.join("pack.bundle");
    let out = govdata(&[
        "bundle",
        "build",
        "--policies",
        "policies",
        "--version",
        "4",
        "-o",
        s(&bundle),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v = json(&out);
    assert_eq!(v["version"], 4);
    assert!(v["policy_version"].as_str().unwrap().starts_with("sha256:"));

    // Unsigned: refused.
    refused(
        &govdata(&["bundle", "verify", "--trust", s(&sm2_pub), s(&bundle)]),
        "unsigned",
    );
    let out = govdata(&["bundle", "sign", "--key", s(&sm2), s(&bundle)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Signed by SM2, trusted: verifies, also among other trusted keys.
    let out = govdata(&[
        "bundle",
        "verify",
        "--trust",
        s(&ed_pub),
        "--trust",
        s(&sm2_pub),
        s(&bundle),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(json(&out)["verified"], true);
    // Under another key only: refused.
    refused(
        &govdata(&["bundle", "verify", "--trust", s(&ed_pub), s(&bundle)]),
        "untrusted_key",
    );
    // A policy changed after signing: refused.
    let text = std::fs::read_to_string(&bundle).unwrap();
    let tampered = dir.join("tampered.bundle");
    std::fs::write(&tampered, text.replacen("forbid", "permit", 1)).unwrap();
    refused(
        &govdata(&["bundle", "verify", "--trust", s(&sm2_pub), s(&tampered)]),
        "tampered",
    );
    // A private key others may read is refused.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sm2, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let out = govdata(&["bundle", "sign", "--key", s(&sm2), s(&bundle)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[key_invalid]"));
    let _ = std::fs::remove_dir_all(&dir);
}
