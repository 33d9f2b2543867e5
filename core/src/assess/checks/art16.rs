//! Art. 16, 17: vendor staff hold no super-administrator right and no reserved role.

use super::{audit_ref, list, rec, superadmin_grant, Ctx, RESERVED_ROLES, SUPERADMIN_ROLE};
use crate::assess::{FindingCode, RecordType, Text};
use crate::model::User;
use std::collections::BTreeMap;

impl Ctx<'_> {
    /// Art. 16, 17: vendor staff hold no super-administrator right and no role beyond
    /// their contract.
    pub(super) fn vendors(&mut self) {
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
}
