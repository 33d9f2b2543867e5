//! Each check of the self-assessment, with a case it must report and one it must not.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod assess_support;

use assess_support::*;
use govdata::assess::{
    AssessOptions, Assessment, AuditEvidence, FindingCode, Integrity, RecordType, Severity,
};
use govdata::audit::{Event, SealingKey};
use govdata::engine::Resource;
use govdata::model::{Action, Record, RecordKind};
use govdata::vault::{KeyStatus, MasterKey, Operator, Vault, VaultConfig};
use govdata::workflow::{DestructionMethod, ExecutionDetails, ShareApplication};
use govdata::Inventory;
use serde_json::{json, Value};
use std::sync::Arc;

/// The ids of the findings of `code`, sorted.
fn of(a: &Assessment, code: &str) -> Vec<String> {
    let mut v: Vec<String> = a
        .findings
        .iter()
        .filter(|f| f.code.as_str() == code)
        .map(|f| f.id.clone())
        .collect();
    v.sort();
    v
}

fn severity(a: &Assessment, id: &str) -> Severity {
    a.finding(id)
        .unwrap_or_else(|| panic!("no finding {id}"))
        .severity
}

/// The example inventory with `edit` applied to its JSON.
fn inventory_with(edit: impl FnOnce(&mut Value)) -> Inventory {
    let mut v: Value = serde_json::from_str(govdata::engine::EXAMPLE_INVENTORY).unwrap();
    edit(&mut v);
    Inventory::from_json(&v).unwrap()
}

fn find_mut<'v>(v: &'v mut Value, list: &str, id: &str) -> &'v mut Value {
    v[list]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|x| x["id"] == id)
        .unwrap_or_else(|| panic!("no {list} {id}"))
}

fn grant(grantor: &str, dept: &str, system: &str, grantee: &str, allow: bool) -> Event {
    decision(
        grantor,
        dept,
        Action::GrantSuperadmin,
        Resource::system(system),
        allow,
        &["art17-grant-superadmin"],
        json!({"grantee": grantee}),
    )
}

fn use_of(user: &str, dept: &str, action: Action, dataset: &str, allow: bool) -> Event {
    decision(
        user,
        dept,
        action,
        Resource::dataset(dataset),
        allow,
        &["planted"],
        json!({}),
    )
}

fn application(until: &str) -> ShareApplication {
    ShareApplication {
        purpose: "social_security_check".into(),
        legal_basis: "社会保险法第五十八条".into(),
        fields: vec!["name".into()],
        until: ts(until),
        scenario_risk: govdata::model::ScenarioRisk::Low,
        recipient_department: None,
    }
}

/// A timeline over the example with routine activity from 2026-01-01 to `NOW`.
fn recent(inventory: Inventory) -> Timeline {
    let t = Timeline::new(inventory, "2026-01-01T01:00:00Z");
    t.routine();
    t
}

fn finish(t: &Timeline) -> AuditEvidence {
    t.routine_until("2026-01-14T01:00:00Z", 3);
    t.evidence()
}

// ----- Art. 10 -----

#[test]
fn ungraded_datasets() {
    let a = run(&example_inventory(), None, None);
    assert_eq!(of(&a, "ungraded_dataset"), ["ungraded_dataset:grid-survey"]);
    assert_eq!(
        severity(&a, "ungraded_dataset:grid-survey"),
        Severity::Medium
    );
    let f = a.finding("ungraded_dataset:grid-survey").unwrap();
    assert_eq!(f.article.zh, "第十条");
    assert_eq!(f.departments, ["minzheng"]);

    // Past aggregation without a grade is worse.
    let inv =
        inventory_with(|v| find_mut(v, "datasets", "grid-survey")["stage"] = json!("storage"));
    let a = run(&inv, None, None);
    assert_eq!(severity(&a, "ungraded_dataset:grid-survey"), Severity::High);

    // Graded: nothing to report.
    let inv = inventory_with(|v| find_mut(v, "datasets", "grid-survey")["grade"] = json!("L3"));
    assert!(of(&run(&inv, None, None), "ungraded_dataset").is_empty());
}

#[test]
fn uncatalogued_and_unknown_datasets_in_use() {
    let t = recent(example_inventory());
    t.append(use_of(
        "lin.er",
        "minzheng",
        Action::Query,
        "grid-survey",
        true,
    ));
    t.append(use_of(
        "lin.er",
        "minzheng",
        Action::Process,
        "grid-survey",
        true,
    ));
    t.append(use_of(
        "li.si",
        "gongan",
        Action::Export,
        "ghost-table",
        true,
    ));
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    assert_eq!(
        of(&a, "uncatalogued_dataset_used"),
        ["uncatalogued_dataset_used:grid-survey"]
    );
    let f = a.finding("uncatalogued_dataset_used:grid-survey").unwrap();
    assert_eq!(
        f.records
            .iter()
            .filter(|r| r.kind == RecordType::AuditRecord)
            .count(),
        2
    );
    assert_eq!(
        of(&a, "unknown_dataset_used"),
        ["unknown_dataset_used:ghost-table"]
    );
    assert_eq!(
        a.finding("unknown_dataset_used:ghost-table")
            .unwrap()
            .departments,
        ["gongan"]
    );

    // Refused uses, and grading, cataloguing or aggregating uncatalogued data, are
    // not uses; an allowed use of catalogued data is fine.
    let t = recent(example_inventory());
    t.append(use_of(
        "lin.er",
        "minzheng",
        Action::Query,
        "grid-survey",
        false,
    ));
    t.append(use_of(
        "lin.er",
        "minzheng",
        Action::Classify,
        "grid-survey",
        true,
    ));
    t.append(use_of(
        "lin.er",
        "minzheng",
        Action::Catalog,
        "grid-survey",
        true,
    ));
    t.append(use_of(
        "lin.er",
        "minzheng",
        Action::Aggregate,
        "grid-survey",
        true,
    ));
    t.append(use_of(
        "li.si",
        "gongan",
        Action::Export,
        "ghost-table",
        false,
    ));
    t.append(use_of("zhang.san", "gongan", Action::Query, "hukou", true));
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    assert!(of(&a, "uncatalogued_dataset_used").is_empty());
    assert!(of(&a, "unknown_dataset_used").is_empty());
}

