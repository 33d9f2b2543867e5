//! `--config` and `GOVDATA_CONFIG`: the command line opens the node a `govdata.toml`
//! describes, and its flags override what the file says.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn govdata(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_govdata"));
    c.args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env_remove("GOVDATA_CONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn scratch() -> PathBuf {
    let p = std::env::temp_dir().join(format!("govdata-cli-config-{}", std::process::id()));
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

#[test]
fn decide_and_the_procedures_open_the_node_of_a_config_file() {
    let dir = scratch();
    let key = dir.join("seal.key");
    std::fs::write(&key, [5u8; 32]).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let inv = std::fs::canonicalize(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/examples/inventory.json"),
    )
    .unwrap();
    let config = dir.join("govdata.toml");
    std::fs::write(
        &config,
        format!(
            "node_id = \"cli-test\"\n[inventory]\nfile = \"{}\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\n",
            inv.display()
        ),
    )
    .unwrap();
    let req = dir.join("req.json");
    std::fs::write(
        &req,
        r#"{"principal":"zhang.san","action":"query","resource":"hukou","context":{"scenario_risk":"low"}}"#,
    )
    .unwrap();

    // The file names the log: the decision is recorded there.
    let out = govdata(&["decide", "--config", s(&config), s(&req)], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(json(&out)["audit_seq"], 1);
    // GOVDATA_CONFIG names the same file.
    let out = govdata(&["decide", s(&req)], &[("GOVDATA_CONFIG", s(&config))]);
    assert_eq!(json(&out)["audit_seq"], 2);
    // A flag overrides the file: another log.
    let out = govdata(
        &[
            "decide",
            "--config",
            s(&config),
            "--audit",
            s(&dir.join("other")),
            s(&req),
        ],
        &[],
    );
    assert_eq!(json(&out)["audit_seq"], 1);
    let out = govdata(
        &[
            "audit",
            "verify",
            s(&dir.join("audit")),
            "--key-file",
            s(&key),
        ],
        &[],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ok: 2 records"),
        "{out:?}"
    );

    // The procedures run on the configured log.
    let out = govdata(
        &[
            "share",
            "request",
            "--config",
            s(&config),
            "--as",
            "wang.wu",
            "hukou",
            "--purpose",
            "social_security_check",
            "--legal-basis",
            "《社会保险法》第五十八条",
            "--field",
            "name",
            "--until",
            "2099-12-31",
            "--risk",
            "low",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(json(&out)["request"]["id"], "shr-000001");

    // A wrong file: the error names the key, and nothing is decided.
    std::fs::write(&config, "node_id = \"x\"\ncolour = \"red\"\n").unwrap();
    let out = govdata(&["decide", "--config", s(&config), s(&req)], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[config_invalid]") && err.contains("colour"),
        "{err}"
    );
    // The procedures without any log say what they need.
    let out = govdata(&["share", "expire", "--inventory", s(&inv)], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--audit"));
    std::fs::remove_dir_all(&dir).ok();
}
