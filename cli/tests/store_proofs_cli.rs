//! Signed checkpoints and proofs of the store from the command line, against the real
//! server: `store checkpoint` as the checkpointer role over TLS, `store prove
//! inclusion|consistency` as the reader role, and `proof verify` with a public key
//! alone — exit 0 when a proof verifies, 1 for an untrusted signer, a forged record or
//! a store that no longer matches its checkpoint, 2 for a file that is not a proof.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "tests fail loudly"
)]

mod store_support;

use std::path::Path;
use std::process::Output;
use store_support::*;

const CHECKPOINTER: (&str, &str) = ("gd_cli_checkpointer", "cli-checkpointer-pw");
const READER: (&str, &str) = ("gd_cli_reader", "cli-reader-pw");

/// The flags that reach `db` as `role` over TLS (its password in a file in `dir`).
fn as_role(dir: &Path, db: &str, role: (&str, &str)) -> Vec<String> {
    let pass = dir.join(format!("{}.pass", role.0));
    private(&pass, role.1.as_bytes());
    vec![
        tls_url(db, role.0),
        "--ca-file".into(),
        server().ca,
        "--password-file".into(),
        pass.display().to_string(),
    ]
}

/// `govdata store …` with the role's URL and flags right after the subcommand's
/// words (the URL is its first argument).
fn run(args: &[&str], role: &[String]) -> Output {
    let words = args
        .iter()
        .take_while(|w| ["store", "checkpoint", "prove", "inclusion", "consistency"].contains(w))
        .count();
    let mut all: Vec<&str> = args[..words].to_vec();
    all.extend(role.iter().map(String::as_str));
    all.extend_from_slice(&args[words..]);
    govdata(&all)
}

/// `govdata proof verify --trust PUB FILE`.
fn verify(trust: &Path, file: &str) -> Output {
    govdata(&["proof", "verify", "--trust", trust.to_str().unwrap(), file])
}

fn fails_with(out: &Output, status: i32, code: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(status),
        "{}{err}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(err.contains(&format!("error[{code}]")), "{err}");
}

#[test]
fn checkpoints_and_proofs_from_the_command_line() {
    let root = scratch("proofs");
    let (db, url) = fresh_db("proofs");
    let s = server();
    login(
        &s.url,
        CHECKPOINTER.0,
        "govdata_checkpointer",
        CHECKPOINTER.1,
    );
    login(&s.url, READER.0, "govdata_reader", READER.1);
    let dir = root.join("n");
    let config = node(&dir, "n", &db, 50);
    append(&dir, 400, 0);
    sync(&config);
    let key = root.join("mgmt.key");
    let other = root.join("other.key");
    ok(&govdata(&["keygen", "-o", key.to_str().unwrap()]));
    ok(&govdata(&[
        "keygen",
        "--alg",
        "sm2",
        "-o",
        other.to_str().unwrap(),
    ]));
    let public = root.join("mgmt.key.pub");
    let untrusted = root.join("other.key.pub");
    let checkpointer = as_role(&root, &db, CHECKPOINTER);
    let reader = as_role(&root, &db, READER);
    let file = |name: &str| root.join(name).display().to_string();

    // The first checkpoint, to a file.
    let text = ok(&run(
        &[
            "store",
            "checkpoint",
            "--sign-key",
            key.to_str().unwrap(),
            "--origin",
            "city",
            "-o",
            &file("cp1.json"),
        ],
        &checkpointer,
    ));
    assert!(
        text.contains("ok: checkpoint of `city`: 1 nodes, 400 records"),
        "{text}"
    );
    let text = ok(&verify(&public, &file("cp1.json")));
    assert!(text.contains("n: 400 records from 1"), "{text}");

    // More records, a second checkpoint printed.
    append(&dir, 300, 400);
    sync(&config);
    let cp2 = ok(&run(
        &["store", "checkpoint", "--sign-key", key.to_str().unwrap()],
        &checkpointer,
    ));
    std::fs::write(root.join("cp2.json"), &cp2).unwrap();
    let cp2: serde_json::Value = serde_json::from_str(&cp2).unwrap();
    assert_eq!(cp2["nodes"][0]["size"], 700);

    // An auditor's proofs, checked with the public key alone.
    ok(&run(
        &[
            "store",
            "prove",
            "inclusion",
            "n",
            "300",
            "-o",
            &file("inc.json"),
        ],
        &reader,
    ));
    let text = ok(&verify(&public, &file("inc.json")));
    assert!(text.contains("record 300 of node `n`"), "{text}");
    assert!(text.contains("ok: the record is in the checkpointed store"));
    ok(&run(
        &[
            "store",
            "prove",
            "consistency",
            "--from",
            &file("cp1.json"),
            "-o",
            &file("cons.json"),
        ],
        &reader,
    ));
    let text = ok(&verify(&public, &file("cons.json")));
    assert!(text.contains("n: 400 → 700 records"), "{text}");
    // Against the checkpoint of an earlier time, named as a file.
    ok(&run(
        &[
            "store",
            "prove",
            "inclusion",
            "n",
            "12",
            "--checkpoint",
            &file("cp1.json"),
            "-o",
            &file("inc1.json"),
        ],
        &reader,
    ));
    ok(&verify(&public, &file("inc1.json")));

    // An untrusted signer, a forged record, not a proof.
    fails_with(
        &verify(&untrusted, &file("inc.json")),
        1,
        "crypto_auth_failed",
    );
    let forged = std::fs::read_to_string(root.join("inc.json"))
        .unwrap()
        .replace("soak.event", "soak.other");
    std::fs::write(root.join("forged.json"), forged).unwrap();
    fails_with(
        &verify(&public, &file("forged.json")),
        1,
        "crypto_auth_failed",
    );
    fails_with(
        &verify(&public, config.to_str().unwrap()),
        2,
        "request_invalid",
    );

    // A record changed in the database after the checkpoint: no proof is served.
    client(&url).exec(
        "SET session_replication_role = replica;
         UPDATE govdata.audit_records SET payload = convert_to(replace(convert_from(payload, 'UTF8'), 'soak.event', 'soak.other'), 'UTF8'), kind = 'soak.other' WHERE node_id = 'n' AND seq = 300;
         RESET session_replication_role;",
    );
    fails_with(
        &run(&["store", "prove", "inclusion", "n", "300"], &reader),
        1,
        "audit_tampered",
    );
    let _ = std::fs::remove_dir_all(&root);
}
