//! The compliance self-assessment (Art. 20): what the inventory, the policy pack, the
//! audit log, the vault's key store and the sharing and destruction procedures say
//! about a platform's compliance, as a list of [`Finding`]s — each with a stable code,
//! a severity, the article it breaks, the records involved and what to do about it —
//! and a report in JSON ([`Assessment::to_json`]) and HTML ([`Assessment::to_html`]).
//!
//! It owns the checks and the report. It reads its sources and never changes them:
//! the audit log is read (and verified) without being opened for writing, the
//! procedures' state is replayed from the log's records, the vault is seen through its
//! status. Given the same sources and the same [`AssessOptions::now`], the assessment
//! is the same, finding for finding. A source that is not given is reported as an
//! `info` finding, never silently skipped.
//!
//! ```
//! use govdata::assess::{assess, AssessOptions, Inputs, Severity};
//! use govdata::audit::Timestamp;
//! use govdata::Inventory;
//!
//! let inventory = Inventory::from_json_str(govdata::engine::EXAMPLE_INVENTORY)?;
//! let options = AssessOptions::at(Timestamp::parse("2026-01-15T00:00:00Z")?);
//! let report = assess(&Inputs::new(&inventory), &options)?;
//! let ungraded = report.finding("ungraded_dataset:grid-survey").unwrap();
//! assert_eq!(ungraded.article.zh, "第十条");
//! assert_eq!(ungraded.severity, Severity::Medium);
//! // Without an audit log or a vault, the report says what it could not check.
//! assert!(report.finding("audit_not_assessed").is_some());
//! assert!(report.findings_at_or_above(Severity::High) > 0);
//! # Ok::<(), govdata::Error>(())
//! ```

mod articles;
mod checks;
mod codes;
mod evidence;
mod html;
mod report;

pub use articles::ArticleRef;
pub use codes::FindingCode;
pub use evidence::{AuditEvidence, BackupCheck, BackupState, Integrity};
pub use report::{
    ArticleSummary, Assessment, AuditSource, BackupSource, DepartmentSummary, InventorySource,
    PolicySource, RecordInfo, SeverityCounts, Sources, Summary, VaultSource,
};

use crate::error::{Error, Result};
use crate::model::Inventory;
use crate::policy::PolicyPack;
use crate::time::Timestamp;
use crate::vault::VaultStatus;
use crate::workflow::Replay;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How much a finding matters, from `info` (a note) to `critical` (act now).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A note: something the assessment could not check, or worth knowing.
    Info,
    /// A weakness to fix in the normal course of work.
    Low,
    /// A breach of a rule to fix soon.
    Medium,
    /// A breach that exposes data: fix before the next release.
    High,
    /// Data or its records are at risk now: fix at once.
    Critical,
}

impl Severity {
    /// Every severity, from `info` to `critical`.
    pub const ALL: &'static [Severity] = &[
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The wire name: `info`, `low`, `medium`, `high`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Severity::Info => "提示",
            Severity::Low => "低",
            Severity::Medium => "中",
            Severity::High => "高",
            Severity::Critical => "严重",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Severity::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                Error::request(format!(
                    "unknown severity `{s}`, expected one of: info, low, medium, high, critical"
                ))
            })
    }
}

/// A text in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Text {
    /// Chinese.
    pub zh: String,
    /// English.
    pub en: String,
}

impl Text {
    pub(crate) fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Text {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// The type of a record a finding involves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordType {
    /// A department of the inventory.
    Department,
    /// A vendor of the inventory.
    Vendor,
    /// A user of the inventory.
    User,
    /// A dataset (of the inventory, or named by the log only).
    Dataset,
    /// A system of the inventory.
    System,
    /// A data key of the vault.
    Key,
    /// An audit record, by sequence number.
    AuditRecord,
    /// A sharing request (`shr-…`).
    Share,
    /// A destruction request (`dst-…`).
    Destruction,
}

impl RecordType {
    /// The wire name: `department`, `user`, `audit_record` …
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Department => "department",
            RecordType::Vendor => "vendor",
            RecordType::User => "user",
            RecordType::Dataset => "dataset",
            RecordType::System => "system",
            RecordType::Key => "key",
            RecordType::AuditRecord => "audit_record",
            RecordType::Share => "share",
            RecordType::Destruction => "destruction",
        }
    }
}

