//! The sharing procedure (Art. 14): each path, each refusal, and approvals that the
//! engine resolves only when the records back them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers fail the test loudly"
)]

mod workflow_support;

use govdata::audit::Date;
use govdata::model::ScenarioRisk;
use govdata::workflow::{ReviewDays, ShareStatus, Step, WorkflowConfig};
use govdata::SharingRequest;
use serde_json::json;
use workflow_support::*;

fn done(step: Step<SharingRequest>) -> SharingRequest {
    match step {
        Step::Done { record, .. } => record,
        Step::Refused { decision } => panic!("refused: {}", decision.to_json_string()),
    }
}

fn refused(step: Step<SharingRequest>) -> Vec<String> {
    match step {
        Step::Done { record, .. } => panic!("allowed: {record:?}"),
        Step::Refused { decision } => {
            assert!(!decision.allowed());
            assert!(decision.audit_seq().is_some(), "a refusal is recorded");
            decision
                .reason_ids()
                .into_iter()
                .map(str::to_owned)
                .collect()
        }
    }
}

/// wang.wu (人社) asks for 公安's 户籍 data; 公安's officer approves; 李四 provisions.
fn provisioned(f: &Fixture) -> SharingRequest {
    let s = done(
        f.flows
            .request_share("wang.wu", "hukou", application())
            .unwrap(),
    );
    done(
        f.flows
            .approve_share("gongan.officer", &s.id, Some("同意，限社保核验"))
            .unwrap(),
    );
    done(f.flows.provision_share("li.si", &s.id).unwrap())
}

fn query(f: &Fixture, who: &str, dataset: &str, approval: &str) -> govdata::Decision {
    f.decide(
        json!({"principal": who, "action": "query", "resource": dataset,
                    "context": {"approval": approval}}),
    )
}

#[test]
fn a_conditional_share_from_request_to_provision() {
    let f = Fixture::new();
    let s = done(
        f.flows
            .request_share("wang.wu", "hukou", application())
            .unwrap(),
    );
    assert_eq!(s.id, "shr-000001");
    assert_eq!(s.status, ShareStatus::Submitted);
    assert_eq!(s.provider, "gongan");
    assert_eq!(s.recipient_department, "renshe");
    assert_eq!(s.fields, ["name", "id_number", "address"]);
    assert!(s.approval.is_none());
    // Submitted on Monday 2025-03-03: the conformity check is due two working days
    // later, the provider's reply five working days after that.
    assert_eq!(
        s.deadlines.conformity_check,
        Date::parse("2025-03-05").unwrap()
    );
    assert_eq!(
        s.deadlines.provider_reply,
        Date::parse("2025-03-12").unwrap()
    );
    assert!(!s.overdue);

    // Before approval nothing resolves: the approval id does not exist yet.
    let premature = query(&f, "wang.wu", "hukou", "apr-shr-000001");
    assert!(!premature.allowed());

    let step = f
        .flows
        .approve_share("gongan.officer", &s.id, Some("同意"))
        .unwrap();
    assert_eq!(step.decision().reason_ids(), ["art14-review-share"]);
    let s = done(step);
    assert_eq!(s.status, ShareStatus::Approved);
    let approval = s.approval.clone().unwrap();
    assert_eq!(approval.id, "apr-shr-000001");
    assert_eq!(approval.approver.as_deref(), Some("gongan.officer"));

    // Approved but not provisioned: the receiving analyst cannot query yet.
    assert!(!query(&f, "wang.wu", "hukou", &approval.id).allowed());

    let step = f.flows.provision_share("li.si", &s.id).unwrap();
    assert_eq!(step.decision().reason_ids(), ["art14-share-conditional"]);
    let s = done(step);
    assert_eq!(s.status, ShareStatus::Provisioned);
    assert_eq!(s.obligations, ["watermark", "mask_personal_info"]);

    let q = query(&f, "wang.wu", "hukou", &approval.id);
    assert!(q.allowed(), "{}", q.to_json_string());
    assert_eq!(q.reason_ids(), ["art14-query-shared"]);
    // Processing within the share's purpose is allowed; another purpose is not.
    let p = f.decide(
        json!({"principal": "wang.wu", "action": "process", "resource": "hukou",
        "context": {"approval": approval.id, "purpose": "social_security_check"}}),
    );
    assert!(p.allowed(), "{}", p.to_json_string());
    let p = f.decide(
        json!({"principal": "wang.wu", "action": "process", "resource": "hukou",
        "context": {"approval": approval.id, "purpose": "public_security"}}),
    );
    assert!(!p.allowed());
    // A riskier scenario than the one approved is outside the approval.
    let q = f.decide(
        json!({"principal": "wang.wu", "action": "query", "resource": "hukou",
        "context": {"approval": approval.id, "scenario_risk": "medium"}}),
    );
    assert!(!q.allowed());

    // Every transition is in the log, marked to be kept.
    let records = f.log.records().unwrap();
    let steps: Vec<_> = records
        .iter()
        .filter(|r| r.event.kind.starts_with("sharing."))
        .collect();
    let kinds: Vec<&str> = steps.iter().map(|r| r.event.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "sharing.submitted",
            "sharing.approved",
            "sharing.provisioned"
        ]
    );
    for r in &steps {
        assert!(r.is_retained());
        assert_eq!(r.event.fields["request"], "shr-000001");
        assert!(r.event.policy_version.is_some());
        // The engine recorded its decision too; the step names it.
        let seq = r.event.fields["decision_seq"].as_u64().unwrap();
        let decision = records.iter().find(|x| x.seq == seq).unwrap();
        assert_eq!(decision.event.kind, "decision");
        assert_eq!(decision.event.user, r.event.user);
    }
    assert_eq!(
        steps[0].event.fields["legal_basis"],
        "《社会保险法》第五十八条"
    );
    assert_eq!(steps[0].event.department.as_deref(), Some("renshe"));
}

