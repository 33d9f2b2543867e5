//! The assessment as a report: where its evidence came from, the counts per severity,
//! article and department, the findings, and every record they involve.

use super::articles::ARTICLES;
use super::evidence::{BackupState, Integrity};
use super::{AssessOptions, Finding, Inputs, RecordRef, RecordType, Severity};
use crate::audit::{AuditRecord, Timestamp};
use crate::policy::PolicyPack;
use crate::workflow::Replay;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The format tag of the JSON report.
pub(crate) const FORMAT: &str = "govdata-assessment/1";

/// A count per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    /// `critical` findings.
    pub critical: usize,
    /// `high` findings.
    pub high: usize,
    /// `medium` findings.
    pub medium: usize,
    /// `low` findings.
    pub low: usize,
    /// `info` findings.
    pub info: usize,
}

impl SeverityCounts {
    fn slot(&mut self, s: Severity) -> &mut usize {
        match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Info => &mut self.info,
        }
    }

    pub(crate) fn add(&mut self, s: Severity) {
        *self.slot(s) += 1;
    }

    /// The count of one severity.
    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }
}

/// The findings under one article (counted under the article they break).
#[derive(Debug, Clone, Serialize)]
pub struct ArticleSummary {
    /// The article's id (`art10`).
    pub article: &'static str,
    /// How the text names it (`第十条`).
    pub zh: &'static str,
    /// Its heading in Chinese.
    pub heading_zh: &'static str,
    /// Its heading in English.
    pub heading_en: &'static str,
    /// The findings under it.
    pub total: usize,
    /// The same, per severity.
    pub by_severity: SeverityCounts,
}

/// The findings of one department (a finding that names several departments counts
/// for each; one that names none counts for the platform, `department: null`).
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentSummary {
    /// The department's id, or `None` for the platform as a whole.
    pub department: Option<String>,
    /// Its name.
    pub name: String,
    /// Its kind (`management`, `operator`, `maintainer`, `user`), if in the inventory.
    pub kind: Option<String>,
    /// The findings that name it.
    pub total: usize,
    /// The same, per severity.
    pub by_severity: SeverityCounts,
}

/// The counts of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Every finding.
    pub total: usize,
    /// The highest severity found, if any.
    pub max_severity: Option<Severity>,
    /// Per severity.
    pub by_severity: SeverityCounts,
    /// Per article, for every article the assessment checks, in the order of the text.
    pub by_article: Vec<ArticleSummary>,
    /// Per department: every department of the inventory (by id), then any other the
    /// findings name, then the platform.
    pub by_department: Vec<DepartmentSummary>,
    /// Per finding code.
    pub by_code: BTreeMap<String, usize>,
}

/// The inventory that was assessed.
#[derive(Debug, Clone, Serialize)]
pub struct InventorySource {
    /// Departments.
    pub departments: usize,
    /// Vendors.
    pub vendors: usize,
    /// Users.
    pub users: usize,
    /// Datasets.
    pub datasets: usize,
    /// Systems.
    pub systems: usize,
}

/// The policy pack the role checks drew on.
#[derive(Debug, Clone, Serialize)]
pub struct PolicySource {
    /// The pack's version (`sha256:…`).
    pub version: String,
    /// How many policies it holds.
    pub policies: usize,
    /// Whether it is the default pack because none was given.
    pub default_pack: bool,
}

/// The latest backup of the log, as checked.
#[derive(Debug, Clone, Serialize)]
pub struct BackupSource {
    /// The record of the backup.
    pub seq: u64,
    /// When it was made.
    pub time: Timestamp,
    /// Where it was written.
    pub dest: String,
    /// `verified`, `failed`, `unreachable` or `not_checked`.
    pub state: &'static str,
}

