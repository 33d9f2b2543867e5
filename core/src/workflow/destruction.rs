//! The destruction procedure's records (Art. 15): a request with its method and
//! reason, the owning department's approval, and the execution, recorded with
//! everything an auditor asks of a destruction record.

use super::sharing::StepRecord;
use crate::audit::Timestamp;
use crate::error::{Error, Result};
use crate::model::Grade;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

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

/// Destroys a dataset's data keys: the seam to the vault's crypto-shredding.
pub trait Shredder: Send + Sync {
    /// Destroys every copy of `dataset`'s data keys, as `operator` (with `witness`
    /// where dual control needs one), and returns the ids of the keys destroyed.
    fn shred(&self, dataset: &str, operator: &str, witness: Option<&str>) -> Result<Vec<String>>;
}

/// A shredder over keys held in memory: for tests and demonstrations without a vault.
#[derive(Debug, Default)]
pub struct MemoryShredder {
    keys: Mutex<BTreeMap<String, Vec<String>>>,
}

impl MemoryShredder {
    /// A shredder holding no key.
    pub fn new() -> Self {
        MemoryShredder::default()
    }

    /// Adds a data key for `dataset`.
    pub fn add_key(&self, dataset: &str, key_id: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.entry(dataset.to_owned())
            .or_default()
            .push(key_id.to_owned());
    }

    /// The live keys of `dataset`.
    pub fn keys(&self, dataset: &str) -> Vec<String> {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.get(dataset).cloned().unwrap_or_default()
    }
}

impl Shredder for MemoryShredder {
    fn shred(&self, dataset: &str, _operator: &str, _witness: Option<&str>) -> Result<Vec<String>> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        match keys.remove(dataset) {
            Some(ids) if !ids.is_empty() => Ok(ids),
            _ => Err(Error::KeyNotFound {
                id: dataset.to_owned(),
            }),
        }
    }
}

/// Crypto-erasure through the vault: its shred destroys every copy of the dataset's
/// data keys (the live store and its backups), itself a `manage_keys` decision for
/// `operator` (and `witness`, under dual control) and a key event.
impl Shredder for crate::vault::Vault {
    fn shred(&self, dataset: &str, operator: &str, witness: Option<&str>) -> Result<Vec<String>> {
        let mut op = crate::vault::Operator::new(operator);
        if let Some(w) = witness {
            op = op.with_witness(w);
        }
        Ok(crate::vault::Vault::shred(self, &op, dataset)?.key_ids)
    }
}
