//! Every command that uses a part of the node opens it from `govdata.toml`
//! (`--config`, or the file `GOVDATA_CONFIG` names): `explain`, `test`, `assess`,
//! `audit …` and `vault …`; each flag overrides what the file says, and a key file
//! named by a flag is refused when others may read it, as one named in the file is.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::os::unix::fs::PermissionsExt;
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

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("govdata-cli-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
}

fn ok(out: &Output) {
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

fn code(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    err.split("error[")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap_or("")
        .to_owned()
}

fn key(path: &Path, byte: u8, mode: u32) {
    std::fs::write(path, [byte; 32]).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn repo(rel: &str) -> PathBuf {
    std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)).unwrap()
}

/// A node with an inventory, an audit log and a vault, all named in its file.
struct Node {
    dir: PathBuf,
    config: PathBuf,
}

impl Node {
    fn new(name: &str) -> Node {
        let dir = scratch(name);
        key(&dir.join("seal.key"), 5, 0o600);
        key(&dir.join("master.key"), 7, 0o600);
        let config = dir.join("govdata.toml");
        std::fs::write(
            &config,
            format!(
                "node_id = \"cli-{name}\"\n[inventory]\nfile = \"{}\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\n[vault]\ndir = \"vault\"\nmaster_key_file = \"master.key\"\n",
                repo("policies/examples/inventory.json").display()
            ),
        )
        .unwrap();
        Node { dir, config }
    }

