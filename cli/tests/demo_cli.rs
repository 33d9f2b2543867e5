//! `govdata demo` and `govdata validate` run as a user runs them.

use std::process::Command;

fn govdata() -> Command {
    Command::new(env!("CARGO_BIN_EXE_govdata"))
}

#[test]
fn demo_walks_every_article_and_verifies_its_log() {
    let out = govdata().arg("demo").output().expect("run demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    for article in [
        "第三条",
        "第五条",
        "第六条",
        "第七条",
        "第八条",
        "第九条",
        "第十条",
        "第十一条",
        "第十二条",
        "第十三条",
        "第十四条",
        "第十五条",
        "第十六条",
        "第十七条",
        "第十八条",
        "第十九条",
    ] {
        assert!(
            text.contains(article),
            "the demo shows no decision for {article}"
        );
    }
    assert!(text.contains("art17-no-vendor-superadmin"));
    assert!(text.contains("✔ intact"), "{text}");
    assert!(
        text.contains("key_destroyed"),
        "the demo shows decryption failing after the shred: {text}"
    );
}

#[test]
fn validate_accepts_the_default_pack_and_rejects_a_bad_one() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = govdata()
        .arg("validate")
        .arg(root.join("policies"))
        .output()
        .expect("run validate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = std::env::temp_dir().join(format!("govdata-bad-pack-{}", std::process::id()));
    std::fs::create_dir_all(&bad).expect("dir");
    std::fs::copy(
        root.join("policies/schema.cedarschema"),
        bad.join("schema.cedarschema"),
    )
    .expect("schema");
    std::fs::write(bad.join("x.cedar"), "@id(\"x\") @article(\"第三条\") @zh(\"x\") @en(\"x\")\npermit (principal, action, resource) when { resource.nope };").expect("policy");
    let out = govdata()
        .arg("validate")
        .arg(&bad)
        .output()
        .expect("run validate");
    std::fs::remove_dir_all(&bad).ok();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("policy_validation") && err.contains("x.cedar") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn decide_exits_0_on_allow_1_on_deny_2_on_error() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let inv = root.join("policies/examples/inventory.json");
    let run = |req: &str| {
        let mut child = govdata()
            .args(["decide", "--inventory"])
            .arg(&inv)
            .arg("-")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(req.as_bytes())
            .expect("write");
        child.wait_with_output().expect("wait")
    };
    let out = run(r#"{"principal":"zhang.san","action":"query","resource":"population-stats"}"#);
    assert_eq!(out.status.code(), Some(0));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("decision json");
    assert_eq!(d["decision"], "allow");
    let out = run(
        r#"{"principal":"ops.admin","action":"grant_superadmin","resource":{"type":"System","id":"lake-db"},"context":{"grantee":"vendor.li"}}"#,
    );
    assert_eq!(out.status.code(), Some(1));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).expect("decision json");
    assert_eq!(d["reasons"][0]["policy"], "art17-no-vendor-superadmin");
    let out = run(r#"{"principal":"nobody","action":"query","resource":"hukou"}"#);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown_entity"));
}