// ----- Art. 16, 17 -----

#[test]
fn vendor_staff_with_a_super_administrator_right() {
    let inv = inventory_with(|v| {
        find_mut(v, "users", "vendor.li")["designated_admin"] = json!(true);
        find_mut(v, "users", "vendor.wang")["roles"] = json!(["developer", "platform_admin"]);
    });
    let a = run(&inv, None, None);
    assert_eq!(
        of(&a, "vendor_superadmin"),
        [
            "vendor_superadmin:vendor.li",
            "vendor_superadmin:vendor.wang"
        ]
    );
    assert_eq!(
        severity(&a, "vendor_superadmin:vendor.li"),
        Severity::Critical
    );
    assert_eq!(
        a.finding("vendor_superadmin:vendor.li").unwrap().article.zh,
        "第十七条"
    );

    // A grant the log records as allowed.
    let t = recent(example_inventory());
    let seq = t.append(grant("ops.admin", "yunying", "lake-os", "vendor.li", true));
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    assert_eq!(of(&a, "vendor_superadmin"), ["vendor_superadmin:vendor.li"]);
    let f = a.finding("vendor_superadmin:vendor.li").unwrap();
    assert!(f
        .records
        .iter()
        .any(|r| r.kind == RecordType::AuditRecord && r.id == seq.to_string()));
    assert!(f
        .records
        .iter()
        .any(|r| r.kind == RecordType::System && r.id == "lake-os"));

    // The example's vendor staff hold none; a refused grant gives none.
    let t = recent(example_inventory());
    t.append(grant("ops.admin", "yunying", "lake-db", "vendor.li", false));
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    assert!(of(&a, "vendor_superadmin").is_empty());
}

#[test]
fn vendor_staff_beyond_their_contract() {
    // Outside the contract.
    let inv = inventory_with(|v| {
        find_mut(v, "vendors", "acme")["contract_roles"] = json!(["ops_engineer"]);
        find_mut(v, "vendors", "datacloud")["contract_roles"] = json!(["developer", "analyst"]);
    });
    let a = run(&inv, None, None);
    assert_eq!(
        of(&a, "vendor_beyond_contract"),
        ["vendor_beyond_contract:vendor.li"]
    );
    assert!(a
        .finding("vendor_beyond_contract:vendor.li")
        .unwrap()
        .detail
        .en
        .contains("`developer`"));
    assert!(of(&a, "vendor_contract_unrecorded").is_empty());

    // Roles no contract can give, contract recorded or not.
    let inv = inventory_with(|v| {
        find_mut(v, "users", "vendor.wang")["roles"] = json!(["analyst", "auditor"])
    });
    let a = run(&inv, None, None);
    assert_eq!(
        of(&a, "vendor_beyond_contract"),
        ["vendor_beyond_contract:vendor.wang"]
    );
    // An empty contract covers no role.
    let inv = inventory_with(|v| find_mut(v, "vendors", "acme")["contract_roles"] = json!([]));
    assert_eq!(
        of(&run(&inv, None, None), "vendor_beyond_contract"),
        ["vendor_beyond_contract:vendor.li"]
    );

    // Within the contract; and the example records no contract, which is noted.
    let inv = inventory_with(|v| {
        find_mut(v, "vendors", "acme")["contract_roles"] = json!(["ops_engineer", "developer"]);
    });
    let a = run(&inv, None, None);
    assert!(of(&a, "vendor_beyond_contract").is_empty());
    assert_eq!(
        of(&a, "vendor_contract_unrecorded"),
        ["vendor_contract_unrecorded:datacloud"]
    );
    assert_eq!(
        severity(&a, "vendor_contract_unrecorded:datacloud"),
        Severity::Info
    );
}

#[test]
fn super_administrator_rights_for_staff_not_designated() {
    let t = recent(example_inventory());
    t.append(grant(
        "gongan.officer",
        "gongan",
        "gongan-db",
        "zhang.san",
        true,
    ));
    // Designated, but by another department than the system's owner.
    t.append(grant(
        "ops.admin",
        "yunying",
        "lake-db",
        "gongan.officer",
        true,
    ));
    t.append(grant("ops.admin", "yunying", "lake-db", "nobody", true));
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    assert_eq!(
        of(&a, "superadmin_not_designated"),
        [
            "superadmin_not_designated:gongan.officer:lake-db",
            "superadmin_not_designated:nobody:lake-db",
            "superadmin_not_designated:zhang.san:gongan-db",
        ]
    );
    assert_eq!(
        a.finding("superadmin_not_designated:zhang.san:gongan-db")
            .unwrap()
            .article
            .zh,
        "第十七条"
    );

    // Designated staff of the owning department; a refused grant.
    let t = recent(example_inventory());
    t.append(grant("ops.admin", "yunying", "lake-db", "dba.chen", true));
    t.append(grant(
        "gongan.officer",
        "gongan",
        "gongan-db",
        "gongan.officer",
        true,
    ));
    t.append(grant(
        "gongan.officer",
        "gongan",
        "gongan-db",
        "zhang.san",
        false,
    ));
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    assert!(of(&a, "superadmin_not_designated").is_empty());
}

// ----- Art. 5 -----

#[test]
fn departments_without_a_security_officer() {
    let a = run(&example_inventory(), None, None);
    // gongan-huzheng is covered by gongan's officer; the maintainer needs none.
    assert_eq!(
        of(&a, "no_security_officer"),
        [
            "no_security_officer:jiaotong",
            "no_security_officer:zhujian"
        ]
    );
    assert_eq!(
        a.finding("no_security_officer:jiaotong")
            .unwrap()
            .article
            .zh,
        "第五条"
    );

    // Vendor staff do not count as the officer.
    let inv = inventory_with(|v| {
        find_mut(v, "users", "gongan.officer")["roles"] = json!(["data_steward"]);
        find_mut(v, "users", "vendor.wang")["roles"] = json!(["security_officer"]);
        find_mut(v, "users", "jiaotong.steward")["roles"] =
            json!(["data_steward", "security_officer"]);
    });
    let a = run(&inv, None, None);
    assert_eq!(
        of(&a, "no_security_officer"),
        [
            "no_security_officer:gongan",
            "no_security_officer:gongan-huzheng",
            "no_security_officer:zhujian"
        ]
    );
    assert!(a
        .finding("no_security_officer:gongan")
        .unwrap()
        .detail
        .en
        .contains("vendor.wang"));
}

