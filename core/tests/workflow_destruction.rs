//! The destruction procedure (Art. 15): request, approval by the owning department's
//! security officer (never the requester), execution by the method requested, and the
//! destruction record kept in the audit log.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod workflow_support;

use govdata::workflow::{
    DestructionMethod, DestructionStatus, ExecutionDetails, MemoryShredder, Step,
};
use govdata::DestructionRequest;
use serde_json::json;
use std::sync::Arc;
use workflow_support::*;

fn done(step: Step<DestructionRequest>) -> DestructionRequest {
    match step {
        Step::Done { record, .. } => record,
        Step::Refused { decision } => panic!("refused: {}", decision.to_json_string()),
    }
}

fn refused(step: Step<DestructionRequest>) -> Vec<String> {
    match step {
        Step::Done { record, .. } => panic!("allowed: {record:?}"),
        Step::Refused { decision } => {
            assert!(decision.audit_seq().is_some(), "a refusal is recorded");
            decision
                .reason_ids()
                .into_iter()
                .map(str::to_owned)
                .collect()
        }
    }
}

fn witnessed(witness: &str) -> ExecutionDetails {
    ExecutionDetails {
        witness: Some(witness.into()),
        ..ExecutionDetails::default()
    }
}

fn shredder(f: &Fixture) -> Arc<MemoryShredder> {
    let s = Arc::new(MemoryShredder::new());
    s.add_key("population-stats", "dk-population-stats-1");
    s.add_key("population-stats", "dk-population-stats-2");
    f.flows.set_shredder(Some(s.clone()));
    s
}

fn approved(f: &Fixture, method: DestructionMethod, executor: Option<&str>) -> DestructionRequest {
    let d = done(
        f.flows
            .request_destruction(
                "li.si",
                "population-stats",
                method,
                "统计口径调整，旧汇总数据到期",
            )
            .unwrap(),
    );
    done(
        f.flows
            .approve_destruction("gongan.officer", &d.id, executor)
            .unwrap(),
    )
}

#[test]
fn a_destruction_from_request_to_crypto_erase() {
    let f = Fixture::new();
    let keys = shredder(&f);
    let step = f
        .flows
        .request_destruction(
            "li.si",
            "population-stats",
            DestructionMethod::CryptoErase,
            "到期销毁",
        )
        .unwrap();
    assert_eq!(step.decision().reason_ids(), ["art15-request-destruction"]);
    let d = done(step);
    assert_eq!(d.id, "dst-000001");
    assert_eq!(d.status, DestructionStatus::Requested);
    assert_eq!(d.owner, "gongan");

    // Not approved yet: the executor has nothing to cite.
    let early = f.decide(json!({"principal": "li.si", "action": "destroy",
        "resource": "population-stats", "context": {"approval": "apr-dst-000001"}}));
    assert_eq!(early.reason_ids(), ["art15-destroy-needs-approval"]);

    let step = f
        .flows
        .approve_destruction("gongan.officer", &d.id, Some("ops.admin"))
        .unwrap();
    assert_eq!(step.decision().reason_ids(), ["art15-approve-destruction"]);
    let d = done(step);
    assert_eq!(d.status, DestructionStatus::Approved);
    let approval = d.approval.clone().unwrap();
    assert_eq!(approval.executor, "ops.admin");
    assert_eq!(approval.approver, "gongan.officer");

    // Dual control: no witness, no destruction.
    let reasons = refused(
        f.flows
            .execute_destruction("ops.admin", &d.id, ExecutionDetails::default())
            .unwrap(),
    );
    assert_eq!(reasons, ["workflow-dual-control"]);
    let reasons = refused(
        f.flows
            .execute_destruction("ops.admin", &d.id, witnessed("ops.admin"))
            .unwrap(),
    );
    assert_eq!(reasons, ["workflow-dual-control"]);
    assert_eq!(
        keys.keys("population-stats").len(),
        2,
        "nothing shredded on a refusal"
    );

    let step = f
        .flows
        .execute_destruction("ops.admin", &d.id, witnessed("key.admin"))
        .unwrap();
    assert_eq!(step.decision().reason_ids(), ["art15-destroy"]);
    assert_eq!(step.decision().obligations(), ["dual_control"]);
    let d = done(step);
    assert_eq!(d.status, DestructionStatus::Executed);
    let x = d.execution.clone().unwrap();
    assert_eq!(
        x.key_ids,
        ["dk-population-stats-1", "dk-population-stats-2"]
    );
    assert_eq!(x.executor, "ops.admin");
    assert_eq!(x.witness.as_deref(), Some("key.admin"));
    assert!(keys.keys("population-stats").is_empty());

    // The destruction record holds everything in one record, kept through purges.
    let records = f.log.records().unwrap();
    let r = records
        .iter()
        .find(|r| r.event.kind == "destruction.executed")
        .unwrap();
    assert!(r.is_retained());
    assert_eq!(r.dataset(), Some("population-stats"));
    assert_eq!(r.event.user.as_deref(), Some("ops.admin"));
    let fields = &r.event.fields;
    assert_eq!(fields["grade"], "L2");
    assert_eq!(fields["method"], "crypto_erase");
    assert_eq!(fields["requester"], "li.si");
    assert_eq!(fields["approver"], "gongan.officer");
    assert_eq!(fields["executor"], "ops.admin");
    assert_eq!(
        fields["key_ids"],
        json!(["dk-population-stats-1", "dk-population-stats-2"])
    );
    assert!(fields["at"].is_string());
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r.event.kind.as_str())
        .filter(|k| k.starts_with("destruction."))
        .collect();
    assert_eq!(
        kinds,
        [
            "destruction.requested",
            "destruction.approved",
            "destruction.refused",
            "destruction.refused",
            "destruction.executed"
        ]
    );

    // Done once: the approval is used up.
    assert_eq!(
        f.flows
            .execute_destruction("ops.admin", &d.id, witnessed("key.admin"))
            .unwrap_err()
            .code(),
        "workflow_invalid"
    );
    let again = f.decide(json!({"principal": "ops.admin", "action": "destroy",
        "resource": "population-stats", "context": {"approval": approval.id}}));
    assert!(!again.allowed());
}

