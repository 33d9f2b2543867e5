//! Art. 10: every dataset is graded, and no uncatalogued dataset is used.

use super::{allowed, audit_ref, rec, seqs, uses_were, Ctx, MAX_AUDIT_REFS, USE_ACTIONS};
use crate::assess::evidence::AuditEvidence;
use crate::assess::{FindingCode, RecordType, Severity, Text};
use crate::audit::AuditRecord;
use crate::model::{PersonalInfo, Stage};
use std::collections::BTreeMap;

impl Ctx<'_> {
    /// Art. 10: every dataset is graded (before it is catalogued).
    pub(super) fn grading(&mut self) {
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

    /// Art. 10: no uncatalogued or unknown dataset is used.
    pub(super) fn datasets_used(&mut self, a: &AuditEvidence) {
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
}
