//! The sharing procedure's records (Art. 14): a request for another department's
//! data, its review by the providing department, provisioning, revocation and expiry.

use crate::audit::{Date, Timestamp};
use crate::model::{Grade, ScenarioRisk, ShareType};
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
