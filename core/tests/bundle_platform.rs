//! A node that runs a signed policy bundle: it opens only on a bundle signed by a key
//! it trusts, intact, unexpired and not older than the last it ran; a reload with a bad
//! bundle keeps the running pack, records `policy.rejected` and shows in the status.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

use govdata::audit::Timestamp;
use govdata::bundle::{reason, Bundle};
use govdata::platform::{Platform, PlatformConfig};
use govdata::sign::{Algorithm, SigningKey};
use std::path::{Path, PathBuf};

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("govdata-bundle-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const DAY: i64 = 86_400_000;

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

/// A bundle of the default pack's directory with one policy file left out when
/// `smaller`, so that two versions differ in their pack.
fn bundle(dir: &Dir, version: u64, valid_days: i64, smaller: bool) -> Bundle {
    let src = if smaller {
        let d = dir.join(&format!("pack-{version}"));
        std::fs::create_dir_all(&d).unwrap();
        for entry in std::fs::read_dir(policies()).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_file() && !name.starts_with("art12") {
                std::fs::copy(&p, d.join(&name)).unwrap();
            }
        }
        d
    } else {
        policies()
    };
    let now = Timestamp::now().unix_millis();
    Bundle::build(
        &[src.as_path()],
        version,
        Timestamp::from_unix_millis(now - 2 * DAY),
        Timestamp::from_unix_millis(now + valid_days * DAY),
    )
    .unwrap()
}

fn signed(b: &Bundle, key: &SigningKey, dir: &Dir, name: &str) -> PathBuf {
    let mut b = b.clone();
    b.sign(key).unwrap();
    let p = dir.join(name);
    b.write(&p).unwrap();
    p
}

fn config(dir: &Dir, bundle: &Path, trust: &[&Path]) -> PlatformConfig {
    let seal = dir.join("seal.key");
    if !seal.exists() {
        std::fs::write(&seal, [9u8; 32]).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&seal, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let trust: Vec<String> = trust
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    PlatformConfig::from_toml_str(
        &format!(
            "node_id = \"etl-01\"\n[policies]\nbundle = {:?}\ntrust_keys = [{}]\n[audit]\ndir = \"audit\"\nkey_file = \"seal.key\"\n",
            bundle.display().to_string(),
            trust.join(", ")
        ),
        &dir.0,
    )
    .unwrap()
}

fn refused(r: govdata::Result<Platform>) -> &'static str {
    let e = r.expect_err("the node must not open");
    assert_eq!(e.code(), "bundle_invalid", "{e}");
    e.bundle_reason().unwrap()
}

#[test]
fn a_node_opens_only_on_a_good_bundle() {
    let dir = Dir::new("open");
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let stranger = SigningKey::generate(Algorithm::Sm2).unwrap();
    let public = key.write_files(dir.join("mgmt.key")).unwrap();
    let v2 = bundle(&dir, 2, 30, false);

    // Unsigned.
    let unsigned = dir.join("unsigned.bundle");
    v2.write(&unsigned).unwrap();
    assert_eq!(
        refused(Platform::from_config(config(&dir, &unsigned, &[&public]))),
        reason::UNSIGNED
    );
    // Signed by a key the node does not trust.
    let foreign = signed(&v2, &stranger, &dir, "foreign.bundle");
    assert_eq!(
        refused(Platform::from_config(config(&dir, &foreign, &[&public]))),
        reason::UNTRUSTED_KEY
    );
    // Tampered after signing.
    let good = signed(&v2, &key, &dir, "v2.bundle");
    let text = std::fs::read_to_string(&good).unwrap();
    let tampered = dir.join("tampered.bundle");
    std::fs::write(&tampered, text.replacen("forbid", "permit", 1)).unwrap();
    assert_eq!(
        refused(Platform::from_config(config(&dir, &tampered, &[&public]))),
        reason::TAMPERED
    );
    // Expired.
    let expired = signed(&bundle(&dir, 3, -1, false), &key, &dir, "expired.bundle");
    assert_eq!(
        refused(Platform::from_config(config(&dir, &expired, &[&public]))),
        reason::EXPIRED
    );
    // Nothing was accepted so far: no state file.
    assert!(!dir.join("audit.bundle-state.json").exists());

    // The good one opens, and runs the bundled pack.
    let node = Platform::from_config(config(&dir, &good, &[&public])).unwrap();
    let status = node.status();
    let b = status.bundle.as_ref().unwrap();
    assert_eq!(b.version, 2);
    assert_eq!(b.key_id, key.key_id());
    assert_eq!(status.policy_version, b.policy_version);
    assert!(b.last_rejection.is_none());
    node.close().unwrap();
    drop(node);
    assert!(dir.join("audit.bundle-state.json").exists());

    // Once version 2 ran, version 1 is refused, even signed and fresh.
    let v1 = signed(&bundle(&dir, 1, 30, true), &key, &dir, "v1.bundle");
    assert_eq!(
        refused(Platform::from_config(config(&dir, &v1, &[&public]))),
        reason::ROLLBACK
    );
    // And version 2 again (a restart) opens.
    let node = Platform::from_config(config(&dir, &good, &[&public])).unwrap();
    node.close().unwrap();
}

