//! `govdata.toml` and the composition root: a node opened from one file decides,
//! records, runs the procedures and the vault wired together; every wrong or missing
//! section is an error that names the key or the path; a secret in the file is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use govdata::model::Grade;
use govdata::platform::{Platform, PlatformConfig, SecretSource};
use govdata::vault::{MasterKey, Operator, Suite, Vault, VaultConfig};
use govdata::workflow::{DestructionMethod, ExecutionDetails};
use govdata::Engine;
use std::path::{Path, PathBuf};
use std::sync::Arc;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p =
            std::env::temp_dir().join(format!("govdata-platform-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
    fn key(&self, name: &str, byte: u8) -> PathBuf {
        let p = self.write(name, &[byte; 32]);
        private(&p);
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn private(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn inventory() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/examples/inventory.json"
    )
    .to_owned()
}

/// A node with every section, its vault made beforehand as `govdata vault init` does.
fn full(d: &Dir) -> String {
    d.key("seal.key", 5);
    let mk = d.key("master.key", 9);
    Vault::init(
        VaultConfig::new(d.path().join("vault")),
        Box::new(MasterKey::from_file(&mk, Suite::XChaCha20Poly1305).unwrap()),
        Arc::new(Engine::with_defaults().unwrap()),
        &Operator::new("key.admin"),
    )
    .unwrap();
    format!(
        r#"node_id = "etl-01"

[policies]
dirs = []

[inventory]
file = "{inv}"

[audit]
dir = "audit"
key_file = "seal.key"
sync = "batch"
suite = "sm3"
scope = "all"
lock_wait_ms = 2000

[vault]
dir = "vault"
master_key_file = "master.key"
suite = "sm4-gcm"
system = "platform"

[procedures]
conformity_check_days = 3
provider_reply_days = 5
provider_reply_off_platform_days = 10
destruction_approval_valid_days = 30
holidays = ["2026-10-01", "2026-10-02"]
workdays = ["2026-10-10"]
utc_offset_minutes = 480
"#,
        inv = inventory()
    )
}

#[test]
fn a_node_with_every_section_is_wired_once() {
    let d = Dir::new("full");
    let path = d.write("govdata.toml", full(&d).as_bytes());
    let node = Platform::open(&path).unwrap();
    assert_eq!(node.node_id(), "etl-01");
    assert_eq!(node.config().procedures.conformity_check_days, Some(3));

    // The engine records into the log.
    let d1 = node
        .engine()
        .decide_json(r#"{"principal": "zhang.san", "action": "query", "resource": "hukou", "context": {"scenario_risk": "low"}}"#)
        .unwrap();
    assert_eq!(d1.audit_seq(), Some(1));
    let log = node.audit_log().unwrap();
    assert_eq!(log.suite().as_str(), "sm3");

    // The vault decides key operations with the engine and records them in the log.
    let vault = node.vault().unwrap();
    let before = log.last_seq();
    vault
        .ensure_key(&Operator::new("key.admin"), "social-insurance")
        .unwrap();
    assert!(log.last_seq() > before, "the key operation was recorded");
    let sealed = vault
        .encrypt("social-insurance", Grade::L3, b"rows")
        .unwrap();
    assert_eq!(
        vault
            .decrypt("social-insurance", Grade::L3, &sealed)
            .unwrap(),
        b"rows"
    );
    assert!(vault
        .ensure_key(&Operator::new("vendor.li"), "subsidy-list")
        .is_err());

    // The procedures run on the log, and a destruction crypto-erases in the vault.
    vault
        .ensure_key(&Operator::new("key.admin"), "population-stats")
        .unwrap();
    let stats = vault
        .encrypt("population-stats", Grade::L2, b"stats")
        .unwrap();
    let flows = node.workflows().unwrap();
    let step = flows
        .request_destruction(
            "li.si",
            "population-stats",
            DestructionMethod::CryptoErase,
            "到期销毁",
        )
        .unwrap();
    let id = step.record().unwrap().id.clone();
    assert!(flows
        .approve_destruction("gongan.officer", &id, Some("ops.admin"))
        .unwrap()
        .allowed());
    let done = flows
        .execute_destruction(
            "ops.admin",
            &id,
            ExecutionDetails {
                witness: Some("key.admin".into()),
                ..ExecutionDetails::default()
            },
        )
        .unwrap();
    assert!(done.allowed(), "{:?}", done.decision().reason_ids());
    assert_eq!(
        vault
            .decrypt("population-stats", Grade::L2, &stats)
            .unwrap_err()
            .code(),
        "key_destroyed"
    );
    let status = node.status();
    assert_eq!(status.node_id, "etl-01");
    assert_eq!(status.audit.as_ref().unwrap().last_seq, log.last_seq());
    assert_eq!(status.vault.as_ref().unwrap().keys, 2);
    node.close().unwrap();

    // Closed, the log lets go of its lock: the node opens again at once.
    let again = Platform::open(&path).unwrap();
    assert!(again.audit_log().unwrap().last_seq() >= 3);
}

#[test]
fn the_parts_are_optional_and_the_defaults_are_the_example_city() {
    let c = PlatformConfig::from_toml_str("node_id = \"bare\"\n", Path::new(".")).unwrap();
    let node = Platform::from_config(c).unwrap();
    assert!(node.audit_log().is_none() && node.vault().is_none() && node.workflows().is_none());
    let d = node
        .engine()
        .decide_json(r#"{"principal": "vendor.wang", "action": "export", "resource": "hukou"}"#)
        .unwrap();
    assert!(!d.allowed());
    assert_eq!(d.audit_seq(), None);
}

fn error_of(text: &str, base: &Path) -> govdata::Error {
    match PlatformConfig::from_toml_str(text, base) {
        Ok(c) => match Platform::from_config(c) {
            Ok(_) => panic!("`{text}` opened"),
            Err(e) => e,
        },
        Err(e) => e,
    }
}

#[test]
fn every_wrong_or_missing_section_names_the_key_or_the_path() {
    let d = Dir::new("wrong");
    d.key("seal.key", 5);
    let base = d.path();
    let cases: &[(&str, &str, &str)] = &[
        ("", "config_invalid", "node_id"),
        ("node_id = \"a\"\ncolour = \"red\"\n", "config_invalid", "colour"),
        ("node_id = \"a\"\n[audit]\ndir = \"a\"\nkey_file = \"seal.key\"\nsink = 1\n", "config_invalid", "sink"),
        ("node_id = \"a\"\n[policies]\ndirs = [\"no-such-pack\"]\n", "io", "no-such-pack"),
        ("node_id = \"a\"\n[inventory]\nfile = \"missing.json\"\n", "io", "missing.json"),
        ("node_id = \"a\"\n[inventory]\n", "config_invalid", "file"),
        ("node_id = \"a\"\n[inventory]\nsource = \"cloud\"\n", "config_invalid", "inventory.source"),
        ("node_id = \"a\"\n[inventory]\nsource = \"store\"\n", "config_invalid", "[store]"),
        ("node_id = \"a\"\n[inventory]\nsource = \"store\"\nfile = \"inv.json\"\n", "config_invalid", "file"),
        ("node_id = \"a\"\n[policies]\nsource = \"store\"\nstate_file = \"s.json\"\n[store]\nurl = \"postgresql://n@/g?host=/tmp\"\n", "config_invalid", "trust_keys"),
        ("node_id = \"a\"\n[policies]\nsource = \"store\"\nbundle = \"p.bundle\"\ntrust_keys = [\"k.pub\"]\nstate_file = \"s.json\"\n[store]\nurl = \"postgresql://n@/g?host=/tmp\"\n", "config_invalid", "bundle"),
        ("node_id = \"a\"\n[store]\nurl = \"postgresql://n@/g?host=/tmp\"\n", "config_invalid", "[audit]"),
        ("node_id = \"a\"\n[audit]\ndir = \"a\"\n", "config_invalid", "key_file"),
        ("node_id = \"a\"\n[audit]\ndir = \"a\"\nkey_file = \"seal.key\"\nkey_env = \"X\"\n", "config_invalid", "key_env"),
        ("node_id = \"a\"\n[audit]\ndir = \"a\"\nkey_file = \"seal.key\"\nsync = \"sometimes\"\n", "config_invalid", "audit.sync"),
        ("node_id = \"a\"\n[audit]\ndir = \"a\"\nkey_file = \"seal.key\"\nscope = \"most\"\n", "config_invalid", "audit.scope"),
        ("node_id = \"a\"\n[audit]\ndir = \"a\"\nkey_file = \"absent.key\"\n", "io", "absent.key"),
        ("node_id = \"a\"\n[vault]\ndir = \"v\"\nmaster_key_file = \"seal.key\"\n", "io", "keystore.json"),
        ("node_id = \"a\"\n[vault]\ndir = \"v\"\nmaster_key_file = \"seal.key\"\nsuite = \"rot13\"\n", "config_invalid", "vault.suite"),
        ("node_id = \"a\"\n[procedures]\nholidays = [\"2026-13-01\"]\n", "config_invalid", "procedures.holidays"),
        ("node_id = \"a\"\n[procedures]\nshared = true\n", "config_invalid", "procedures.shared"),
        ("node_id = \"a\"\n[procedures]\nstaleness_ms = 0\n", "config_invalid", "procedures.staleness_ms"),
        ("node_id = \"a/b\"\n", "config_invalid", "node_id"),
        ("node_id = ", "config_invalid", ""),
    ];
    for (text, code, named) in cases {
        let e = error_of(text, base);
        assert_eq!(e.code(), *code, "{text}: {e}");
        assert!(
            e.to_string().contains(named),
            "{text}: `{e}` does not name `{named}`"
        );
    }
}

#[test]
fn a_secret_in_the_file_or_a_key_file_others_may_read_is_refused() {
    let d = Dir::new("secrets");
    for text in [
        "node_id = \"a\"\n[audit]\ndir = \"a\"\nkey = \"000102\"\n",
        "node_id = \"a\"\n[vault]\ndir = \"v\"\nmaster_key = \"000102\"\n",
        "node_id = \"a\"\nsecret = \"x\"\n",
    ] {
        let e = PlatformConfig::from_toml_str(text, d.path()).unwrap_err();
        assert_eq!(e.code(), "config_invalid", "{text}");
        assert!(e.to_string().contains("would hold a secret"), "{e}");
        // The value itself is never echoed.
        assert!(!e.to_string().contains("000102"), "{e}");
    }
    let open = d.write("open.key", &[5; 32]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = error_of(
        "node_id = \"a\"\n[audit]\ndir = \"a\"\nkey_file = \"open.key\"\n",
        d.path(),
    );
    assert_eq!(e.code(), "config_invalid");
    assert!(
        e.to_string().contains("open.key") && e.to_string().contains("600"),
        "{e}"
    );
    assert!(!d.path().join("a").exists(), "nothing was opened");
}

#[test]
fn a_key_is_read_from_an_environment_variable() {
    let d = Dir::new("env");
    let var = format!("GOVDATA_TEST_SEALING_KEY_{}", std::process::id());
    let c = PlatformConfig::from_toml_str(
        &format!("node_id = \"a\"\n[audit]\ndir = \"a\"\nkey_env = \"{var}\"\n"),
        d.path(),
    )
    .unwrap();
    assert_eq!(
        c.audit.as_ref().unwrap().key,
        SecretSource::Env(var.clone())
    );
    let e = Platform::from_config(c.clone()).unwrap_err();
    assert_eq!(e.code(), "key_invalid", "{e}");
    std::env::set_var(&var, "07".repeat(32));
    let node = Platform::from_config(c).unwrap();
    assert!(node.audit_log().is_some());
}

#[test]
fn procedures_are_shared_whenever_a_store_is_named_unless_the_file_says_not() {
    use govdata::platform::{PlatformConfig, DEFAULT_STALENESS};
    use std::time::Duration;
    let d = Dir::new("shared");
    let key = d.key("seal.key", 1);
    let node = |extra: &str| {
        PlatformConfig::from_toml_str(
            &format!(
                "node_id = \"a\"\n[audit]\ndir = \"a\"\nkey_file = \"{}\"\n{extra}",
                key.display()
            ),
            d.path(),
        )
        .unwrap()
    };
    let store = "[store]\nurl = \"postgresql://n@db.example/g\"\n";
    let c = node(store);
    assert!(c.procedures.is_shared(c.store.is_some()));
    assert_eq!(c.procedures.staleness(), DEFAULT_STALENESS);
    let c = node(&format!(
        "[procedures]\nshared = false\nstaleness_ms = 500\n{store}"
    ));
    assert!(!c.procedures.is_shared(c.store.is_some()));
    assert_eq!(c.procedures.staleness(), Duration::from_millis(500));
    let c = node("");
    assert!(!c.procedures.is_shared(c.store.is_some()));
}
