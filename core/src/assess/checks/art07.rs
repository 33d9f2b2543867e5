//! Art. 7 (and 16): data at rest is encrypted under an active data key, and keys rotate.

use super::{audit_ref, field_str, parse_time, rec, Ctx};
use crate::assess::{FindingCode, RecordType, Text};
use crate::model::{PersonalInfo, Stage};
use crate::vault::{KeyStatus, VaultStatus};
use crate::workflow::DestructionStatus;

impl Ctx<'_> {
    pub(super) fn destroyed_by_procedure(&self, dataset: &str) -> bool {
        self.replay.as_ref().is_some_and(|r| {
            r.destructions
                .iter()
                .any(|d| d.dataset == dataset && d.status == DestructionStatus::Executed)
        })
    }

    /// Art. 7, 16: every dataset in the lake has an active data key.
    pub(super) fn encryption(&mut self, v: &VaultStatus) {
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
    pub(super) fn key_rotation(&mut self, v: &VaultStatus) {
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