// ----- Art. 7 -----

#[test]
fn datasets_without_an_active_data_key() {
    let v = vault_status(clean_keys());
    let a = run(&example_inventory(), None, Some(&v));
    assert!(of(&a, "sensitive_data_unencrypted").is_empty());
    assert!(of(&a, "data_unencrypted").is_empty());
    assert!(of(&a, "vault_not_assessed").is_empty());

    let mut keys = clean_keys();
    keys.retain(|k| k.dataset != "hukou" && k.dataset != "traffic-flow");
    for k in &mut keys {
        // Only a retired key: nothing encrypts new data.
        if k.dataset == "medical-records" {
            k.status = KeyStatus::Retired;
        }
    }
    let a = run(&example_inventory(), None, Some(&vault_status(keys)));
    assert_eq!(
        of(&a, "sensitive_data_unencrypted"),
        [
            "sensitive_data_unencrypted:hukou",
            "sensitive_data_unencrypted:medical-records"
        ]
    );
    assert_eq!(
        severity(&a, "sensitive_data_unencrypted:hukou"),
        Severity::High
    );
    let f = a.finding("sensitive_data_unencrypted:hukou").unwrap();
    assert_eq!(f.article.zh, "第七条");
    assert_eq!(f.related_articles[0].zh, "第十六条");
    assert_eq!(f.departments, ["gongan", "yunying"]);
    assert_eq!(
        of(&a, "data_unencrypted"),
        ["data_unencrypted:traffic-flow"]
    );
    assert_eq!(severity(&a, "data_unencrypted:traffic-flow"), Severity::Low);

    // Data still being aggregated, data being destroyed and shredded data need none.
    let inv = inventory_with(|v| find_mut(v, "datasets", "hukou")["stage"] = json!("destruction"));
    let mut keys = clean_keys();
    keys.retain(|k| k.dataset != "hukou");
    for k in &mut keys {
        if k.dataset == "criminal-records" {
            k.status = KeyStatus::Destroyed;
        }
    }
    let a = run(&inv, None, Some(&vault_status(keys)));
    assert!(of(&a, "sensitive_data_unencrypted").is_empty());
    assert!(of(&a, "data_unencrypted").is_empty());
}

#[test]
fn data_keys_and_the_master_key_not_rotated() {
    let mut keys = clean_keys();
    for k in &mut keys {
        match k.dataset.as_str() {
            "hukou" => k.created = "2024-12-01T00:00:00Z".into(),
            // A retired key is not in use: its age does not matter.
            "traffic-flow" => {
                k.created = "2020-01-01T00:00:00Z".into();
                k.status = KeyStatus::Retired;
            }
            // Exactly one period old: still in time.
            "criminal-records" => k.created = "2025-01-15T00:00:00Z".into(),
            _ => {}
        }
    }
    keys.push(key(
        "dk-traffic-flow-2",
        "traffic-flow",
        2,
        KeyStatus::Active,
        "2025-12-01T00:00:00Z",
    ));
    let a = run(
        &example_inventory(),
        None,
        Some(&vault_status(keys.clone())),
    );
    assert_eq!(of(&a, "key_not_rotated"), ["key_not_rotated:dk-hukou-1"]);
    let f = a.finding("key_not_rotated:dk-hukou-1").unwrap();
    assert_eq!(f.severity, Severity::Medium);
    assert!(f
        .records
        .iter()
        .any(|r| r.kind == RecordType::Key && r.id == "dk-hukou-1"));
    assert!(of(
        &run(
            &example_inventory(),
            None,
            Some(&vault_status(clean_keys()))
        ),
        "key_not_rotated"
    )
    .is_empty());

    // The master key: made when the store was, per the log.
    let t = Timeline::new(example_inventory(), "2025-10-01T01:00:00Z");
    t.append(
        Event::new("key.init_store")
            .user("key.admin")
            .field("master_key_id", "mk-assess"),
    );
    t.routine_until("2026-01-14T01:00:00Z", 5);
    let evidence = t.evidence();
    let short = AssessOptions {
        key_rotation_days: 90,
        ..options()
    };
    let v = vault_status(clean_keys());
    let a = run_with(&example_inventory(), Some(&evidence), Some(&v), &short);
    assert_eq!(
        of(&a, "master_key_not_rotated"),
        ["master_key_not_rotated:mk-assess"]
    );
    // Within the period, or a store sealed by another master key since.
    let a = run_with(&example_inventory(), Some(&evidence), Some(&v), &options());
    assert!(of(&a, "master_key_not_rotated").is_empty());
    let mut other = vault_status(clean_keys());
    other.master_key_id = "mk-rotated".into();
    let a = run_with(&example_inventory(), Some(&evidence), Some(&other), &short);
    assert!(of(&a, "master_key_not_rotated").is_empty());
}

// ----- Art. 8 -----

fn segments(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    v.sort();
    v
}

