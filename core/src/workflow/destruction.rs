//! The destruction procedure (Art. 15), its types and its steps: a request with its
//! method and reason, the owning department's approval, and the execution, recorded
//! with everything an auditor asks of a destruction record.

use super::approval::is_vendor;
use super::kind;
use super::records;
use super::shared::Procedure;
use super::sharing::StepRecord;
use super::txn::unknown;
use super::{required, Attempt, Step, Workflows};
use crate::audit::Outcome;
use crate::engine::{Context, Decision};
use crate::error::{Error, Result};
use crate::model::Action;
use crate::model::Grade;
use crate::policy::Citation;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// How data is destroyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestructionMethod {
    /// Crypto-erasure: every copy of the dataset's data key is destroyed (the vault's
    /// shred), which leaves its ciphertext unreadable (NIST SP 800-88 purge).
    CryptoErase,
    /// The records are deleted by the platform (marked and removed from use).
    LogicalDelete,
    /// The storage is overwritten.
    Overwrite,
    /// The media are physically destroyed by an external operator, with a witness.
    PhysicalDestroy,
}

impl DestructionMethod {
    /// Every method.
    pub const ALL: &'static [DestructionMethod] = &[
        DestructionMethod::CryptoErase,
        DestructionMethod::LogicalDelete,
        DestructionMethod::Overwrite,
        DestructionMethod::PhysicalDestroy,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DestructionMethod::CryptoErase => "crypto_erase",
            DestructionMethod::LogicalDelete => "logical_delete",
            DestructionMethod::Overwrite => "overwrite",
            DestructionMethod::PhysicalDestroy => "physical_destroy",
        }
    }
}

impl fmt::Display for DestructionMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DestructionMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DestructionMethod::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::request(format!(
                    "unknown destruction method `{s}`, expected one of: crypto_erase, logical_delete, overwrite, physical_destroy"
                ))
            })
    }
}

/// Where a destruction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestructionStatus {
    /// Requested, waiting for the owning department's security officer.
    Requested,
    /// Approved, not yet executed.
    Approved,
    /// Refused, with a reason.
    Rejected,
    /// Done.
    Executed,
}

impl DestructionStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DestructionStatus::Requested => "requested",
            DestructionStatus::Approved => "approved",
            DestructionStatus::Rejected => "rejected",
            DestructionStatus::Executed => "executed",
        }
    }
}

impl fmt::Display for DestructionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The approval of a destruction: the id the executor cites as `context.approval`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestructionApproval {
    /// The approval id (`apr-dst-…`).
    pub id: String,
    /// The security officer who approved.
    pub approver: String,
    /// When.
    pub at: Timestamp,
    /// The user the approval is granted to: only they may execute it.
    pub executor: String,
    /// The approval lapses at this time.
    pub valid_until: Timestamp,
    /// The audit record of the approval.
    pub seq: u64,
}

/// How a destruction was carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    /// The user who executed (or recorded) it.
    pub executor: String,
    /// When.
    pub at: Timestamp,
    /// The second person present (dual control; required for physical destruction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness: Option<String>,
    /// The external operator who destroyed the media (physical destruction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// For crypto-erasure, the ids of the destroyed data keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_ids: Vec<String>,
    /// A note (a certificate number, the place …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The obligations the execution decision carried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obligations: Vec<String>,
    /// The audit record of the execution.
    pub seq: u64,
}

/// A destruction request and everything that happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestructionRequest {
    /// The request id (`dst-000001`).
    pub id: String,
    /// The dataset.
    pub dataset: String,
    /// The owning department when the request was made.
    pub owner: String,
    /// The dataset's grade when the request was made.
    pub grade: Option<Grade>,
    /// How it is to be destroyed.
    pub method: DestructionMethod,
    /// Why.
    pub reason: String,
    /// The requesting user.
    pub requester: String,
    /// When it was requested.
    pub requested_at: Timestamp,
    /// The audit record of the request.
    pub requested_seq: u64,
    /// Where it stands.
    pub status: DestructionStatus,
    /// The approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<DestructionApproval>,
    /// The rejection, with its reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<StepRecord>,
    /// The execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Execution>,
    /// Failed attempts to execute (a shred that failed), newest last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<StepRecord>,
}

