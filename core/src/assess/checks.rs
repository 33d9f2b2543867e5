//! The checks: each reads the sources and adds findings; none changes anything.

use super::evidence::{AuditEvidence, BackupState, Integrity, PURGE_KIND};
use super::{AssessOptions, Finding, FindingCode, Inputs, RecordRef, RecordType, Severity, Text};
use crate::audit::{AuditRecord, Date, Timestamp, Verdict, DECISION_KIND, RETENTION_MONTHS};
use crate::model::{
    Action, Dataset, DepartmentKind, Inventory, PersonalInfo, ResourceKind, ShareType, Stage, User,
};
use crate::policy::PolicyPack;
use crate::vault::{KeyStatus, VaultStatus};
use crate::workflow::{self, kind, DestructionStatus, Replay, ShareStatus};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
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
        replay: inputs.audit.map(|a| workflow::replay(a.records.iter())),
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

/// Whether `dept` is `root` or below it.
fn within(inv: &Inventory, dept: &str, root: &str) -> bool {
    let mut cur = Some(dept);
    let mut hops = 0;
    while let Some(d) = cur {
        if d == root {
            return true;
        }
        hops += 1;
        if hops > 64 {
            return false;
        }
        cur = inv.department(d).and_then(|d| d.parent.as_deref());
    }
    false
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

    // ----- the inventory -----

    /// Art. 10: every dataset is graded (before it is catalogued).
    fn grading(&mut self) {
        for d in self.datasets() {
            if d.grade.is_some() {
                continue;
            }
            let past = d.stage != Stage::Aggregation;
            let severity =
                (past || d.personal_info == PersonalInfo::Sensitive).then_some(Severity::High);
            self.push(
                FindingCode::UngradedDataset,
                &d.id,
                severity,
                Text::new(
                    format!(
                        "数据集 `{}`（{}）尚未分级，当前处于 {} 阶段{}",
                        d.id,
                        d.name,
                        d.stage,
                        if past { "，已越过汇聚阶段" } else { "" }
                    ),
                    format!(
                        "dataset `{}` ({}) has no grade; it is at the {} stage{}",
                        d.id,
                        d.name,
                        d.stage,
                        if past { ", past aggregation" } else { "" }
                    ),
                ),
                vec![rec(RecordType::Dataset, &d.id)],
                vec![d.owner.clone()],
            );
        }
    }

    /// Art. 5: every user department names a security officer (its own staff; one of
    /// a parent department covers its sub-departments).
    fn security_officers(&mut self) {
        let officer_depts: BTreeSet<&str> = self
            .inv
            .users()
            .filter(|u| u.has_role(OFFICER_ROLE) && !u.is_vendor_staff())
            .map(|u| u.department.as_str())
            .collect();
        let mut depts: Vec<_> = self
            .inv
            .departments()
            .filter(|d| d.kind == DepartmentKind::User)
            .collect();
        depts.sort_by(|a, b| a.id.cmp(&b.id));
        for d in depts {
            let covered = officer_depts.iter().any(|o| within(self.inv, &d.id, o));
            if covered {
                continue;
            }
            let vendor_officers: Vec<&str> = self
                .inv
                .users()
                .filter(|u| u.department == d.id && u.has_role(OFFICER_ROLE) && u.is_vendor_staff())
                .map(|u| u.id.as_str())
                .collect();
            let (zh_extra, en_extra) = if vendor_officers.is_empty() {
                (String::new(), String::new())
            } else {
                (
                    format!("（{} 为供应商人员，不能担任）", list(&vendor_officers)),
                    format!(
                        " ({} is vendor staff and cannot be)",
                        list(&vendor_officers)
                    ),
                )
            };
            let mut records = vec![rec(RecordType::Department, &d.id)];
            records.extend(vendor_officers.iter().map(|u| rec(RecordType::User, *u)));
            self.push(
                FindingCode::NoSecurityOfficer,
                &d.id,
                None,
                Text::new(
                    format!(
                        "使用部门 `{}`（{}）及其上级部门均无数据安全负责人{zh_extra}",
                        d.id, d.name
                    ),
                    format!(
                        "user department `{}` ({}) and its parents name no security officer{en_extra}",
                        d.id, d.name
                    ),
                ),
                records,
                vec![d.id.clone()],
            );
        }
    }

    /// Art. 16, 17: vendor staff hold no super-administrator right and no role beyond
    /// their contract.
    fn vendors(&mut self) {
        // Super-administrator rights granted to vendor staff, as the log records them.
        let mut grants: BTreeMap<&str, Vec<(u64, String)>> = BTreeMap::new();
        if let Some(a) = self.audit {
            for r in &a.records {
                if let Some((grantee, system)) = superadmin_grant(r) {
                    if self.inv.user(grantee).is_some_and(User::is_vendor_staff) {
                        grants
                            .entry(grantee)
                            .or_default()
                            .push((r.seq, system.to_owned()));
                    }
                }
            }
        }
        for u in self.users() {
            let Some(vendor_id) = u.vendor.as_deref() else {
                continue;
            };
            let vendor = self.inv.vendor(vendor_id);
            let mut zh = Vec::new();
            let mut en = Vec::new();
            let mut records = vec![
                rec(RecordType::User, &u.id),
                rec(RecordType::Vendor, vendor_id),
            ];
            if u.designated_admin {
                zh.push("被指定持有最高管理员权限（designated_admin）".to_owned());
                en.push(
                    "is designated to hold top administrator rights (designated_admin)".to_owned(),
                );
            }
            if u.has_role(SUPERADMIN_ROLE) {
                zh.push(format!("持有最高管理员角色 `{SUPERADMIN_ROLE}`"));
                en.push(format!(
                    "holds the super-administrator role `{SUPERADMIN_ROLE}`"
                ));
            }
            for (seq, system) in grants.get(u.id.as_str()).into_iter().flatten() {
                zh.push(format!(
                    "审计记录 #{seq} 显示其被授予系统 `{system}` 的最高管理员权限"
                ));
                en.push(format!(
                    "was granted a super-administrator right on system `{system}` (audit record #{seq})"
                ));
                records.push(rec(RecordType::System, system));
                records.push(audit_ref(*seq));
            }
            if !zh.is_empty() {
                self.push(
                    FindingCode::VendorSuperadmin,
                    &u.id,
                    None,
                    Text::new(
                        format!(
                            "供应商人员 `{}`（{}，供应商 `{vendor_id}`）{}",
                            u.id,
                            u.name,
                            zh.join("；")
                        ),
                        format!(
                            "vendor staff `{}` ({}, vendor `{vendor_id}`) {}",
                            u.id,
                            u.name,
                            en.join("; ")
                        ),
                    ),
                    records,
                    vec![u.department.clone()],
                );
            }
            let contract = vendor.and_then(|v| v.contract_roles.as_ref());
            let beyond: Vec<&str> = u
                .roles
                .iter()
                .map(String::as_str)
                .filter(|r| *r != SUPERADMIN_ROLE)
                .filter(|r| {
                    RESERVED_ROLES.contains(r)
                        || contract.is_some_and(|c| !c.iter().any(|x| x == r))
                })
                .collect();
            if !beyond.is_empty() {
                let scope = match contract {
                    Some(c) => (
                        format!(
                            "合同约定的角色为 {}",
                            if c.is_empty() {
                                "（无）".to_owned()
                            } else {
                                list(c)
                            }
                        ),
                        format!(
                            "the contract covers {}",
                            if c.is_empty() {
                                "no role".to_owned()
                            } else {
                                list(c)
                            }
                        ),
                    ),
                    None => (
                        "这些角色只能由本部门人员担任".to_owned(),
                        "these roles belong to the department's own staff".to_owned(),
                    ),
                };
                self.push(
                    FindingCode::VendorBeyondContract,
                    &u.id,
                    None,
                    Text::new(
                        format!(
                            "供应商人员 `{}`（供应商 `{vendor_id}`）持有角色 {}；{}",
                            u.id,
                            list(&beyond),
                            scope.0
                        ),
                        format!(
                            "vendor staff `{}` (vendor `{vendor_id}`) hold the roles {}; {}",
                            u.id,
                            list(&beyond),
                            scope.1
                        ),
                    ),
                    vec![
                        rec(RecordType::User, &u.id),
                        rec(RecordType::Vendor, vendor_id),
                    ],
                    vec![u.department.clone()],
                );
            }
        }
        let mut vendors: Vec<_> = self.inv.vendors().collect();
        vendors.sort_by(|a, b| a.id.cmp(&b.id));
        for v in vendors {
            if v.contract_roles.is_some() {
                continue;
            }
            let staff: Vec<&User> = self
                .users()
                .into_iter()
                .filter(|u| u.vendor.as_deref() == Some(v.id.as_str()) && !u.roles.is_empty())
                .collect();
            if staff.is_empty() {
                continue;
            }
            let ids: Vec<&str> = staff.iter().map(|u| u.id.as_str()).collect();
            let mut records = vec![rec(RecordType::Vendor, &v.id)];
            records.extend(ids.iter().map(|u| rec(RecordType::User, *u)));
            self.push(
                FindingCode::VendorContractUnrecorded,
                &v.id,
                None,
                Text::new(
                    format!(
                        "供应商 `{}`（{}）未登记合同约定的角色范围，其人员 {} 持有角色",
                        v.id,
                        v.name,
                        list(&ids)
                    ),
                    format!(
                        "vendor `{}` ({}) has no contract_roles recorded, and its staff {} hold roles",
                        v.id,
                        v.name,
                        list(&ids)
                    ),
                ),
                records,
                staff.iter().map(|u| u.department.clone()).collect(),
            );
        }
    }

    // ----- the audit log -----

    /// Art. 8: the log verifies (and still holds the chain a checkpoint names).
    fn audit_integrity(&mut self, a: &AuditEvidence) {
        match &a.integrity {
            Integrity::Broken { seq, message } => {
                let read = a.records.last().map_or(0, |r| r.seq);
                self.push(
                    FindingCode::AuditChainBroken,
                    &seq.to_string(),
                    None,
                    Text::new(
                        format!(
                            "审计日志在记录 #{seq} 处校验失败：{message}；其后的记录未被评估（已读至 #{read}）"
                        ),
                        format!(
                            "the audit log fails verification at record #{seq}: {message}; the records after it were not assessed (read up to #{read})"
                        ),
                    ),
                    vec![audit_ref(*seq)],
                    self.operators.clone(),
                );
            }
            Integrity::Intact(report) => {
                if let Some(t) = &report.torn_tail {
                    self.push(
                        FindingCode::AuditTornTail,
                        &t.first_lost_seq.to_string(),
                        None,
                        Text::new(
                            format!(
                                "审计日志第 {} 段在偏移 {} 处以不完整的记录结束（本应为 #{}）：{}",
                                t.segment, t.offset, t.first_lost_seq, t.reason
                            ),
                            format!(
                                "segment {} of the audit log ends in an incomplete record at offset {} (it would have been #{}): {}",
                                t.segment, t.offset, t.first_lost_seq, t.reason
                            ),
                        ),
                        Vec::new(),
                        self.operators.clone(),
                    );
                }
            }
        }
    }

    /// Art. 8: no records missing between two, and no long silence.
    fn audit_gaps(&mut self, a: &AuditEvidence) {
        let gap_ms = i64::from(self.opts.audit_gap_days) * super::DAY_MS;
        for w in a.records.windows(2) {
            let (x, y) = (&w[0], &w[1]);
            if y.seq != x.seq + 1 {
                self.push(
                    FindingCode::AuditGap,
                    &format!("{}-{}", x.seq, y.seq),
                    Some(Severity::Critical),
                    Text::new(
                        format!("审计记录 #{} 与 #{} 之间的记录缺失", x.seq, y.seq),
                        format!("the records between #{} and #{} are missing", x.seq, y.seq),
                    ),
                    vec![audit_ref(x.seq), audit_ref(y.seq)],
                    self.operators.clone(),
                );
            } else if gap_ms > 0 && y.time.unix_millis() - x.time.unix_millis() > gap_ms {
                let days = (y.time.unix_millis() - x.time.unix_millis()) / super::DAY_MS;
                self.push(
                    FindingCode::AuditGap,
                    &format!("{}-{}", x.seq, y.seq),
                    None,
                    Text::new(
                        format!(
                            "审计记录 #{}（{}）与 #{}（{}）之间 {days} 天无任何记录",
                            x.seq,
                            x.time.date(),
                            y.seq,
                            y.time.date()
                        ),
                        format!(
                            "nothing was recorded for {days} days between record #{} ({}) and #{} ({})",
                            x.seq,
                            x.time.date(),
                            y.seq,
                            y.time.date()
                        ),
                    ),
                    vec![audit_ref(x.seq), audit_ref(y.seq)],
                    self.operators.clone(),
                );
            }
        }
        if let (Some(last), Integrity::Intact(_)) = (a.records.last(), &a.integrity) {
            let silent = self.opts.now.unix_millis() - last.time.unix_millis();
            if gap_ms > 0 && silent > gap_ms {
                let days = silent / super::DAY_MS;
                self.push(
                    FindingCode::AuditGap,
                    &format!("{}-now", last.seq),
                    None,
                    Text::new(
                        format!(
                            "最后一条审计记录 #{}（{}）之后 {days} 天无任何记录",
                            last.seq,
                            last.time.date()
                        ),
                        format!(
                            "nothing was recorded for {days} days since the last record #{} ({})",
                            last.seq,
                            last.time.date()
                        ),
                    ),
                    vec![audit_ref(last.seq)],
                    self.operators.clone(),
                );
            }
        }
    }

    /// Art. 8: a verified backup within the period, which still verifies.
    fn audit_backup(&mut self, a: &AuditEvidence) {
        let due = self.opts.days_ago(self.opts.backup_max_age_days);
        let purged = matches!(&a.integrity, Integrity::Intact(r) if r.purged_through.is_some());
        let old_enough = purged || a.records.first().is_some_and(|r| r.time < due);
        let days = self.opts.backup_max_age_days;
        match &a.backup {
            Some(b) if b.time >= due => {}
            Some(b) if old_enough => self.push(
                FindingCode::AuditBackupOverdue,
                "",
                None,
                Text::new(
                    format!(
                        "最近一次审计日志备份（记录 #{}，{}）距今已超过 {days} 天",
                        b.seq,
                        b.time.date()
                    ),
                    format!(
                        "the latest backup of the audit log (record #{}, {}) is more than {days} days old",
                        b.seq,
                        b.time.date()
                    ),
                ),
                vec![audit_ref(b.seq)],
                self.operators.clone(),
            ),
            None if old_enough => self.push(
                FindingCode::AuditBackupOverdue,
                "",
                None,
                Text::new(
                    format!(
                        "审计日志没有任何备份记录，而其记录早于 {days} 天前"
                    ),
                    format!(
                        "the audit log records no backup, and it holds records older than {days} days"
                    ),
                ),
                Vec::new(),
                self.operators.clone(),
            ),
            _ => {}
        }
        if let Some(b) = &a.backup {
            if let BackupState::Failed { message } = &b.state {
                self.push(
                    FindingCode::AuditBackupUnverifiable,
                    &b.seq.to_string(),
                    None,
                    Text::new(
                        format!(
                            "最近一次备份 `{}`（记录 #{}，{}）现已无法通过校验：{message}",
                            b.dest,
                            b.seq,
                            b.time.date()
                        ),
                        format!(
                            "the latest backup `{}` (record #{}, {}) no longer verifies: {message}",
                            b.dest,
                            b.seq,
                            b.time.date()
                        ),
                    ),
                    vec![audit_ref(b.seq)],
                    self.operators.clone(),
                );
            }
        }
    }

    /// Art. 8: nothing younger than six calendar months was purged.
    fn audit_retention(&mut self, a: &AuditEvidence) {
        let purges: Vec<&AuditRecord> = a
            .records
            .iter()
            .filter(|r| r.event.kind == PURGE_KIND)
            .collect();
        for r in &purges {
            let Some(before) = field_str(r, "before").and_then(|s| Date::parse(s).ok()) else {
                continue;
            };
            let floor = r.time.date().minus_months(RETENTION_MONTHS);
            if before > floor {
                self.push(
                    FindingCode::AuditRetentionBreach,
                    &format!("purge-{}", r.seq),
                    None,
                    Text::new(
                        format!(
                            "{} 的清除（记录 #{}）删除了 {before} 之前的记录，而当时只允许清除 {floor} 之前的记录",
                            r.time.date(),
                            r.seq
                        ),
                        format!(
                            "the purge of {} (record #{}) removed records before {before}, when only records before {floor} could go",
                            r.time.date(),
                            r.seq
                        ),
                    ),
                    vec![audit_ref(r.seq)],
                    self.operators.clone(),
                );
            }
        }
        if let Integrity::Intact(report) = &a.integrity {
            if let Some(p) = report.purged_through {
                let recorded = purges
                    .iter()
                    .filter_map(|r| r.event.fields.get("through_seq").and_then(Value::as_u64))
                    .max();
                if recorded.is_none_or(|t| p > t) {
                    self.push(
                        FindingCode::AuditRetentionBreach,
                        "horizon",
                        None,
                        Text::new(
                            format!(
                                "记录 #{p} 及之前的记录已被移除，但日志中没有相应的清除记录"
                            ),
                            format!(
                                "the records up to #{p} are gone, but the log records no purge that removed them"
                            ),
                        ),
                        Vec::new(),
                        self.operators.clone(),
                    );
                }
            }
        }
    }

    /// Art. 10: no uncatalogued or unknown dataset is used.
    fn datasets_used(&mut self, a: &AuditEvidence) {
        let mut uses: BTreeMap<&str, Vec<&AuditRecord>> = BTreeMap::new();
        for r in &a.records {
            if !allowed(r) || !r.event.action.is_some_and(|x| USE_ACTIONS.contains(&x)) {
                continue;
            }
            if let Some(d) = r.dataset() {
                uses.entry(d).or_default().push(r);
            }
        }
        for (id, recs) in uses {
            let mut records = vec![rec(RecordType::Dataset, id)];
            records.extend(recs.iter().take(MAX_AUDIT_REFS).map(|r| audit_ref(r.seq)));
            let (first, last) = (recs[0].time.date(), recs[recs.len() - 1].time.date());
            match self.inv.dataset(id) {
                None => {
                    let depts = recs
                        .iter()
                        .filter_map(|r| r.event.department.clone())
                        .collect();
                    self.push(
                        FindingCode::UnknownDatasetUsed,
                        id,
                        None,
                        Text::new(
                            format!(
                                "清单中没有数据集 `{id}`，但 {first} 至 {last} 间有 {} 次允许的使用（{}）",
                                recs.len(),
                                seqs(&recs)
                            ),
                            format!(
                                "the inventory holds no dataset `{id}`, yet {} allowed {} of it recorded from {first} to {last} ({})",
                                recs.len(),
                                uses_were(recs.len()),
                                seqs(&recs)
                            ),
                        ),
                        records,
                        depts,
                    );
                }
                Some(d) if !d.cataloged => {
                    self.push(
                        FindingCode::UncataloguedDatasetUsed,
                        id,
                        None,
                        Text::new(
                            format!(
                                "数据集 `{id}`（{}）未编目，但 {first} 至 {last} 间有 {} 次允许的使用（{}）",
                                d.name,
                                recs.len(),
                                seqs(&recs)
                            ),
                            format!(
                                "dataset `{id}` ({}) is not catalogued, yet {} allowed {} of it recorded from {first} to {last} ({})",
                                d.name,
                                recs.len(),
                                uses_were(recs.len()),
                                seqs(&recs)
                            ),
                        ),
                        records,
                        vec![d.owner.clone()],
                    );
                }
                Some(_) => {}
            }
        }
    }

    /// Art. 17: super-administrator rights go to designated staff of the owning
    /// department (vendor staff are reported by [`Ctx::vendors`]).
    fn superadmin_grants(&mut self, a: &AuditEvidence) {
        let mut latest: BTreeMap<(String, String), u64> = BTreeMap::new();
        for r in &a.records {
            if let Some((grantee, system)) = superadmin_grant(r) {
                latest.insert((grantee.to_owned(), system.to_owned()), r.seq);
            }
        }
        for ((grantee, system), seq) in latest {
            let owner = self.inv.system(&system).map(|s| s.owner.clone());
            let (zh, en, depts) = match self.inv.user(&grantee) {
                Some(u) if u.is_vendor_staff() => continue,
                Some(u) => {
                    let in_owner = owner
                        .as_deref()
                        .is_some_and(|o| within(self.inv, &u.department, o));
                    if u.designated_admin && in_owner {
                        continue;
                    }
                    let why = match (u.designated_admin, in_owner) {
                        (false, true) => (
                            "未被指定为专人",
                            "is not designated (designated_admin is false)",
                        ),
                        (true, false) => (
                            "不属于系统所属部门",
                            "is not staff of the system's owning department",
                        ),
                        _ => (
                            "既未被指定为专人，也不属于系统所属部门",
                            "is neither designated nor staff of the system's owning department",
                        ),
                    };
                    (
                        format!("`{grantee}` {}", why.0),
                        format!("`{grantee}` {}", why.1),
                        vec![u.department.clone()],
                    )
                }
                None => (
                    format!("清单中没有用户 `{grantee}`"),
                    format!("the inventory holds no user `{grantee}`"),
                    Vec::new(),
                ),
            };
            let mut depts = depts;
            depts.extend(owner);
            self.push(
                FindingCode::SuperadminNotDesignated,
                &format!("{grantee}:{system}"),
                None,
                Text::new(
                    format!("审计记录 #{seq} 显示系统 `{system}` 的最高管理员权限被授予 `{grantee}`，但 {zh}"),
                    format!(
                        "a super-administrator right on system `{system}` was granted to `{grantee}` (audit record #{seq}), but {en}"
                    ),
                ),
                vec![rec(RecordType::User, &grantee), rec(RecordType::System, &system), audit_ref(seq)],
                depts,
            );
        }
    }

    // ----- the procedures -----

    fn original(&self, seq: u64) -> Option<AuditRecord> {
        let a = self.audit?;
        a.records
            .iter()
            .filter_map(AuditRecord::original)
            .find(|r| r.seq == seq)
    }

    /// Art. 14: every share reviewed by the provider, none open past its term.
    fn shares(&mut self, a: &AuditEvidence) {
        let Some(replay) = self.replay.take() else {
            return;
        };
        let now = self.opts.now;
        for s in &replay.shares {
            let mut depts = vec![s.provider.clone(), s.recipient_department.clone()];
            depts.extend(self.inv.dataset(&s.dataset).map(|d| d.owner.clone()));
            let open = matches!(s.status, ShareStatus::Approved | ShareStatus::Provisioned);
            if !open {
                continue;
            }
            let mut records = vec![
                rec(RecordType::Share, &s.id),
                rec(RecordType::Dataset, &s.dataset),
            ];
            if let Some(ap) = &s.approval {
                records.push(audit_ref(ap.seq));
            }
            if let Some(p) = &s.provisioned {
                records.push(audit_ref(p.seq));
            }
            let now_type = self.inv.dataset(&s.dataset).map(|d| d.share_type);
            let problem = match s.approval.as_ref().and_then(|ap| ap.approver.as_deref()) {
                None if now_type != Some(ShareType::Unconditional) => Some((
                    format!(
                        "共享申请 `{}`（数据集 `{}`）按无条件共享未经审核即获批准，但该数据集现为{}",
                        s.id,
                        s.dataset,
                        now_type.map_or("清单之外的数据".to_owned(), |t| format!("“{t}”共享类型"))
                    ),
                    format!(
                        "sharing request `{}` (dataset `{}`) was approved without review as unconditional data, but the dataset is now {}",
                        s.id,
                        s.dataset,
                        now_type.map_or("missing from the inventory".to_owned(), |t| format!("of share type `{t}`"))
                    ),
                    if now_type == Some(ShareType::None) { Severity::High } else { Severity::Medium },
                )),
                Some(by) if self.inv.user(by).is_none_or(User::is_vendor_staff) => {
                    records.push(rec(RecordType::User, by));
                    Some((
                        format!(
                            "共享申请 `{}`（数据集 `{}`）由 `{by}` 审核，其为供应商人员或不在清单中",
                            s.id, s.dataset
                        ),
                        format!(
                            "sharing request `{}` (dataset `{}`) was reviewed by `{by}`, who is vendor staff or not in the inventory",
                            s.id, s.dataset
                        ),
                        Severity::High,
                    ))
                }
                _ => None,
            };
            if let Some((zh, en, sev)) = problem {
                self.push(
                    FindingCode::ShareWithoutReview,
                    &s.id,
                    Some(sev),
                    Text::new(zh, en),
                    records.clone(),
                    depts.clone(),
                );
            }
            if now >= s.until {
                self.push(
                    FindingCode::SharePastTerm,
                    &s.id,
                    None,
                    Text::new(
                        format!(
                            "共享申请 `{}`（数据集 `{}`，接收部门 `{}`）已于 {} 到期，但仍为“{}”状态，未终止或撤销",
                            s.id,
                            s.dataset,
                            s.recipient_department,
                            s.until.date(),
                            s.status
                        ),
                        format!(
                            "sharing request `{}` (dataset `{}`, to `{}`) ended on {} but is still {}: never expired or revoked",
                            s.id,
                            s.dataset,
                            s.recipient_department,
                            s.until.date(),
                            s.status
                        ),
                    ),
                    records,
                    depts,
                );
            }
        }
        // Records the procedure could not apply.
        for sk in &replay.report.skipped {
            let Some(r) = self.original(sk.seq) else {
                continue;
            };
            let dataset = r.dataset().map(str::to_owned);
            let request = field_str(&r, "request").map(str::to_owned);
            let mut records = vec![audit_ref(sk.seq)];
            records.extend(dataset.iter().map(|d| rec(RecordType::Dataset, d)));
            let mut depts: Vec<String> = dataset
                .as_deref()
                .and_then(|d| self.inv.dataset(d))
                .map(|d| d.owner.clone())
                .into_iter()
                .collect();
            depts.extend(r.event.department.clone());
            let about = request.as_deref().unwrap_or("?");
            if sk.kind == kind::SHARING_APPROVED || sk.kind == kind::SHARING_PROVISIONED {
                if let Some(share) = request
                    .as_ref()
                    .and_then(|req| replay.shares.iter().find(|s| &s.id == req))
                {
                    records.push(rec(RecordType::Share, &share.id));
                    depts.push(share.provider.clone());
                    depts.push(share.recipient_department.clone());
                }
                self.push(
                    FindingCode::ShareWithoutReview,
                    &format!("record-{}", sk.seq),
                    None,
                    Text::new(
                        format!(
                            "审计记录 #{}（{}，申请 `{about}`）不符合共享流程：{}",
                            sk.seq, sk.kind, sk.reason
                        ),
                        format!(
                            "audit record #{} ({}, request `{about}`) does not follow the sharing procedure: {}",
                            sk.seq, sk.kind, sk.reason
                        ),
                    ),
                    records,
                    depts,
                );
            } else if sk.kind != kind::DESTRUCTION_EXECUTED {
                let code = if sk.kind.starts_with("destruction.") {
                    FindingCode::DestructionRecordUnfit
                } else {
                    FindingCode::SharingRecordUnfit
                };
                self.push(
                    code,
                    &sk.seq.to_string(),
                    None,
                    Text::new(
                        format!(
                            "审计记录 #{}（{}，申请 `{about}`）无法按流程重建：{}",
                            sk.seq, sk.kind, sk.reason
                        ),
                        format!(
                            "audit record #{} ({}, request `{about}`) does not fit the procedure: {}",
                            sk.seq, sk.kind, sk.reason
                        ),
                    ),
                    records,
                    depts,
                );
            }
        }
        // `share` decisions that cite no approval of the procedure.
        for r in &a.records {
            if r.event.kind != DECISION_KIND || r.event.action != Some(Action::Share) || !allowed(r)
            {
                continue;
            }
            let Some(d) = r.dataset() else { continue };
            let share_type = self.inv.dataset(d).map(|x| x.share_type);
            if share_type == Some(ShareType::Unconditional) {
                continue;
            }
            // A share the procedure knows is judged above, by its review.
            let approval = field_str(r, "approval");
            let known = approval.is_some_and(|ap| {
                replay
                    .shares
                    .iter()
                    .any(|s| s.dataset == d && s.approval.as_ref().is_some_and(|x| x.id == ap))
            });
            if known {
                continue;
            }
            let user = r.event.user.clone().unwrap_or_default();
            let mut depts: Vec<String> = self
                .inv
                .dataset(d)
                .map(|x| x.owner.clone())
                .into_iter()
                .collect();
            depts.extend(r.event.department.clone());
            self.push(
                FindingCode::ShareWithoutReview,
                &format!("record-{}", r.seq),
                None,
                Text::new(
                    format!(
                        "审计记录 #{} 允许 `{user}` 共享数据集 `{d}`，但其未引用经提供部门审核的共享批准{}",
                        r.seq,
                        approval.map(|x| format!("（所引用的 `{x}` 无效）")).unwrap_or_default()
                    ),
                    format!(
                        "audit record #{} allowed `{user}` to share dataset `{d}` without citing an approval reviewed by the provider{}",
                        r.seq,
                        approval.map(|x| format!(" (`{x}` is not one)")).unwrap_or_default()
                    ),
                ),
                vec![audit_ref(r.seq), rec(RecordType::Dataset, d), rec(RecordType::User, user)],
                depts,
            );
        }
        self.replay = Some(replay);
    }

    /// Art. 15: no data destroyed — no key shredded, no `destroy` allowed, no
    /// execution recorded — outside an approved destruction.
    fn destructions(&mut self, a: &AuditEvidence) {
        let Some(replay) = self.replay.take() else {
            return;
        };
        #[derive(Default)]
        struct Evidence {
            records: Vec<RecordRef>,
            zh: Vec<String>,
            en: Vec<String>,
        }
        let mut by_dataset: BTreeMap<String, Evidence> = BTreeMap::new();
        let executed_keys = |d: &str| -> BTreeSet<&str> {
            replay
                .destructions
                .iter()
                .filter(|x| x.dataset == d && x.status == DestructionStatus::Executed)
                .filter_map(|x| x.execution.as_ref())
                .flat_map(|e| e.key_ids.iter().map(String::as_str))
                .collect()
        };
        for sk in &replay.report.skipped {
            if sk.kind != kind::DESTRUCTION_EXECUTED {
                continue;
            }
            let Some(r) = self.original(sk.seq) else {
                continue;
            };
            let Some(d) = r.dataset() else { continue };
            let e = by_dataset.entry(d.to_owned()).or_default();
            e.records.push(audit_ref(sk.seq));
            if let Some(req) = field_str(&r, "request") {
                if replay.destructions.iter().any(|x| x.id == req) {
                    e.records.push(rec(RecordType::Destruction, req));
                }
            }
            e.zh.push(format!(
                "审计记录 #{} 记载了一次未经批准的销毁执行（{}）",
                sk.seq, sk.reason
            ));
            e.en.push(format!(
                "audit record #{} records an execution without approval ({})",
                sk.seq, sk.reason
            ));
        }
        for r in &a.records {
            let Some(d) = r.dataset() else { continue };
            if r.event.kind == DECISION_KIND
                && r.event.action == Some(Action::Destroy)
                && allowed(r)
            {
                let approval = field_str(r, "approval");
                let approved = approval.is_some_and(|ap| {
                    replay.destructions.iter().any(|x| {
                        x.dataset == d
                            && matches!(
                                x.status,
                                DestructionStatus::Approved | DestructionStatus::Executed
                            )
                            && x.approval.as_ref().is_some_and(|y| y.id == ap)
                    })
                });
                if !approved {
                    let e = by_dataset.entry(d.to_owned()).or_default();
                    e.records.push(audit_ref(r.seq));
                    let user = r.event.user.as_deref().unwrap_or("?");
                    e.zh.push(format!(
                        "审计记录 #{} 允许 `{user}` 在无有效销毁批准的情况下销毁",
                        r.seq
                    ));
                    e.en.push(format!(
                        "audit record #{} allowed `{user}` to destroy it without an approved destruction",
                        r.seq
                    ));
                }
            } else if r.event.kind == "key.shred" {
                let keys: Vec<&str> = r
                    .event
                    .fields
                    .get("key_ids")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let done = executed_keys(d);
                let outside: Vec<&str> = keys.into_iter().filter(|k| !done.contains(k)).collect();
                if !outside.is_empty() {
                    let e = by_dataset.entry(d.to_owned()).or_default();
                    e.records.push(audit_ref(r.seq));
                    e.records
                        .extend(outside.iter().map(|k| rec(RecordType::Key, *k)));
                    let user = r.event.user.as_deref().unwrap_or("?");
                    e.zh.push(format!(
                        "审计记录 #{} 显示 `{user}` 在销毁流程之外粉碎了数据密钥 {}",
                        r.seq,
                        list(&outside)
                    ));
                    e.en.push(format!(
                        "audit record #{} shows `{user}` shredding the data keys {} outside the destruction procedure",
                        r.seq,
                        list(&outside)
                    ));
                }
            }
        }
        if let Some(v) = self.vault {
            for k in v.keys.iter().filter(|k| k.status == KeyStatus::Destroyed) {
                if executed_keys(&k.dataset).contains(k.id.as_str()) {
                    continue;
                }
                let e = by_dataset.entry(k.dataset.clone()).or_default();
                let key = rec(RecordType::Key, &k.id);
                if e.records.contains(&key) {
                    continue;
                }
                e.records.push(key);
                let when = k.destroyed.as_deref().unwrap_or("?");
                let by = k.destroyed_by.as_deref().unwrap_or("?");
                e.zh.push(format!(
                    "密钥库中的数据密钥 `{}` 已于 {when} 被 `{by}` 销毁，但没有对应的已执行销毁记录",
                    k.id
                ));
                e.en.push(format!(
                    "data key `{}` was destroyed by `{by}` at {when} with no executed destruction to account for it",
                    k.id
                ));
            }
        }
        for (d, e) in by_dataset {
            let mut records = vec![rec(RecordType::Dataset, &d)];
            records.extend(e.records);
            let depts = self
                .inv
                .dataset(&d)
                .map(|x| x.owner.clone())
                .into_iter()
                .collect();
            self.push(
                FindingCode::DestructionWithoutApproval,
                &d,
                None,
                Text::new(
                    format!("数据集 `{d}`：{}", e.zh.join("；")),
                    format!("dataset `{d}`: {}", e.en.join("; ")),
                ),
                records,
                depts,
            );
        }
        self.replay = Some(replay);
    }

    /// Art. 3(3): roles and grants that no allowed decision used in the window.
    fn unused_permissions(&mut self, a: &AuditEvidence) {
        let start = self.opts.days_ago(self.opts.unused_window_days);
        let days = self.opts.unused_window_days;
        let first = a.records.first().map(|r| r.time);
        let broken = matches!(a.integrity, Integrity::Broken { .. });
        if broken || first.is_none_or(|t| t > start) {
            let since = first.map_or("—".to_owned(), |t| t.date().to_string());
            self.push(
                FindingCode::UnusedWindowUncovered,
                "",
                None,
                Text::new(
                    if broken {
                        format!("审计日志未能完整读取，未评估最近 {days} 天的权限使用情况")
                    } else {
                        format!("审计日志最早的记录为 {since}，未覆盖最近 {days} 天，未评估权限使用情况")
                    },
                    if broken {
                        format!("the audit log could not be read to its end: the use of permissions over the last {days} days was not assessed")
                    } else {
                        format!("the audit log begins on {since} and does not cover the last {days} days: the use of permissions was not assessed")
                    },
                ),
                Vec::new(),
                self.operators.clone(),
            );
            return;
        }
        let mut used: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut active: BTreeSet<&str> = BTreeSet::new();
        for r in &a.records {
            if r.time < start || !allowed(r) {
                continue;
            }
            if let Some(u) = r.event.user.as_deref() {
                active.insert(u);
                used.entry(u)
                    .or_default()
                    .extend(r.event.policies.iter().map(String::as_str));
            }
        }
        let permits: Vec<(&str, &str)> = self
            .pack
            .policies()
            .iter()
            .filter(|p| !p.is_forbid())
            .map(|p| (p.id(), p.text()))
            .collect();
        let naming = |role: &str| -> BTreeSet<&str> {
            let quoted = format!("\"{role}\"");
            permits
                .iter()
                .filter(|(_, text)| text.contains(&quoted))
                .map(|(id, _)| *id)
                .collect()
        };
        let empty = BTreeSet::new();
        for u in self.users() {
            let mine = used.get(u.id.as_str()).unwrap_or(&empty);
            let unused: Vec<&str> = u
                .roles
                .iter()
                .map(String::as_str)
                .filter(|r| {
                    let grants = naming(r);
                    !grants.is_empty() && grants.is_disjoint(mine)
                })
                .collect();
            if unused.is_empty() {
                continue;
            }
            self.push(
                FindingCode::UnusedRole,
                &u.id,
                None,
                Text::new(
                    format!(
                        "`{}`（{}）最近 {days} 天内没有任何经角色 {} 授权的允许操作",
                        u.id,
                        u.name,
                        list(&unused)
                    ),
                    format!(
                        "no allowed decision in the last {days} days drew on the roles {} of `{}` ({})",
                        list(&unused),
                        u.id,
                        u.name
                    ),
                ),
                vec![rec(RecordType::User, &u.id)],
                vec![u.department.clone()],
            );
        }
        let mut grants: BTreeMap<(&str, &str), u64> = BTreeMap::new();
        for r in &a.records {
            if let Some(g) = superadmin_grant(r) {
                grants.insert(g, r.seq);
            }
        }
        for ((grantee, system), seq) in grants {
            let Some(u) = self.inv.user(grantee) else {
                continue;
            };
            if u.is_vendor_staff() || active.contains(grantee) {
                continue;
            }
            let mut depts = vec![u.department.clone()];
            depts.extend(self.inv.system(system).map(|s| s.owner.clone()));
            self.push(
                FindingCode::UnusedGrant,
                &format!("{grantee}:{system}"),
                None,
                Text::new(
                    format!(
                        "`{grantee}` 被授予系统 `{system}` 的最高管理员权限（记录 #{seq}），但最近 {days} 天内没有任何允许的操作"
                    ),
                    format!(
                        "`{grantee}` holds a super-administrator right on system `{system}` (record #{seq}) but had no allowed decision in the last {days} days"
                    ),
                ),
                vec![rec(RecordType::User, grantee), rec(RecordType::System, system), audit_ref(seq)],
                depts,
            );
        }
    }

    // ----- the vault -----

    fn destroyed_by_procedure(&self, dataset: &str) -> bool {
        self.replay.as_ref().is_some_and(|r| {
            r.destructions
                .iter()
                .any(|d| d.dataset == dataset && d.status == DestructionStatus::Executed)
        })
    }

    /// Art. 7, 16: every dataset in the lake has an active data key.
    fn encryption(&mut self, v: &VaultStatus) {
        for d in self.datasets() {
            let keys: Vec<_> = v.keys.iter().filter(|k| k.dataset == d.id).collect();
            if keys.iter().any(|k| k.status == KeyStatus::Active) {
                continue;
            }
            let shredded = keys.iter().any(|k| k.status == KeyStatus::Destroyed);
            if shredded || d.stage == Stage::Destruction || self.destroyed_by_procedure(&d.id) {
                // Destroyed data needs no key; a shred outside the procedure is
                // reported by the destruction check.
                continue;
            }
            let in_lake = matches!(
                d.stage,
                Stage::Storage | Stage::UseProcessing | Stage::Sharing | Stage::Transmission
            );
            let code = if d.personal_info == PersonalInfo::Sensitive {
                FindingCode::SensitiveDataUnencrypted
            } else if d.grade.is_some() && in_lake {
                FindingCode::DataUnencrypted
            } else {
                continue;
            };
            let grade = d.grade.map_or("未分级".to_owned(), |g| g.to_string());
            let grade_en = d.grade.map_or("ungraded".to_owned(), |g| g.to_string());
            self.push(
                code,
                &d.id,
                None,
                Text::new(
                    format!(
                        "数据集 `{}`（{}，{grade}，个人信息：{}）在密钥库中没有有效的数据密钥",
                        d.id, d.name, d.personal_info
                    ),
                    format!(
                        "dataset `{}` ({}, {grade_en}, personal information: {}) has no active data key in the vault",
                        d.id, d.name, d.personal_info
                    ),
                ),
                vec![rec(RecordType::Dataset, &d.id)],
                self.with_operators(vec![d.owner.clone()]),
            );
        }
    }

    /// Art. 7: data keys and the master key rotated within the period.
    fn key_rotation(&mut self, v: &VaultStatus) {
        let due = self.opts.days_ago(self.opts.key_rotation_days);
        let days = self.opts.key_rotation_days;
        let mut keys: Vec<_> = v
            .keys
            .iter()
            .filter(|k| k.status == KeyStatus::Active)
            .collect();
        keys.sort_by(|a, b| a.dataset.cmp(&b.dataset).then(a.id.cmp(&b.id)));
        for k in keys {
            let Some(created) = parse_time(&k.created) else {
                continue;
            };
            if created >= due {
                continue;
            }
            let owner: Vec<String> = self
                .inv
                .dataset(&k.dataset)
                .map(|d| d.owner.clone())
                .into_iter()
                .collect();
            self.push(
                FindingCode::KeyNotRotated,
                &k.id,
                None,
                Text::new(
                    format!(
                        "数据集 `{}` 的数据密钥 `{}`（第 {} 版）生成于 {}，超过 {days} 天未轮换",
                        k.dataset,
                        k.id,
                        k.version,
                        created.date()
                    ),
                    format!(
                        "data key `{}` (version {}) of dataset `{}` was made on {} and not rotated for more than {days} days",
                        k.id,
                        k.version,
                        k.dataset,
                        created.date()
                    ),
                ),
                vec![rec(RecordType::Key, &k.id), rec(RecordType::Dataset, &k.dataset)],
                self.with_operators(owner),
            );
        }
        let Some(a) = self.audit else { return };
        let made = a.records.iter().rev().find(|r| {
            (r.event.kind == "key.init_store" || r.event.kind == "key.rotate_master_key")
                && field_str(r, "master_key_id") == Some(v.master_key_id.as_str())
        });
        if let Some(r) = made {
            if r.time < due {
                self.push(
                    FindingCode::MasterKeyNotRotated,
                    &v.master_key_id,
                    None,
                    Text::new(
                        format!(
                            "主密钥 `{}` 自 {}（记录 #{}）起使用至今，超过 {days} 天未轮换",
                            v.master_key_id,
                            r.time.date(),
                            r.seq
                        ),
                        format!(
                            "master key `{}` has sealed the key store since {} (record #{}), more than {days} days without rotation",
                            v.master_key_id,
                            r.time.date(),
                            r.seq
                        ),
                    ),
                    vec![audit_ref(r.seq)],
                    self.operators.clone(),
                );
            }
        }
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