#[test]
fn a_broken_chain_and_a_torn_tail() {
    // Intact.
    let t = recent(example_inventory());
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    assert!(of(&a, "audit_chain_broken").is_empty());
    assert!(of(&a, "audit_torn_tail").is_empty());

    // A modified record.
    let t = recent(example_inventory());
    let evidence = finish(&t);
    let last = evidence.records().last().unwrap().seq;
    t.log.close().unwrap();
    let seg = segments(&t.log_dir()).remove(0);
    let mut bytes = std::fs::read(&seg).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&seg, bytes).unwrap();
    let evidence =
        AuditEvidence::read_dir(t.log_dir(), &SealingKey::from_bytes(SEALING_KEY), None).unwrap();
    let Integrity::Broken { seq, .. } = evidence.integrity().clone() else {
        panic!("not broken");
    };
    assert!(seq <= last);
    // The records before the bad one are still assessed.
    assert!(evidence.records().iter().all(|r| r.seq < seq));
    let a = run(&example_inventory(), Some(&evidence), None);
    assert_eq!(
        of(&a, "audit_chain_broken"),
        [format!("audit_chain_broken:{seq}")]
    );
    assert_eq!(
        severity(&a, &format!("audit_chain_broken:{seq}")),
        Severity::Critical
    );
    assert_eq!(a.sources.audit.as_ref().unwrap().integrity, "broken");
    // What the rest of the log would have shown cannot be judged.
    assert_eq!(
        of(&a, "unused_window_uncovered"),
        ["unused_window_uncovered"]
    );

    // A cut tail after a crash (no checkpoint left at close): torn without a
    // checkpoint, tampering against one.
    let t = recent(example_inventory());
    finish(&t);
    let checkpoint = t.log.checkpoint();
    t.log.close().unwrap();
    let head = std::fs::read(t.log_dir().join("audit.head")).unwrap();
    std::fs::remove_file(t.log_dir().join("audit.head")).unwrap();
    let seg = segments(&t.log_dir()).pop().unwrap();
    let len = std::fs::metadata(&seg).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 7)
        .unwrap();
    let key = SealingKey::from_bytes(SEALING_KEY);
    let evidence = AuditEvidence::read_dir(t.log_dir(), &key, None).unwrap();
    let a = run(&example_inventory(), Some(&evidence), None);
    assert_eq!(
        of(&a, "audit_torn_tail"),
        [format!("audit_torn_tail:{}", checkpoint.seq())]
    );
    assert!(of(&a, "audit_chain_broken").is_empty());
    let evidence = AuditEvidence::read_dir(t.log_dir(), &key, Some(&checkpoint)).unwrap();
    let a = run(&example_inventory(), Some(&evidence), None);
    assert_eq!(of(&a, "audit_chain_broken").len(), 1);
    assert_eq!(
        a.sources.audit.as_ref().unwrap().checkpoint_seq,
        Some(checkpoint.seq())
    );
    // After a clean close the writer's own checkpoint is in the directory: the same
    // cut is tampering without one of the reader's.
    std::fs::write(t.log_dir().join("audit.head"), head).unwrap();
    let evidence = AuditEvidence::read_dir(t.log_dir(), &key, None).unwrap();
    let a = run(&example_inventory(), Some(&evidence), None);
    assert_eq!(of(&a, "audit_chain_broken").len(), 1);
    assert!(of(&a, "audit_torn_tail").is_empty());
}

#[test]
fn gaps_in_the_log() {
    let t = recent(example_inventory());
    t.routine_until("2026-01-03T01:00:00Z", 1);
    let before = t.log.last_seq();
    t.at("2026-01-12T01:00:00Z");
    t.routine();
    let evidence = t.evidence();
    let a = run(&example_inventory(), Some(&evidence), None);
    assert_eq!(
        of(&a, "audit_gap"),
        [format!("audit_gap:{before}-{}", before + 1)]
    );
    assert_eq!(
        severity(&a, &format!("audit_gap:{before}-{}", before + 1)),
        Severity::Low
    );
    // Silence since the last record counts too.
    let later = AssessOptions {
        now: ts("2026-01-25T00:00:00Z"),
        ..options()
    };
    let a = run_with(&example_inventory(), Some(&evidence), None, &later);
    assert_eq!(
        of(&a, "audit_gap"),
        [
            format!("audit_gap:{before}-{}", before + 1),
            format!("audit_gap:{}-now", before + 1)
        ]
    );
    // The check can be turned off; a log written every few days has none.
    let off = AssessOptions {
        audit_gap_days: 0,
        ..later
    };
    assert!(of(
        &run_with(&example_inventory(), Some(&evidence), None, &off),
        "audit_gap"
    )
    .is_empty());
    let t = recent(example_inventory());
    assert!(of(
        &run(&example_inventory(), Some(&finish(&t)), None),
        "audit_gap"
    )
    .is_empty());
}

#[test]
fn backups_of_the_log() {
    // A log older than the period and never backed up.
    let t = Timeline::new(example_inventory(), "2025-12-20T01:00:00Z");
    t.routine_until("2026-01-14T01:00:00Z", 3);
    let a = run(&example_inventory(), Some(&t.evidence()), None);
    assert_eq!(of(&a, "audit_backup_overdue"), ["audit_backup_overdue"]);
    assert!(a
        .finding("audit_backup_overdue")
        .unwrap()
        .detail
        .en
        .contains("no backup"));

    // Backed up within the period: verified again now.
    t.log.seal().unwrap();
    let dest = t.dir.path().join("backup");
    t.log.backup(&dest).unwrap();
    let evidence = t.evidence();
    let a = run(&example_inventory(), Some(&evidence), None);
    assert!(of(&a, "audit_backup_overdue").is_empty());
    assert!(of(&a, "audit_backup_unverifiable").is_empty());
    let b = a
        .sources
        .audit
        .as_ref()
        .unwrap()
        .latest_backup
        .clone()
        .unwrap();
    assert_eq!(b.state, "verified");

    // Ten days later the same backup is overdue.
    let later = AssessOptions {
        now: ts("2026-01-24T00:00:00Z"),
        audit_gap_days: 0,
        ..options()
    };
    let a = run_with(&example_inventory(), Some(&evidence), None, &later);
    assert_eq!(of(&a, "audit_backup_overdue"), ["audit_backup_overdue"]);

    // Gone from where it was written: only its record vouches for it.
    std::fs::rename(&dest, t.dir.path().join("moved")).unwrap();
    let a = run(&example_inventory(), Some(&t.evidence()), None);
    assert!(of(&a, "audit_backup_unverifiable").is_empty());
    assert_eq!(
        a.sources
            .audit
            .as_ref()
            .unwrap()
            .latest_backup
            .as_ref()
            .unwrap()
            .state,
        "unreachable"
    );
    // Modified: it no longer verifies.
    std::fs::rename(t.dir.path().join("moved"), &dest).unwrap();
    let seg = segments(&dest).remove(0);
    let mut bytes = std::fs::read(&seg).unwrap();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    std::fs::write(&seg, bytes).unwrap();
    let a = run(&example_inventory(), Some(&t.evidence()), None);
    assert_eq!(of(&a, "audit_backup_unverifiable").len(), 1);

    // A log younger than the period needs no backup yet.
    let t2 = Timeline::new(example_inventory(), "2026-01-10T01:00:00Z");
    t2.routine_until("2026-01-14T01:00:00Z", 1);
    assert!(of(
        &run(&example_inventory(), Some(&t2.evidence()), None),
        "audit_backup_overdue"
    )
    .is_empty());
}