#[test]
fn the_requester_never_approves_their_own_destruction() {
    let f = Fixture::new();
    let d = done(
        f.flows
            .request_destruction(
                "gongan.officer",
                "population-stats",
                DestructionMethod::LogicalDelete,
                "重复数据",
            )
            .unwrap(),
    );
    let reasons = refused(
        f.flows
            .approve_destruction("gongan.officer", &d.id, None)
            .unwrap(),
    );
    assert_eq!(reasons, ["workflow-no-self-approval"]);
    let reasons = refused(
        f.flows
            .reject_destruction("gongan.officer", &d.id, "撤回")
            .unwrap(),
    );
    assert_eq!(reasons, ["workflow-no-self-approval"]);
    assert_eq!(
        f.flows.destruction(&d.id).unwrap().status,
        DestructionStatus::Requested
    );
}

#[test]
fn only_the_owning_departments_security_officer_approves() {
    let f = Fixture::new();
    let d = done(
        f.flows
            .request_destruction(
                "li.si",
                "population-stats",
                DestructionMethod::Overwrite,
                "介质更换",
            )
            .unwrap(),
    );
    assert_eq!(
        refused(
            f.flows
                .approve_destruction("zhang.san", &d.id, None)
                .unwrap()
        ),
        ["default-deny"]
    );
    assert_eq!(
        refused(
            f.flows
                .approve_destruction("renshe.officer", &d.id, None)
                .unwrap()
        ),
        ["default-deny"]
    );
    f.upsert_user(
        json!({"id": "vendor.zhou", "name": "周工", "department": "gongan",
        "roles": ["security_officer"], "vendor": "acme", "designated_admin": false}),
    );
    assert_eq!(
        refused(
            f.flows
                .approve_destruction("vendor.zhou", &d.id, None)
                .unwrap()
        ),
        ["art15-no-vendor-approval"]
    );
    // Another department may not even request.
    assert_eq!(
        refused(
            f.flows
                .request_destruction(
                    "wang.wu",
                    "population-stats",
                    DestructionMethod::Overwrite,
                    "x"
                )
                .unwrap()
        ),
        ["default-deny"]
    );
}