impl DestructionRequest {
    /// The approval id, once approved.
    pub fn approval_id(&self) -> Option<&str> {
        self.approval.as_ref().map(|a| a.id.as_str())
    }

    /// Whether it is still open: requested or approved, not yet rejected or executed.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            DestructionStatus::Requested | DestructionStatus::Approved
        )
    }
}

/// What the executor supplies when carrying out a destruction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutionDetails {
    /// The second person present (a user id): required under dual control and for
    /// physical destruction.
    #[serde(default)]
    pub witness: Option<String>,
    /// The external operator who destroys the media (physical destruction).
    #[serde(default)]
    pub operator: Option<String>,
    /// A note (a certificate number, the place …).
    #[serde(default)]
    pub note: Option<String>,
}

/// Destroys a dataset's data keys: the procedures' port to crypto-shredding. The
/// vault implements it (in the composition root, `platform`).
pub trait Shredder: Send + Sync {
    /// Destroys every copy of `dataset`'s data keys, as `operator` (with `witness`
    /// where dual control needs one), and returns the ids of the keys destroyed.
    fn shred(&self, dataset: &str, operator: &str, witness: Option<&str>) -> Result<Vec<String>>;
}

const NO_SELF_APPROVAL: Citation = Citation::fixed(
    "workflow-no-self-approval",
    "第十五条",
    "销毁申请人不得审批本人提出的销毁申请",
    "the requester never approves their own destruction request",
);
const NO_VENDOR_APPROVAL: Citation = Citation::fixed(
    "workflow-no-vendor-approval",
    "第十五条",
    "供应商人员不得审批数据销毁",
    "vendor staff never approve a destruction",
);
const DUAL_CONTROL: Citation = Citation::fixed(
    "workflow-dual-control",
    "第十五条",
    "双人控制：须由执行人以外的另一名本平台人员在场见证",
    "dual control: another platform user than the executor witnesses the destruction",
);
const PHYSICAL_NEEDS_OPERATOR: Citation = Citation::fixed(
    "workflow-physical-destruction-record",
    "第十五条",
    "物理销毁须记录外部执行单位和见证人",
    "a physical destruction records the external operator and a witness",
);
const UNMET_OBLIGATION: Citation = Citation::fixed(
    "workflow-unmet-obligation",
    "第十五条",
    "销毁判定附带的义务无法由销毁流程履行",
    "the destruction decision carries an obligation the procedure cannot meet",
);

impl Workflows {
    /// Requests the destruction of `dataset` by `method`, with a reason (a
    /// `request_destruction` decision). A dataset has at most one open destruction.
    pub fn request_destruction(
        &self,
        requester: &str,
        dataset: &str,
        method: DestructionMethod,
        reason: &str,
    ) -> Result<Step<DestructionRequest>> {
        let reason = required("reason", reason)?;
        let mut tx = self.begin()?;
        let now = self.now();
        let inv = self.engine.inventory();
        let ds = inv.dataset(dataset).ok_or_else(|| Error::UnknownEntity {
            kind: "dataset",
            id: dataset.to_owned(),
        })?;
        let decision = self.decide(
            requester,
            Action::RequestDestruction,
            dataset,
            Context::default(),
        )?;
        let attempt = Attempt {
            kind: kind::DESTRUCTION_REFUSED,
            user: requester,
            action: Action::RequestDestruction,
            dataset,
            request: None,
            step: "request",
        };
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        if let Some(open) = tx.open_destruction(dataset)? {
            return Err(Error::WorkflowInvalid {
                message: format!(
                    "dataset `{dataset}` already has an open destruction request `{}` ({})",
                    open.id, open.status
                ),
            });
        }
        let id = tx.next_id(Procedure::Destruction)?;
        let event = self.event(
            kind::DESTRUCTION_REQUESTED,
            Some(requester),
            Action::RequestDestruction,
            dataset,
            Some(&decision),
            &records::Requested {
                request: id.clone(),
                at: now,
                method,
                reason,
                owner: ds.owner.clone(),
                grade: ds.grade,
            },
        )?;
        tx.commit(&[event])?;
        tx.done_destruction(&id, decision)
    }