#[test]
fn purges_inside_the_retention_period() {
    // A purge the log records with a cut-off inside the six months.
    let t = recent(example_inventory());
    let seq = t.append(
        Event::new("audit.purge")
            .action(Action::PurgeAudit)
            .resource(Resource::audit_log("main"))
            .field("before", "2025-10-01")
            .field("through_seq", 0u64),
    );
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    assert_eq!(
        of(&a, "audit_retention_breach"),
        [format!("audit_retention_breach:purge-{seq}")]
    );
    assert_eq!(
        severity(&a, &format!("audit_retention_breach:purge-{seq}")),
        Severity::Critical
    );

    // A purge the log module allowed: past six months, backed up first.
    let t = Timeline::new(example_inventory(), "2025-01-02T01:00:00Z");
    t.routine_until("2025-02-01T01:00:00Z", 2);
    t.log.seal().unwrap();
    t.log.backup(t.dir.path().join("backup")).unwrap();
    t.at("2025-09-10T01:00:00Z");
    t.routine();
    let report = t
        .log
        .purge(govdata::audit::Date::parse("2025-02-01").unwrap())
        .unwrap();
    assert!(!report.segments.is_empty());
    t.routine();
    let evidence = t.evidence();
    let Integrity::Intact(v) = evidence.integrity() else {
        panic!("broken")
    };
    assert!(v.purged_through.is_some());
    let at = AssessOptions {
        now: ts("2025-09-12T00:00:00Z"),
        ..options()
    };
    let a = run_with(&example_inventory(), Some(&evidence), None, &at);
    assert!(
        of(&a, "audit_retention_breach").is_empty(),
        "{:?}",
        a.finding_ids()
    );
    assert_eq!(
        a.sources.audit.as_ref().unwrap().purged_through,
        v.purged_through
    );
}

#[test]
fn records_read_elsewhere_missing_records_and_unrecorded_purges() {
    let t = recent(example_inventory());
    let evidence = finish(&t);
    let Integrity::Intact(report) = evidence.integrity().clone() else {
        panic!("broken")
    };
    let mut records = evidence.records().to_vec();
    let a = run(
        &example_inventory(),
        Some(&AuditEvidence::from_records(
            records.clone(),
            Integrity::Intact(report.clone()),
        )),
        None,
    );
    assert!(of(&a, "audit_gap").is_empty());
    assert!(of(&a, "audit_retention_breach").is_empty());
    assert!(a.sources.audit.as_ref().unwrap().dir.is_none());

    // A record missing from the middle; records up to #3 gone with no purge recorded.
    let gone = records.remove(4).seq;
    let purged = govdata::audit::VerifyReport {
        purged_through: Some(3),
        ..report
    };
    let a = run(
        &example_inventory(),
        Some(&AuditEvidence::from_records(
            records,
            Integrity::Intact(purged),
        )),
        None,
    );
    let id = format!("audit_gap:{}-{}", gone - 1, gone + 1);
    assert_eq!(of(&a, "audit_gap"), [id.as_str()]);
    assert_eq!(severity(&a, &id), Severity::Critical);
    assert_eq!(
        of(&a, "audit_retention_breach"),
        ["audit_retention_breach:horizon"]
    );
}

// ----- Art. 14 -----