#[test]
fn a_rejected_destruction_is_never_executed() {
    let f = Fixture::new();
    let d = done(
        f.flows
            .request_destruction(
                "li.si",
                "population-stats",
                DestructionMethod::LogicalDelete,
                "x",
            )
            .unwrap(),
    );
    assert_eq!(
        f.flows
            .reject_destruction("gongan.officer", &d.id, "")
            .unwrap_err()
            .code(),
        "request_invalid"
    );
    let d = done(
        f.flows
            .reject_destruction("gongan.officer", &d.id, "仍在使用")
            .unwrap(),
    );
    assert_eq!(d.status, DestructionStatus::Rejected);
    assert_eq!(
        f.flows
            .execute_destruction("li.si", &d.id, witnessed("zhang.san"))
            .unwrap_err()
            .code(),
        "workflow_invalid"
    );
    // Once closed, a new request may be made.
    done(
        f.flows
            .request_destruction(
                "li.si",
                "population-stats",
                DestructionMethod::LogicalDelete,
                "再次申请",
            )
            .unwrap(),
    );
}

#[test]
fn only_the_designated_executor_may_execute() {
    let f = Fixture::new();
    let d = approved(&f, DestructionMethod::LogicalDelete, None);
    assert_eq!(d.approval.as_ref().unwrap().executor, "li.si");
    // ops.engineer could destroy under an approval granted to them, but this one is li.si's.
    let reasons = refused(
        f.flows
            .execute_destruction("ops.engineer", &d.id, witnessed("ops.admin"))
            .unwrap(),
    );
    assert_eq!(reasons, ["art15-destroy-needs-approval"]);
    let d = done(
        f.flows
            .execute_destruction("li.si", &d.id, witnessed("zhang.san"))
            .unwrap(),
    );
    assert_eq!(d.status, DestructionStatus::Executed);
    assert!(d.execution.unwrap().key_ids.is_empty());
}

#[test]
fn an_approval_is_only_for_its_dataset() {
    let f = Fixture::new();
    let d = approved(&f, DestructionMethod::LogicalDelete, None);
    let approval = d.approval_id().unwrap();
    for dataset in ["hukou", "criminal-records"] {
        let replay = f.decide(json!({"principal": "li.si", "action": "destroy",
            "resource": dataset, "context": {"approval": approval}}));
        assert_eq!(
            replay.reason_ids(),
            ["art15-destroy-needs-approval"],
            "{dataset}"
        );
    }
    // Nor for another action: deleting L3+ records needs an approval of its own.
    let delete_l4 = f.decide(json!({"principal": "li.si", "action": "delete",
        "resource": "hukou", "context": {"approval": approval}}));
    assert!(!delete_l4.allowed());
}

#[test]
fn a_destruction_approval_lapses() {
    let f = Fixture::new();
    let d = approved(&f, DestructionMethod::Overwrite, None);
    let approval = d.approval_id().unwrap().to_owned();
    f.advance_days(31);
    let late = f.decide(json!({"principal": "li.si", "action": "destroy",
        "resource": "population-stats", "context": {"approval": approval}}));
    assert_eq!(late.reason_ids(), ["art15-destroy-needs-approval"]);
    assert_eq!(
        f.flows
            .execute_destruction("li.si", &d.id, witnessed("zhang.san"))
            .unwrap_err()
            .code(),
        "workflow_invalid"
    );
}

#[test]
fn physical_destruction_records_the_operator_and_a_witness() {
    let f = Fixture::new();
    let d = approved(&f, DestructionMethod::PhysicalDestroy, None);
    let reasons = refused(
        f.flows
            .execute_destruction("li.si", &d.id, witnessed("zhang.san"))
            .unwrap(),
    );
    assert_eq!(reasons, ["workflow-physical-destruction-record"]);
    let details = ExecutionDetails {
        witness: Some("gongan.officer".into()),
        operator: Some("某涉密载体销毁中心".into()),
        note: Some("销毁证明 2025-0042".into()),
    };
    let d = done(
        f.flows
            .execute_destruction("li.si", &d.id, details)
            .unwrap(),
    );
    let x = d.execution.unwrap();
    assert_eq!(x.operator.as_deref(), Some("某涉密载体销毁中心"));
    assert_eq!(x.witness.as_deref(), Some("gongan.officer"));
    assert_eq!(x.note.as_deref(), Some("销毁证明 2025-0042"));
}

