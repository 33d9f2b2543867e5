//! The sharing procedure (Art. 14), its types and its steps: a request for another
//! department's data, its review by the providing department, provisioning, revocation
//! and expiry.

use super::approval::is_vendor;
use super::records;
use super::shared::Procedure;
use super::txn::unknown;
use super::{kind, required, Attempt, Step, Workflows};
use crate::engine::{Context, Decision};
use crate::error::{Error, Result};
use crate::model::{Action, Stage};
use crate::model::{Grade, ScenarioRisk, ShareType};
use crate::policy::Citation;
use crate::time::{Date, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a sharing request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareStatus {
    /// Submitted, waiting for the providing department's review.
    Submitted,
    /// Approved (by the provider, or without review for unconditional data), not yet
    /// provisioned.
    Approved,
    /// Refused by the provider, with a reason.
    Rejected,
    /// Provisioned: the receiving department has the data.
    Provisioned,
    /// Revoked by the provider before its term ended.
    Revoked,
    /// Its term ended.
    Expired,
}

impl ShareStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ShareStatus::Submitted => "submitted",
            ShareStatus::Approved => "approved",
            ShareStatus::Rejected => "rejected",
            ShareStatus::Provisioned => "provisioned",
            ShareStatus::Revoked => "revoked",
            ShareStatus::Expired => "expired",
        }
    }
}

impl std::str::FromStr for ShareStatus {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> crate::error::Result<Self> {
        use ShareStatus::*;
        [Submitted, Approved, Rejected, Provisioned, Revoked, Expired]
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                crate::error::Error::request(format!(
                    "unknown sharing status `{s}`, expected one of: submitted, approved, rejected, provisioned, revoked, expired"
                ))
            })
    }
}

impl fmt::Display for ShareStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a requesting department asks for: the content of a sharing request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareApplication {
    /// What the data is for.
    pub purpose: String,
    /// The law or regulation that allows the use.
    pub legal_basis: String,
    /// The fields (columns) wanted; the least the purpose needs.
    pub fields: Vec<String>,
    /// When the share ends (its term).
    pub until: Timestamp,
    /// The risk level of the scenario the data is used in.
    pub scenario_risk: ScenarioRisk,
    /// The department that receives the data; the requester's own when `None`.
    #[serde(default)]
    pub recipient_department: Option<String>,
}

/// When the reviews of a request are due (local dates; a review is on time when done
/// on or before its date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// The platform's conformity check of the request.
    pub conformity_check: Date,
    /// The providing department's reply.
    pub provider_reply: Date,
}

/// Who did a step, when, and what they said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// The acting user (absent for a step no one took: an approval without review,
    /// an expiry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When.
    pub at: Timestamp,
    /// The reason or comment given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The audit record of the step.
    pub seq: u64,
}

/// The approval of a sharing request: the id that requests cite as
/// `context.approval`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareApproval {
    /// The approval id (`apr-shr-…`).
    pub id: String,
    /// The reviewer, or `None` for unconditional data approved without review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// When.
    pub at: Timestamp,
    /// The reviewer's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The audit record of the approval.
    pub seq: u64,
}

/// A sharing request and everything that happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingRequest {
    /// The request id (`shr-000001`).
    pub id: String,
    /// The dataset asked for.
    pub dataset: String,
    /// The providing (owning) department when the request was made.
    pub provider: String,
    /// The dataset's sharing attribute when the request was made.
    pub share_type: ShareType,
    /// The dataset's grade when the request was made.
    pub grade: Option<Grade>,
    /// Whether the data was on the platform (catalogued, past aggregation).
    pub on_platform: bool,
    /// The requesting user.
    pub requester: String,
    /// The receiving department.
    pub recipient_department: String,
    /// What the data is for.
    pub purpose: String,
    /// The legal basis.
    pub legal_basis: String,
    /// The fields wanted.
    pub fields: Vec<String>,
    /// When the share ends.
    pub until: Timestamp,
    /// The scenario's risk level.
    pub scenario_risk: ScenarioRisk,
    /// When the request was submitted.
    pub submitted_at: Timestamp,
    /// The audit record of the submission.
    pub submitted_seq: u64,
    /// When the reviews are due.
    pub deadlines: Deadlines,
    /// Where the request stands (at the time the snapshot was taken: a share past its
    /// term shows as expired).
    pub status: ShareStatus,
    /// Still waiting for review after the provider's reply was due.
    pub overdue: bool,
    /// The approval, once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ShareApproval>,
    /// The rejection, with its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<StepRecord>,
    /// The provisioning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<StepRecord>,
    /// The obligations the provisioning decision carried (watermark, masking …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obligations: Vec<String>,
    /// The revocation, with its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<StepRecord>,
    /// The recorded expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired: Option<StepRecord>,
}

