//! The platform store from the command line against the real server (scripts/test.sh
//! starts it): `store init` twice (idempotent), and a shipping process SIGKILLed at
//! random moments, mid-batch, many times (`STORE_SOAK_KILLS`, 100 by default), with no
//! gap and no duplicate after restart and `audit verify --store` clean. Nodes in four
//! languages shipping at once are in store_nodes.rs, checkpoints and proofs in
//! store_proofs_cli.rs.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "tests fail loudly"
)]

mod store_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use store_support::*;

/// A small pseudo-random sequence (no dependency for it).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[test]
fn a_shipper_killed_mid_batch_again_and_again_leaves_no_gap_and_no_duplicate() {
    let kills: usize = std::env::var("STORE_SOAK_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let root = scratch("kill");
    let (db, url) = fresh_db("kill");
    let dir = root.join("node");
    let config = node(&dir, "killed", &db, 7);
    let mut total = 0;
    append(&dir, 600, total);
    total += 600;
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("seed {seed}");
    let mut rng = Lcg(seed);
    let mut c = client(&url);
    let mut progressed = 0;
    for round in 0..kills {
        let mut child = Command::new(env!("CARGO_BIN_EXE_govdata"))
            .args([
                "store",
                "sync",
                "--config",
                config.to_str().unwrap(),
                "--timeout",
                "60",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let before = c.int("SELECT count(*) FROM govdata.audit_records");
        // Once it ships (the process has opened the node), at a random moment after.
        let t = Instant::now();
        while c.int("SELECT count(*) FROM govdata.audit_records") == before
            && t.elapsed() < Duration::from_secs(20)
            && child.try_wait().unwrap().is_none()
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(rng.next(60)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let after = c.int("SELECT count(*) FROM govdata.audit_records");
        if after > before {
            progressed += 1;
        }
        // What the store holds is always a prefix of the log, without a gap.
        let (rows, max) = (
            c.int("SELECT count(*) FROM govdata.audit_records"),
            c.int("SELECT coalesce(max(seq), 0) FROM govdata.audit_records"),
        );
        assert_eq!(rows, max, "round {round}: a gap or a duplicate");
        if round % 5 == 4 {
            append(&dir, 150, total);
            total += 150;
        }
    }
    assert!(progressed > 0, "no killed shipper ever shipped anything");
    let t = Instant::now();
    sync(&config);
    eprintln!("final sync in {:?}", t.elapsed());
    let rows = c.int("SELECT count(*) FROM govdata.audit_records");
    let distinct = c.int("SELECT count(DISTINCT seq) FROM govdata.audit_records");
    let max = c.int("SELECT max(seq) FROM govdata.audit_records");
    assert_eq!(
        (rows, distinct, max),
        (total as i64, total as i64, total as i64)
    );
    let seals = c.int("SELECT count(*) FROM govdata.audit_seals");
    let out = verify_store(&url, &dir.join("seal.key"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(seals > 0);
    let _ = std::fs::remove_dir_all(&root);
}
