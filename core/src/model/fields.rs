//! The fields a dataset declares: each column's name, the type of personal
//! information it holds and its sensitivity. The masks of [`crate::mask`] are chosen
//! by the type; the inventory's validation checks them against the dataset's grade.

use super::{Grade, PersonalInfo};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

super::enums::wire_enum! {
    /// The type of personal information a field holds (GB/T 35273 examples).
    PiType {
        /// Not personal information of a known type.
        None = "none",
        /// A resident identity card number (居民身份证号码), 18 digits or the old 15.
        ResidentId = "resident_id",
        /// A mobile telephone number (手机号码).
        Mobile = "mobile",
        /// A person's name (姓名).
        Name = "name",
        /// A postal address (地址).
        Address = "address",
        /// A bank card number (银行卡号).
        BankCard = "bank_card",
        /// An e-mail address (电子邮箱).
        Email = "email",
        /// A date of birth (出生日期).
        DateOfBirth = "date_of_birth",
        /// A vehicle licence plate (车牌号码).
        LicencePlate = "licence_plate",
        /// Free text that may hold any personal information (备注、描述).
        FreeText = "free_text",
    }
}

/// One field (column) of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The column name, unique within the dataset.
    pub name: String,
    /// The type of personal information; `none` by default.
    #[serde(rename = "type", default = "no_type")]
    pub pi_type: PiType,
    /// Whether the field holds (sensitive) personal information; `none` by default.
    #[serde(default = "no_sensitivity")]
    pub sensitivity: PersonalInfo,
}

fn no_type() -> PiType {
    PiType::None
}

fn no_sensitivity() -> PersonalInfo {
    PersonalInfo::None
}

/// Checks the fields of a dataset: unique non-empty names, a sensitivity for every
/// field of a personal-information type, no field more sensitive than the dataset
/// says it is, and no sensitive field in a dataset graded below `L4`.
pub(super) fn check_fields(
    label: &dyn Fn() -> String,
    dataset_info: PersonalInfo,
    grade: Option<Grade>,
    fields: &[Field],
) -> Result<()> {
    let mut seen = HashSet::new();
    for f in fields {
        let fail = |m: String| {
            Err(Error::inventory(
                label(),
                format!("field `{}`: {m}", f.name),
            ))
        };
        if f.name.is_empty() {
            return Err(Error::inventory(label(), "a field has an empty `name`"));
        }
        if !seen.insert(f.name.as_str()) {
            return fail("declared twice".into());
        }
        if f.pi_type != PiType::None && f.sensitivity == PersonalInfo::None {
            return fail(format!(
                "a `{}` field holds personal information: give it `sensitivity` `personal` or `sensitive`",
                f.pi_type
            ));
        }
        if f.sensitivity > dataset_info {
            return fail(format!(
                "`sensitivity` `{}` exceeds the dataset's `personal_info` `{dataset_info}`",
                f.sensitivity
            ));
        }
        if f.sensitivity == PersonalInfo::Sensitive {
            if let Some(g) = grade {
                if g < Grade::L4 {
                    return fail(format!(
                        "sensitive personal information needs a dataset graded at least `L4`, not `{g}`"
                    ));
                }
            }
        }
    }
    Ok(())
}
