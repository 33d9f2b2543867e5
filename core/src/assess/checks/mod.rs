//! The checks: each reads the sources and adds findings; none changes anything. One
//! file per article of the regulation holds that article's checks.

mod art03;
mod art05;
mod art07;
mod art08;
mod art10;
mod art14;
mod art15;
mod art16;
mod art17;

use super::evidence::AuditEvidence;
use super::{AssessOptions, Finding, FindingCode, Inputs, RecordRef, RecordType, Severity, Text};
use crate::audit::{AuditRecord, Timestamp, Verdict, DECISION_KIND};
use crate::model::{Action, Dataset, DepartmentKind, Inventory, ResourceKind, User};
use crate::policy::PolicyPack;
use crate::vault::VaultStatus;
use crate::workflow::{self, Replay};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// How many audit records a finding names at most (the detail gives the count).
const MAX_AUDIT_REFS: usize = 10;

/// The roles no vendor contract can give: they belong to the department's own staff
/// (Art. 5, 16, 17). `platform_admin`, a super-administrator role, is reported on its own.
const RESERVED_ROLES: &[&str] = &["security_officer", "key_admin", "auditor"];
const SUPERADMIN_ROLE: &str = "platform_admin";
const OFFICER_ROLE: &str = "security_officer";

/// The actions that use a dataset (rather than bring it onto the platform, grade it
/// or catalogue it).
const USE_ACTIONS: &[Action] = &[
    Action::Query,
    Action::Modify,
    Action::Delete,
    Action::Export,
    Action::Process,
    Action::RequestShare,
    Action::ReviewShare,
    Action::Share,
];

struct Ctx<'a> {
    inv: &'a Inventory,
    pack: &'a PolicyPack,
    opts: &'a AssessOptions,
    audit: Option<&'a AuditEvidence>,
    vault: Option<&'a VaultStatus>,
    replay: Option<Replay>,
    operators: Vec<String>,
    findings: Vec<Finding>,
}

pub(crate) fn run(
    inputs: &Inputs<'_>,
    pack: &PolicyPack,
    opts: &AssessOptions,
) -> (Vec<Finding>, Option<Replay>) {
    let mut operators: Vec<String> = inputs
        .inventory
        .departments()
        .filter(|d| d.kind == DepartmentKind::Operator)
        .map(|d| d.id.clone())
        .collect();
    operators.sort();
    let mut cx = Ctx {
        inv: inputs.inventory,
        pack,
        opts,
        audit: inputs.audit,
        vault: inputs.vault,
        replay: match inputs.procedures {
            Some(shared) => Some(shared.clone()),
            None => inputs.audit.map(|a| workflow::replay(a.records.iter())),
        },
        operators,
        findings: Vec::new(),
    };
    cx.grading();
    cx.security_officers();
    cx.vendors();
    match inputs.audit {
        None => cx.push(
            FindingCode::AuditNotAssessed,
            "",
            None,
            Text::new(
                "未提供审计日志：审计日志完整性、备份与保存期限、未编目数据的使用、共享与销毁流程、权限使用情况均未评估",
                "no audit log was given: its integrity, backups and retention, the use of uncatalogued data, the sharing and destruction procedures and the use of permissions were not assessed",
            ),
            Vec::new(),
            cx.operators.clone(),
        ),
        Some(a) => {
            cx.audit_integrity(a);
            cx.audit_gaps(a);
            cx.audit_backup(a);
            cx.audit_retention(a);
            cx.datasets_used(a);
            cx.superadmin_grants(a);
            cx.shares(a);
            cx.destructions(a);
            cx.unused_permissions(a);
        }
    }
    match inputs.vault {
        None => cx.push(
            FindingCode::VaultNotAssessed,
            "",
            None,
            Text::new(
                "未提供密钥库：数据加密存储与密钥轮换均未评估",
                "no key store was given: encryption at rest and key rotation were not assessed",
            ),
            Vec::new(),
            cx.operators.clone(),
        ),
        Some(v) => {
            cx.encryption(v);
            cx.key_rotation(v);
        }
    }
    let replay = cx.replay.take();
    let mut findings = cx.findings;
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.article.number.cmp(&b.article.number))
            .then(a.article.clause.cmp(&b.article.clause))
            .then(a.code.cmp(&b.code))
            .then(a.id.cmp(&b.id))
    });
    (findings, replay)
}

fn rec(kind: RecordType, id: impl Into<String>) -> RecordRef {
    RecordRef::new(kind, id)
}

fn audit_ref(seq: u64) -> RecordRef {
    rec(RecordType::AuditRecord, seq.to_string())
}

fn allowed(r: &AuditRecord) -> bool {
    r.event.decision == Some(Verdict::Allow)
}

fn field_str<'r>(r: &'r AuditRecord, name: &str) -> Option<&'r str> {
    r.event.fields.get(name).and_then(Value::as_str)
}

fn list(items: &[impl AsRef<str>]) -> String {
    items
        .iter()
        .map(|i| format!("`{}`", i.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn uses_were(n: usize) -> &'static str {
    if n == 1 {
        "use was"
    } else {
        "uses were"
    }
}

fn seqs(records: &[&AuditRecord]) -> String {
    let mut s = String::new();
    for (i, r) in records.iter().take(MAX_AUDIT_REFS).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "#{}", r.seq);
    }
    if records.len() > MAX_AUDIT_REFS {
        let _ = write!(s, " … ({})", records.len());
    }
    s
}

fn parse_time(s: &str) -> Option<Timestamp> {
    Timestamp::parse(s).ok()
}

impl<'a> Ctx<'a> {
    fn push(
        &mut self,
        code: FindingCode,
        key: &str,
        severity: Option<Severity>,
        detail: Text,
        records: Vec<RecordRef>,
        departments: Vec<String>,
    ) {
        let mut seen = BTreeSet::new();
        let records: Vec<RecordRef> = records
            .into_iter()
            .filter(|r| seen.insert(r.clone()))
            .collect();
        let departments: Vec<String> = departments
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let (tzh, ten) = code.title();
        let (rzh, ren) = code.remediation();
        self.findings.push(Finding {
            id: if key.is_empty() {
                code.as_str().to_owned()
            } else {
                format!("{}:{key}", code.as_str())
            },
            code,
            severity: severity.unwrap_or(code.default_severity()),
            article: code.article(),
            related_articles: code.related().to_vec(),
            title: Text::new(tzh, ten),
            detail,
            records,
            departments,
            remediation: Text::new(rzh, ren),
        });
    }

    fn datasets(&self) -> Vec<&'a Dataset> {
        let mut v: Vec<&Dataset> = self.inv.datasets().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    fn users(&self) -> Vec<&'a User> {
        let mut v: Vec<&User> = self.inv.users().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    fn with_operators(&self, mut depts: Vec<String>) -> Vec<String> {
        depts.extend(self.operators.iter().cloned());
        depts
    }

    fn original(&self, seq: u64) -> Option<AuditRecord> {
        let a = self.audit?;
        a.records
            .iter()
            .filter_map(AuditRecord::original)
            .find(|r| r.seq == seq)
    }
}

/// An allowed `grant_superadmin` decision: the grantee and the system.
fn superadmin_grant(r: &AuditRecord) -> Option<(&str, &str)> {
    if r.event.kind != DECISION_KIND
        || r.event.action != Some(Action::GrantSuperadmin)
        || !allowed(r)
    {
        return None;
    }
    let system = r
        .event
        .resource
        .as_ref()
        .filter(|x| x.kind == ResourceKind::System)?;
    Some((field_str(r, "grantee")?, system.id.as_str()))
}
