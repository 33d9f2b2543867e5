//! Art. 14: every share is reviewed by the provider and none stays open past its term.

use super::{allowed, audit_ref, field_str, rec, Ctx};
use crate::assess::evidence::AuditEvidence;
use crate::assess::{FindingCode, RecordType, Severity, Text};
use crate::audit::DECISION_KIND;
use crate::model::{Action, ShareType, User};
use crate::workflow::{kind, ShareStatus};

impl Ctx<'_> {
    /// Art. 14: every share reviewed by the provider, none open past its term.
    pub(super) fn shares(&mut self, a: &AuditEvidence) {
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
}
