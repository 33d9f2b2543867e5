//! Art. 8: the audit log verifies, has no gaps, is backed up and is kept six months.

use super::{audit_ref, field_str, Ctx};
use crate::assess::evidence::{AuditEvidence, BackupState, Integrity, PURGE_KIND};
use crate::assess::{FindingCode, Severity, Text};
use crate::audit::{AuditRecord, Date, RETENTION_MONTHS};
use serde_json::Value;
use std::collections::HashMap;

impl Ctx<'_> {
    /// Art. 8: the log verifies (and still holds the chain a checkpoint names).
    pub(super) fn audit_integrity(&mut self, a: &AuditEvidence) {
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
    pub(super) fn audit_gaps(&mut self, a: &AuditEvidence) {
        let gap_ms = i64::from(self.opts.audit_gap_days) * crate::assess::DAY_MS;
        // The record before each one in its own log (records of several logs are
        // merged in time order, each log numbering its own).
        let mut before: HashMap<&str, &AuditRecord> = HashMap::new();
        for (i, y) in a.records.iter().enumerate() {
            let origin = a.origin(i).unwrap_or_default();
            let same = before.insert(origin, y);
            let Some(x) = i.checked_sub(1).and_then(|p| a.records.get(p)) else {
                continue;
            };
            if let Some(px) = same.filter(|px| y.seq != px.seq + 1) {
                let (key, of) = if origin.is_empty() {
                    (
                        format!("{}-{}", px.seq, y.seq),
                        (String::new(), String::new()),
                    )
                } else {
                    (
                        format!("{origin}:{}-{}", px.seq, y.seq),
                        (format!("（{origin}）"), format!(" of `{origin}`")),
                    )
                };
                self.push(
                    FindingCode::AuditGap,
                    &key,
                    Some(Severity::Critical),
                    Text::new(
                        format!("审计记录{} #{} 与 #{} 之间的记录缺失", of.0, px.seq, y.seq),
                        format!(
                            "the records{} between #{} and #{} are missing",
                            of.1, px.seq, y.seq
                        ),
                    ),
                    vec![audit_ref(px.seq), audit_ref(y.seq)],
                    self.operators.clone(),
                );
            } else if gap_ms > 0 && y.time.unix_millis() - x.time.unix_millis() > gap_ms {
                let days = (y.time.unix_millis() - x.time.unix_millis()) / crate::assess::DAY_MS;
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
                let days = silent / crate::assess::DAY_MS;
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
    pub(super) fn audit_backup(&mut self, a: &AuditEvidence) {
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
    pub(super) fn audit_retention(&mut self, a: &AuditEvidence) {
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
}