    fn p(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn c(&self) -> &str {
        s(&self.config)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn vault_commands_open_the_vault_of_the_file_and_the_flags_override_it() {
    let n = Node::new("vault");
    ok(&govdata(&["vault", "init", "--config", n.c()], &[]));
    assert!(n.p("vault").join("keystore.json").is_file());
    let status = govdata(&["vault", "status", "--config", n.c()], &[]);
    ok(&status);
    let master = json(&status)["master_key_id"].clone();

    let plain: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(n.p("in"), &plain).unwrap();
    let (input, sealed, back) = (n.p("in"), n.p("sealed"), n.p("out"));
    let enc = [
        "vault",
        "encrypt",
        "--config",
        n.c(),
        "--dataset",
        "hukou",
        "--grade",
        "L4",
        s(&input),
        s(&sealed),
    ];
    ok(&govdata(&enc, &[]));
    // GOVDATA_CONFIG names the same file.
    ok(&govdata(
        &[
            "vault",
            "decrypt",
            "--dataset",
            "hukou",
            "--grade",
            "L4",
            s(&sealed),
            s(&back),
        ],
        &[("GOVDATA_CONFIG", n.c())],
    ));
    assert_eq!(std::fs::read(&back).unwrap(), plain);
    // The key events went to the node's audit log.
    let tail = govdata(&["audit", "tail", "--config", n.c(), "-n", "100"], &[]);
    ok(&tail);
    assert!(stdout(&tail).contains("create_key"), "{tail:?}");
    ok(&govdata(
        &["vault", "rotate", "--config", n.c(), "--dataset", "hukou"],
        &[],
    ));
    ok(&govdata(
        &["vault", "shred", "--config", n.c(), "--dataset", "hukou"],
        &[],
    ));

    // Flags override the file: another directory under another master key.
    key(&n.p("other.key"), 9, 0o600);
    let other = n.p("other-vault");
    ok(&govdata(
        &[
            "vault",
            "init",
            s(&other),
            "--master-key-file",
            s(&n.p("other.key")),
        ],
        &[],
    ));
    // Without an audit log, key events go to the vault's own file.
    assert!(other.join("key-events.jsonl").is_file());
    let out = govdata(
        &[
            "vault",
            "status",
            "--config",
            n.c(),
            s(&other),
            "--master-key-file",
            s(&n.p("other.key")),
        ],
        &[],
    );
    ok(&out);
    assert_ne!(json(&out)["master_key_id"], master);
    // The file's key does not open the other store.
    let out = govdata(&["vault", "status", "--config", n.c(), s(&other)], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // Encrypting into the other vault, IN and OUT after its directory.
    ok(&govdata(
        &[
            "vault",
            "encrypt",
            "--config",
            n.c(),
            "--master-key-file",
            s(&n.p("other.key")),
            s(&other),
            "--dataset",
            "traffic-flow",
            "--grade",
            "L2",
            s(&input),
            s(&n.p("sealed2")),
        ],
        &[],
    ));
}

#[test]
fn audit_commands_find_the_log_and_its_key_in_the_file() {
    let n = Node::new("audit");
    let req = n.p("req.json");
    std::fs::write(
        &req,
        r#"{"principal":"zhang.san","action":"query","resource":"hukou","context":{"scenario_risk":"low"}}"#,
    )
    .unwrap();
    ok(&govdata(&["decide", "--config", n.c(), s(&req)], &[]));
    ok(&govdata(&["decide", "--config", n.c(), s(&req)], &[]));

    let out = govdata(&["audit", "verify", "--config", n.c()], &[]);
    ok(&out);
    assert!(stdout(&out).contains("ok: 2 records"), "{out:?}");
    let out = govdata(&["audit", "verify"], &[("GOVDATA_CONFIG", n.c())]);
    assert!(stdout(&out).contains("ok: 2 records"), "{out:?}");
    let out = govdata(&["audit", "tail", "--config", n.c(), "-n", "1"], &[]);
    ok(&out);
    assert_eq!(stdout(&out).lines().count(), 1);

    // A viewing decision of the node's engine, on the node's inventory.
    let out = govdata(
        &["audit", "query", "--config", n.c(), "--as", "audit.he"],
        &[],
    );
    ok(&out);
    // The two decisions, and the viewing decision itself.
    assert_eq!(stdout(&out).lines().count(), 3, "{out:?}");
    // --inventory overrides the file's: a viewer it does not know.
    std::fs::write(
        n.p("empty.json"),
        r#"{"departments":[],"vendors":[],"users":[],"datasets":[],"systems":[]}"#,
    )
    .unwrap();
    let out = govdata(
        &[
            "audit",
            "query",
            "--config",
            n.c(),
            "--inventory",
            s(&n.p("empty.json")),
            "--as",
            "audit.he",
        ],
        &[],
    );
    assert_ne!(out.status.code(), Some(0), "{out:?}");

    let backup = n.p("backup");
    ok(&govdata(
        &["audit", "backup", "--config", n.c(), "--seal", s(&backup)],
        &[],
    ));
    ok(&govdata(
        &["audit", "restore", "--config", n.c(), s(&backup)],
        &[],
    ));
    let out = govdata(
        &[
            "audit",
            "purge",
            "--config",
            n.c(),
            "--before",
            "2020-01-01",
        ],
        &[],
    );
    ok(&out);
    assert!(stdout(&out).contains("nothing to purge"), "{out:?}");

    // The directory and --key-file override the file: another log under another key.
    key(&n.p("other.key"), 6, 0o600);
    let other = n.p("other-log");
    ok(&govdata(
        &[
            "decide",
            "--audit",
            s(&other),
            "--audit-key-file",
            s(&n.p("other.key")),
            s(&req),
        ],
        &[],
    ));
    let out = govdata(
        &[
            "audit",
            "verify",
            "--config",
            n.c(),
            s(&other),
            "--key-file",
            s(&n.p("other.key")),
        ],
        &[],
    );
    assert!(stdout(&out).contains("ok: 1 records"), "{out:?}");
    // The file's key does not verify the other log.
    let out = govdata(&["audit", "verify", "--config", n.c(), s(&other)], &[]);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    // No file and no flags: the command says what it needs.
    let out = govdata(&["audit", "verify"], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(code(&out), "request_invalid");
}

#[test]
fn explain_and_test_take_the_pack_and_inventory_of_the_file() {
    let n = Node::new("explain");
    let req = n.p("req.json");
    std::fs::write(
        &req,
        r#"{"principal":"zhang.san","action":"query","resource":"hukou","context":{"scenario_risk":"low"}}"#,
    )
    .unwrap();
    let out = govdata(&["explain", "--config", n.c(), "--json", s(&req)], &[]);
    ok(&out);
    let x = json(&out);
    assert_eq!(x["decision"]["decision"], "allow");
    // The node keeps a log: the decision explained is recorded.
    assert_eq!(x["decision"]["audit_seq"], 1);
    // --inventory overrides the file's: zhang.san is unknown there.
    std::fs::write(
        n.p("empty.json"),
        r#"{"departments":[],"vendors":[],"users":[],"datasets":[],"systems":[]}"#,
    )
    .unwrap();
    let out = govdata(
        &[
            "explain",
            "--config",
            n.c(),
            "--inventory",
            s(&n.p("empty.json")),
            "--json",
            s(&req),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(code(&out), "unknown_entity");

    // `test` runs the file's pack: an empty directory is no pack …
    std::fs::create_dir_all(n.p("no-pack")).unwrap();
    std::fs::write(
        n.p("bad-pack.toml"),
        format!(
            "node_id = \"t\"\n[policies]\ndirs = [\"{}\"]\n",
            n.p("no-pack").display()
        ),
    )
    .unwrap();
    let bad = n.p("bad-pack.toml");
    std::fs::write(
        n.p("bad-inventory.toml"),
        "node_id = \"t\"\n[inventory]\nfile = \"gone.json\"\n",
    )
    .unwrap();
    let out = govdata(&["test", "--config", s(&bad), "policies/tests"], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // … and --policies overrides it.
    let out = govdata(
        &[
            "test",
            "--config",
            s(&bad),
            "--policies",
            s(&repo("policies")),
            "policies/tests",
        ],
        &[],
    );
    ok(&out);
    let out = govdata(&["test", "policies/tests"], &[("GOVDATA_CONFIG", n.c())]);
    ok(&out);
    // `prove` loads the file's pack too (before any solver runs).
    let out = govdata(&["prove", "--config", s(&bad)], &[]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    // `watermark detect` takes the file's inventory for its candidates.
    let out = govdata(
        &[
            "watermark",
            "detect",
            "--config",
            s(&n.p("bad-inventory.toml")),
            "--key-file",
            s(&n.p("seal.key")),
            "--format",
            "jsonl",
            s(&req),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(code(&out), "io");
}

#[test]
fn assess_reads_what_the_file_names_as_the_flags_would() {
    let n = Node::new("assess");
    ok(&govdata(&["vault", "init", "--config", n.c()], &[]));
    let now = ["--now", "2026-12-01", "--json", "-", "--fail-on", "none"];
    let mut args = vec!["assess", "--config", n.c()];
    args.extend(now);
    let from_file = govdata(&args, &[]);
    ok(&from_file);
    let (audit, seal, vault, master) = (
        n.p("audit"),
        n.p("seal.key"),
        n.p("vault"),
        n.p("master.key"),
    );
    let inv = repo("policies/examples/inventory.json");
    let mut args = vec![
        "assess",
        "--inventory",
        s(&inv),
        "--audit-dir",
        s(&audit),
        "--audit-key-file",
        s(&seal),
        "--vault-dir",
        s(&vault),
        "--master-key-file",
        s(&master),
    ];
    args.extend(now);
    let from_flags = govdata(&args, &[]);
    ok(&from_flags);
    assert_eq!(from_file.stdout, from_flags.stdout);
    let report = json(&from_file);
    assert!(report["sources"]["audit"].is_object(), "{report}");
    assert!(report["sources"]["vault"].is_object(), "{report}");

    // A flag overrides the file: another inventory.
    std::fs::write(
        n.p("empty.json"),
        r#"{"departments":[],"vendors":[],"users":[],"datasets":[],"systems":[]}"#,
    )
    .unwrap();
    let empty = n.p("empty.json");
    let mut args = vec!["assess", "--config", n.c(), "--inventory", s(&empty)];
    args.extend(now);
    let out = govdata(&args, &[]);
    ok(&out);
    assert_eq!(json(&out)["sources"]["inventory"]["users"], 0);
}

#[test]
fn key_files_named_by_flags_are_refused_when_others_may_read_them() {
    let n = Node::new("perm");
    key(&n.p("loose.key"), 5, 0o644);
    let loose = n.p("loose.key");
    let req = n.p("req.json");
    std::fs::write(
        &req,
        r#"{"principal":"zhang.san","action":"query","resource":"hukou"}"#,
    )
    .unwrap();
    let (v, audit) = (n.p("v"), n.p("audit"));
    let out = govdata(&["decide", "--config", n.c(), s(&req)], &[]);
    assert_eq!(json(&out)["audit_seq"], 1);
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "decide",
            "--audit",
            s(&n.dir),
            "--audit-key-file",
            s(&loose),
            s(&req),
        ],
        vec!["audit", "verify", s(&audit), "--key-file", s(&loose)],
        vec![
            "audit",
            "verify",
            "--config",
            n.c(),
            "--key-file",
            s(&loose),
        ],
        vec!["vault", "init", s(&v), "--master-key-file", s(&loose)],
        vec![
            "assess",
            "--audit-dir",
            s(&audit),
            "--audit-key-file",
            s(&loose),
        ],
        vec![
            "mask",
            "--key-file",
            s(&loose),
            "--request",
            s(&req),
            "--format",
            "csv",
            s(&req),
        ],
    ];
    for args in cases {
        let out = govdata(&args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert_eq!(code(&out), "config_invalid", "{args:?}: {out:?}");
    }
}