impl SharingRequest {
    /// The approval id, once approved.
    pub fn approval_id(&self) -> Option<&str> {
        self.approval.as_ref().map(|a| a.id.as_str())
    }

    /// The status as recorded, before the term is taken into account.
    pub(crate) fn recorded_status(&self) -> ShareStatus {
        if self.expired.is_some() {
            ShareStatus::Expired
        } else if self.revoked.is_some() {
            ShareStatus::Revoked
        } else if self.provisioned.is_some() {
            ShareStatus::Provisioned
        } else if self.rejected.is_some() {
            ShareStatus::Rejected
        } else if self.approval.is_some() {
            ShareStatus::Approved
        } else {
            ShareStatus::Submitted
        }
    }

    /// The status at `now`: an approved or provisioned share past its term is expired.
    pub fn status_at(&self, now: Timestamp) -> ShareStatus {
        match self.recorded_status() {
            ShareStatus::Approved | ShareStatus::Provisioned if now >= self.until => {
                ShareStatus::Expired
            }
            s => s,
        }
    }
}

const NO_SELF_REVIEW: Citation = Citation::fixed(
    "workflow-no-self-review",
    "第十四条",
    "共享申请人不得审核本人提出的申请",
    "the requester never reviews their own sharing request",
);
const NO_VENDOR_REVIEW: Citation = Citation::fixed(
    "workflow-no-vendor-review",
    "第十四条",
    "供应商人员不得审核共享申请",
    "vendor staff never review a sharing request",
);
const NO_SHARE_NONE: Citation = Citation::fixed(
    "workflow-no-share-none",
    "第十四条",
    "不予共享类数据不得提出共享申请",
    "data marked not for sharing (不予共享) cannot be requested",
);

impl Workflows {
    /// Submits a sharing request for `dataset` (a `request_share` decision). Data
    /// shared without conditions is approved at once; conditional data waits for the
    /// providing department's review; data not for sharing is refused.
    pub fn request_share(
        &self,
        requester: &str,
        dataset: &str,
        application: ShareApplication,
    ) -> Result<Step<SharingRequest>> {
        let purpose = required("purpose", &application.purpose)?;
        let legal_basis = required("legal_basis", &application.legal_basis)?;
        if application.fields.is_empty() {
            return Err(Error::request("`fields` lists no field"));
        }
        let fields = application
            .fields
            .iter()
            .map(|f| required("fields", f))
            .collect::<Result<Vec<_>>>()?;
        let mut tx = self.begin()?;
        let now = self.now();
        if application.until <= now {
            return Err(Error::request(format!(
                "the term ends at {} which is not after now ({now})",
                application.until
            )));
        }
        let inv = self.engine.inventory();
        let user = inv.user(requester).ok_or_else(|| Error::UnknownEntity {
            kind: "user",
            id: requester.to_owned(),
        })?;
        let ds = inv.dataset(dataset).ok_or_else(|| Error::UnknownEntity {
            kind: "dataset",
            id: dataset.to_owned(),
        })?;
        let recipient = application
            .recipient_department
            .clone()
            .unwrap_or_else(|| user.department.clone());
        let context = Context {
            purpose: Some(purpose.clone()),
            legal_basis: Some(legal_basis.clone()),
            scenario_risk: Some(application.scenario_risk),
            recipient_department: Some(recipient.clone()),
            ..Context::default()
        };
        let decision = self.decide(requester, Action::RequestShare, dataset, context)?;
        let attempt = Attempt {
            kind: kind::SHARING_REFUSED,
            user: requester,
            action: Action::RequestShare,
            dataset,
            request: None,
            step: "request",
        };
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        if ds.share_type == ShareType::None {
            let d = self.rule(&NO_SHARE_NONE, &decision);
            return self.refused(&attempt, d);
        }
        let id = tx.next_id(Procedure::Sharing)?;
        let on_platform = ds.cataloged && ds.stage != Stage::Aggregation;
        let days = self.inner.config.review_days;
        let cal = &self.inner.config.calendar;
        let check = cal.add_working_days(cal.local_date(now), days.conformity_check);
        let reply = cal.add_working_days(
            check,
            if on_platform {
                days.provider_reply
            } else {
                days.provider_reply_off_platform
            },
        );
        let submitted = records::Submitted {
            request: id.clone(),
            at: now,
            provider: ds.owner.clone(),
            share_type: ds.share_type,
            grade: ds.grade,
            on_platform,
            recipient_department: recipient,
            purpose,
            legal_basis,
            fields,
            until: application.until,
            scenario_risk: application.scenario_risk,
            deadlines: Deadlines {
                conformity_check: check,
                provider_reply: reply,
            },
        };
        let mut events = vec![self.event(
            kind::SHARING_SUBMITTED,
            Some(requester),
            Action::RequestShare,
            dataset,
            Some(&decision),
            &submitted,
        )?];
        if ds.share_type == ShareType::Unconditional {
            events.push(self.event(
                kind::SHARING_APPROVED,
                None,
                Action::ReviewShare,
                dataset,
                None,
                &records::Approved {
                    request: id.clone(),
                    at: now,
                    approval: records::approval_id(&id),
                    auto: true,
                    comment: None,
                },
            )?);
        }
        tx.commit(&events)?;
        tx.done_share(&id, decision)
    }