#[test]
fn shares_without_review() {
    // Reviewed by the provider and provisioned: fine.
    let t = recent(example_inventory());
    let s = t
        .flows
        .request_share("wang.wu", "hukou", application("2099-01-01"))
        .unwrap()
        .into_record()
        .unwrap();
    assert!(t
        .flows
        .approve_share("gongan.officer", &s.id, None)
        .unwrap()
        .allowed());
    assert!(t.flows.provision_share("li.si", &s.id).unwrap().allowed());
    // Unconditional data goes without review.
    let u = t
        .flows
        .request_share("wang.wu", "population-stats", application("2099-01-01"))
        .unwrap()
        .into_record()
        .unwrap();
    assert!(t.flows.provision_share("li.si", &u.id).unwrap().allowed());
    let evidence = finish(&t);
    let a = run(&example_inventory(), Some(&evidence), None);
    assert!(
        of(&a, "share_without_review").is_empty(),
        "{:?}",
        of(&a, "share_without_review")
    );
    assert!(of(&a, "sharing_record_unfit").is_empty());

    // The same share once the dataset is no longer shared without conditions.
    let inv = inventory_with(|v| {
        find_mut(v, "datasets", "population-stats")["share_type"] = json!("conditional")
    });
    let a = run(&inv, Some(&evidence), None);
    assert_eq!(
        of(&a, "share_without_review"),
        [format!("share_without_review:{}", u.id)]
    );
    assert_eq!(
        severity(&a, &format!("share_without_review:{}", u.id)),
        Severity::Medium
    );

    // Reviewed by vendor staff; provisioned with no review; shared with no approval;
    // approved by the requester.
    let t = recent(example_inventory());
    let flows = &t.flows;
    let v = flows
        .request_share("wang.wu", "hukou", application("2099-01-01"))
        .unwrap()
        .into_record()
        .unwrap();
    let approval = format!("apr-{}", v.id);
    t.append(step(
        "sharing.approved",
        "vendor.wang",
        "hukou",
        Action::ReviewShare,
        json!({"request": v.id, "at": t.now().to_string(), "approval": approval, "auto": false}),
    ));
    t.append(step(
        "sharing.provisioned",
        "li.si",
        "hukou",
        Action::Share,
        json!({"request": v.id, "at": t.now().to_string(), "approval": approval,
               "recipient_department": "renshe", "obligations": []}),
    ));
    let n = flows
        .request_share("zheng.shi", "hukou", application("2099-01-01"))
        .unwrap()
        .into_record()
        .unwrap();
    let forged = t.append(step(
        "sharing.provisioned",
        "li.si",
        "hukou",
        Action::Share,
        json!({"request": n.id, "at": t.now().to_string(), "approval": format!("apr-{}", n.id),
               "recipient_department": "weijian", "obligations": []}),
    ));
    let shared = t.append(decision(
        "li.si",
        "gongan",
        Action::Share,
        Resource::dataset("hukou"),
        true,
        &["department-override"],
        json!({"recipient_department": "minzheng", "approval": "apr-shr-999999"}),
    ));
    let o = flows
        .request_share("chen.yi", "hukou", application("2099-01-01"))
        .unwrap()
        .into_record()
        .unwrap();
    let own = t.append(step("sharing.approved", "chen.yi", "hukou", Action::ReviewShare,
        json!({"request": o.id, "at": t.now().to_string(), "approval": format!("apr-{}", o.id), "auto": false})));
    // Shares of unconditional data need no approval.
    t.append(decision(
        "li.si",
        "gongan",
        Action::Share,
        Resource::dataset("population-stats"),
        true,
        &["art14-share-unconditional"],
        json!({"recipient_department": "minzheng"}),
    ));
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    let mut expected = vec![
        format!("share_without_review:{}", v.id),
        format!("share_without_review:record-{forged}"),
        format!("share_without_review:record-{shared}"),
        format!("share_without_review:record-{own}"),
    ];
    expected.sort();
    assert_eq!(of(&a, "share_without_review"), expected);
    assert!(a
        .finding(&format!("share_without_review:{}", v.id))
        .unwrap()
        .detail
        .en
        .contains("vendor.wang"));
    assert!(a
        .finding(&format!("share_without_review:record-{shared}"))
        .unwrap()
        .detail
        .en
        .contains("apr-shr-999999"));
}

#[test]
fn shares_past_their_term() {
    let t = Timeline::new(example_inventory(), "2025-12-01T01:00:00Z");
    let flows = &t.flows;
    let open = |until: &str| {
        let s = flows
            .request_share("wang.wu", "hukou", application(until))
            .unwrap()
            .into_record()
            .unwrap();
        assert!(flows
            .approve_share("gongan.officer", &s.id, None)
            .unwrap()
            .allowed());
        assert!(flows.provision_share("li.si", &s.id).unwrap().allowed());
        s.id
    };
    let past = open("2026-01-01");
    let approved_only = flows
        .request_share("wang.wu", "hukou", application("2026-01-02"))
        .unwrap()
        .into_record()
        .unwrap()
        .id;
    assert!(flows
        .approve_share("gongan.officer", &approved_only, None)
        .unwrap()
        .allowed());
    let revoked = open("2026-01-03");
    assert!(flows
        .revoke_share("gongan.officer", &revoked, "no longer needed")
        .unwrap()
        .allowed());
    let expired = open("2026-01-04");
    let current = open("2026-06-30");
    t.routine_until("2026-01-05T02:00:00Z", 3);
    // Three terms have ended, none of them recorded yet.
    let a = run(&example_inventory(), Some(&t.evidence()), None);
    let mut expected = vec![
        format!("share_past_term:{past}"),
        format!("share_past_term:{approved_only}"),
        format!("share_past_term:{expired}"),
    ];
    expected.sort();
    assert_eq!(of(&a, "share_past_term"), expected);
    assert_eq!(
        severity(&a, &format!("share_past_term:{past}")),
        Severity::Medium
    );
    assert!(!of(&a, "share_past_term").contains(&format!("share_past_term:{current}")));
    assert!(!of(&a, "share_past_term").contains(&format!("share_past_term:{revoked}")));

    let ended = flows.expire_shares().unwrap();
    assert_eq!(ended.len(), 3);
    t.routine_until("2026-01-14T02:00:00Z", 3);
    let a = run(&example_inventory(), Some(&t.evidence()), None);
    assert!(of(&a, "share_past_term").is_empty());
}

#[test]
fn records_that_do_not_fit_the_procedures() {
    let t = recent(example_inventory());
    let revoked = t.append(step(
        "sharing.revoked",
        "gongan.officer",
        "hukou",
        Action::Share,
        json!({"request": "shr-000042", "at": t.now().to_string(), "reason": "x"}),
    ));
    let approved = t.append(step(
        "destruction.approved",
        "gongan.officer",
        "hukou",
        Action::ApproveDestruction,
        json!({"request": "dst-000042", "at": t.now().to_string(), "approval": "apr-dst-000042",
               "executor": "li.si", "valid_until": "2026-02-01T00:00:00Z"}),
    ));
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    assert_eq!(
        of(&a, "sharing_record_unfit"),
        [format!("sharing_record_unfit:{revoked}")]
    );
    assert_eq!(
        of(&a, "destruction_record_unfit"),
        [format!("destruction_record_unfit:{approved}")]
    );
    assert_eq!(
        a.finding(&format!("destruction_record_unfit:{approved}"))
            .unwrap()
            .article
            .zh,
        "第十五条"
    );

    let t = recent(example_inventory());
    let a = run(&example_inventory(), Some(&finish(&t)), None);
    assert!(of(&a, "sharing_record_unfit").is_empty());
    assert!(of(&a, "destruction_record_unfit").is_empty());
}

// ----- Art. 15 -----

