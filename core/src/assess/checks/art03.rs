//! Art. 3(3): roles and grants that no allowed decision used in the assessment window.

use super::{allowed, audit_ref, list, rec, superadmin_grant, Ctx};
use crate::assess::evidence::{AuditEvidence, Integrity};
use crate::assess::{FindingCode, RecordType, Text};
use std::collections::{BTreeMap, BTreeSet};

impl Ctx<'_> {
    /// Art. 3(3): roles and grants that no allowed decision used in the window.
    pub(super) fn unused_permissions(&mut self, a: &AuditEvidence) {
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
}