    /// Approves a submitted request (a `review_share` decision by the providing
    /// department; never the requester, never vendor staff).
    pub fn approve_share(
        &self,
        reviewer: &str,
        id: &str,
        comment: Option<&str>,
    ) -> Result<Step<SharingRequest>> {
        self.review(reviewer, id, Ok(comment.map(str::to_owned)))
    }

    /// Rejects a submitted request, with a reason (a `review_share` decision).
    pub fn reject_share(
        &self,
        reviewer: &str,
        id: &str,
        reason: &str,
    ) -> Result<Step<SharingRequest>> {
        let reason = required("reason", reason)?;
        self.review(reviewer, id, Err(reason))
    }

    fn review(
        &self,
        reviewer: &str,
        id: &str,
        verdict: std::result::Result<Option<String>, String>,
    ) -> Result<Step<SharingRequest>> {
        let mut tx = self.begin()?;
        let now = self.now();
        let share = tx.share(id)?;
        self.expect_share(&share, &[ShareStatus::Submitted], now)?;
        let context = self.share_context(&share, None);
        let attempt = Attempt {
            kind: kind::SHARING_REFUSED,
            user: reviewer,
            action: Action::ReviewShare,
            dataset: &share.dataset,
            request: Some(id),
            step: "review",
        };
        if reviewer == share.requester {
            let d = Decision::refusal(&NO_SELF_REVIEW, &self.engine.policy_version());
            return self.refused(&attempt, d);
        }
        let decision = self.decide(reviewer, Action::ReviewShare, &share.dataset, context)?;
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        if is_vendor(&self.engine.inventory(), reviewer) {
            let d = self.rule(&NO_VENDOR_REVIEW, &decision);
            return self.refused(&attempt, d);
        }
        let event = match verdict {
            Ok(comment) => self.event(
                kind::SHARING_APPROVED,
                Some(reviewer),
                Action::ReviewShare,
                &share.dataset,
                Some(&decision),
                &records::Approved {
                    request: id.to_owned(),
                    at: now,
                    approval: records::approval_id(id),
                    auto: false,
                    comment,
                },
            )?,
            Err(reason) => self.event(
                kind::SHARING_REJECTED,
                Some(reviewer),
                Action::ReviewShare,
                &share.dataset,
                Some(&decision),
                &records::Reasoned {
                    request: id.to_owned(),
                    at: now,
                    reason,
                },
            )?,
        };
        tx.commit(&[event])?;
        tx.done_share(id, decision)
    }

    /// Provisions an approved share to its receiving department (a `share` decision
    /// that cites the approval; the policies name who provisions and the obligations
    /// that come with it).
    pub fn provision_share(&self, provisioner: &str, id: &str) -> Result<Step<SharingRequest>> {
        let mut tx = self.begin()?;
        let now = self.now();
        let share = tx.share(id)?;
        self.expect_share(&share, &[ShareStatus::Approved], now)?;
        let approval = records::approval_id(id);
        let context = self.share_context(&share, Some(approval.clone()));
        let decision = self.decide(provisioner, Action::Share, &share.dataset, context)?;
        let attempt = Attempt {
            kind: kind::SHARING_REFUSED,
            user: provisioner,
            action: Action::Share,
            dataset: &share.dataset,
            request: Some(id),
            step: "provision",
        };
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        let event = self.event(
            kind::SHARING_PROVISIONED,
            Some(provisioner),
            Action::Share,
            &share.dataset,
            Some(&decision),
            &records::Provisioned {
                request: id.to_owned(),
                at: now,
                approval,
                recipient_department: share.recipient_department.clone(),
                obligations: decision.obligations().to_vec(),
            },
        )?;
        tx.commit(&[event])?;
        tx.done_share(id, decision)
    }

