//! The live inventory and the signed bundles of the platform store, against the real
//! server (scripts/test.sh starts it): a push that removes a user reaches every node
//! within a second, and an invalid one changes nothing anywhere; a bundle that is
//! tampered, stripped of its signature, signed by an unknown key, older or expired is
//! refused by the publisher and, written into the store behind its back, by every
//! node, which keeps its last good pack and records the refusal; a good bundle reaches
//! every node within a second; the store stopped, or a node's connection cut, and
//! back: the nodes catch up without a restart.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::expect_used,
    reason = "tests fail loudly"
)]

mod store_support;

use govdata::audit::Timestamp;
use govdata::bundle::{reason, Bundle};
use govdata::model::RecordKind;
use govdata::platform::{Platform, PlatformConfig};
use govdata::sign::{Algorithm, SigningKey, VerifyingKey};
use govdata::store::{load_inventory, publish_bundle, push_inventory, InventoryChange};
use govdata::Inventory;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, Instant};
use store_support::{connect_as, fresh_db, live_node, login, pg_ctl, su, Scratch};

/// Tests that stop the server take it for themselves.
static SERVER: RwLock<()> = RwLock::new(());

const NODE: (&str, &str) = ("gd_live_node", "live-node-pw");
const ADMIN: (&str, &str) = ("gd_live_admin", "live-admin-pw");
const PUBLISHER: (&str, &str) = ("gd_live_publisher", "live-publisher-pw");
const KEY: [u8; 32] = [11; 32];
const DAY: i64 = 86_400_000;

const QUERY: &str = r#"{"principal": "zhang.san", "action": "query", "resource": "hukou", "context": {"scenario_risk": "low"}}"#;

/// The login roles of the tests (the cluster's, shared by the databases), made once
/// the schema has made their groups.
fn roles() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(roles_once);
}

fn roles_once() {
    login(NODE.0, "govdata_node", NODE.1);
    login(NODE.0, "govdata_shipper", NODE.1);
    // The assessment of a node with `[store]` reads the store's records.
    login(NODE.0, "govdata_reader", NODE.1);
    login(ADMIN.0, "govdata_inventory_admin", ADMIN.1);
    login(PUBLISHER.0, "govdata_publisher", PUBLISHER.1);
}

fn example() -> Inventory {
    Inventory::from_json_str(govdata::engine::EXAMPLE_INVENTORY).unwrap()
}

/// The example city with `f` applied to its JSON.
fn edited(f: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut doc = example().to_json();
    f(&mut doc);
    doc
}

fn without_user(id: &str) -> Inventory {
    Inventory::from_json(&edited(|d| {
        d["users"].as_array_mut().unwrap().retain(|u| u["id"] != id)
    }))
    .unwrap()
}

fn push(db: &str, change: InventoryChange<'_>) -> govdata::Result<govdata::store::PushReport> {
    push_inventory(&mut connect_as(db, ADMIN.0, ADMIN.1), change)
}

/// A node's configuration: the inventory from the store when `inventory`, the
/// bundles from the store (trusting `trust`) when given.
fn node(dir: &Path, id: &str, db: &str, inventory: bool, trust: Option<&Path>) -> PlatformConfig {
    PlatformConfig::from_file(live_node(dir, id, db, NODE, KEY, inventory, trust)).unwrap()
}

fn open(config: PlatformConfig) -> Platform {
    Platform::from_config(config).unwrap()
}

fn allowed(node: &Platform) -> bool {
    node.engine()
        .decide_json(QUERY)
        .map(|d| d.allowed())
        .unwrap_or(false)
}