#[test]
fn destructions_without_approval() {
    let t = recent(example_inventory());
    let vault = Arc::new(
        Vault::init(
            VaultConfig::new(t.dir.path().join("vault")).with_sink(t.log.clone()),
            Box::new(MasterKey::from_bytes(&[7u8; 32]).unwrap()),
            t.engine.clone(),
            &Operator::new("key.admin"),
        )
        .unwrap(),
    );
    let admin = Operator::new("key.admin");
    for d in ["population-stats", "traffic-flow", "employment-stats"] {
        vault.rotate_key(&admin, d).unwrap();
    }
    t.flows.set_shredder(Some(vault.clone()));
    // Crypto-erasure through the procedure: approved, executed, keys shredded.
    let d = t
        .flows
        .request_destruction(
            "li.si",
            "population-stats",
            DestructionMethod::CryptoErase,
            "到期销毁",
        )
        .unwrap()
        .into_record()
        .unwrap();
    assert!(t
        .flows
        .approve_destruction("gongan.officer", &d.id, Some("ops.admin"))
        .unwrap()
        .allowed());
    let done = t
        .flows
        .execute_destruction(
            "ops.admin",
            &d.id,
            ExecutionDetails {
                witness: Some("key.admin".into()),
                ..ExecutionDetails::default()
            },
        )
        .unwrap();
    assert!(done.allowed(), "{:?}", done.decision());
    let status = vault.status().unwrap();
    let at = AssessOptions {
        now: t.now(),
        audit_gap_days: 0,
        ..options()
    };
    let a = run_with(
        &example_inventory(),
        Some(&t.evidence()),
        Some(&status),
        &at,
    );
    assert!(
        of(&a, "destruction_without_approval").is_empty(),
        "{:?}",
        a.finding_ids()
    );
    assert!(of(&a, "destruction_record_unfit").is_empty());

    // A shred outside the procedure, and a `destroy` allowed without approval.
    vault.shred(&admin, "traffic-flow").unwrap();
    let seq = t.append(use_of(
        "zhao.liu",
        "renshe",
        Action::Destroy,
        "employment-stats",
        true,
    ));
    let status = vault.status().unwrap();
    let at = AssessOptions { now: t.now(), ..at };
    let a = run_with(
        &example_inventory(),
        Some(&t.evidence()),
        Some(&status),
        &at,
    );
    assert_eq!(
        of(&a, "destruction_without_approval"),
        [
            "destruction_without_approval:employment-stats",
            "destruction_without_approval:traffic-flow"
        ]
    );
    let f = a
        .finding("destruction_without_approval:traffic-flow")
        .unwrap();
    assert_eq!(f.severity, Severity::Critical);
    let shredded = &status
        .keys
        .iter()
        .find(|k| k.dataset == "traffic-flow")
        .unwrap()
        .id;
    assert!(f
        .records
        .iter()
        .any(|r| r.kind == RecordType::Key && &r.id == shredded));
    assert_eq!(f.departments, ["jiaotong"]);
    let f = a
        .finding("destruction_without_approval:employment-stats")
        .unwrap();
    assert!(f
        .records
        .iter()
        .any(|r| r.kind == RecordType::AuditRecord && r.id == seq.to_string()));
    // The shredded dataset is not also reported as unencrypted.
    assert!(of(&a, "data_unencrypted")
        .iter()
        .all(|i| !i.ends_with("traffic-flow")));

    // A key store that shows a destroyed key the log does not account for.
    let t2 = recent(example_inventory());
    let mut keys = clean_keys();
    keys.push(key(
        "dk-hukou-0",
        "hukou",
        0,
        KeyStatus::Destroyed,
        "2025-01-01T00:00:00Z",
    ));
    let a = run(
        &example_inventory(),
        Some(&finish(&t2)),
        Some(&vault_status(keys)),
    );
    assert_eq!(
        of(&a, "destruction_without_approval"),
        ["destruction_without_approval:hukou"]
    );
    // Without a log there is no telling.
    let mut keys = clean_keys();
    keys.push(key(
        "dk-hukou-0",
        "hukou",
        0,
        KeyStatus::Destroyed,
        "2025-01-01T00:00:00Z",
    ));
    assert!(of(
        &run(&example_inventory(), None, Some(&vault_status(keys))),
        "destruction_without_approval"
    )
    .is_empty());
}

// ----- Art. 3(3) -----

const SMALL: &str = r#"{
  "departments": [{"id": "d1", "name": "部门一", "kind": "user"},
                  {"id": "ops", "name": "运营", "kind": "operator"}],
  "users": [
    {"id": "a", "department": "d1", "roles": ["analyst", "developer"]},
    {"id": "b", "department": "d1", "roles": ["analyst"]},
    {"id": "c", "department": "d1", "roles": ["security_officer", "archivist"]},
    {"id": "admin", "department": "ops", "roles": ["platform_admin"], "designated_admin": true},
    {"id": "admin2", "department": "ops", "roles": ["security_officer"], "designated_admin": true}
  ],
  "datasets": [{"id": "ds1", "owner": "d1", "grade": "L1", "stage": "storage",
                "personal_info": "none", "share_type": "unconditional", "cataloged": true}],
  "systems": [{"id": "db", "kind": "database", "owner": "ops"}]
}"#;