#[test]
fn unconditional_data_is_approved_without_review() {
    let f = Fixture::new();
    let s = done(
        f.flows
            .request_share("wang.wu", "population-stats", application())
            .unwrap(),
    );
    assert_eq!(s.status, ShareStatus::Approved);
    let approval = s.approval.clone().unwrap();
    assert_eq!(approval.approver, None);
    // Nothing left to review.
    let err = f
        .flows
        .approve_share("gongan.officer", &s.id, None)
        .unwrap_err();
    assert_eq!(err.code(), "workflow_invalid");
    let s = done(f.flows.provision_share("li.si", &s.id).unwrap());
    assert_eq!(s.status, ShareStatus::Provisioned);
    let approved = f
        .log
        .records()
        .unwrap()
        .into_iter()
        .find(|r| r.event.kind == "sharing.approved")
        .unwrap();
    assert_eq!(approved.event.user, None);
    assert_eq!(approved.event.fields["auto"], true);
    // The receiving analyst queries under the approval, as for any share.
    let q = query(&f, "wang.wu", "population-stats", &approval.id);
    assert!(q.allowed());
}

#[test]
fn data_not_for_sharing_cannot_be_requested() {
    let f = Fixture::new();
    let reasons = refused(
        f.flows
            .request_share("wang.wu", "criminal-records", application())
            .unwrap(),
    );
    assert_eq!(reasons, ["art14-no-share-none"]);
    assert!(f.flows.shares().is_empty());
    let records = f.log.records().unwrap();
    let r = records
        .iter()
        .find(|r| r.event.kind == "sharing.refused")
        .unwrap();
    assert_eq!(r.event.fields["step"], "request");
    assert_eq!(r.event.policies, ["art14-no-share-none"]);
}

#[test]
fn a_request_needs_purpose_legal_basis_fields_and_a_future_term() {
    let f = Fixture::new();
    let mut a = application();
    a.purpose = "  ".into();
    assert_eq!(
        f.flows
            .request_share("wang.wu", "hukou", a)
            .unwrap_err()
            .code(),
        "request_invalid"
    );
    let mut a = application();
    a.fields.clear();
    assert_eq!(
        f.flows
            .request_share("wang.wu", "hukou", a)
            .unwrap_err()
            .code(),
        "request_invalid"
    );
    let mut a = application();
    a.until = ts("2025-01-01");
    assert_eq!(
        f.flows
            .request_share("wang.wu", "hukou", a)
            .unwrap_err()
            .code(),
        "request_invalid"
    );
    assert_eq!(
        f.flows
            .request_share("nobody", "hukou", application())
            .unwrap_err()
            .code(),
        "unknown_entity"
    );
    // Only for the requester's own department.
    let mut a = application();
    a.recipient_department = Some("minzheng".into());
    let reasons = refused(f.flows.request_share("wang.wu", "hukou", a).unwrap());
    assert_eq!(reasons, ["art14-request-for-own-department"]);
}

#[test]
fn the_requester_never_reviews_their_own_request() {
    let f = Fixture::new();
    let s = done(
        f.flows
            .request_share("wang.wu", "hukou", application())
            .unwrap(),
    );
    // wang.wu moves to the providing department as its security officer: the policies
    // would now let them review 户籍 data, but never their own request.
    f.upsert_user(
        json!({"id": "wang.wu", "name": "王五", "department": "gongan",
        "roles": ["security_officer"], "vendor": null, "designated_admin": false}),
    );
    let reasons = refused(f.flows.approve_share("wang.wu", &s.id, None).unwrap());
    assert_eq!(reasons, ["workflow-no-self-review"]);
    let reasons = refused(f.flows.reject_share("wang.wu", &s.id, "不需要").unwrap());
    assert_eq!(reasons, ["workflow-no-self-review"]);
    assert_eq!(f.flows.share(&s.id).unwrap().status, ShareStatus::Submitted);
}