    /// Approves a requested destruction (an `approve_destruction` decision: the owning
    /// department's security officer, never the requester). The approval is granted
    /// to `executor` (the requester when `None`): only they may carry it out, within
    /// the approval's validity.
    pub fn approve_destruction(
        &self,
        approver: &str,
        id: &str,
        executor: Option<&str>,
    ) -> Result<Step<DestructionRequest>> {
        self.decide_destruction(approver, id, Ok(executor))
    }

    /// Rejects a requested destruction, with a reason (an `approve_destruction`
    /// decision).
    pub fn reject_destruction(
        &self,
        approver: &str,
        id: &str,
        reason: &str,
    ) -> Result<Step<DestructionRequest>> {
        let reason = required("reason", reason)?;
        self.decide_destruction(approver, id, Err(reason))
    }

    fn decide_destruction(
        &self,
        approver: &str,
        id: &str,
        verdict: std::result::Result<Option<&str>, String>,
    ) -> Result<Step<DestructionRequest>> {
        let mut tx = self.begin()?;
        let now = self.now();
        let d = tx.destruction(id)?;
        expect_destruction(&d, DestructionStatus::Requested)?;
        let attempt = Attempt {
            kind: kind::DESTRUCTION_REFUSED,
            user: approver,
            action: Action::ApproveDestruction,
            dataset: &d.dataset,
            request: Some(id),
            step: "approve",
        };
        if approver == d.requester {
            let dec = Decision::refusal(&NO_SELF_APPROVAL, &self.engine.policy_version());
            return self.refused(&attempt, dec);
        }
        let decision = self.decide(
            approver,
            Action::ApproveDestruction,
            &d.dataset,
            Context::default(),
        )?;
        if !decision.allowed() {
            return self.refused(&attempt, decision);
        }
        let inv = self.engine.inventory();
        if is_vendor(&inv, approver) {
            let dec = self.rule(&NO_VENDOR_APPROVAL, &decision);
            return self.refused(&attempt, dec);
        }
        let event = match verdict {
            Ok(executor) => {
                let executor = executor.unwrap_or(&d.requester).to_owned();
                if inv.user(&executor).is_none() {
                    return Err(Error::UnknownEntity {
                        kind: "user",
                        id: executor,
                    });
                }
                let valid = i64::try_from(self.inner.config.destruction_approval_valid.as_millis())
                    .unwrap_or(i64::MAX);
                self.event(
                    kind::DESTRUCTION_APPROVED,
                    Some(approver),
                    Action::ApproveDestruction,
                    &d.dataset,
                    Some(&decision),
                    &records::DestructionApproved {
                        request: id.to_owned(),
                        at: now,
                        approval: records::approval_id(id),
                        executor,
                        valid_until: Timestamp::from_unix_millis(
                            now.unix_millis().saturating_add(valid),
                        ),
                    },
                )?
            }
            Err(reason) => self.event(
                kind::DESTRUCTION_REJECTED,
                Some(approver),
                Action::ApproveDestruction,
                &d.dataset,
                Some(&decision),
                &records::Reasoned {
                    request: id.to_owned(),
                    at: now,
                    reason,
                },
            )?,
        };
        tx.commit(&[event])?;
        tx.done_destruction(id, decision)
    }