#[test]
fn permissions_unused_in_the_window() {
    let inv = Inventory::from_json_str(SMALL).unwrap();
    let t = Timeline::new(inv.clone(), "2025-09-01T01:00:00Z");
    // `b`'s only use is older than the window.
    assert!(t.decide(json!({"principal": "b", "action": "query", "resource": "ds1"})));
    t.append(grant("admin2", "ops", "db", "admin", true));
    t.append(grant("admin2", "ops", "db", "admin2", true));
    t.at("2025-10-20T01:00:00Z");
    let mut day = 0;
    while t.now() < ts("2026-01-14T00:00:00Z") {
        assert!(t.decide(json!({"principal": "a", "action": "query", "resource": "ds1"})));
        assert!(t.decide(json!({"principal": "c", "action": "query", "resource": "ds1"})));
        if day % 10 == 0 {
            assert!(
                t.decide(json!({"principal": "admin2", "action": "manage_keys",
                "resource": {"type": "System", "id": "db"}}))
            );
        }
        day += 3;
        t.clock
            .fetch_add(3 * DAY, std::sync::atomic::Ordering::SeqCst);
    }
    let evidence = t.evidence();
    let a = run(&inv, Some(&evidence), None);
    // `a` used `analyst` (art3-query-own-general), never `developer`; `b` nothing
    // since; `c`'s `archivist` grants nothing, so it cannot be judged; `admin` holds
    // a grant and did nothing; `admin2` used its grant's holder's rights.
    assert_eq!(
        of(&a, "unused_role"),
        ["unused_role:a", "unused_role:admin", "unused_role:b"]
    );
    assert!(a
        .finding("unused_role:a")
        .unwrap()
        .detail
        .en
        .contains("`developer`"));
    assert!(!a
        .finding("unused_role:a")
        .unwrap()
        .detail
        .en
        .contains("`analyst`"));
    assert_eq!(severity(&a, "unused_role:b"), Severity::Low);
    assert_eq!(
        a.finding("unused_role:b").unwrap().article.zh,
        "第三条（3）"
    );
    assert_eq!(of(&a, "unused_grant"), ["unused_grant:admin:db"]);
    assert_eq!(severity(&a, "unused_grant:admin:db"), Severity::Medium);
    assert!(of(&a, "unused_window_uncovered").is_empty());

    // A window longer than the log is not judged.
    let long = AssessOptions {
        unused_window_days: 365,
        ..options()
    };
    let a = run_with(&inv, Some(&evidence), None, &long);
    assert!(of(&a, "unused_role").is_empty());
    assert!(of(&a, "unused_grant").is_empty());
    assert_eq!(
        of(&a, "unused_window_uncovered"),
        ["unused_window_uncovered"]
    );
    assert_eq!(severity(&a, "unused_window_uncovered"), Severity::Info);
}

// ----- the sources -----

#[test]
fn a_missing_source_is_an_info_finding() {
    let a = run(&example_inventory(), None, None);
    assert_eq!(severity(&a, "audit_not_assessed"), Severity::Info);
    assert_eq!(severity(&a, "vault_not_assessed"), Severity::Info);
    assert!(a.sources.audit.is_none() && a.sources.vault.is_none());
    assert!(a.sources.policies.default_pack);

    let t = recent(example_inventory());
    let v = vault_status(clean_keys());
    let a = run(&example_inventory(), Some(&finish(&t)), Some(&v));
    assert!(of(&a, "audit_not_assessed").is_empty());
    assert!(of(&a, "vault_not_assessed").is_empty());
    assert_eq!(a.sources.vault.as_ref().unwrap().active_keys, 10);
}

#[test]
fn an_unreadable_log_is_an_error_not_a_finding() {
    let t = recent(example_inventory());
    t.log.sync().unwrap();
    let missing = AuditEvidence::read_dir(
        t.dir.path().join("nowhere"),
        &SealingKey::from_bytes(SEALING_KEY),
        None,
    );
    assert_eq!(missing.unwrap_err().code(), "io");
    let wrong = AuditEvidence::read_dir(t.log_dir(), &SealingKey::from_bytes([1; 32]), None);
    assert_eq!(wrong.unwrap_err().code(), "key_invalid");
    // The evidence of a log this process holds open.
    let open = AuditEvidence::from_log(&t.log, Some(&t.log.checkpoint())).unwrap();
    assert!(matches!(open.integrity(), Integrity::Intact(_)));
    assert_eq!(open.records().len(), t.evidence().records().len());
}

#[test]
fn vendors_may_record_their_contract_roles() {
    // Optional: the example has none and loads as before.
    let inv = example_inventory();
    assert!(inv.vendor("acme").unwrap().contract_roles.is_none());
    assert!(inv.to_json()["vendors"][0].get("contract_roles").is_none());

    let inv = planted_inventory();
    assert_eq!(
        inv.vendor("acme").unwrap().contract_roles.as_deref(),
        Some(&["ops_engineer".to_owned()][..])
    );
    let again = Inventory::from_json(&inv.to_json()).unwrap();
    assert_eq!(
        again.vendor("datacloud").unwrap(),
        inv.vendor("datacloud").unwrap()
    );

    // An empty role, in the document or an update, names the record.
    let bad = r#"{"vendors": [{"id": "v", "contract_roles": ["ops_engineer", ""]}]}"#;
    let err = Inventory::from_json_str(bad).unwrap_err();
    assert_eq!(err.code(), "inventory_invalid");
    assert!(err.to_string().contains("vendor `v`"), "{err}");
    let mut inv = example_inventory();
    let rec = Record::from_json(
        RecordKind::Vendor,
        &json!({"id": "v", "contract_roles": [""]}),
    )
    .unwrap();
    assert_eq!(inv.upsert(rec).unwrap_err().code(), "inventory_invalid");
    let wrong_type = r#"{"vendors": [{"id": "v", "contract_roles": "ops_engineer"}]}"#;
    assert_eq!(
        Inventory::from_json_str(wrong_type).unwrap_err().code(),
        "inventory_invalid"
    );
}

#[test]
fn codes_and_severities_are_stable_names() {
    let mut seen = std::collections::HashSet::new();
    for c in FindingCode::ALL {
        assert!(seen.insert(c.as_str()), "{c}");
        assert_eq!(c.as_str().parse::<FindingCode>().unwrap(), *c);
        assert!(c.article().zh.starts_with('第'));
        let (zh, en) = c.remediation();
        assert!(!zh.is_empty() && !en.is_empty());
    }
    for s in Severity::ALL {
        assert_eq!(s.as_str().parse::<Severity>().unwrap(), *s);
    }
    assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
    assert_eq!(
        "urgent".parse::<Severity>().unwrap_err().code(),
        "request_invalid"
    );
    let o = AssessOptions::at(ts(NOW));
    assert_eq!(
        (
            o.backup_max_age_days,
            o.key_rotation_days,
            o.unused_window_days,
            o.audit_gap_days
        ),
        (7, 365, 90, 7)
    );
}