/// Waits until `done` holds for every node, at most `limit`; how long it took.
fn within(limit: Duration, nodes: &[&Platform], done: impl Fn(&Platform) -> bool) -> Duration {
    let t = Instant::now();
    loop {
        if nodes.iter().all(|n| done(n)) {
            return t.elapsed();
        }
        assert!(
            t.elapsed() < limit,
            "not every node followed within {limit:?}: {:?}",
            nodes.iter().map(|n| n.status()).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The node's last audit record of `kind`.
fn last_record(node: &Platform, kind: &str) -> govdata::audit::AuditRecord {
    node.audit_log()
        .unwrap()
        .records()
        .unwrap()
        .into_iter()
        .rfind(|r| r.event.kind == kind)
        .unwrap_or_else(|| panic!("no `{kind}` record"))
}

fn count(url: &str, sql: &str) -> i64 {
    su(url).query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn push_pull_and_the_database_refuse_what_an_inventory_file_would() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let (db, url) = fresh_db("livepush");
    roles();
    let r = push(&db, InventoryChange::Replace(&example())).unwrap();
    assert_eq!((r.previous_version, r.version), (0, 1));
    assert_eq!(r.added, 25 + 10 + 2 + 11 + 4);
    assert_eq!((r.updated, r.removed), (0, 0));
    // The same again changes nothing, not even the version.
    let r = push(&db, InventoryChange::Replace(&example())).unwrap();
    assert_eq!((r.version, r.added, r.updated, r.removed), (1, 0, 0, 0));
    // A node's role reads it back as it was pushed.
    let (v, pulled) = load_inventory(&mut connect_as(&db, NODE.0, NODE.1)).unwrap();
    assert_eq!(v, 1);
    assert_eq!(pulled.to_json(), example().to_json());

    // A merge: one user changed, one added, one removed, in one version.
    let records = serde_json::json!({"users": [
        {"id": "zhang.san", "name": "张三", "department": "renshe", "roles": ["analyst"]},
        {"id": "new.hire", "department": "gongan", "roles": []}
    ]});
    let remove = [(RecordKind::User, "li.si".to_owned())];
    let r = push(
        &db,
        InventoryChange::Merge {
            records: &records,
            remove: &remove,
        },
    )
    .unwrap();
    assert_eq!((r.version, r.added, r.updated, r.removed), (2, 1, 1, 1));
    let (_, pulled) = load_inventory(&mut connect_as(&db, NODE.0, NODE.1)).unwrap();
    assert_eq!(pulled.user("zhang.san").unwrap().department, "renshe");
    assert!(pulled.user("new.hire").is_some() && pulled.user("li.si").is_none());

    // Invalid changes: a dangling department, a department still referred to, an
    // unknown field, a record to remove that is not there. Each is refused with the
    // inventory file's error, and nothing changes.
    let rows = "SELECT count(*) FROM govdata.inventory_users";
    let before = count(&url, rows);
    let dangling = serde_json::json!({"users": [{"id": "x", "department": "nosuch"}]});
    let still_used = [(RecordKind::Department, "gongan".to_owned())];
    let unknown = serde_json::json!({"users": [{"id": "y", "department": "gongan", "salary": 1}]});
    let not_there = [(RecordKind::User, "nobody".to_owned())];
    for (change, code) in [
        (
            InventoryChange::Merge {
                records: &dangling,
                remove: &[],
            },
            "inventory_invalid",
        ),
        (
            InventoryChange::Merge {
                records: &serde_json::json!({}),
                remove: &still_used,
            },
            "inventory_invalid",
        ),
        (
            InventoryChange::Merge {
                records: &unknown,
                remove: &[],
            },
            "inventory_invalid",
        ),
        (
            InventoryChange::Merge {
                records: &serde_json::json!({}),
                remove: &not_there,
            },
            "unknown_entity",
        ),
    ] {
        assert_eq!(push(&db, change).unwrap_err().code(), code);
    }
    assert_eq!(count(&url, rows), before);
    assert_eq!(
        count(&url, "SELECT version FROM govdata.inventory_state"),
        2
    );

    // Written by hand, a dangling reference is refused by the database at commit.
    let mut c = connect_as(&db, ADMIN.0, ADMIN.1);
    let mut tx = c.transaction().unwrap();
    tx.execute(
        "INSERT INTO govdata.inventory_users (id, record) VALUES ('z', '{\"id\": \"z\", \"department\": \"nosuch\"}')",
        &[],
    )
    .unwrap();
    let e = tx.commit().unwrap_err();
    assert_eq!(store_support::sqlstate(&e), "23503");
    assert_eq!(count(&url, rows), before);
    // A node may read, never write.
    let e = connect_as(&db, NODE.0, NODE.1)
        .execute("DELETE FROM govdata.inventory_users", &[])
        .unwrap_err();
    assert_eq!(store_support::sqlstate(&e), "42501");
}

#[test]
fn a_push_that_removes_a_user_reaches_every_node_within_a_second() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let scratch = Scratch::new("liveinv");
    let (db, _) = fresh_db("liveinv");
    roles();
    push(&db, InventoryChange::Replace(&example())).unwrap();
    let a = open(node(scratch.path(), "a", &db, true, None));
    let b = open(node(scratch.path(), "b", &db, true, None));
    assert!(allowed(&a) && allowed(&b));
    assert_eq!(a.status().inventory.unwrap().version, 1);

    // An invalid push (a dangling department) changes nothing anywhere.
    let dangling = Inventory::from_json(&edited(|d| {
        d["users"][0]["department"] = "nosuch".into();
    }));
    assert_eq!(dangling.unwrap_err().code(), "inventory_invalid");
    let records = serde_json::json!({"users": [{"id": "zhang.san", "department": "nosuch"}]});
    let e = push(
        &db,
        InventoryChange::Merge {
            records: &records,
            remove: &[],
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), "inventory_invalid");
    std::thread::sleep(govdata::store::CHECK_INTERVAL + Duration::from_millis(200));
    for n in [&a, &b] {
        assert!(allowed(n));
        assert_eq!(n.status().inventory.unwrap().version, 1);
    }

    // The user is removed: both nodes refuse them within a second.
    let r = push(&db, InventoryChange::Replace(&without_user("zhang.san"))).unwrap();
    assert_eq!((r.version, r.removed), (2, 1));
    let took = within(Duration::from_secs(1), &[&a, &b], |n| !allowed(n));
    for n in [&a, &b] {
        let e = n.engine().decide_json(QUERY).unwrap_err();
        assert_eq!(e.code(), "unknown_entity");
        let st = n.status().inventory.unwrap();
        assert_eq!((st.version, st.records.users), (2, 24));
        // The node's log says which inventory it ran from when.
        let loaded = last_record(n, "inventory.loaded");
        assert_eq!(loaded.event.fields["version"], 2);
    }
    eprintln!("inventory change reached two nodes in {took:?}");
    // The assessment reads the store's inventory.
    let report = a
        .assess(&govdata::assess::AssessOptions::default(), None)
        .unwrap();
    assert_eq!(
        serde_json::to_value(&report).unwrap()["sources"]["inventory"]["users"],
        24
    );
    a.close().unwrap();
    b.close().unwrap();
}

/// A copy of the default pack without the files whose names start with `leave_out`,
/// so that bundles of different versions hold different packs.
fn pack(dir: &Path, name: &str, leave_out: &[&str]) -> PathBuf {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let d = dir.join(name);
    std::fs::create_dir_all(&d).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let p = entry.unwrap().path();
        let file = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_file() && !leave_out.iter().any(|l| file.starts_with(l)) {
            std::fs::copy(&p, d.join(&file)).unwrap();
        }
    }
    d
}

/// Every policy file but art17's.
const SMALL: &[&str] = &["art0", "art10", "art12", "art13", "art14", "art15", "art16"];

fn bundle(dir: &Path, version: u64, valid_days: i64, leave_out: &[&str]) -> Bundle {
    let now = Timestamp::now().unix_millis();
    Bundle::build(
        &[pack(dir, &format!("pack-{version}-{valid_days}"), leave_out).as_path()],
        version,
        Timestamp::from_unix_millis(now - 2 * DAY),
        Timestamp::from_unix_millis(now + valid_days * DAY),
    )
    .unwrap()
}

fn signed(mut b: Bundle, key: &SigningKey) -> Bundle {
    b.sign(key).unwrap();
    b
}

fn publish(db: &str, b: &Bundle, trusted: &VerifyingKey) -> govdata::Result<u64> {
    publish_bundle(
        &mut connect_as(db, PUBLISHER.0, PUBLISHER.1),
        b,
        std::slice::from_ref(trusted),
        Timestamp::now(),
    )
    .map(|p| p.id)
}

/// Writes a bundle's text into the store behind the publisher's back (as the
/// database's owner, with its triggers off when `bypass`: an older version, which the
/// store itself refuses, and no notification).
fn inject(url: &str, text: &str, version: i64, bypass: bool) -> u64 {
    let mut c = su(url);
    if bypass {
        c.batch_execute("SET session_replication_role = replica")
            .unwrap();
    }
    let id: i64 = c
        .query_one(
            "INSERT INTO govdata.policy_bundles (version, policy_version, created, expires, key_ids, sha256, bundle)
             VALUES ($1, 'sha256:x', now(), now() + interval '1 day', '{}', repeat('0', 64), $2) RETURNING id",
            &[&version, &text],
        )
        .unwrap()
        .get(0);
    u64::try_from(id).unwrap()
}

#[test]
fn bundles_through_the_store_refused_or_taken_on_every_node() {
    let _g = SERVER.read().unwrap_or_else(|p| p.into_inner());
    let scratch = Scratch::new("livebundle");
    let dir = scratch.path();
    let (db, url) = fresh_db("livebundle");
    roles();
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let stranger = SigningKey::generate(Algorithm::Sm2).unwrap();
    let public = key.write_files(dir.join("mgmt.key")).unwrap();
    let trusted = VerifyingKey::from_file(&public).unwrap();

    // No bundle published: a node does not open.
    let e = Platform::from_config(node(dir, "early", &db, false, Some(&public))).unwrap_err();
    assert_eq!(e.bundle_reason(), Some(reason::MISSING));

    let v2 = signed(bundle(dir, 2, 30, &[]), &key);
    let first = publish(&db, &v2, &trusted).unwrap();
    let a = open(node(dir, "a", &db, false, Some(&public)));
    let b = open(node(dir, "b", &db, false, Some(&public)));
    let running = v2.manifest().policy_version.clone();
    for n in [&a, &b] {
        let st = n.status().bundle.unwrap();
        assert_eq!(
            (st.version, st.store_id, &st.path),
            (2, Some(first), &format!("store#{first}"))
        );
        assert_eq!(n.engine().policy_version(), running);
    }

    // The publisher refuses each bad bundle, and stores nothing.
    let v3 = bundle(dir, 3, 30, &["art12"]);
    let tampered = signed(v3.clone(), &key)
        .to_json()
        .replacen("forbid", "permit", 1);
    let mut stripped = signed(v3.clone(), &key);
    stripped.clear_signatures();
    let foreign = signed(v3.clone(), &stranger);
    let older = signed(bundle(dir, 1, 30, &["art12"]), &key);
    let expired = signed(bundle(dir, 4, -1, &["art12"]), &key);
    assert_eq!(
        Bundle::from_json(&tampered).unwrap_err().bundle_reason(),
        Some(reason::TAMPERED)
    );
    for (b, why) in [
        (&stripped, reason::UNSIGNED),
        (&foreign, reason::UNTRUSTED_KEY),
        (&older, reason::ROLLBACK),
        (&expired, reason::EXPIRED),
    ] {
        let e = publish(&db, b, &trusted).unwrap_err();
        assert_eq!((e.code(), e.bundle_reason()), ("bundle_invalid", Some(why)));
    }
    assert_eq!(
        count(&url, "SELECT count(*) FROM govdata.policy_bundles"),
        1
    );
    // The store itself keeps versions rising, whoever writes.
    let mut c = connect_as(&db, PUBLISHER.0, PUBLISHER.1);
    let e = c
        .execute(
            "INSERT INTO govdata.policy_bundles (version, policy_version, created, expires, key_ids, sha256, bundle)
             VALUES (2, 'sha256:x', now(), now(), '{}', repeat('0', 64), '{}')",
            &[],
        )
        .unwrap_err();
    assert_eq!(store_support::sqlstate(&e), "GD111");
    assert!(c
        .execute("DELETE FROM govdata.policy_bundles", &[])
        .is_err());

    // Written into the store behind the publisher's back, each is refused by every
    // node: the last good pack kept, the refusal reported and in the log.
    for (version, (text, why, bypass)) in (11..).zip([
        (tampered.clone(), reason::TAMPERED, false),
        (stripped.to_json(), reason::UNSIGNED, false),
        (foreign.to_json(), reason::UNTRUSTED_KEY, false),
        (older.to_json(), reason::ROLLBACK, true),
        (expired.to_json(), reason::EXPIRED, false),
    ]) {
        let id = inject(&url, &text, if bypass { 0 } else { version }, bypass);
        let label = format!("store#{id}");
        // Without a notification (`bypass`) the periodic check finds it.
        within(Duration::from_secs(3), &[&a, &b], |n| {
            n.status()
                .bundle
                .and_then(|s| s.last_rejection)
                .is_some_and(|r| r.path == label)
        });
        for n in [&a, &b] {
            let st = n.status().bundle.unwrap();
            assert_eq!(st.version, 2, "{why}: the last good pack is kept");
            assert_eq!(st.last_rejection.unwrap().reason, why);
            assert_eq!(n.engine().policy_version(), running);
            let rejected = last_record(n, "policy.rejected");
            assert_eq!(rejected.event.fields["reason"], why);
            assert_eq!(rejected.event.fields["bundle"], label.as_str());
        }
    }
    assert!(allowed(&a) && allowed(&b));

    // A good bundle reaches every node within a second.
    // (A pack of one article group: this build is unoptimized, and the time is the
    // propagation's, not the validation of a large pack.)
    let v20 = signed(bundle(dir, 20, 30, SMALL), &key);
    let id = publish(&db, &v20, &trusted).unwrap();
    let took = within(Duration::from_secs(1), &[&a, &b], |n| {
        n.engine().policy_version() == v20.manifest().policy_version
    });
    eprintln!("bundle reached two nodes in {took:?}");
    for n in [&a, &b] {
        let st = n.status().bundle.unwrap();
        assert_eq!((st.version, st.store_id), (20, Some(id)));
        let loaded = last_record(n, "policy.loaded");
        assert_eq!(
            loaded.event.fields["bundle"],
            format!("store#{id}").as_str()
        );
    }
    a.close().unwrap();
    b.close().unwrap();
    drop((a, b));

    // A restart opens on the newest good bundle; one refused meanwhile is skipped and
    // recorded.
    let bad = inject(&url, &tampered, 30, false);
    let a = open(node(dir, "a", &db, false, Some(&public)));
    let st = a.status().bundle.unwrap();
    assert_eq!((st.version, st.store_id), (20, Some(id)));
    assert_eq!(st.last_rejection.unwrap().path, format!("store#{bad}"));
    a.close().unwrap();
}

#[test]
fn the_store_stopped_or_a_connection_cut_and_back_nodes_catch_up() {
    let _g = SERVER.write().unwrap_or_else(|p| p.into_inner());
    let run = pg_ctl;
    let scratch = Scratch::new("liverestart");
    let dir = scratch.path();
    let (db, url) = fresh_db("liverestart");
    roles();
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let public = key.write_files(dir.join("mgmt.key")).unwrap();
    let trusted = VerifyingKey::from_file(&public).unwrap();
    push(&db, InventoryChange::Replace(&example())).unwrap();
    publish(&db, &signed(bundle(dir, 1, 30, &[]), &key), &trusted).unwrap();
    let a = open(node(dir, "a", &db, true, Some(&public)));
    let b = open(node(dir, "b", &db, true, Some(&public)));

    // The node's connection is cut and a change committed before it is back: the
    // check after reconnecting finds it.
    su(&url).execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND datname = current_database()",
        &[&NODE.0],
    )
    .unwrap();
    push(&db, InventoryChange::Replace(&without_user("li.si"))).unwrap();
    within(Duration::from_secs(5), &[&a, &b], |n| {
        n.engine().inventory().user("li.si").is_none()
    });

    // The store stopped: decisions go on with what the nodes run, the status says so.
    run("stop -m fast");
    within(Duration::from_secs(5), &[&a, &b], |n| {
        !n.status().follow.unwrap().connected
    });
    assert!(allowed(&a) && allowed(&b));
    let st = a.status().follow.unwrap();
    assert_eq!(st.last_error_code.as_deref(), Some("store_unavailable"));
    // And back: a change and a bundle published now reach both without a restart.
    run("start");
    push(&db, InventoryChange::Replace(&without_user("zhang.san"))).unwrap();
    let v2 = signed(bundle(dir, 2, 30, &["art12"]), &key);
    publish(&db, &v2, &trusted).unwrap();
    let took = within(Duration::from_secs(5), &[&a, &b], |n| {
        !allowed(n) && n.engine().policy_version() == v2.manifest().policy_version
    });
    eprintln!("caught up {took:?} after the store came back");
    for n in [&a, &b] {
        let st = n.status();
        assert!(st.follow.as_ref().unwrap().connected, "{st:?}");
        assert_eq!(st.inventory.unwrap().version, 3);
        assert_eq!(st.bundle.unwrap().version, 2);
    }
    a.close().unwrap();
    b.close().unwrap();
}
