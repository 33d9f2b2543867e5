//! The PostgreSQL server of the store's tests: the one `GOVDATA_TEST_PG` names
//! (scripts/test.sh starts a throwaway cluster and exports it). These tests fail
//! without it: they run through scripts/test.sh (`--features store-tests`).
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "test helpers fail the test loudly"
)]

use govdata::store::{init_schema, StoreConnector};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Server {
    /// The superuser URL (over the unix socket).
    pub url: String,
    /// The loopback address and port of TLS connections.
    pub host: String,
    pub port: String,
    /// The test CA's certificate.
    pub ca: String,
    /// The directory of the unix socket.
    pub dir: String,
    /// The pg_ctl command line of the cluster (for the restart tests).
    pub ctl: Option<String>,
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: the store's tests need the PostgreSQL server that scripts/test.sh starts (or name one with GOVDATA_TEST_PG, GOVDATA_TEST_PG_HOST, GOVDATA_TEST_PG_PORT, GOVDATA_TEST_PG_CA, GOVDATA_TEST_PG_DIR)"
        )
    })
}

pub fn server() -> Server {
    Server {
        url: var("GOVDATA_TEST_PG"),
        host: var("GOVDATA_TEST_PG_HOST"),
        port: var("GOVDATA_TEST_PG_PORT"),
        ca: var("GOVDATA_TEST_PG_CA"),
        dir: var("GOVDATA_TEST_PG_DIR"),
        ctl: std::env::var("GOVDATA_TEST_PG_CTL").ok(),
    }
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn superuser() -> postgres::Client {
    StoreConnector::new(&server().url, None, None)
        .unwrap()
        .connect()
        .unwrap()
}

/// A fresh database with the store's schema: its name and its superuser URL (socket).
pub fn fresh_db(tag: &str) -> (String, String) {
    let s = server();
    let name = format!(
        "gd_{tag}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    superuser()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let url = format!(
        "postgresql://postgres@/{name}?host={}&port={}",
        s.dir, s.port
    );
    let mut c = StoreConnector::new(&url, None, None)
        .unwrap()
        .connect()
        .unwrap();
    init_schema(&mut c).unwrap();
    (name, url)
}

/// A superuser connection to the database at `url` (over the unix socket).
pub fn su(url: &str) -> postgres::Client {
    StoreConnector::new(url, None, None)
        .unwrap()
        .connect()
        .unwrap()
}

/// Runs `pg_ctl WHAT` on the test cluster (`stop -m fast`, `start`): for the tests
/// that stop the server mid-stream.
pub fn pg_ctl(what: &str) {
    let ctl = server()
        .ctl
        .expect("GOVDATA_TEST_PG_CTL: this test stops and starts the server (scripts/pg-test-server.sh sets it)");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{ctl} {what}"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl {what}");
}

/// A login role in `group` with `password` (roles are the cluster's, shared by the
/// databases).
pub fn login(name: &str, group: &str, password: &str) {
    // The group roles are the schema's, made by `init_schema`: on a new cluster a test
    // may log in before any other has made a store.
    static ROLES: std::sync::Once = std::sync::Once::new();
    ROLES.call_once(|| {
        fresh_db("roles");
    });
    govdata::store::testing::ensure_login(&mut superuser(), name, password, &[group]).unwrap();
}

/// The TLS URL of `db` for `user` (no password in it).
pub fn tls_url(db: &str, user: &str) -> String {
    let s = server();
    format!("postgresql://{user}@localhost:{}/{db}", s.port)
}

/// A connection to `db` as `user` over TLS verified against the test CA.
pub fn connect_as(db: &str, user: &str, password: &str) -> postgres::Client {
    let s = server();
    StoreConnector::new(
        &tls_url(db, user),
        Some(std::path::Path::new(&s.ca)),
        Some(zeroize::Zeroizing::new(password.to_owned())),
    )
    .unwrap()
    .connect()
    .unwrap()
}

/// The SQLSTATE of a failed statement.
pub fn sqlstate(e: &postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.code().code().to_owned())
        .unwrap_or_else(|| format!("not a database error: {e}"))
}