#[test]
fn a_bad_reload_keeps_the_last_good_pack_and_is_recorded() {
    let dir = Dir::new("reload");
    let key = SigningKey::generate(Algorithm::Sm2).unwrap();
    let public = key.write_files(dir.join("mgmt.key")).unwrap();
    let v5 = signed(&bundle(&dir, 5, 30, false), &key, &dir, "v5.bundle");
    let node = Platform::from_config(config(&dir, &v5, &[&public])).unwrap();
    let running = node.status().policy_version;

    let mut stripped = bundle(&dir, 6, 30, true);
    stripped.clear_signatures();
    let stripped_path = dir.join("v6-unsigned.bundle");
    stripped.write(&stripped_path).unwrap();
    let older = signed(&bundle(&dir, 4, 30, true), &key, &dir, "v4.bundle");
    for (path, why) in [
        (&stripped_path, reason::UNSIGNED),
        (&older, reason::ROLLBACK),
    ] {
        let e = node.reload_bundle(path).unwrap_err();
        assert_eq!(e.code(), "bundle_invalid");
        assert_eq!(e.bundle_reason(), Some(why));
        let status = node.status();
        assert_eq!(status.policy_version, running, "the running pack is kept");
        let b = status.bundle.unwrap();
        assert_eq!(b.version, 5);
        let r = b.last_rejection.unwrap();
        assert_eq!(r.reason, why);
        assert_eq!(r.path, path.display().to_string());
    }
    let records = node.audit_log().unwrap().records().unwrap();
    let rejected: Vec<_> = records
        .iter()
        .filter(|r| r.event.kind == "policy.rejected")
        .collect();
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0].event.fields["reason"], "unsigned");
    assert_eq!(rejected[1].event.fields["reason"], "rollback");
    assert_eq!(rejected[0].event.outcome, govdata::audit::Outcome::Failure);

    // A good, newer bundle is taken at once.
    let v6 = signed(&bundle(&dir, 6, 30, true), &key, &dir, "v6.bundle");
    let s = node.reload_bundle(&v6).unwrap();
    assert_eq!(s.version, 6);
    assert_ne!(node.status().policy_version, running);
    assert_eq!(node.engine().policy_version(), s.policy_version);
    let records = node.audit_log().unwrap().records().unwrap();
    let loaded = records
        .iter()
        .rfind(|r| r.event.kind == "policy.loaded")
        .unwrap();
    assert_eq!(loaded.event.fields["version"], 6);
    node.close().unwrap();
}

#[test]
fn the_configuration_never_accepts_a_bundle_without_trusted_keys() {
    let dir = Dir::new("config");
    let err = |text: &str| {
        PlatformConfig::from_toml_str(text, &dir.0)
            .expect_err("refused")
            .code()
    };
    assert_eq!(
        err("node_id = \"a\"\n[policies]\nbundle = \"p.bundle\"\nstate_file = \"s.json\"\n"),
        "config_invalid"
    );
    assert_eq!(
        err("node_id = \"a\"\n[policies]\nbundle = \"p.bundle\"\ntrust_keys = []\nstate_file = \"s.json\"\n"),
        "config_invalid"
    );
    assert_eq!(
        err("node_id = \"a\"\n[policies]\nbundle = \"p.bundle\"\ntrust_keys = [\"k.pub\"]\n"),
        "config_invalid",
    );
    assert_eq!(
        err("node_id = \"a\"\n[policies]\ntrust_keys = [\"k.pub\"]\n"),
        "config_invalid"
    );
    let ok = PlatformConfig::from_toml_str(
        "node_id = \"a\"\n[policies]\nbundle = \"p.bundle\"\ntrust_keys = [\"k.pub\"]\nstate_file = \"s.json\"\n",
        &dir.0,
    )
    .unwrap();
    let b = ok.bundle.unwrap();
    assert_eq!(b.state_file, dir.join("s.json"));
    assert_eq!(b.trust_keys, vec![dir.join("k.pub")]);
}