    /// Carries out an approved destruction (a `destroy` decision that cites the
    /// approval; only the user it was granted to). Crypto-erasure runs the installed
    /// [`Shredder`] and records the destroyed key ids; the other methods are done by
    /// the host and recorded here. Under dual control (the policies' obligation) and
    /// for physical destruction a witness is required; a physical destruction also
    /// names the external operator.
    pub fn execute_destruction(
        &self,
        executor: &str,
        id: &str,
        details: ExecutionDetails,
    ) -> Result<Step<DestructionRequest>> {
        let mut tx = self.begin()?;
        let now = self.now();
        let d = tx.destruction(id)?;
        expect_destruction(&d, DestructionStatus::Approved)?;
        let Some(approval) = d.approval.clone() else {
            return Err(Error::WorkflowInvalid {
                message: format!("`{id}` has no approval"),
            });
        };
        if now >= approval.valid_until {
            return Err(Error::WorkflowInvalid {
                message: format!(
                    "the approval of `{id}` lapsed at {}; request the destruction again",
                    approval.valid_until
                ),
            });
        }
        let context = Context {
            approval: Some(approval.id.clone()),
            ..Context::default()
        };
        let decision = self.decide(executor, Action::Destroy, &d.dataset, context)?;
        let attempt = Attempt {
            kind: kind::DESTRUCTION_REFUSED,
            user: executor,
            action: Action::Destroy,
            dataset: &d.dataset,
            request: Some(id),
            step: "execute",
        };
        let refuse = |dec: Decision| self.refused(&attempt, dec);
        if !decision.allowed() {
            return refuse(decision);
        }
        let inv = self.engine.inventory();
        let witness = details
            .witness
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty());
        let witness_ok = witness.is_some_and(|w| w != executor && !is_vendor(&inv, w));
        for o in decision.obligations() {
            match o.as_str() {
                "dual_control" if !witness_ok => {
                    return refuse(self.rule(&DUAL_CONTROL, &decision))
                }
                "dual_control" => {}
                _ => return refuse(self.rule(&UNMET_OBLIGATION, &decision)),
            }
        }
        let operator = details
            .operator
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty());
        if d.method == DestructionMethod::PhysicalDestroy && (operator.is_none() || !witness_ok) {
            return refuse(self.rule(&PHYSICAL_NEEDS_OPERATOR, &decision));
        }
        let key_ids = if d.method == DestructionMethod::CryptoErase {
            let shredder = self
                .shredder
                .read()
                .ok()
                .and_then(|s| s.as_ref().map(Arc::clone))
                .ok_or_else(|| Error::WorkflowInvalid {
                    message: "crypto-erasure needs the vault, and none is attached".into(),
                })?;
            match shredder.shred(&d.dataset, executor, witness) {
                Ok(ids) => ids,
                Err(e) => {
                    let failed = self.event(
                        kind::DESTRUCTION_FAILED,
                        Some(executor),
                        Action::Destroy,
                        &d.dataset,
                        Some(&decision),
                        &records::Reasoned {
                            request: id.to_owned(),
                            at: now,
                            reason: format!("[{}] {e}", e.code()),
                        },
                    )?;
                    let mut failed = failed;
                    failed.outcome = Outcome::Failure;
                    tx.commit(&[failed])?;
                    tx.finish()?;
                    return Err(e);
                }
            }
        } else {
            Vec::new()
        };
        let event = self.event(
            kind::DESTRUCTION_EXECUTED,
            Some(executor),
            Action::Destroy,
            &d.dataset,
            Some(&decision),
            &records::Executed {
                request: id.to_owned(),
                at: now,
                approval: approval.id.clone(),
                method: d.method,
                grade: d.grade,
                owner: d.owner.clone(),
                requester: d.requester.clone(),
                approver: approval.approver.clone(),
                executor: executor.to_owned(),
                witness: witness.map(str::to_owned),
                operator: operator.map(str::to_owned),
                key_ids,
                note: details.note.clone(),
                obligations: decision.obligations().to_vec(),
            },
        )?;
        tx.commit(&[event])?;
        tx.done_destruction(id, decision)
    }

    /// A destruction request as it stands.
    pub fn destruction(&self, id: &str) -> Option<DestructionRequest> {
        self.inner.read().destructions.get(id).cloned()
    }

    /// Every destruction request, by id.
    pub fn destructions(&self) -> Vec<DestructionRequest> {
        self.inner.read().destructions.values().cloned().collect()
    }

    pub(super) fn destruction_raw(&self, id: &str) -> Result<DestructionRequest> {
        self.destruction(id)
            .ok_or_else(|| unknown(Procedure::Destruction, id))
    }
}

fn expect_destruction(d: &DestructionRequest, status: DestructionStatus) -> Result<()> {
    if d.status == status {
        return Ok(());
    }
    Err(Error::WorkflowInvalid {
        message: format!(
            "destruction request `{}` is {}, not {status}",
            d.id, d.status
        ),
    })
}
