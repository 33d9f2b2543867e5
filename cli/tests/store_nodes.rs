//! Four node processes in four languages — the command line, Python, Node and C — each
//! deciding and recording `STORE_NODES_RECORDS` requests (2,000 by default;
//! scripts/store-soak.sh runs 50,000) while its shipper sends its log to one store, all
//! at once, against the real server: every acknowledged record is in the store exactly
//! once and `audit verify --store` is clean; a superuser's change is then found.
//!
//! It reuses the builds the test command made: the Python virtualenv
//! (`GOVDATA_TEST_PYTHON`), the Node module (`bindings-node`, or
//! `GOVDATA_TEST_NODE_MODULE`) and `libgovdata` (beside this build's `govdata`, or in
//! `GOVDATA_TEST_C_LIB`), against which it compiles the C node.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "tests fail loudly"
)]

mod store_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;
use store_support::*;

const REQUEST: &str = r#"{"principal": "zhang.san", "action": "query", "resource": "hukou", "context": {"scenario_risk": "low"}}"#;

fn records() -> usize {
    std::env::var("STORE_NODES_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn programs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/store_node_programs")
}

/// The C node, compiled against the header and the library of this build.
fn c_node(dir: &Path) -> PathBuf {
    let lib = std::env::var("GOVDATA_TEST_C_LIB").map_or_else(
        |_| {
            Path::new(env!("CARGO_BIN_EXE_govdata"))
                .parent()
                .unwrap()
                .to_path_buf()
        },
        PathBuf::from,
    );
    assert!(
        lib.join("libgovdata.so").exists(),
        "no libgovdata.so in {}: build it first (scripts/test-c.sh does, or `cargo build -p govdata-ffi`)",
        lib.display()
    );
    let exe = dir.join("c-node");
    let out = Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-I"])
        .arg(repo().join("ffi/include"))
        .arg(programs().join("node.c"))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lgovdata", "-lpthread"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gcc: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

fn spawn(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The audit_seq of every decision a node acknowledged.
fn acknowledged(name: &str, child: Child) -> Vec<u64> {
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{name} node: {}{}",
        text.chars().take(500).collect::<String>(),
        String::from_utf8_lossy(&out.stderr)
    );
    if name == "cli" {
        // One decision a line.
        text.lines()
            .map(|l| {
                let d: serde_json::Value = serde_json::from_str(l).unwrap();
                assert_eq!(d["decision"], "allow", "{l}");
                d["audit_seq"].as_u64().unwrap()
            })
            .collect()
    } else {
        serde_json::from_str(text.trim()).unwrap()
    }
}

#[test]
fn four_nodes_in_four_languages_ship_at_once_and_the_store_holds_each_record_once() {
    let n = records();
    let python = var("GOVDATA_TEST_PYTHON");
    let module = std::env::var("GOVDATA_TEST_NODE_MODULE")
        .map_or_else(|_| repo().join("bindings-node"), PathBuf::from);
    let root = scratch("four");
    let (db, url) = fresh_db("four");
    let c_exe = c_node(&root);
    let config = |id: &str| node(&root.join(id), id, &db, 500);
    let (cli, py, js, c) = (config("cli"), config("python"), config("node"), config("c"));
    let requests = root.join("requests.jsonl");
    std::fs::write(&requests, format!("{REQUEST}\n").repeat(n)).unwrap();
    let count = n.to_string();
    let t = Instant::now();
    let children = vec![
        (
            "cli",
            spawn(
                Command::new(env!("CARGO_BIN_EXE_govdata"))
                    .args(["decide", "--jsonl", "--config"])
                    .arg(&cli)
                    .arg(&requests),
            ),
        ),
        (
            "python",
            spawn(
                Command::new(&python)
                    .arg(programs().join("node.py"))
                    .arg(&py)
                    .arg(&count),
            ),
        ),
        (
            "node",
            spawn(
                Command::new("node")
                    .arg(programs().join("node.js"))
                    .arg(&module)
                    .arg(&js)
                    .arg(&count),
            ),
        ),
        ("c", spawn(Command::new(&c_exe).arg(&c).arg(&count))),
    ];
    let acks: Vec<(&str, Vec<u64>)> = children
        .into_iter()
        .map(|(name, child)| (name, acknowledged(name, child)))
        .collect();
    // The command-line node decided in one process whose shipper stopped with it:
    // `store sync` ships the rest of its log (the spool).
    sync(&cli);
    eprintln!(
        "{n} records in each of 4 nodes shipped in {:?}",
        t.elapsed()
    );
    let mut pg = client(&url);
    for (id, seqs) in &acks {
        assert_eq!(seqs.len(), n, "{id}");
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), n, "{id}: an audit_seq acknowledged twice");
        let (rows, distinct, max) = (
            pg.int(&format!(
                "SELECT count(*) FROM govdata.audit_records WHERE node_id = '{id}'"
            )),
            pg.int(&format!(
                "SELECT count(DISTINCT seq) FROM govdata.audit_records WHERE node_id = '{id}'"
            )),
            pg.int(&format!(
                "SELECT coalesce(max(seq), 0) FROM govdata.audit_records WHERE node_id = '{id}'"
            )),
        );
        // Rows 1..=max, each once: every acknowledged record is among them.
        assert_eq!((rows, distinct), (max, max), "{id}: a gap or a duplicate");
        assert!(
            sorted.last().copied().unwrap_or(0) <= max as u64 && sorted[0] >= 1,
            "{id}: acknowledged records missing from the store"
        );
        assert_eq!(
            pg.int(&format!(
                "SELECT head_seq FROM govdata.audit_nodes WHERE node_id = '{id}'"
            )),
            max,
            "{id}"
        );
    }
    let key = root.join("cli").join("seal.key");
    let text = ok(&verify_store(&url, &key));
    assert!(text.contains("ok: 4 nodes"), "{text}");
    // A superuser's change is found, exit 1, naming the node and the record.
    pg.exec(
        "SET session_replication_role = replica;
         UPDATE govdata.audit_records SET decision = 'deny' WHERE node_id = 'python' AND seq = 4;
         RESET session_replication_role;",
    );
    let out = verify_store(&url, &key);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("python: TAMPERED at record 4"), "{text}");
    assert!(text.contains("node: ok"), "{text}");
    let _ = std::fs::remove_dir_all(&root);
}
