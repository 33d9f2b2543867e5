//! What the command line's store tests share: the PostgreSQL server scripts/test.sh
//! starts (`GOVDATA_TEST_PG` …), fresh databases made with `govdata store init`, node
//! directories whose govdata.toml ships over TLS, and the command line itself.
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

use govdata::audit::{AuditLog, AuditOptions, Event, SealingKey};
use govdata::store::StoreConnector;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The sealing key of every node of these tests.
pub const KEY: [u8; 32] = [3; 32];
/// The shipping login role and its password.
pub const SHIPPER: (&str, &str) = ("gd_cli_shipper", "cli-shipper-pw");

pub fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: the store's tests need the PostgreSQL server that scripts/test.sh starts")
    })
}

pub struct Server {
    /// The superuser URL (over the unix socket).
    pub url: String,
    /// The loopback port of TLS connections.
    pub port: String,
    /// The test CA's certificate.
    pub ca: String,
    /// The directory of the unix socket.
    pub dir: String,
}

pub fn server() -> Server {
    Server {
        url: var("GOVDATA_TEST_PG"),
        port: var("GOVDATA_TEST_PG_PORT"),
        ca: var("GOVDATA_TEST_PG_CA"),
        dir: var("GOVDATA_TEST_PG_DIR"),
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh scratch directory.
pub fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "govdata-store-cli-{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The command line of this build.
pub fn govdata(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
        .args(args)
        .output()
        .unwrap()
}

/// A superuser connection (over the unix socket).
pub fn client(url: &str) -> Client {
    Client(
        StoreConnector::new(url, None, None)
            .unwrap()
            .connect()
            .unwrap(),
    )
}

/// The few queries the tests make, on the core's connection type.
pub struct Client(pub postgres::Client);

impl Client {
    pub fn int(&mut self, sql: &str) -> i64 {
        self.0.query_one(sql, &[]).unwrap().get(0)
    }
    pub fn exec(&mut self, sql: &str) {
        self.0.batch_execute(sql).unwrap();
    }
}

/// A login role in `group` with `password` (roles are the cluster's).
pub fn login(url: &str, name: &str, group: &str, password: &str) {
    govdata::store::testing::ensure_login(&mut client(url).0, name, password, &[group]).unwrap();
}

/// A fresh database made with `govdata store init` (twice: idempotent), and a shipping
/// login role; its name and superuser URL.
pub fn fresh_db(tag: &str) -> (String, String) {
    let s = server();
    let name = format!(
        "gd_cli_{tag}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    client(&s.url).exec(&format!("CREATE DATABASE {name}"));
    let url = format!(
        "postgresql://postgres@/{name}?host={}&port={}",
        s.dir, s.port
    );
    for _ in 0..2 {
        let out = govdata(&["store", "init", &url]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    login(&s.url, SHIPPER.0, "govdata_shipper", SHIPPER.1);
    (name, url)
}

/// The TLS URL of `db` for `user`.
pub fn tls_url(db: &str, user: &str) -> String {
    format!("postgresql://{user}@localhost:{}/{db}", server().port)
}

/// A file readable by its owner only.
pub fn private(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A node directory with its govdata.toml shipping to `db` over TLS.
pub fn node(dir: &Path, id: &str, db: &str, batch: usize) -> PathBuf {
    let s = server();
    std::fs::create_dir_all(dir).unwrap();
    private(&dir.join("seal.key"), &KEY);
    private(&dir.join("store.pass"), SHIPPER.1.as_bytes());
    let config = dir.join("govdata.toml");
    std::fs::write(
        &config,
        format!(
            "node_id = \"{id}\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\nlock_wait_ms = 60000\n[store]\nurl = \"{}\"\nca_file = \"{}\"\npassword_file = \"store.pass\"\nbatch_size = {batch}\n",
            tls_url(db, SHIPPER.0),
            s.ca
        ),
    )
    .unwrap();
    config
}

/// `govdata store sync` of a node: the store holds all of its log.
pub fn sync(config: &Path) {
    let out = govdata(&[
        "store",
        "sync",
        "--config",
        config.to_str().unwrap(),
        "--timeout",
        "120",
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `govdata audit verify --store`.
pub fn verify_store(url: &str, key_file: &Path) -> Output {
    govdata(&[
        "audit",
        "verify",
        "--store",
        url,
        "--key-file",
        key_file.to_str().unwrap(),
    ])
}

/// Appends `n` events (numbered from `from`) to the log of the node in `dir`.
pub fn append(dir: &Path, n: usize, from: usize) {
    let log = AuditLog::open(
        dir.join("audit"),
        SealingKey::from_bytes(KEY),
        AuditOptions::default()
            .lock_wait(Duration::from_secs(30))
            .segment_max_bytes(16 << 10),
    )
    .unwrap();
    let events: Vec<Event> = (from..from + n)
        .map(|i| {
            Event::new("soak.event")
                .user(format!("u{}", i % 13))
                .field("i", i as u64)
        })
        .collect();
    for chunk in events.chunks(100) {
        log.append_batch(chunk).unwrap();
    }
    log.close().unwrap();
}

/// The output of a command that must succeed, as text.
pub fn ok(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}
