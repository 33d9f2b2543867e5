use super::*;
use std::path::PathBuf;

fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govdata-bundle-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const DAY: i64 = 86_400_000;

fn now() -> Timestamp {
    Timestamp::from_unix_millis(1_765_000_000_000)
}

fn built(version: u64) -> Bundle {
    let dir = pack_dir();
    Bundle::build(
        &[dir.as_path()],
        version,
        now(),
        Timestamp::from_unix_millis(now().unix_millis() + 90 * DAY),
    )
    .unwrap()
}

fn reason_of(r: Result<impl std::fmt::Debug>) -> &'static str {
    let e = r.unwrap_err();
    assert_eq!(e.code(), "bundle_invalid", "{e}");
    e.bundle_reason().unwrap()
}

#[test]
fn a_signed_bundle_loads_the_same_pack_as_its_directories() {
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let mut b = built(3);
    b.sign(&key).unwrap();
    let again = Bundle::from_json(&b.to_json()).unwrap();
    assert_eq!(again, b);
    assert_eq!(
        again.verify(&[key.verifying_key().clone()], now()).unwrap(),
        key.key_id()
    );
    let pack = again.load_pack().unwrap();
    let dir = pack_dir();
    assert_eq!(
        pack.version(),
        PolicyPack::from_dir(&dir).unwrap().version()
    );
    assert_eq!(pack.version(), b.manifest().policy_version);
    assert_eq!(b.manifest().files[0].name, SCHEMA_NAME);
    assert!(b.manifest().files[1].name.starts_with("0/"));
    let text = String::from_utf8(b.signed_bytes()).unwrap();
    assert!(text.starts_with("govdata bundle v1\nversion 3\npolicy_version sha256:"));
}

#[test]
fn tampered_unsigned_untrusted_and_expired_bundles_are_refused() {
    let key = SigningKey::generate(Algorithm::Sm2).unwrap();
    let stranger = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let trusted = [key.verifying_key().clone()];
    let mut b = built(1);
    b.sign(&key).unwrap();
    let json = b.to_json();

    // A policy file changed: its hash no longer matches the manifest.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let text = value["files"][1]["text"].as_str().unwrap().to_owned();
    value["files"][1]["text"] = serde_json::json!(text.replacen("forbid", "permit", 1));
    assert_eq!(
        reason_of(Bundle::from_json(&value.to_string())),
        reason::TAMPERED
    );

    // The file and its manifest entry both changed: the signature no longer holds.
    let changed = text.replacen("forbid", "permit", 1);
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["files"][1]["text"] = serde_json::json!(changed);
    value["manifest"]["files"][1] =
        serde_json::to_value(entry(b.manifest().files[1].name.clone(), &changed)).unwrap();
    let forged = Bundle::from_json(&value.to_string()).unwrap();
    assert_eq!(
        reason_of(forged.verify(&trusted, now())),
        reason::BAD_SIGNATURE
    );

    // A file dropped from both the files and the manifest.
    let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
    value["files"].as_array_mut().unwrap().pop();
    value["manifest"]["files"].as_array_mut().unwrap().pop();
    let dropped = Bundle::from_json(&value.to_string()).unwrap();
    assert_eq!(
        reason_of(dropped.verify(&trusted, now())),
        reason::BAD_SIGNATURE
    );

    // The signature stripped.
    let mut stripped = b.clone();
    stripped.clear_signatures();
    assert_eq!(
        reason_of(stripped.verify(&trusted, now())),
        reason::UNSIGNED
    );
    // Even with no trusted key at all: never "no key, so accept".
    assert_eq!(reason_of(stripped.verify(&[], now())), reason::UNSIGNED);
    assert_eq!(reason_of(b.verify(&[], now())), reason::UNTRUSTED_KEY);

    // Signed by a key not trusted here.
    let mut other = built(1);
    other.sign(&stranger).unwrap();
    assert_eq!(
        reason_of(other.verify(&trusted, now())),
        reason::UNTRUSTED_KEY
    );
    // A trusted key's id on a stranger's signature.
    let mut value: serde_json::Value = serde_json::from_str(&other.to_json()).unwrap();
    value["signatures"][0]["key_id"] = serde_json::json!(key.key_id());
    value["signatures"][0]["algorithm"] = serde_json::json!("sm2");
    let claimed = Bundle::from_json(&value.to_string()).unwrap();
    assert_eq!(
        reason_of(claimed.verify(&trusted, now())),
        reason::BAD_SIGNATURE
    );

    // Expired.
    let later = Timestamp::from_unix_millis(now().unix_millis() + 91 * DAY);
    assert_eq!(reason_of(b.verify(&trusted, later)), reason::EXPIRED);

    // Not a bundle.
    assert_eq!(reason_of(Bundle::from_json("{}")), reason::MALFORMED);
    assert_eq!(
        reason_of(Bundle::from_json(
            &json.replace(BUNDLE_FORMAT, "govdata-bundle/9")
        )),
        reason::MALFORMED
    );
}

#[test]
fn the_state_file_refuses_a_rollback_and_accepts_a_restart() {
    let dir = temp_dir("state");
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let trusted = [key.verifying_key().clone()];
    let state = dir.join("bundle-state.json");
    let write = |b: &Bundle, name: &str| {
        let p = dir.join(name);
        b.write(&p).unwrap();
        p
    };
    let mut v2 = built(2);
    v2.sign(&key).unwrap();
    let p2 = write(&v2, "v2.bundle");
    let ok = accept(&p2, &trusted, &state, now()).unwrap();
    assert_eq!(ok.manifest.version, 2);
    assert_eq!(ok.key_id, key.key_id());
    let recorded = BundleState::read(&state).unwrap().unwrap();
    assert_eq!(recorded.version, 2);
    // The same bundle again (a restart) is accepted.
    accept(&p2, &trusted, &state, now()).unwrap();
    // An older version is refused, and the state is unchanged.
    let mut v1 = built(1);
    v1.sign(&key).unwrap();
    let p1 = write(&v1, "v1.bundle");
    assert_eq!(
        reason_of(accept(&p1, &trusted, &state, now())),
        reason::ROLLBACK
    );
    // The same version with another pack is refused.
    let mut same = built(2);
    let mut value: serde_json::Value = serde_json::from_str(&same.to_json()).unwrap();
    value["manifest"]["policy_version"] = serde_json::json!("sha256:00");
    same = Bundle::from_json(&value.to_string()).unwrap();
    same.sign(&key).unwrap();
    let ps = write(&same, "same.bundle");
    assert_eq!(
        reason_of(accept(&ps, &trusted, &state, now())),
        reason::ROLLBACK
    );
    assert_eq!(BundleState::read(&state).unwrap().unwrap(), recorded);
    // A newer one is accepted, but a signed bundle whose pack does not hash as its
    // manifest says is refused.
    let mut v3 = built(3);
    let mut value: serde_json::Value = serde_json::from_str(&v3.to_json()).unwrap();
    value["manifest"]["policy_version"] = serde_json::json!("sha256:00");
    let mut lying = Bundle::from_json(&value.to_string()).unwrap();
    lying.sign(&key).unwrap();
    let pl = write(&lying, "lying.bundle");
    assert_eq!(
        reason_of(accept(&pl, &trusted, &state, now())),
        reason::POLICY_VERSION
    );
    v3.sign(&key).unwrap();
    let p3 = write(&v3, "v3.bundle");
    accept(&p3, &trusted, &state, now()).unwrap();
    assert_eq!(BundleState::read(&state).unwrap().unwrap().version, 3);
    std::fs::remove_dir_all(&dir).ok();
}
