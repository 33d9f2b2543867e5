//! Art. 17: super-administrator rights go to designated staff of the owning department.

use super::{audit_ref, rec, superadmin_grant, Ctx};
use crate::assess::evidence::AuditEvidence;
use crate::assess::{FindingCode, RecordType, Text};
use std::collections::BTreeMap;

impl Ctx<'_> {
    /// Art. 17: super-administrator rights go to designated staff of the owning
    /// department (vendor staff are reported by [`Ctx::vendors`]).
    pub(super) fn superadmin_grants(&mut self, a: &AuditEvidence) {
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
                        .is_some_and(|o| self.inv.is_within(&u.department, o));
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
}
