//! The closed vocabularies of the model, with their wire names.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name of this value.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown {} `{}`, expected one of: {}",
                        stringify!($name).to_lowercase(),
                        crate::quote::quote(s),
                        [$($wire),+].join(", ")
                    )),
                }
            }
        }
    };
}
pub(super) use wire_enum;

wire_enum! {
    /// The four kinds of organisation of Art. 4.
    DepartmentKind {
        /// 大数据平台管理部门
        Management = "management",
        /// 大数据平台运营单位
        Operator = "operator",
        /// 大数据平台运维单位
        Maintainer = "maintainer",
        /// 大数据平台使用部门
        User = "user",
    }
}

wire_enum! {
    /// The security grade of a dataset (Art. 10, 22), ordered from least to most sensitive.
    Grade {
        /// 一般数据1级
        L1 = "L1",
        /// 一般数据2级
        L2 = "L2",
        /// 一般数据3级
        L3 = "L3",
        /// 一般数据4级（含敏感个人信息）
        L4 = "L4",
        /// 重要数据
        Important = "important",
        /// 核心数据
        Core = "core",
    }
}

impl Grade {
    /// The ordinal of the grade, 1 (L1) to 6 (core).
    pub fn ordinal(self) -> i64 {
        match self {
            Grade::L1 => 1,
            Grade::L2 => 2,
            Grade::L3 => 3,
            Grade::L4 => 4,
            Grade::Important => 5,
            Grade::Core => 6,
        }
    }
}

wire_enum! {
    /// The lifecycle stage of a dataset (Chapter 4).
    Stage {
        /// 汇聚
        Aggregation = "aggregation",
        /// 传输
        Transmission = "transmission",
        /// 存储
        Storage = "storage",
        /// 使用与加工
        UseProcessing = "use_processing",
        /// 共享
        Sharing = "sharing",
        /// 销毁
        Destruction = "destruction",
    }
}

wire_enum! {
    /// Whether a dataset holds personal information (PIPL).
    PersonalInfo {
        /// No personal information.
        None = "none",
        /// Personal information.
        Personal = "personal",
        /// Sensitive personal information (PIPL Art. 28).
        Sensitive = "sensitive",
    }
}

wire_enum! {
    /// The sharing attribute of a dataset (Art. 14).
    ShareType {
        /// 无条件共享
        Unconditional = "unconditional",
        /// 有条件共享
        Conditional = "conditional",
        /// 不予共享
        None = "none",
    }
}

wire_enum! {
    /// The kind of a system (Art. 17).
    SystemKind {
        /// A database.
        Database = "database",
        /// An operating system.
        Os = "os",
        /// A platform.
        Platform = "platform",
    }
}

wire_enum! {
    /// The risk level of a usage scenario (Art. 10).
    ScenarioRisk {
        /// Low risk.
        Low = "low",
        /// Medium risk.
        Medium = "medium",
        /// High risk.
        High = "high",
    }
}

impl ScenarioRisk {
    /// The ordinal of the risk level, 1 (low) to 3 (high).
    pub fn ordinal(self) -> i64 {
        match self {
            ScenarioRisk::Low => 1,
            ScenarioRisk::Medium => 2,
            ScenarioRisk::High => 3,
        }
    }
}

wire_enum! {
    /// The type of a request's resource.
    ResourceKind {
        /// A dataset of the inventory.
        Dataset = "Dataset",
        /// A system of the inventory.
        System = "System",
        /// The platform's audit log.
        AuditLog = "AuditLog",
    }
}

impl ResourceKind {
    /// The position of the kind in [`ResourceKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

wire_enum! {
    /// Every action the engine decides (docs/FORMATS.md, "Actions").
    Action {
        /// Query a dataset (Art. 3(5)).
        Query = "query",
        /// Modify a dataset (Art. 3(5)).
        Modify = "modify",
        /// Delete records of a dataset (Art. 3(5)).
        Delete = "delete",
        /// Export a dataset (Art. 3(5), 16).
        Export = "export",
        /// Aggregate data onto the platform (Art. 9).
        Aggregate = "aggregate",
        /// Classify and grade a dataset (Art. 10).
        Classify = "classify",
        /// Put a dataset in the catalogue (Art. 10).
        Catalog = "catalog",
        /// Transmit a dataset (Art. 6, 11).
        Transmit = "transmit",
        /// Back a dataset up (Art. 12).
        Backup = "backup",
        /// Restore a dataset (Art. 12).
        Restore = "restore",
        /// Use or process a dataset (Art. 13).
        Process = "process",
        /// Request a share of a dataset (Art. 14).
        RequestShare = "request_share",
        /// Review a sharing request (Art. 14).
        ReviewShare = "review_share",
        /// Share (provision) a dataset (Art. 14).
        Share = "share",
        /// Request the destruction of a dataset (Art. 15).
        RequestDestruction = "request_destruction",
        /// Approve a destruction (Art. 15).
        ApproveDestruction = "approve_destruction",
        /// Destroy a dataset (Art. 15).
        Destroy = "destroy",
        /// Grant a super-administrator right on a system (Art. 17).
        GrantSuperadmin = "grant_superadmin",
        /// Review the audit log (Art. 8, 18, 19).
        ViewAudit = "view_audit",
        /// Export the audit log (Art. 8, 19).
        ExportAudit = "export_audit",
        /// Purge old audit records (Art. 8).
        PurgeAudit = "purge_audit",
        /// Manage encryption keys (Art. 7).
        ManageKeys = "manage_keys",
    }
}

impl Action {
    /// The position of the action in [`Action::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The resource types the action applies to.
    pub fn resource_kinds(self) -> &'static [ResourceKind] {
        match self {
            Action::GrantSuperadmin => &[ResourceKind::System],
            Action::ViewAudit | Action::ExportAudit | Action::PurgeAudit => {
                &[ResourceKind::AuditLog]
            }
            Action::ManageKeys => &[ResourceKind::Dataset, ResourceKind::System],
            _ => &[ResourceKind::Dataset],
        }
    }

    /// Whether the action applies to a resource of `kind`.
    pub fn applies_to(self, kind: ResourceKind) -> bool {
        self.resource_kinds().contains(&kind)
    }
}
