//! `govdata assess`: its reports, its exit codes as a deployment gate, and that it
//! reads its sources without changing them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

#[path = "../../core/tests/assess_support/mod.rs"]
mod assess_support;

use assess_support::*;
use govdata::assess::{assess, AssessOptions, AuditEvidence, Inputs};
use govdata::audit::SealingKey;
use govdata::vault::{MasterKey, Operator, Vault, VaultConfig};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

fn govdata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const EXAMPLE: &str = "policies/examples/inventory.json";
const PLANTED: &str = "tests/assess/inventory-planted.json";

fn ids(json: &Value) -> Vec<String> {
    let mut v: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// The planted scenario on disk: its audit log, the sealing key, and a key store
/// with keys for some datasets (none for `hukou`).
struct OnDisk {
    scenario: Scenario,
    key_file: PathBuf,
    vault_dir: PathBuf,
    master_file: PathBuf,
}

fn on_disk() -> OnDisk {
    let scenario = scenario(true);
    scenario.timeline.log.sync().unwrap();
    let dir = scenario.timeline.dir.path();
    let key_file = dir.join("seal.key");
    std::fs::write(&key_file, SEALING_KEY).unwrap();
    std::fs::set_permissions(
        &key_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let master_file = dir.join("master.key");
    std::fs::write(&master_file, [7u8; 32]).unwrap();
    std::fs::set_permissions(
        &master_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let vault_dir = dir.join("vault");
    let vault = Vault::init(
        VaultConfig::new(&vault_dir),
        Box::new(MasterKey::from_bytes(&[7u8; 32]).unwrap()),
        Arc::new(govdata::Engine::new(
            govdata::PolicyPack::default_pack().unwrap(),
            planted_inventory(),
        )),
        &Operator::new("key.admin"),
    )
    .unwrap();
    for d in ["traffic-flow", "social-insurance", "housing-registry"] {
        vault.rotate_key(&Operator::new("key.admin"), d).unwrap();
    }
    OnDisk {
        scenario,
        key_file,
        vault_dir,
        master_file,
    }
}

fn planted_args<'a>(d: &'a OnDisk, log: &'a str) -> Vec<&'a str> {
    vec![
        "assess",
        "--inventory",
        PLANTED,
        "--audit-dir",
        log,
        "--audit-key-file",
        s(&d.key_file),
        "--vault-dir",
        s(&d.vault_dir),
        "--master-key-file",
        s(&d.master_file),
        "--now",
        NOW,
        "--unused-days",
        "200",
    ]
}

fn digest(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn the_example_inventory_gates_on_its_high_findings() {
    let out = govdata(&[
        "assess",
        "--inventory",
        EXAMPLE,
        "--now",
        NOW,
        "--json",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format"], "govdata-assessment/1");
    assert_eq!(
        ids(&json),
        sorted(&[
            "audit_not_assessed",
            "no_security_officer:jiaotong",
            "no_security_officer:zhujian",
            "ungraded_dataset:grid-survey",
            "vault_not_assessed",
            "vendor_contract_unrecorded:acme",
            "vendor_contract_unrecorded:datacloud",
        ])
    );
    assert_eq!(json["summary"]["by_severity"]["high"], 2);
    // The per-finding lines go to standard error when the JSON takes standard output.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no_security_officer:jiaotong"), "{err}");
    assert!(err.contains("2 finding(s) at or above `high`"), "{err}");

    for (fail_on, code) in [
        ("critical", 0),
        ("high", 1),
        ("medium", 1),
        ("info", 1),
        ("none", 0),
    ] {
        let out = govdata(&[
            "assess",
            "--inventory",
            EXAMPLE,
            "--now",
            NOW,
            "--fail-on",
            fail_on,
        ]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "--fail-on {fail_on}: {out:?}"
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.starts_with("assessed at 2026-01-15T00:00:00.000Z: 7 findings"),
            "{text}"
        );
    }
}

#[test]
fn the_planted_scenario_through_the_command_line() {
    let d = on_disk();
    let log = d.scenario.timeline.log_dir();
    let out_dir = d.scenario.timeline.dir.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let (json_path, html_path) = (out_dir.join("report.json"), out_dir.join("report.html"));
    let before = digest(d.scenario.timeline.dir.path());

    let mut args = planted_args(&d, s(&log));
    args.extend(["--json", s(&json_path), "--html", s(&html_path)]);
    let out = govdata(&args);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let json: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));

    // What the library finds from the same sources.
    let evidence =
        AuditEvidence::read_dir(&log, &SealingKey::from_bytes(SEALING_KEY), None).unwrap();
    let status = Vault::open(
        VaultConfig::new(&d.vault_dir),
        Box::new(MasterKey::from_bytes(&[7u8; 32]).unwrap()),
        Arc::new(govdata::Engine::with_defaults().unwrap()),
    )
    .unwrap()
    .status()
    .unwrap();
    let inventory = planted_inventory();
    let options = AssessOptions {
        unused_window_days: 200,
        ..AssessOptions::at(ts(NOW))
    };
    let direct = assess(
        &Inputs::new(&inventory).audit(&evidence).vault(&status),
        &options,
    )
    .unwrap();
    let mut expected: Vec<String> = direct.findings.iter().map(|f| f.id.clone()).collect();
    expected.sort();
    assert_eq!(ids(&json), expected);
    for planted in [
        "vendor_superadmin:vendor.zhao",
        "sensitive_data_unencrypted:hukou",
        "destruction_without_approval:subsidy-list",
        "audit_backup_overdue",
        "no_security_officer:shuiwu",
    ] {
        assert!(expected.iter().any(|i| i == planted), "{planted}");
    }
    // The key store on disk holds no key for `hukou` and the three it was given.
    assert_eq!(json["sources"]["vault"]["keys"], 3);
    assert_eq!(json["sources"]["audit"]["integrity"], "intact");

    // Nothing of the sources changed.
    let after: BTreeMap<PathBuf, Vec<u8>> = digest(d.scenario.timeline.dir.path())
        .into_iter()
        .filter(|(p, _)| !p.starts_with(&out_dir))
        .collect();
    assert_eq!(before, after);

    // The same sources and time give the same reports, byte for byte; the other
    // spellings of the key options work alike.
    let mut again = planted_args(&d, s(&log));
    again[5] = "--sealing-key";
    again[9] = "--master-key";
    let (json2, html2) = (out_dir.join("again.json"), out_dir.join("again.html"));
    again.extend(["--json", s(&json2), "--html", s(&html2)]);
    assert_eq!(govdata(&again).status.code(), Some(1));
    assert_eq!(
        std::fs::read(&json_path).unwrap(),
        std::fs::read(&json2).unwrap()
    );
    assert_eq!(
        std::fs::read(&html_path).unwrap(),
        std::fs::read(&html2).unwrap()
    );

    let mut none = planted_args(&d, s(&log));
    none.extend(["--fail-on", "none"]);
    assert_eq!(govdata(&none).status.code(), Some(0));
}

#[test]
fn errors_exit_2() {
    let d = on_disk();
    let log = d.scenario.timeline.log_dir();
    let wrong = d.scenario.timeline.dir.path().join("wrong.key");
    std::fs::write(&wrong, [1u8; 32]).unwrap();
    std::fs::set_permissions(&wrong, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();

    let out = govdata(&["assess", "--inventory", "no/such/inventory.json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[io]"));

    let mut args = planted_args(&d, s(&log));
    args[6] = s(&wrong);
    let out = govdata(&args);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[key_invalid]"));

    let out = govdata(&["assess", "--inventory", EXAMPLE, "--now", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[request_invalid]"));

    let out = govdata(&["assess", "--inventory", EXAMPLE, "--fail-on", "urgent"]);
    assert_eq!(out.status.code(), Some(2));
    // A log directory needs its key.
    let out = govdata(&["assess", "--inventory", EXAMPLE, "--audit-dir", s(&log)]);
    assert_eq!(out.status.code(), Some(2));
    let out = govdata(&[
        "assess",
        "--inventory",
        EXAMPLE,
        "--audit-dir",
        s(&log),
        "--audit-key-file",
        s(&d.key_file),
        "--checkpoint",
        "gdaudit1:not-a-checkpoint",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[request_invalid]"));
}

#[test]
fn a_checkpoint_exposes_a_truncated_log() {
    let d = on_disk();
    let log = d.scenario.timeline.log_dir();
    let checkpoint = d.scenario.timeline.log.checkpoint().to_string();
    d.scenario.timeline.log.close().unwrap();
    // As a crash leaves it: the writer's own checkpoint (written at a clean close) is
    // not there, so without one of the reader's the cut reads as a torn tail.
    std::fs::remove_file(log.join("audit.head")).unwrap();
    let mut segs: Vec<PathBuf> = std::fs::read_dir(&log)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    segs.sort();
    let last = segs.pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(len - 3)
        .unwrap();

    let mut args = planted_args(&d, s(&log));
    args.extend(["--json", "-", "--fail-on", "critical"]);
    let out = govdata(&args);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(ids(&json).iter().any(|i| i.starts_with("audit_torn_tail:")));
    assert!(!ids(&json)
        .iter()
        .any(|i| i.starts_with("audit_chain_broken:")));

    args.extend(["--checkpoint", checkpoint.as_str()]);
    let out = govdata(&args);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        ids(&json)
            .iter()
            .any(|i| i.starts_with("audit_chain_broken:")),
        "{:?}",
        ids(&json)
    );
    assert_eq!(json["sources"]["audit"]["integrity"], "broken");
}
