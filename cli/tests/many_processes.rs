//! Many processes on one host, through the command line: calls started at the same
//! time on one audit directory or one vault queue on the store's lock and all
//! succeed, and nothing they acknowledged is lost; a holder killed with SIGKILL lets
//! go at once; a caller that waits too long gets `store_locked`.
//!
//! Every process here is a real `govdata` process. `scripts/many-processes-soak.sh`
//! runs the same scenarios with more processes and rounds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const INV: &str = "policies/examples/inventory.json";

fn rounds(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_govdata"));
    c.args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        // Long enough for every queued call of these tests on a busy machine.
        .env("GOVDATA_LOCK_WAIT", "120");
    c
}

fn govdata(args: &[&str]) -> Output {
    cmd(args).output().unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("govdata-many-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The sequence numbers of the decision records a log holds, each with how often.
fn logged_seqs(log: &Path, key: &Path) -> HashMap<u64, usize> {
    let sealing = govdata::audit::SealingKey::from_file(key).unwrap();
    let mut seen = HashMap::new();
    govdata::AuditLog::read_dir(log, &sealing, |r| {
        if r.event.kind == govdata::audit::DECISION_KIND {
            *seen.entry(r.seq).or_insert(0) += 1;
        }
        Ok(())
    })
    .unwrap();
    seen
}

#[test]
fn parallel_decide_calls_on_one_log_all_succeed_and_lose_nothing() {
    let (k, m) = (
        rounds("GOVDATA_MANY_PROCS", 4),
        rounds("GOVDATA_MANY_ROUNDS", 8),
    );
    let dir = scratch("decide");
    let key = dir.join("seal.key");
    std::fs::write(&key, [5u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let log = dir.join("log");
    let req = dir.join("req.json");
    std::fs::write(
        &req,
        r#"{"principal":"zhang.san","action":"query","resource":"hukou","context":{"scenario_risk":"low"}}"#,
    )
    .unwrap();
    let workers: Vec<_> = (0..k)
        .map(|_| {
            let (log, key, req) = (log.clone(), key.clone(), req.clone());
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                for _ in 0..m {
                    let out = govdata(&[
                        "decide",
                        "--inventory",
                        INV,
                        s(&req),
                        "--audit",
                        s(&log),
                        "--audit-key-file",
                        s(&key),
                    ]);
                    assert_eq!(out.status.code(), Some(0), "{out:?}");
                    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                    acked.push(d["audit_seq"].as_u64().unwrap());
                }
                acked
            })
        })
        .collect();
    let acked: Vec<u64> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert_eq!(acked.len(), k * m);
    let unique: BTreeSet<u64> = acked.iter().copied().collect();
    assert_eq!(
        unique.len(),
        acked.len(),
        "a sequence number was handed out twice"
    );

    let logged = logged_seqs(&log, &key);
    for seq in &acked {
        assert_eq!(
            logged.get(seq),
            Some(&1),
            "acknowledged record {seq} not in the log once"
        );
    }
    assert_eq!(logged.len(), acked.len());
    let out = govdata(&["audit", "verify", s(&log), "--key-file", s(&key)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    std::fs::remove_dir_all(&dir).ok();
}

fn vault(args: &[&str], v: &Path, mk: &Path) -> Output {
    let mut all = vec![args[0], s(v), "--master-key-file", s(mk)];
    all.extend_from_slice(&args[1..]);
    let mut full = vec!["vault"];
    full.extend(all);
    govdata(&full)
}

#[test]
fn parallel_vault_calls_lose_no_data_key() {
    let (k, m) = (
        rounds("GOVDATA_MANY_PROCS", 4),
        rounds("GOVDATA_MANY_ROUNDS", 8),
    );
    let dir = scratch("vault");
    let mk = dir.join("master.key");
    std::fs::write(&mk, [7u8; 32]).unwrap();
    std::fs::set_permissions(&mk, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let v = dir.join("v");
    let out = vault(&["init"], &v, &mk);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // Up to four encrypting processes on datasets of their own, the first of which
    // also rotates its key between files; one more process creates, uses and shreds
    // another dataset meanwhile.
    let all = [
        ("traffic-flow", "L1"),
        ("population-stats", "L2"),
        ("employment-stats", "L2"),
        ("social-insurance", "L3"),
    ];
    let datasets = &all[..k.clamp(1, all.len())];
    let plain: Vec<u8> = (0..70_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.join("plain"), &plain).unwrap();
    let mut workers = Vec::new();
    for (w, (dataset, grade)) in datasets.iter().enumerate() {
        let (dir, v, mk) = (dir.clone(), v.clone(), mk.clone());
        let (dataset, grade) = (dataset.to_string(), grade.to_string());
        workers.push(std::thread::spawn(move || {
            let mut files = Vec::new();
            for i in 0..m {
                let out_file = dir.join(format!("{dataset}-{i}.sealed"));
                let out = vault(
                    &[
                        "encrypt",
                        "--dataset",
                        &dataset,
                        "--grade",
                        &grade,
                        s(&dir.join("plain")),
                        s(&out_file),
                    ],
                    &v,
                    &mk,
                );
                assert_eq!(out.status.code(), Some(0), "{out:?}");
                files.push((dataset.clone(), grade.clone(), out_file));
                if w == 0 && i % 3 == 2 {
                    let out = vault(&["rotate", "--dataset", &dataset], &v, &mk);
                    assert_eq!(out.status.code(), Some(0), "{out:?}");
                }
            }
            files
        }));
    }
    let shredder = {
        let (dir, v, mk) = (dir.clone(), v.clone(), mk.clone());
        std::thread::spawn(move || {
            for i in 0..m.min(4) {
                let out = vault(
                    &[
                        "encrypt",
                        "--dataset",
                        "subsidy-list",
                        "--grade",
                        "L3",
                        s(&dir.join("plain")),
                        s(&dir.join(format!("subsidy-{i}.sealed"))),
                    ],
                    &v,
                    &mk,
                );
                assert_eq!(out.status.code(), Some(0), "{out:?}");
            }
            let out = vault(&["shred", "--dataset", "subsidy-list"], &v, &mk);
            assert_eq!(out.status.code(), Some(0), "{out:?}");
        })
    };
    let files: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    shredder.join().unwrap();

    // Every file reported as encrypted decrypts, under whichever key version.
    for (dataset, grade, file) in &files {
        let back = dir.join("back");
        let out = vault(
            &[
                "decrypt",
                "--dataset",
                dataset,
                "--grade",
                grade,
                s(file),
                s(&back),
            ],
            &v,
            &mk,
        );
        assert_eq!(out.status.code(), Some(0), "{} {out:?}", file.display());
        assert_eq!(std::fs::read(&back).unwrap(), plain);
    }
    // The shredded dataset's files do not.
    let out = vault(
        &[
            "decrypt",
            "--dataset",
            "subsidy-list",
            "--grade",
            "L3",
            s(&dir.join("subsidy-0.sealed")),
            s(&dir.join("back")),
        ],
        &v,
        &mk,
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("key_destroyed"));
    // The store parses and holds every key: one per dataset, plus the rotations.
    let out = vault(&["status"], &v, &mk);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = status["keys"].as_array().unwrap();
    let rotations = m / 3;
    assert_eq!(keys.len(), datasets.len() + rotations + 1, "{status}");
    // Every key event was recorded once, one per line, none torn.
    let events = std::fs::read_to_string(v.join("key-events.jsonl")).unwrap();
    let ops: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // init, one create per dataset (and the shredded one), the rotations and the shred.
    assert_eq!(
        ops.len(),
        1 + datasets.len() + 1 + rotations + 1,
        "{events}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A `govdata decide` that holds the log open: it opens the log, then waits for its
/// request on standard input.
fn holder(log: &Path, key: &Path) -> Child {
    let mut child = cmd(&[
        "decide",
        "--inventory",
        INV,
        "-",
        "--audit",
        s(log),
        "--audit-key-file",
        s(key),
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // It holds the lock once the lock file names it.
    let deadline = Instant::now() + Duration::from_secs(60);
    let lock = log.join(govdata::lock::LOCK_FILE);
    while std::fs::read_to_string(&lock)
        .ok()
        .map(|t| t.trim().to_owned())
        != Some(child.id().to_string())
    {
        assert!(Instant::now() < deadline, "the holder never took the lock");
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("the holder exited: {status} {err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn a_waiter_gets_store_locked_and_a_killed_holder_lets_go_at_once() {
    let dir = scratch("lock");
    let key = dir.join("seal.key");
    std::fs::write(&key, [5u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let log = dir.join("log");
    let req = dir.join("req.json");
    std::fs::write(
        &req,
        r#"{"principal":"zhang.san","action":"query","resource":"hukou","context":{"scenario_risk":"low"}}"#,
    )
    .unwrap();
    let decide = |wait: &str| {
        cmd(&[
            "decide",
            "--inventory",
            INV,
            s(&req),
            "--audit",
            s(&log),
            "--audit-key-file",
            s(&key),
        ])
        .env("GOVDATA_LOCK_WAIT", wait)
        .output()
        .unwrap()
    };
    assert_eq!(decide("5").status.code(), Some(0));

    let mut held = holder(&log, &key);
    let started = Instant::now();
    let out = decide("0.3");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error[store_locked]"), "{err}");
    assert!(err.contains(&format!("process {}", held.id())), "{err}");
    assert!(err.contains(s(&log)), "{err}");

    // SIGKILL: the kernel releases the lock with the process; no wait is needed.
    held.kill().unwrap();
    held.wait().unwrap();
    let out = decide("0");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(d["audit_seq"], 2, "the killed holder never appended");
    let out = govdata(&["audit", "verify", s(&log), "--key-file", s(&key)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_host_of_worker_logs_is_verified_and_queried_as_one() {
    let dir = scratch("host");
    let key = dir.join("seal.key");
    std::fs::write(&key, [5u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let host = dir.join("audit");
    let req = dir.join("req.json");
    std::fs::write(
        &req,
        r#"{"principal":"zhang.san","action":"query","resource":"hukou","context":{"scenario_risk":"low"}}"#,
    )
    .unwrap();
    // Two workers at once, each with its own log: neither waits for the other.
    let workers: Vec<_> = ["worker-1", "worker-2"]
        .into_iter()
        .map(|w| {
            let (log, key, req) = (host.join(w), key.clone(), req.clone());
            std::thread::spawn(move || {
                for _ in 0..3 {
                    let out = govdata(&[
                        "decide",
                        "--inventory",
                        INV,
                        s(&req),
                        "--audit",
                        s(&log),
                        "--audit-key-file",
                        s(&key),
                    ]);
                    assert_eq!(out.status.code(), Some(0), "{out:?}");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let out = govdata(&["audit", "verify", s(&host), "--key-file", s(&key)]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("worker-1: ok: 3 records"), "{text}");
    assert!(text.contains("worker-2: ok: 3 records"), "{text}");
    assert!(text.contains("ok: 2 logs, 6 records in all"), "{text}");

    // The management department's auditor sees every worker's records at once; the
    // viewing decision goes to the command line's own log beside them.
    let out = govdata(&[
        "audit",
        "query",
        s(&host),
        "--key-file",
        s(&key),
        "--as",
        "audit.he",
        "--inventory",
        INV,
        "--user",
        "zhang.san",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 6);
    assert!(host.join("cli").join("audit.meta").exists());

    // Tampering in one worker's log is found and named.
    let seg = std::fs::read_dir(host.join("worker-2"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
        .unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = bytes.windows(9).position(|w| w == b"zhang.san").unwrap();
    bytes[at] = b'Z';
    std::fs::write(&seg, &bytes).unwrap();
    let out = govdata(&["audit", "verify", s(&host), "--key-file", s(&key)]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("worker `worker-2`"));
    std::fs::remove_dir_all(&dir).ok();
}