    /// Revokes an approved or provisioned share before its term ends, with a reason
    /// (a `review_share` decision: the providing department withdraws what it
    /// granted).
    pub fn revoke_share(&self, user: &str, id: &str, reason: &str) -> Result<Step<SharingRequest>> {
        let reason = required("reason", reason)?;
        let mut tx = self.begin()?;
        let now = self.now();
        let share = tx.share(id)?;
        self.expect_share(
            &share,
            &[ShareStatus::Approved, ShareStatus::Provisioned],
            now,
        )?;
        let context = self.share_context(&share, None);
        let decision = self.decide(user, Action::ReviewShare, &share.dataset, context)?;
        let attempt = Attempt {
            kind: kind::SHARING_REFUSED,
            user,
            action: Action::ReviewShare,
            dataset: &share.dataset,
            request: Some(id),
            step: "revoke",
        };
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        let event = self.event(
            kind::SHARING_REVOKED,
            Some(user),
            Action::ReviewShare,
            &share.dataset,
            Some(&decision),
            &records::Reasoned {
                request: id.to_owned(),
                at: now,
                reason,
            },
        )?;
        tx.commit(&[event])?;
        tx.done_share(id, decision)
    }

    /// Records the expiry of every approved or provisioned share whose term has
    /// ended, and returns them. (An expired share resolves to nothing whether or not
    /// its expiry is recorded yet.)
    pub fn expire_shares(&self) -> Result<Vec<SharingRequest>> {
        let mut tx = self.begin()?;
        let now = self.now();
        let is_due = |s: &SharingRequest| {
            matches!(
                s.recorded_status(),
                ShareStatus::Approved | ShareStatus::Provisioned
            ) && now >= s.until
        };
        // In id order, so that nodes expiring at once lock shared requests alike; each
        // checked again as it stands (locked, when shared).
        let candidates: Vec<String> = self
            .inner
            .read()
            .shares
            .values()
            .filter(|s| is_due(s))
            .map(|s| s.id.clone())
            .collect();
        let mut due = Vec::new();
        for id in &candidates {
            let s = tx.share(id)?;
            if is_due(&s) {
                due.push(s);
            }
        }
        let mut events = Vec::new();
        for s in &due {
            events.push(self.event(
                kind::SHARING_EXPIRED,
                None,
                Action::Share,
                &s.dataset,
                None,
                &records::Expired {
                    request: s.id.clone(),
                    at: now,
                    until: s.until,
                },
            )?);
        }
        if !events.is_empty() {
            tx.commit(&events)?;
        }
        let ids: Vec<&str> = due.iter().map(|s| s.id.as_str()).collect();
        tx.done_shares(&ids)
    }

    /// A sharing request as it stands now.
    pub fn share(&self, id: &str) -> Option<SharingRequest> {
        let now = self.now();
        self.inner
            .read()
            .shares
            .get(id)
            .map(|s| self.inner.snapshot_share(s, now))
    }

    /// Every sharing request as it stands now, by id.
    pub fn shares(&self) -> Vec<SharingRequest> {
        let now = self.now();
        self.inner
            .read()
            .shares
            .values()
            .map(|s| self.inner.snapshot_share(s, now))
            .collect()
    }

    /// The sharing requests still waiting for review after the provider's reply was
    /// due.
    pub fn overdue_shares(&self) -> Vec<SharingRequest> {
        self.shares().into_iter().filter(|s| s.overdue).collect()
    }

    pub(super) fn share_context(
        &self,
        share: &SharingRequest,
        approval: Option<String>,
    ) -> Context {
        Context {
            purpose: Some(share.purpose.clone()),
            legal_basis: Some(share.legal_basis.clone()),
            scenario_risk: Some(share.scenario_risk),
            recipient_department: Some(share.recipient_department.clone()),
            approval,
            ..Context::default()
        }
    }

    pub(super) fn share_raw(&self, id: &str) -> Result<SharingRequest> {
        self.inner
            .read()
            .shares
            .get(id)
            .cloned()
            .ok_or_else(|| unknown(Procedure::Sharing, id))
    }

    pub(super) fn expect_share(
        &self,
        share: &SharingRequest,
        states: &[ShareStatus],
        now: Timestamp,
    ) -> Result<()> {
        let s = share.status_at(now);
        if states.contains(&s) {
            return Ok(());
        }
        let want: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        Err(Error::WorkflowInvalid {
            message: format!(
                "sharing request `{}` is {s}, not {}",
                share.id,
                want.join(" or ")
            ),
        })
    }
}