/// The audit log that was assessed.
#[derive(Debug, Clone, Serialize)]
pub struct AuditSource {
    /// Its directory, when read from one.
    pub dir: Option<String>,
    /// The platform store it was read from (its hosts), when read from one: the
    /// records of every node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// The records read.
    pub records: usize,
    /// The first record read.
    pub first_seq: Option<u64>,
    /// The last record read.
    pub last_seq: Option<u64>,
    /// `intact` or `broken`.
    pub integrity: &'static str,
    /// Where verification stopped, when broken.
    pub broken_at: Option<u64>,
    /// The last record a checkpoint covered, when one was given.
    pub checkpoint_seq: Option<u64>,
    /// The last purged record, if any were purged.
    pub purged_through: Option<u64>,
    /// The latest backup.
    pub latest_backup: Option<BackupSource>,
    /// Sharing requests the procedures' replay found.
    pub shares: usize,
    /// Destruction requests the procedures' replay found.
    pub destructions: usize,
}

/// The key store that was assessed.
#[derive(Debug, Clone, Serialize)]
pub struct VaultSource {
    /// The master key's fingerprint.
    pub master_key_id: String,
    /// Its wrapping algorithm.
    pub master_algorithm: String,
    /// Data keys.
    pub keys: usize,
    /// Of which active.
    pub active_keys: usize,
}

/// What the assessment looked at.
#[derive(Debug, Clone, Serialize)]
pub struct Sources {
    /// The inventory.
    pub inventory: InventorySource,
    /// The policy pack.
    pub policies: PolicySource,
    /// The audit log, if given.
    pub audit: Option<AuditSource>,
    /// The key store, if given.
    pub vault: Option<VaultSource>,
}

/// A record a finding involves, with what the sources say of it: the target of the
/// report's links.
#[derive(Debug, Clone, Serialize)]
pub struct RecordInfo {
    /// The type of record.
    #[serde(rename = "type")]
    pub kind: RecordType,
    /// Its id.
    pub id: String,
    /// Its anchor in the HTML report.
    pub anchor: String,
    /// A one-line description.
    pub label: String,
    /// What the sources say of it.
    pub facts: BTreeMap<String, String>,
    /// The ids of the findings that involve it.
    pub findings: Vec<String>,
}

/// The result of a self-assessment: findings, counts and the records involved.
/// Serializes to the JSON report (see the README); [`Assessment::to_html`] renders
/// the HTML page.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// `govdata-assessment/1`.
    pub format: &'static str,
    /// `govdata` and its version.
    pub generator: String,
    /// The time the assessment was made at.
    pub now: Timestamp,
    /// The periods the checks used.
    pub options: AssessOptions,
    /// What was assessed.
    pub sources: Sources,
    /// The counts.
    pub summary: Summary,
    /// Every finding, most severe first.
    pub findings: Vec<Finding>,
    /// Every record the findings involve.
    pub records: Vec<RecordInfo>,
}

impl Assessment {
    /// The finding with this id (`ungraded_dataset:grid-survey`).
    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.id == id)
    }

    /// The ids of every finding, most severe first.
    pub fn finding_ids(&self) -> Vec<&str> {
        self.findings.iter().map(|f| f.id.as_str()).collect()
    }

    /// How many findings are at `severity` or above: a deployment gate fails when
    /// this is not zero.
    pub fn findings_at_or_above(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity >= severity)
            .count()
    }

    /// The report as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The report as indented JSON text.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The report as one self-contained HTML page (inline CSS, an inline SVG chart,
    /// no external asset).
    pub fn to_html(&self) -> String {
        super::html::render(self)
    }
}