use govdata::audit::{AuditLog, AuditOptions, Event, SealingKey, Timestamp};
use govdata::platform::{SecretSource, StoreSection};
use govdata::store::Shipper;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A scratch directory, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "govdata-store-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A password file readable by its owner only.
pub fn password_file(dir: &Path, password: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("store.pass");
    std::fs::write(&p, password).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

/// The `[store]` section of a shipper that logs in as `user` over TLS.
pub fn section(db: &str, user: &str, password: &str, dir: &Path, batch: usize) -> StoreSection {
    let s = server();
    StoreSection {
        url: tls_url(db, user),
        ca_file: Some(PathBuf::from(&s.ca)),
        password: Some(SecretSource::File(password_file(dir, password))),
        batch_size: batch,
        lag_max_records: None,
        lag_max_seconds: None,
        fail_closed: false,
    }
}

pub const SHIPPER: (&str, &str) = ("gd_test_shipper", "shipper-pw");

/// An audit log in `dir/audit` with `n` events appended, at `time` when given.
pub fn log_with(
    dir: &Path,
    key: [u8; 32],
    n: usize,
    time: Option<Timestamp>,
    segment: Option<u64>,
) -> Arc<AuditLog> {
    let mut options = AuditOptions::default();
    if let Some(t) = time {
        options = options.clock(Arc::new(move || t));
    }
    if let Some(b) = segment {
        options = options.segment_max_bytes(b);
    }
    let log =
        Arc::new(AuditLog::open(dir.join("audit"), SealingKey::from_bytes(key), options).unwrap());
    for i in 0..n {
        log.append(
            &Event::new("test.event")
                .user(format!("user{}", i % 7))
                .field("i", i as u64),
        )
        .unwrap();
    }
    log
}

/// Ships `log` as `node` to `db` until the store holds all of it.
pub fn ship(db: &str, node: &str, log: &Arc<AuditLog>, dir: &Path, batch: usize) -> Shipper {
    login(SHIPPER.0, "govdata_shipper", SHIPPER.1);
    let shipper = Shipper::start(
        node,
        log.clone(),
        &section(db, SHIPPER.0, SHIPPER.1, dir, batch),
    )
    .unwrap();
    shipper.sync(std::time::Duration::from_secs(60)).unwrap();
    shipper
}

/// Starts the test server again when dropped, if it is stopped: a test that stops it
/// and fails leaves it running for the others.
pub struct StartOnDrop;

impl Drop for StartOnDrop {
    fn drop(&mut self) {
        if let Some(ctl) = server().ctl {
            let _ = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("{ctl} status >/dev/null || {ctl} start"))
                .stdout(std::process::Stdio::null())
                .status();
        }
    }
}

/// The govdata.toml of a node `id` in `dir/id` that logs in to `db` as `role` over TLS,
/// keeps an audit log sealed by `seal`, and takes its inventory from the store when
/// `inventory`, its bundles (trusting the public key `trust`) when given.
pub fn live_node(
    dir: &Path,
    id: &str,
    db: &str,
    role: (&str, &str),
    seal: [u8; 32],
    inventory: bool,
    trust: Option<&Path>,
) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let home = dir.join(id);
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("seal.key"), seal).unwrap();
    std::fs::set_permissions(
        home.join("seal.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    password_file(&home, role.1);
    let mut text =
        format!("node_id = \"{id}\"\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\n");
    if inventory {
        text.push_str("[inventory]\nsource = \"store\"\n");
    }
    if let Some(key) = trust {
        text.push_str(&format!(
            "[policies]\nsource = \"store\"\ntrust_keys = [{:?}]\n",
            key.display().to_string()
        ));
    }
    text.push_str(&format!(
        "[store]\nurl = \"{}\"\nca_file = \"{}\"\npassword_file = \"store.pass\"\n",
        tls_url(db, role.0),
        server().ca
    ));
    let config = home.join("govdata.toml");
    std::fs::write(&config, text).unwrap();
    config
}
