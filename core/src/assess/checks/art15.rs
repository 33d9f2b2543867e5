//! Art. 15: no data is destroyed outside the destruction procedure.

use super::{allowed, audit_ref, field_str, list, rec, Ctx};
use crate::assess::evidence::AuditEvidence;
use crate::assess::{FindingCode, RecordRef, RecordType, Text};
use crate::audit::DECISION_KIND;
use crate::model::Action;
use crate::vault::KeyStatus;
use crate::workflow::{kind, DestructionStatus};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

impl Ctx<'_> {
    /// Art. 15: no data destroyed — no key shredded, no `destroy` allowed, no
    /// execution recorded — outside an approved destruction.
    pub(super) fn destructions(&mut self, a: &AuditEvidence) {
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
}