#[test]
fn crypto_erase_needs_the_vault_and_records_a_failed_shred() {
    let f = Fixture::new();
    let d = approved(&f, DestructionMethod::CryptoErase, None);
    assert_eq!(
        f.flows
            .execute_destruction("li.si", &d.id, witnessed("zhang.san"))
            .unwrap_err()
            .code(),
        "workflow_invalid"
    );
    // A vault that holds no key of the dataset: the failure is recorded, the
    // destruction stays approved and can be retried.
    let empty = Arc::new(MemoryShredder::new());
    f.flows.set_shredder(Some(empty.clone()));
    assert_eq!(
        f.flows
            .execute_destruction("li.si", &d.id, witnessed("zhang.san"))
            .unwrap_err()
            .code(),
        "key_not_found"
    );
    let now = f.flows.destruction(&d.id).unwrap();
    assert_eq!(now.status, DestructionStatus::Approved);
    assert_eq!(now.failures.len(), 1);
    empty.add_key("population-stats", "dk-1");
    let d = done(
        f.flows
            .execute_destruction("li.si", &d.id, witnessed("zhang.san"))
            .unwrap(),
    );
    assert_eq!(d.execution.unwrap().key_ids, ["dk-1"]);
}

#[test]
fn a_dataset_has_one_open_destruction_at_a_time() {
    let f = Fixture::new();
    approved(&f, DestructionMethod::Overwrite, None);
    assert_eq!(
        f.flows
            .request_destruction(
                "li.si",
                "population-stats",
                DestructionMethod::Overwrite,
                "again"
            )
            .unwrap_err()
            .code(),
        "workflow_invalid"
    );
    "crypto_erase".parse::<DestructionMethod>().unwrap();
    assert_eq!(
        "shred".parse::<DestructionMethod>().unwrap_err().code(),
        "request_invalid"
    );
}

#[test]
fn crypto_erase_runs_the_vaults_shred() {
    use govdata::model::Grade;
    use govdata::vault::{MasterKey, Operator, Vault, VaultConfig};
    let f = Fixture::new();
    let admin = Operator::new("key.admin");
    let vault = Arc::new(
        Vault::init(
            VaultConfig::new(f.dir.path().join("vault")),
            Box::new(MasterKey::from_bytes(&[7u8; 32]).unwrap()),
            f.engine.clone(),
            &admin,
        )
        .unwrap(),
    );
    vault.rotate_key(&admin, "population-stats").unwrap();
    let sealed = vault
        .encrypt(
            "population-stats",
            Grade::L2,
            b"2024 population by district",
        )
        .unwrap();
    f.flows.set_shredder(Some(vault.clone()));

    // The operator's administrator, who may both destroy and manage keys, executes.
    let d = approved(&f, DestructionMethod::CryptoErase, Some("ops.admin"));
    let d = done(
        f.flows
            .execute_destruction("ops.admin", &d.id, witnessed("key.admin"))
            .unwrap(),
    );
    let key_ids = d.execution.unwrap().key_ids;
    assert!(!key_ids.is_empty());
    assert_eq!(
        vault
            .decrypt("population-stats", Grade::L2, &sealed)
            .unwrap_err()
            .code(),
        "key_destroyed"
    );
    // The vault's own manage_keys decision is in the log beside the destruction record.
    let records = f.log.records().unwrap();
    assert!(records.iter().any(|r| r.event.kind == "decision"
        && r.event.action == Some(govdata::Action::ManageKeys)
        && r.event.user.as_deref() == Some("ops.admin")));
    let executed = records
        .iter()
        .find(|r| r.event.kind == "destruction.executed")
        .unwrap();
    assert_eq!(executed.event.fields["key_ids"], json!(key_ids));
}

#[test]
fn a_shred_the_vault_refuses_leaves_the_destruction_approved() {
    use govdata::vault::{MasterKey, Operator, Vault, VaultConfig};
    let f = Fixture::new();
    let admin = Operator::new("key.admin");
    let vault = Arc::new(
        Vault::init(
            VaultConfig::new(f.dir.path().join("vault")),
            Box::new(MasterKey::from_bytes(&[7u8; 32]).unwrap()),
            f.engine.clone(),
            &admin,
        )
        .unwrap(),
    );
    vault.rotate_key(&admin, "population-stats").unwrap();
    f.flows.set_shredder(Some(vault));
    // li.si may destroy the department's data but does not manage keys.
    let d = approved(&f, DestructionMethod::CryptoErase, None);
    let err = f
        .flows
        .execute_destruction("li.si", &d.id, witnessed("zhang.san"))
        .unwrap_err();
    assert_eq!(err.code(), "access_denied");
    let d = f.flows.destruction(&d.id).unwrap();
    assert_eq!(d.status, DestructionStatus::Approved);
    assert_eq!(d.failures.len(), 1);
    assert!(d.failures[0]
        .reason
        .as_deref()
        .unwrap()
        .starts_with("[access_denied]"));
}
