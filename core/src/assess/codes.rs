//! The finding codes: what each check reports, under which article, at which default
//! severity, and what to do about it. The codes are stable; the texts may improve.

use super::articles::{ArticleRef, ART10, ART14, ART15, ART16, ART17, ART3_3, ART5, ART7, ART8};
use super::Severity;
use serde::{Serialize, Serializer};
use std::fmt;

macro_rules! codes {
    ($($(#[$meta:meta])* $variant:ident = $wire:literal {
        severity: $sev:ident, article: $art:ident, related: [$($rel:ident),*],
        title: ($tzh:literal, $ten:literal), remediation: ($rzh:literal, $ren:literal) $(,)?
    }),+ $(,)?) => {
        /// The stable code of a finding (see the README's table).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FindingCode {
            $($(#[$meta])* $variant),+
        }

        impl FindingCode {
            /// Every code, in a stable order.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant),+];

            /// The code string, such as `ungraded_dataset`.
            pub fn as_str(self) -> &'static str {
                match self { $(FindingCode::$variant => $wire),+ }
            }

            /// The severity a finding of this code has unless the check raises or
            /// lowers it for one case.
            pub fn default_severity(self) -> Severity {
                match self { $(FindingCode::$variant => Severity::$sev),+ }
            }

            /// The article the finding breaks.
            pub fn article(self) -> &'static ArticleRef {
                match self { $(FindingCode::$variant => &$art),+ }
            }

            /// Further articles the finding bears on.
            pub fn related(self) -> &'static [&'static ArticleRef] {
                match self { $(FindingCode::$variant => &[$(&$rel),*]),+ }
            }

            /// What is wrong, in Chinese and English.
            pub fn title(self) -> (&'static str, &'static str) {
                match self { $(FindingCode::$variant => ($tzh, $ten)),+ }
            }

            /// What to do about it, in Chinese and English.
            pub fn remediation(self) -> (&'static str, &'static str) {
                match self { $(FindingCode::$variant => ($rzh, $ren)),+ }
            }
        }
    };
}