/// A record a finding involves: its type and id (an audit record's id is its
/// sequence number).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RecordRef {
    /// The type of record.
    #[serde(rename = "type")]
    pub kind: RecordType,
    /// Its id.
    pub id: String,
}

impl RecordRef {
    pub(crate) fn new(kind: RecordType, id: impl Into<String>) -> Self {
        RecordRef {
            kind,
            id: id.into(),
        }
    }

    /// The HTML anchor of the record in the report: `rec-<type>-<id>`, with every
    /// character outside `[A-Za-z0-9-]` written as `_` and its UTF-8 bytes in hex.
    pub fn anchor(&self) -> String {
        format!("rec-{}-{}", self.kind.as_str(), slug(&self.id))
    }
}

/// An id made safe for an HTML id and a URL fragment, one to one.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("_{b:02x}"));
            }
        }
    }
    out
}

/// One thing the assessment found.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable for the same problem across runs: the code, then the records it is
    /// about (`ungraded_dataset:grid-survey`).
    pub id: String,
    /// The finding's code.
    pub code: FindingCode,
    /// How much it matters.
    pub severity: Severity,
    /// The article it breaks.
    pub article: &'static ArticleRef,
    /// Further articles it bears on.
    pub related_articles: Vec<&'static ArticleRef>,
    /// What is wrong, in general.
    pub title: Text,
    /// What is wrong, in this case.
    pub detail: Text,
    /// The records involved.
    pub records: Vec<RecordRef>,
    /// The departments responsible (ids); empty for the platform as a whole.
    pub departments: Vec<String>,
    /// What to do about it.
    pub remediation: Text,
}

impl Finding {
    /// The HTML anchor of the finding in the report.
    pub fn anchor(&self) -> String {
        format!("finding-{}", slug(&self.id))
    }
}

const DAY_MS: i64 = 86_400_000;

/// The periods the checks use, and the time the assessment is made at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssessOptions {
    /// The time of the assessment: every period ends here.
    pub now: Timestamp,
    /// A verified backup of the audit log is due at least this often (days; default 7).
    pub backup_max_age_days: u32,
    /// Data keys and the master key are rotated at least this often (days; default 365).
    pub key_rotation_days: u32,
    /// Roles and grants unused for this long are reported (days; default 90).
    pub unused_window_days: u32,
    /// A stretch this long without any audit record is reported as a gap (days;
    /// default 7; 0 turns the check off).
    pub audit_gap_days: u32,
}

impl AssessOptions {
    /// The defaults, at `now`.
    pub fn at(now: Timestamp) -> Self {
        AssessOptions {
            now,
            backup_max_age_days: 7,
            key_rotation_days: 365,
            unused_window_days: 90,
            audit_gap_days: 7,
        }
    }

    /// `days` days before [`AssessOptions::now`].
    pub(crate) fn days_ago(&self, days: u32) -> Timestamp {
        Timestamp::from_unix_millis(
            self.now
                .unix_millis()
                .saturating_sub(i64::from(days) * DAY_MS),
        )
    }
}

