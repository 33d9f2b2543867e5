//! `govdata share …` and `govdata destroy …`: both procedures end to end over one
//! audit log, with their exit codes (0 done, 1 refused, 2 error).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn govdata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap()
}

fn scratch(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("govdata-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

struct Env {
    dir: PathBuf,
    common: Vec<String>,
}

impl Env {
    fn new(tag: &str) -> Env {
        let dir = scratch(tag);
        std::fs::write(dir.join("seal.key"), [5u8; 32]).unwrap();
        std::fs::set_permissions(
            dir.join("seal.key"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        std::fs::write(dir.join("master.key"), [6u8; 32]).unwrap();
        std::fs::set_permissions(
            dir.join("master.key"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let common = vec![
            "--audit".into(),
            s(&dir.join("log")).into(),
            "--audit-key-file".into(),
            s(&dir.join("seal.key")).into(),
            "--inventory".into(),
            "policies/examples/inventory.json".into(),
        ];
        Env { dir, common }
    }

    /// Runs a step: the exit code and the JSON it printed (Null when none).
    fn run(&self, cmd: &[&str], args: &[&str]) -> (i32, Value) {
        let mut all: Vec<&str> = cmd.to_vec();
        all.extend(self.common.iter().map(String::as_str));
        all.extend(args);
        let out = govdata(&all);
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code().unwrap(), json)
    }
}

#[test]
fn a_conditional_share_from_request_to_provision_and_revocation() {
    let env = Env::new("share");
    let (code, out) = env.run(
        &["share", "request"],
        &[
            "--as",
            "wang.wu",
            "hukou",
            "--purpose",
            "social_security_check",
            "--legal-basis",
            "《社会保险法》第五十八条",
            "--field",
            "name",
            "--field",
            "id_number",
            "--until",
            "2099-12-31",
            "--risk",
            "low",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["request"]["id"], "shr-000001");
    assert_eq!(out["request"]["status"], "submitted");
    assert_eq!(
        out["decision"]["reasons"][0]["policy"],
        "art14-request-share"
    );

    // Vendor staff and the requester's side are refused: exit 1.
    let (code, out) = env.run(
        &["share", "review"],
        &["--as", "vendor.wang", "shr-000001", "--approve"],
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["done"], false);
    assert_eq!(
        out["decision"]["reasons"][0]["policy"],
        "art14-review-no-vendor"
    );
    let (code, _) = env.run(
        &["share", "review"],
        &["--as", "wang.wu", "shr-000001", "--approve"],
    );
    assert_eq!(code, 1);

    let (code, out) = env.run(
        &["share", "review"],
        &[
            "--as",
            "gongan.officer",
            "shr-000001",
            "--approve",
            "--reason",
            "同意",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["request"]["approval"]["id"], "apr-shr-000001");
    // A second review is an error: exit 2.
    let (code, _) = env.run(
        &["share", "review"],
        &[
            "--as",
            "gongan.officer",
            "shr-000001",
            "--reject",
            "--reason",
            "x",
        ],
    );
    assert_eq!(code, 2);

    let (code, out) = env.run(&["share", "provision"], &["--as", "li.si", "shr-000001"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["request"]["status"], "provisioned");
    assert_eq!(
        out["decision"]["obligations"],
        serde_json::json!(["watermark", "mask_personal_info"])
    );

    // The receiving department sees the share; another department does not.
    let (code, out) = env.run(&["share", "list"], &["--json", "--as", "wang.wu"]);
    assert_eq!(code, 0);
    assert_eq!(out.as_array().unwrap().len(), 1);
    let list = govdata(
        &[
            &["share", "list"][..],
            &env.common.iter().map(String::as_str).collect::<Vec<_>>(),
        ]
        .concat(),
    );
    let table = String::from_utf8(list.stdout).unwrap();
    assert!(
        table.contains("shr-000001") && table.contains("provisioned"),
        "{table}"
    );
    let (_, out) = env.run(&["share", "list"], &["--json", "--as", "chen.yi"]);
    assert_eq!(
        out.as_array().unwrap().len(),
        0,
        "another department sees nothing"
    );

    let (code, out) = env.run(
        &["share", "revoke"],
        &[
            "--as",
            "gongan.officer",
            "shr-000001",
            "--reason",
            "核验结束",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["request"]["status"], "revoked");

    // Not for sharing: refused at the request.
    let (code, out) = env.run(
        &["share", "request"],
        &[
            "--as",
            "wang.wu",
            "criminal-records",
            "--purpose",
            "p",
            "--legal-basis",
            "l",
            "--field",
            "f",
            "--until",
            "2099-12-31",
            "--risk",
            "low",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        out["decision"]["reasons"][0]["policy"],
        "art14-no-share-none"
    );

    let out = govdata(&[
        "audit",
        "verify",
        s(&env.dir.join("log")),
        "--key-file",
        s(&env.dir.join("seal.key")),
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let _ = std::fs::remove_dir_all(&env.dir);
}

#[test]
fn a_destruction_from_request_to_crypto_erase_through_the_vault() {
    let env = Env::new("destroy");
    let vault = env.dir.join("vault");
    let master = env.dir.join("master.key");
    let out = govdata(&["vault", "init", s(&vault), "--master-key-file", s(&master)]);
    assert!(out.status.success(), "{out:?}");
    let out = govdata(&[
        "vault",
        "rotate",
        s(&vault),
        "--master-key-file",
        s(&master),
        "--dataset",
        "population-stats",
    ]);
    assert!(out.status.success(), "{out:?}");

    let (code, out) = env.run(
        &["destroy", "request"],
        &[
            "--as",
            "li.si",
            "population-stats",
            "--method",
            "crypto_erase",
            "--reason",
            "到期销毁",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(out["request"]["id"], "dst-000001");
    let (code, out) = env.run(&["destroy", "approve"], &["--as", "li.si", "dst-000001"]);
    assert_eq!(code, 1);
    assert_eq!(
        out["decision"]["reasons"][0]["policy"],
        "workflow-no-self-approval"
    );
    let (code, out) = env.run(
        &["destroy", "approve"],
        &[
            "--as",
            "gongan.officer",
            "dst-000001",
            "--executor",
            "ops.admin",
        ],
    );
    assert_eq!(code, 0, "{out}");

    // Without the vault, crypto-erasure cannot run: an error, nothing recorded as done.
    let (code, _) = env.run(
        &["destroy", "execute"],
        &["--as", "ops.admin", "dst-000001", "--witness", "key.admin"],
    );
    assert_eq!(code, 2);
    // Without a witness, dual control refuses.
    let vault_args = ["--vault", s(&vault), "--master-key-file", s(&master)];
    let mut args = vec!["--as", "ops.admin", "dst-000001"];
    args.extend(vault_args);
    let (code, out) = env.run(&["destroy", "execute"], &args);
    assert_eq!(code, 1, "{out}");
    args.extend(["--witness", "key.admin"]);
    let (code, out) = env.run(&["destroy", "execute"], &args);
    assert_eq!(code, 0, "{out}");
    let execution = &out["request"]["execution"];
    assert_eq!(execution["executor"], "ops.admin");
    assert_eq!(execution["key_ids"].as_array().unwrap().len(), 1);

    // The vault's shred and the destruction record are both in the audit log.
    let log = env.dir.join("log");
    let seal = env.dir.join("seal.key");
    let out = govdata(&["audit", "tail", s(&log), "--key-file", s(&seal), "-n", "3"]);
    let tail = String::from_utf8_lossy(&out.stdout);
    assert!(
        tail.contains("\"key.shred\"") && tail.contains("\"destruction.executed\""),
        "{tail}"
    );
    let out = govdata(&[
        "vault",
        "status",
        s(&vault),
        "--master-key-file",
        s(&master),
    ]);
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(status.contains("destroyed"), "{status}");

    let (code, out) = env.run(&["destroy", "list"], &["--json"]);
    assert_eq!(code, 0);
    assert_eq!(out[0]["status"], "executed");
    assert_eq!(out[0]["approval"]["approver"], "gongan.officer");
    let (code, _) = env.run(
        &["destroy", "request"],
        &[
            "--as",
            "li.si",
            "population-stats",
            "--method",
            "shred",
            "--reason",
            "x",
        ],
    );
    assert_eq!(code, 2, "an unknown method is a usage error");
    let _ = std::fs::remove_dir_all(&env.dir);
}