pub(crate) fn build(
    inputs: &Inputs<'_>,
    pack: &PolicyPack,
    options: &AssessOptions,
    findings: Vec<Finding>,
    replay: Option<&Replay>,
) -> Assessment {
    let inv = inputs.inventory;
    let sources = Sources {
        inventory: InventorySource {
            departments: inv.departments().count(),
            vendors: inv.vendors().count(),
            users: inv.users().count(),
            datasets: inv.datasets().count(),
            systems: inv.systems().count(),
        },
        policies: PolicySource {
            version: pack.version().to_owned(),
            policies: pack.policies().len(),
            default_pack: inputs.policies.is_none(),
        },
        audit: inputs.audit.map(|a| {
            let (integrity, broken_at, purged_through) = match &a.integrity {
                Integrity::Intact(r) => ("intact", None, r.purged_through),
                Integrity::Broken { seq, .. } => ("broken", Some(*seq), None),
            };
            AuditSource {
                dir: a.dir.as_ref().map(|d| d.display().to_string()),
                store: a.store.clone(),
                records: a.records.len(),
                first_seq: a.records.first().map(|r| r.seq),
                last_seq: a.records.last().map(|r| r.seq),
                integrity,
                broken_at,
                checkpoint_seq: a.checkpoint,
                purged_through,
                latest_backup: a.backup.as_ref().map(|b| BackupSource {
                    seq: b.seq,
                    time: b.time,
                    dest: b.dest.clone(),
                    state: match b.state {
                        BackupState::Verified => "verified",
                        BackupState::Failed { .. } => "failed",
                        BackupState::Unreachable => "unreachable",
                        BackupState::NotChecked => "not_checked",
                    },
                }),
                shares: replay.map_or(0, |r| r.shares.len()),
                destructions: replay.map_or(0, |r| r.destructions.len()),
            }
        }),
        vault: inputs.vault.map(|v| VaultSource {
            master_key_id: v.master_key_id.clone(),
            master_algorithm: v.master_algorithm.clone(),
            keys: v.keys.len(),
            active_keys: v
                .keys
                .iter()
                .filter(|k| k.status == crate::vault::KeyStatus::Active)
                .count(),
        }),
    };
    let summary = summarize(inputs, &findings);
    let records = record_infos(inputs, replay, &findings);
    Assessment {
        format: FORMAT,
        generator: format!("govdata {}", crate::VERSION),
        now: options.now,
        options: options.clone(),
        sources,
        summary,
        findings,
        records,
    }
}

fn summarize(inputs: &Inputs<'_>, findings: &[Finding]) -> Summary {
    let inv = inputs.inventory;
    let mut by_severity = SeverityCounts::default();
    let mut by_code: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_article: Vec<ArticleSummary> = ARTICLES
        .iter()
        .map(|a| ArticleSummary {
            article: a.id,
            zh: a.zh,
            heading_zh: a.heading_zh,
            heading_en: a.heading_en,
            total: 0,
            by_severity: SeverityCounts::default(),
        })
        .collect();
    let mut depts: BTreeMap<String, SeverityCounts> = BTreeMap::new();
    let mut platform = SeverityCounts::default();
    let mut platform_total = 0;
    let mut dept_totals: BTreeMap<String, usize> = BTreeMap::new();
    for d in inv.departments() {
        depts.entry(d.id.clone()).or_default();
        dept_totals.entry(d.id.clone()).or_default();
    }
    for f in findings {
        by_severity.add(f.severity);
        *by_code.entry(f.code.as_str().to_owned()).or_default() += 1;
        if let Some(a) = by_article.iter_mut().find(|a| a.article == f.article.id) {
            a.total += 1;
            a.by_severity.add(f.severity);
        }
        if f.departments.is_empty() {
            platform.add(f.severity);
            platform_total += 1;
        }
        for d in &f.departments {
            depts.entry(d.clone()).or_default().add(f.severity);
            *dept_totals.entry(d.clone()).or_default() += 1;
        }
    }
    let mut by_department: Vec<DepartmentSummary> = Vec::new();
    let (known, unknown): (Vec<_>, Vec<_>) = depts
        .into_iter()
        .partition(|(id, _)| inv.department(id).is_some());
    for (id, counts) in known.into_iter().chain(unknown) {
        let d = inv.department(&id);
        by_department.push(DepartmentSummary {
            total: dept_totals.get(&id).copied().unwrap_or(0),
            name: d.map_or_else(
                || "（不在清单中）not in the inventory".to_owned(),
                |d| d.name.clone(),
            ),
            kind: d.map(|d| d.kind.to_string()),
            department: Some(id),
            by_severity: counts,
        });
    }
    if platform_total > 0 {
        by_department.push(DepartmentSummary {
            department: None,
            name: "平台整体 the platform".to_owned(),
            kind: None,
            total: platform_total,
            by_severity: platform,
        });
    }
    Summary {
        total: findings.len(),
        max_severity: findings.iter().map(|f| f.severity).max(),
        by_severity,
        by_article,
        by_department,
        by_code,
    }
}