/// The time and periods of an assessment as a front end receives them (a command's
/// flags, a binding's keywords or options object): the time as text (`YYYY-MM-DD` or
/// RFC 3339 UTC; `None`: now), each period in days (`None`: its default) and a head of
/// the audit log kept elsewhere (`gdaudit1:…`). Every front end turns them into
/// [`AssessOptions`] here, so that the same inputs give the same report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssessPeriods {
    /// The time of the assessment (`None`: now).
    pub now: Option<String>,
    /// A checkpoint of the audit log kept elsewhere.
    pub checkpoint: Option<String>,
    /// [`AssessOptions::backup_max_age_days`].
    pub backup_days: Option<u32>,
    /// [`AssessOptions::key_rotation_days`].
    pub key_rotation_days: Option<u32>,
    /// [`AssessOptions::unused_window_days`].
    pub unused_days: Option<u32>,
    /// [`AssessOptions::audit_gap_days`].
    pub gap_days: Option<u32>,
}

impl AssessPeriods {
    /// The options and the checkpoint: a time or checkpoint that does not parse is
    /// `request_invalid`.
    pub fn resolve(&self) -> Result<(AssessOptions, Option<crate::audit::Checkpoint>)> {
        let now = match &self.now {
            Some(t) => Timestamp::parse(t)?,
            None => Timestamp::now(),
        };
        let defaults = AssessOptions::at(now);
        let options = AssessOptions {
            backup_max_age_days: self.backup_days.unwrap_or(defaults.backup_max_age_days),
            key_rotation_days: self.key_rotation_days.unwrap_or(defaults.key_rotation_days),
            unused_window_days: self.unused_days.unwrap_or(defaults.unused_window_days),
            audit_gap_days: self.gap_days.unwrap_or(defaults.audit_gap_days),
            ..defaults
        };
        let checkpoint = self
            .checkpoint
            .as_deref()
            .map(str::parse::<crate::audit::Checkpoint>)
            .transpose()?;
        Ok((options, checkpoint))
    }
}

impl Default for AssessOptions {
    /// The defaults, now.
    fn default() -> Self {
        AssessOptions::at(Timestamp::now())
    }
}

/// What the assessment looks at. Only the inventory is required.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The organisation and its data.
    pub inventory: &'a Inventory,
    /// The policy pack (the default pack when `None`): which permits each role draws on.
    pub policies: Option<&'a PolicyPack>,
    /// The audit log, read and verified ([`AuditEvidence::read_dir`]); the sharing and
    /// destruction procedures are replayed from it.
    pub audit: Option<&'a AuditEvidence>,
    /// The vault's key store ([`crate::Vault::status`]).
    pub vault: Option<&'a VaultStatus>,
    /// The sharing and destruction requests as a shared store holds them, in place of
    /// their replay from the audit log (procedures shared by every node).
    pub procedures: Option<&'a Replay>,
}

impl<'a> Inputs<'a> {
    /// The inventory alone.
    pub fn new(inventory: &'a Inventory) -> Self {
        Inputs {
            inventory,
            policies: None,
            audit: None,
            vault: None,
            procedures: None,
        }
    }
    /// With a policy pack.
    pub fn policies(mut self, pack: &'a PolicyPack) -> Self {
        self.policies = Some(pack);
        self
    }
    /// With the audit log's evidence.
    pub fn audit(mut self, audit: &'a AuditEvidence) -> Self {
        self.audit = Some(audit);
        self
    }
    /// With the vault's status.
    pub fn vault(mut self, vault: &'a VaultStatus) -> Self {
        self.vault = Some(vault);
        self
    }
    /// With the procedures' requests as a shared store holds them.
    pub fn procedures(mut self, procedures: &'a Replay) -> Self {
        self.procedures = Some(procedures);
        self
    }
}

/// Runs every check over `inputs` at `options.now`.
///
/// Fails only when the default pack cannot be loaded (no policies given); problems in
/// the sources are findings.
pub fn assess(inputs: &Inputs<'_>, options: &AssessOptions) -> Result<Assessment> {
    let default_pack;
    let pack = match inputs.policies {
        Some(p) => p,
        None => {
            default_pack = PolicyPack::default_pack()?;
            &default_pack
        }
    };
    let (findings, replay) = checks::run(inputs, pack, options);
    Ok(report::build(
        inputs,
        pack,
        options,
        findings,
        replay.as_ref(),
    ))
}