#[test]
fn vendor_staff_never_review() {
    let f = Fixture::new();
    f.upsert_user(json!({"id": "vendor.zhou", "name": "周工（驻场）", "department": "gongan",
        "roles": ["data_steward", "security_officer"], "vendor": "acme", "designated_admin": false}));
    let s = done(
        f.flows
            .request_share("wang.wu", "hukou", application())
            .unwrap(),
    );
    let reasons = refused(f.flows.approve_share("vendor.zhou", &s.id, None).unwrap());
    assert_eq!(reasons, ["art14-review-no-vendor"]);
    // Another department's officer is not the provider either.
    let reasons = refused(
        f.flows
            .approve_share("renshe.officer", &s.id, None)
            .unwrap(),
    );
    assert_eq!(reasons, ["default-deny"]);
    assert_eq!(f.flows.share(&s.id).unwrap().status, ShareStatus::Submitted);
}

#[test]
fn a_rejection_needs_a_reason_and_ends_the_request() {
    let f = Fixture::new();
    let s = done(
        f.flows
            .request_share("wang.wu", "hukou", application())
            .unwrap(),
    );
    assert_eq!(
        f.flows
            .reject_share("gongan.officer", &s.id, " ")
            .unwrap_err()
            .code(),
        "request_invalid"
    );
    let s = done(
        f.flows
            .reject_share("gongan.officer", &s.id, "超出最小必要字段")
            .unwrap(),
    );
    assert_eq!(s.status, ShareStatus::Rejected);
    assert_eq!(
        s.rejected.as_ref().unwrap().reason.as_deref(),
        Some("超出最小必要字段")
    );
    assert_eq!(
        f.flows
            .approve_share("gongan.officer", &s.id, None)
            .unwrap_err()
            .code(),
        "workflow_invalid"
    );
    assert_eq!(
        f.flows.provision_share("li.si", &s.id).unwrap_err().code(),
        "workflow_invalid"
    );
    assert!(!query(&f, "wang.wu", "hukou", "apr-shr-000001").allowed());
    assert_eq!(
        f.flows
            .approve_share("gongan.officer", "shr-999999", None)
            .unwrap_err()
            .code(),
        "unknown_entity"
    );
}

#[test]
fn an_expired_term_resolves_to_nothing() {
    let f = Fixture::new();
    let mut a = application();
    a.until = ts("2025-04-01");
    let s = done(f.flows.request_share("wang.wu", "hukou", a).unwrap());
    done(
        f.flows
            .approve_share("gongan.officer", &s.id, None)
            .unwrap(),
    );
    let s = done(f.flows.provision_share("li.si", &s.id).unwrap());
    let approval = s.approval_id().unwrap().to_owned();
    assert!(query(&f, "wang.wu", "hukou", &approval).allowed());

    f.set_time("2025-04-01T00:00:00Z");
    let q = query(&f, "wang.wu", "hukou", &approval);
    assert!(!q.allowed(), "a share past its term still resolves");
    assert_eq!(f.flows.share(&s.id).unwrap().status, ShareStatus::Expired);
    assert_eq!(
        f.flows
            .revoke_share("gongan.officer", &s.id, "x")
            .unwrap_err()
            .code(),
        "workflow_invalid"
    );
    let expired = f.flows.expire_shares().unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].status, ShareStatus::Expired);
    assert!(expired[0].expired.is_some());
    assert!(f.kinds().iter().any(|k| k == "sharing.expired"));
    assert!(f.flows.expire_shares().unwrap().is_empty(), "expired once");
}

#[test]
fn an_approved_share_past_its_term_is_not_provisioned() {
    let f = Fixture::new();
    let mut a = application();
    a.until = ts("2025-03-10");
    let s = done(f.flows.request_share("wang.wu", "hukou", a).unwrap());
    done(
        f.flows
            .approve_share("gongan.officer", &s.id, None)
            .unwrap(),
    );
    f.advance_days(10);
    assert_eq!(
        f.flows.provision_share("li.si", &s.id).unwrap_err().code(),
        "workflow_invalid"
    );
}