fn yes_no(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

fn audit_record(inputs: &Inputs<'_>, seq: u64) -> Option<AuditRecord> {
    let a = inputs.audit?;
    a.records
        .iter()
        .find(|r| r.seq == seq)
        .cloned()
        .or_else(|| {
            a.records
                .iter()
                .filter_map(AuditRecord::original)
                .find(|r| r.seq == seq)
        })
}

fn describe(
    inputs: &Inputs<'_>,
    replay: Option<&Replay>,
    r: &RecordRef,
) -> (String, BTreeMap<String, String>) {
    let inv = inputs.inventory;
    let mut facts = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        facts.insert(k.to_owned(), v);
    };
    let label = match r.kind {
        RecordType::Department => match inv.department(&r.id) {
            Some(d) => {
                put("name", d.name.clone());
                put("kind", d.kind.to_string());
                if let Some(p) = &d.parent {
                    put("parent", p.clone());
                }
                format!("{} — {}", d.id, d.name)
            }
            None => format!("{} — not in the inventory", r.id),
        },
        RecordType::Vendor => match inv.vendor(&r.id) {
            Some(v) => {
                put("name", v.name.clone());
                put(
                    "contract_roles",
                    v.contract_roles
                        .as_ref()
                        .map_or("(not recorded)".to_owned(), |c| c.join(", ")),
                );
                format!("{} — {}", v.id, v.name)
            }
            None => format!("{} — not in the inventory", r.id),
        },
        RecordType::User => match inv.user(&r.id) {
            Some(u) => {
                put("name", u.name.clone());
                put("department", u.department.clone());
                put("roles", u.roles.join(", "));
                if let Some(v) = &u.vendor {
                    put("vendor", v.clone());
                }
                put("designated_admin", yes_no(u.designated_admin));
                format!("{} — {}", u.id, u.name)
            }
            None => format!("{} — not in the inventory", r.id),
        },
        RecordType::Dataset => match inv.dataset(&r.id) {
            Some(d) => {
                put("name", d.name.clone());
                put("owner", d.owner.clone());
                put(
                    "grade",
                    d.grade.map_or("(ungraded)".to_owned(), |g| g.to_string()),
                );
                put("stage", d.stage.to_string());
                put("personal_info", d.personal_info.to_string());
                put("share_type", d.share_type.to_string());
                put("cataloged", yes_no(d.cataloged));
                format!("{} — {}", d.id, d.name)
            }
            None => format!("{} — not in the inventory", r.id),
        },
        RecordType::System => match inv.system(&r.id) {
            Some(s) => {
                put("name", s.name.clone());
                put("kind", s.kind.to_string());
                put("owner", s.owner.clone());
                format!("{} — {}", s.id, s.name)
            }
            None => format!("{} — not in the inventory", r.id),
        },
        RecordType::Key => match inputs
            .vault
            .and_then(|v| v.keys.iter().find(|k| k.id == r.id))
        {
            Some(k) => {
                put("dataset", k.dataset.clone());
                put("version", k.version.to_string());
                put("status", k.status.as_str().to_owned());
                put("created", k.created.clone());
                if let Some(t) = &k.retired {
                    put("retired", t.clone());
                }
                if let Some(t) = &k.destroyed {
                    put("destroyed", t.clone());
                }
                if let Some(b) = &k.destroyed_by {
                    put("destroyed_by", b.clone());
                }
                format!(
                    "{} — {} v{} ({})",
                    k.id,
                    k.dataset,
                    k.version,
                    k.status.as_str()
                )
            }
            None => format!("{} — data key", r.id),
        },
        RecordType::AuditRecord => {
            match r.id.parse().ok().and_then(|seq| audit_record(inputs, seq)) {
                Some(a) => {
                    let e = &a.event;
                    put("time", a.time.to_string());
                    put("kind", e.kind.clone());
                    if let Some(u) = &e.user {
                        put("user", u.clone());
                    }
                    if let Some(d) = &e.department {
                        put("department", d.clone());
                    }
                    if let Some(x) = e.action {
                        put("action", x.to_string());
                    }
                    let resource = e.resource.as_ref().map(|x| format!("{}:{}", x.kind, x.id));
                    if let Some(x) = &resource {
                        put("resource", x.clone());
                    }
                    if let Some(d) = e.decision {
                        put("decision", d.as_str().to_owned());
                    }
                    if !e.policies.is_empty() {
                        put("policies", e.policies.join(", "));
                    }
                    for k in [
                        "request",
                        "approval",
                        "grantee",
                        "dest",
                        "before",
                        "through_seq",
                    ] {
                        if let Some(v) = e.fields.get(k) {
                            put(k, v.as_str().map_or_else(|| v.to_string(), str::to_owned));
                        }
                    }
                    format!(
                        "#{} {} {} {}{}",
                        a.seq,
                        a.time,
                        e.kind,
                        e.action.map(|x| x.to_string()).unwrap_or_default(),
                        resource.map(|x| format!(" {x}")).unwrap_or_default()
                    )
                }
                None => format!("#{} — audit record (not read)", r.id),
            }
        }
        RecordType::Share => match replay.and_then(|x| x.shares.iter().find(|s| s.id == r.id)) {
            Some(s) => {
                put("dataset", s.dataset.clone());
                put("provider", s.provider.clone());
                put("requester", s.requester.clone());
                put("recipient_department", s.recipient_department.clone());
                put("status", s.status.to_string());
                put("until", s.until.to_string());
                put("purpose", s.purpose.clone());
                if let Some(ap) = &s.approval {
                    put(
                        "approver",
                        ap.approver
                            .clone()
                            .unwrap_or_else(|| "(without review)".to_owned()),
                    );
                }
                format!(
                    "{} — {} → {} ({})",
                    s.id, s.dataset, s.recipient_department, s.status
                )
            }
            None => format!("{} — sharing request", r.id),
        },
        RecordType::Destruction => {
            match replay.and_then(|x| x.destructions.iter().find(|d| d.id == r.id)) {
                Some(d) => {
                    put("dataset", d.dataset.clone());
                    put("owner", d.owner.clone());
                    put("requester", d.requester.clone());
                    put("method", d.method.to_string());
                    put("status", d.status.to_string());
                    if let Some(ap) = &d.approval {
                        put("approver", ap.approver.clone());
                    }
                    format!("{} — {} ({})", d.id, d.dataset, d.status)
                }
                None => format!("{} — destruction request", r.id),
            }
        }
    };
    (label, facts)
}

fn record_infos(
    inputs: &Inputs<'_>,
    replay: Option<&Replay>,
    findings: &[Finding],
) -> Vec<RecordInfo> {
    let mut refs: BTreeMap<(RecordType, u64, String), (RecordRef, BTreeSet<String>)> =
        BTreeMap::new();
    for f in findings {
        for r in &f.records {
            // Audit records sort by number, the rest by id.
            let n = if r.kind == RecordType::AuditRecord {
                r.id.parse().unwrap_or(u64::MAX)
            } else {
                0
            };
            refs.entry((r.kind, n, r.id.clone()))
                .or_insert_with(|| (r.clone(), BTreeSet::new()))
                .1
                .insert(f.id.clone());
        }
    }
    refs.into_values()
        .map(|(r, ids)| {
            let (label, facts) = describe(inputs, replay, &r);
            RecordInfo {
                anchor: r.anchor(),
                kind: r.kind,
                id: r.id,
                label,
                facts,
                findings: ids.into_iter().collect(),
            }
        })
        .collect()
}
