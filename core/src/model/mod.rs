//! The domain model: departments, vendors, users, datasets and systems — the
//! organisation as the engine sees it — and the [`Inventory`] that holds them.
//!
//! This module owns the inventory JSON format of docs/FORMATS.md and its validation: ids
//! unique per type, known enum values, no unknown fields, no dangling references. A
//! rejected inventory or update changes nothing. It knows nothing of Cedar; the
//! engine turns records into Cedar entities.

mod enums;
mod fields;
mod inventory;

pub use enums::{
    Action, DepartmentKind, Grade, PersonalInfo, ResourceKind, ScenarioRisk, ShareType, Stage,
    SystemKind,
};
pub use fields::{Field, PiType};
pub use inventory::{Inventory, Record, RecordKind};

use serde::{Deserialize, Serialize};

/// A department (部门) of one of the four kinds of Art. 4.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Management, operator, maintainer or user department.
    pub kind: DepartmentKind,
    /// The parent department, if any.
    #[serde(default)]
    pub parent: Option<String>,
}

/// A vendor (供应商) whose staff work on the platform under contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vendor {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The roles the vendor's contract lets its staff hold on the platform (Art. 16);
    /// `None` when the contract's scope is not recorded. The self-assessment reports
    /// vendor staff holding a role outside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_roles: Option<Vec<String>>,
}

/// A person who acts on the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The department the user belongs to.
    pub department: String,
    /// Roles such as `security_officer`, `data_steward`, `analyst` (extensible).
    #[serde(default)]
    pub roles: Vec<String>,
    /// The vendor employing the user; `Some` marks vendor staff (供应商人员).
    #[serde(default)]
    pub vendor: Option<String>,
    /// Designated by the department to hold top administrator rights (Art. 17).
    #[serde(default)]
    pub designated_admin: bool,
}

impl User {
    /// Whether the user is vendor staff.
    pub fn is_vendor_staff(&self) -> bool {
        self.vendor.is_some()
    }
    /// Whether the user holds `role`.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// A government dataset (政务数据集) on the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The providing department, responsible for the data (Art. 3(1)).
    pub owner: String,
    /// The security grade; `None` while the dataset is not yet graded.
    pub grade: Option<Grade>,
    /// The data category (分类).
    #[serde(default)]
    pub category: String,
    /// The lifecycle stage.
    pub stage: Stage,
    /// Whether the data holds (sensitive) personal information.
    pub personal_info: PersonalInfo,
    /// The sharing attribute (政务数据共享属性).
    pub share_type: ShareType,
    /// Whether the dataset is in the catalogue (编目).
    #[serde(default)]
    pub cataloged: bool,
    /// The purposes the data may be used for (Art. 13).
    #[serde(default)]
    pub allowed_purposes: Vec<String>,
    /// The fields (columns) and the personal information each holds; empty when the
    /// dataset does not declare them. Masks are applied field by field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
}

/// A database, operating system or platform (Art. 17).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Database, operating system or platform.
    pub kind: SystemKind,
    /// The department whose designated staff hold its top administrator rights.
    pub owner: String,
}