codes! {
    /// A dataset has no grade.
    UngradedDataset = "ungraded_dataset" {
        severity: Medium, article: ART10, related: [],
        title: ("数据集尚未分类分级", "a dataset is not graded"),
        remediation: ("参照政务数据安全分类分级指南完成分类分级并在清单中登记等级，分级前不得编目或使用",
                      "classify and grade the dataset per the grading guide and record its grade in the inventory; do not catalogue or use it before"),
    },
    /// A dataset outside the catalogue appears in allowed decisions.
    UncataloguedDatasetUsed = "uncatalogued_dataset_used" {
        severity: High, article: ART10, related: [],
        title: ("未编目的数据集已被使用", "a dataset that is not catalogued is in use"),
        remediation: ("先完成分类分级与编目再使用，核查已发生的使用是否合规",
                      "grade and catalogue the dataset before any use, and review the uses already made"),
    },
    /// A dataset the inventory does not hold appears in allowed decisions.
    UnknownDatasetUsed = "unknown_dataset_used" {
        severity: High, article: ART10, related: [],
        title: ("清单之外的数据集已被使用", "a dataset missing from the inventory is in use"),
        remediation: ("将该数据集登记入清单并完成分类分级与编目，或停止使用并核查来源",
                      "record the dataset in the inventory, grade and catalogue it, or stop its use and find where it came from"),
    },
    /// Vendor staff hold a super-administrator right.
    VendorSuperadmin = "vendor_superadmin" {
        severity: Critical, article: ART17, related: [ART16],
        title: ("供应商人员持有最高管理员权限", "vendor staff hold a super-administrator right"),
        remediation: ("立即收回该供应商人员的最高管理员权限，改由本部门指定专人负责，并审查其期间的操作",
                      "withdraw the right at once, give it to designated staff of the department, and review what was done with it"),
    },
    /// Vendor staff hold roles beyond their vendor's contract.
    VendorBeyondContract = "vendor_beyond_contract" {
        severity: High, article: ART16, related: [ART17],
        title: ("供应商人员持有超出合同约定的角色", "vendor staff hold roles beyond their contract"),
        remediation: ("收回合同约定之外的角色；数据安全负责人、密钥管理和审计角色只能由本部门人员担任",
                      "remove the roles the contract does not cover; security officer, key administrator and auditor roles belong to the department's own staff"),
    },
    /// A vendor's contract scope is not recorded.
    VendorContractUnrecorded = "vendor_contract_unrecorded" {
        severity: Info, article: ART16, related: [],
        title: ("未登记供应商合同约定的角色范围", "a vendor's contract scope is not recorded"),
        remediation: ("在清单中为该供应商登记 contract_roles，以便核对其人员的角色",
                      "record the vendor's contract_roles in the inventory so that its staff's roles can be checked"),
    },
    /// A super-administrator right went to someone the owning department did not designate.
    SuperadminNotDesignated = "superadmin_not_designated" {
        severity: High, article: ART17, related: [],
        title: ("最高管理员权限授予了非指定专人", "a super-administrator right went to someone not designated"),
        remediation: ("收回该权限；最高管理员权限只授予系统所属部门指定的专人",
                      "withdraw the right; only staff the system's owning department designated may hold it"),
    },
    /// Data with sensitive personal information has no active data key.
    SensitiveDataUnencrypted = "sensitive_data_unencrypted" {
        severity: High, article: ART7, related: [ART16],
        title: ("含敏感个人信息的数据未加密存储", "data holding sensitive personal information is not encrypted"),
        remediation: ("在密钥库中为该数据集创建数据密钥并加密存储其数据",
                      "create the dataset's data key in the vault and encrypt its data at rest"),
    },
    /// Graded data on the platform has no active data key.
    DataUnencrypted = "data_unencrypted" {
        severity: Low, article: ART7, related: [],
        title: ("数据湖内数据未加密存储", "data in the data lake is not encrypted"),
        remediation: ("为该数据集创建数据密钥并加密存储，实现数据湖整体加密",
                      "create the dataset's data key and encrypt its data, so that the whole lake is encrypted"),
    },
    /// A data key was not rotated within the period.
    KeyNotRotated = "key_not_rotated" {
        severity: Medium, article: ART7, related: [],
        title: ("数据密钥超期未轮换", "a data key was not rotated within the period"),
        remediation: ("轮换该数据集的数据密钥（govdata vault rotate --dataset），旧密钥保留用于解密历史数据",
                      "rotate the dataset's data key (govdata vault rotate --dataset); the retired key still decrypts old data"),
    },
    /// The master key was not rotated within the period.
    MasterKeyNotRotated = "master_key_not_rotated" {
        severity: Medium, article: ART7, related: [],
        title: ("主密钥超期未轮换", "the master key was not rotated within the period"),
        remediation: ("轮换主密钥（govdata vault rotate --new-master-key-file），重新封装全部数据密钥",
                      "rotate the master key (govdata vault rotate --new-master-key-file), which rewraps every data key"),
    },
    /// The audit log does not verify.
    AuditChainBroken = "audit_chain_broken" {
        severity: Critical, article: ART8, related: [],
        title: ("审计日志校验失败（链条断裂或被篡改）", "the audit log fails verification (broken chain or tampering)"),
        remediation: ("从经验证的备份恢复审计日志（govdata audit restore），调查修改原因并上报安全事件",
                      "restore the log from a verified backup (govdata audit restore), investigate the modification and report the incident"),
    },
    /// The log's last segment ends in a torn record.
    AuditTornTail = "audit_torn_tail" {
        severity: Medium, article: ART8, related: [],
        title: ("审计日志末尾记录不完整", "the audit log ends in an incomplete record"),
        remediation: ("以写入方式重新打开日志以截除并留存不完整的尾部，核查写入进程是否异常中断",
                      "reopen the log for writing, which cuts the torn tail and keeps it aside, and find out why the writer stopped"),
    },
    /// The log has a gap: missing sequence numbers or a long silence.
    AuditGap = "audit_gap" {
        severity: Low, article: ART8, related: [],
        title: ("审计日志存在空档", "the audit log has a gap"),
        remediation: ("核查空档期间审计进程是否被中断、记录是否缺失，确保日志持续记录",
                      "check whether the audit process was interrupted or records went missing in the gap, and keep the log recording"),
    },
    /// No verified backup of the log within the period.
    AuditBackupOverdue = "audit_backup_overdue" {
        severity: High, article: ART8, related: [],
        title: ("审计日志备份超期", "no verified audit-log backup within the period"),
        remediation: ("立即备份审计日志（govdata audit backup --seal），并设置定期备份",
                      "back the log up now (govdata audit backup --seal) and schedule regular backups"),
    },
    /// The latest backup of the log no longer verifies.
    AuditBackupUnverifiable = "audit_backup_unverifiable" {
        severity: High, article: ART8, related: [],
        title: ("最近一次审计日志备份校验失败", "the latest audit-log backup no longer verifies"),
        remediation: ("重新进行一次完整备份，并调查备份被修改或损坏的原因",
                      "take a fresh full backup and find out how the backup was modified or damaged"),
    },
    /// Audit records younger than the retention floor were removed.
    AuditRetentionBreach = "audit_retention_breach" {
        severity: Critical, article: ART8, related: [],
        title: ("审计记录未满6个月即被清除", "audit records were removed before six months"),
        remediation: ("从备份恢复被清除的记录（govdata audit restore），审计记录保存至少6个月",
                      "restore the removed records from a backup (govdata audit restore); audit records are kept at least six months"),
    },
    /// A share was approved or provisioned without a proper review.
    ShareWithoutReview = "share_without_review" {
        severity: High, article: ART14, related: [],
        title: ("数据共享未经审核", "data was shared without review"),
        remediation: ("暂停或撤销该共享，由提供部门审核（申请人本人及供应商人员不得审核）后再行提供",
                      "suspend or revoke the share and have the providing department review it (never the requester or vendor staff) before providing it again"),
    },
    /// A share is past its term but was never expired or revoked.
    SharePastTerm = "share_past_term" {
        severity: Medium, article: ART14, related: [],
        title: ("数据共享超过期限仍未终止", "a share is past its term and still open"),
        remediation: ("终止该共享（govdata share expire）并收回已提供的数据",
                      "end the share (govdata share expire) and take back the data provided"),
    },
    /// Data was destroyed without an approved destruction.
    DestructionWithoutApproval = "destruction_without_approval" {
        severity: Critical, article: ART15, related: [],
        title: ("数据销毁未经审批", "data was destroyed without approval"),
        remediation: ("调查该销毁的经过，补全审批与销毁记录；今后销毁须经数据安全负责人审批并通过销毁流程执行",
                      "investigate the destruction and complete its records; destruction goes through the procedure with the security officer's approval"),
    },
    /// A sharing record does not follow from the records before it.
    SharingRecordUnfit = "sharing_record_unfit" {
        severity: Medium, article: ART14, related: [],
        title: ("共享流程记录不连贯", "a sharing record does not fit the procedure"),
        remediation: ("核查该记录的来源与缺失的流程步骤，必要时撤销共享并重新发起申请",
                      "find out where the record came from and which step is missing; revoke the share and request it again if needed"),
    },
    /// A destruction record does not follow from the records before it.
    DestructionRecordUnfit = "destruction_record_unfit" {
        severity: Medium, article: ART15, related: [],
        title: ("销毁流程记录不连贯", "a destruction record does not fit the procedure"),
        remediation: ("核查该记录的来源与缺失的流程步骤，补全审批与销毁记录",
                      "find out where the record came from and which step is missing, and complete the approval and destruction records"),
    },
    /// A user holds roles no allowed decision used in the window.
    UnusedRole = "unused_role" {
        severity: Low, article: ART3_3, related: [ART17],
        title: ("角色在评估期内未被使用", "roles unused in the assessment window"),
        remediation: ("核实业务需要，收回未使用的角色",
                      "check the business need and remove the roles that are not used"),
    },
    /// A super-administrator grant whose grantee did nothing in the window.
    UnusedGrant = "unused_grant" {
        severity: Medium, article: ART3_3, related: [ART17],
        title: ("最高管理员授权在评估期内未被使用", "a super-administrator grant unused in the window"),
        remediation: ("核实是否仍需该授权，不需要的予以收回",
                      "check whether the grant is still needed and withdraw it if not"),
    },
    /// The log does not reach back over the whole unused-permission window.
    UnusedWindowUncovered = "unused_window_uncovered" {
        severity: Info, article: ART3_3, related: [],
        title: ("审计日志未覆盖整个评估期，未评估权限使用情况", "the audit log does not cover the window; unused permissions not assessed"),
        remediation: ("在日志覆盖整个评估期后再评估，或缩短评估期",
                      "assess again once the log covers the window, or shorten the window"),
    },
    /// A user department has no security officer.
    NoSecurityOfficer = "no_security_officer" {
        severity: High, article: ART5, related: [],
        title: ("使用部门未明确数据安全负责人", "a user department has no data-security officer"),
        remediation: ("指定本部门人员为数据安全负责人（角色 security_officer）并在清单中登记",
                      "name one of the department's own staff security officer (role security_officer) in the inventory"),
    },
    /// The assessment ran without an audit log.
    AuditNotAssessed = "audit_not_assessed" {
        severity: Info, article: ART8, related: [ART14, ART15],
        title: ("未提供审计日志，相关检查未执行", "no audit log given: its checks were not run"),
        remediation: ("提供审计日志目录与封印密钥后重新评估",
                      "assess again with the audit log directory and its sealing key"),
    },
    /// The assessment ran without the vault's key store.
    VaultNotAssessed = "vault_not_assessed" {
        severity: Info, article: ART7, related: [],
        title: ("未提供密钥库，加密存储检查未执行", "no key store given: the encryption checks were not run"),
        remediation: ("提供密钥库目录与主密钥后重新评估",
                      "assess again with the vault directory and its master key"),
    },
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FindingCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::str::FromStr for FindingCode {
    type Err = crate::error::Error;
    fn from_str(s: &str) -> crate::error::Result<Self> {
        FindingCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| crate::error::Error::request(format!("unknown finding code `{s}`")))
    }
}
