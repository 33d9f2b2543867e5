//! Art. 5: every user department names a security officer of its own staff.

use super::{list, rec, Ctx, OFFICER_ROLE};
use crate::assess::{FindingCode, RecordType, Text};
use crate::model::DepartmentKind;
use std::collections::BTreeSet;

impl Ctx<'_> {
    /// Art. 5: every user department names a security officer (its own staff; one of
    /// a parent department covers its sub-departments).
    pub(super) fn security_officers(&mut self) {
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
            let covered = officer_depts.iter().any(|o| self.inv.is_within(&d.id, o));
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
}