#[test]
fn a_revoked_share_resolves_to_nothing() {
    let f = Fixture::new();
    let s = provisioned(&f);
    let approval = s.approval_id().unwrap().to_owned();
    assert!(query(&f, "wang.wu", "hukou", &approval).allowed());
    // The requesting side does not revoke on the provider's behalf.
    let reasons = refused(f.flows.revoke_share("wang.wu", &s.id, "不再需要").unwrap());
    assert_eq!(reasons, ["default-deny"]);
    assert_eq!(
        f.flows
            .revoke_share("gongan.officer", &s.id, "")
            .unwrap_err()
            .code(),
        "request_invalid"
    );
    let s = done(
        f.flows
            .revoke_share("gongan.officer", &s.id, "核验任务结束")
            .unwrap(),
    );
    assert_eq!(s.status, ShareStatus::Revoked);
    let q = query(&f, "wang.wu", "hukou", &approval);
    assert!(!q.allowed());
    assert_eq!(q.reason_ids(), ["default-deny"]);
}

#[test]
fn an_approval_is_only_for_its_dataset_action_and_recipients() {
    let f = Fixture::new();
    let s = provisioned(&f);
    let approval = s.approval_id().unwrap().to_owned();
    // Replayed on another dataset (conditional, L4, like the one approved).
    let q = query(&f, "wang.wu", "housing-registry", &approval);
    assert!(!q.allowed());
    assert_eq!(q.reason_ids(), ["default-deny"]);
    // Replayed for another action: export needs an approval of its own.
    let e = f.decide(
        json!({"principal": "wang.wu", "action": "export", "resource": "hukou",
        "context": {"approval": approval}}),
    );
    assert!(!e.allowed());
    // Another department's analyst is not a recipient.
    assert!(!query(&f, "chen.yi", "hukou", &approval).allowed());
    // Provisioning again, or to another department, does not resolve either.
    let share = f.decide(
        json!({"principal": "li.si", "action": "share", "resource": "hukou",
        "context": {"approval": approval, "recipient_department": "minzheng"}}),
    );
    assert_eq!(share.reason_ids(), ["art14-conditional-needs-approval"]);
    // An id that no record holds.
    assert!(!query(&f, "wang.wu", "hukou", "apr-shr-000042").allowed());
    assert!(!query(&f, "wang.wu", "hukou", "shr-000001").allowed());
}

#[test]
fn an_approval_lapses_when_the_data_becomes_not_for_sharing() {
    let f = Fixture::new();
    let s = provisioned(&f);
    let approval = s.approval_id().unwrap().to_owned();
    let mut hukou = f.engine.inventory().dataset("hukou").unwrap().clone();
    hukou.share_type = govdata::model::ShareType::None;
    f.engine
        .upsert(govdata::model::Record::Dataset(hukou))
        .unwrap();
    assert!(!query(&f, "wang.wu", "hukou", &approval).allowed());
}

#[test]
fn overdue_reviews_are_visible_and_deadlines_configurable() {
    let f = Fixture::new();
    let s = done(
        f.flows
            .request_share("wang.wu", "hukou", application())
            .unwrap(),
    );
    assert!(f.flows.overdue_shares().is_empty());
    f.set_time("2025-03-12T09:00:00Z");
    assert!(
        f.flows.overdue_shares().is_empty(),
        "due on the 12th, not overdue on it"
    );
    f.set_time("2025-03-12T16:30:00Z"); // 00:30 on the 13th in Beijing
    let overdue = f.flows.overdue_shares();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].id, s.id);
    done(
        f.flows
            .approve_share("gongan.officer", &s.id, None)
            .unwrap(),
    );
    assert!(f.flows.overdue_shares().is_empty());

    let g = Fixture::with(
        govdata::audit::AuditOptions::default().sync(govdata::audit::SyncMode::None),
        WorkflowConfig::default().review_days(ReviewDays {
            conformity_check: 1,
            provider_reply: 3,
            provider_reply_off_platform: 7,
        }),
    );
    let s = done(
        g.flows
            .request_share("wang.wu", "hukou", application())
            .unwrap(),
    );
    assert_eq!(
        s.deadlines.conformity_check,
        Date::parse("2025-03-04").unwrap()
    );
    assert_eq!(
        s.deadlines.provider_reply,
        Date::parse("2025-03-07").unwrap()
    );
}

#[test]
fn data_not_yet_on_the_platform_gets_ten_working_days() {
    let f = Fixture::new();
    let mut ds = f
        .engine
        .inventory()
        .dataset("social-insurance")
        .unwrap()
        .clone();
    ds.cataloged = false;
    f.engine
        .upsert(govdata::model::Record::Dataset(ds))
        .unwrap();
    let mut a = application();
    a.scenario_risk = ScenarioRisk::Low;
    let s = done(
        f.flows
            .request_share("chen.yi", "social-insurance", a)
            .unwrap(),
    );
    assert!(!s.on_platform);
    assert_eq!(
        s.deadlines.conformity_check,
        Date::parse("2025-03-05").unwrap()
    );
    assert_eq!(
        s.deadlines.provider_reply,
        Date::parse("2025-03-19").unwrap()
    );
}
