"""govdata: the government-data security measures of a city's big data platform as code.

An embeddable policy engine: Cedar policies that cite the regulation decide who may do
what to which data, with the reasons and the obligations (masking, watermarking …) the
host must apply. Quick start::

    import govdata

    engine = govdata.Engine.default()
    d = engine.decide(principal="zhang.san", action="query", resource="population-stats",
                      context={"purpose": "statistics"})
    print(d.decision, [r.policy for r in d.reasons], d.obligations)

Decisions are recorded in a tamper-evident :class:`AuditLog` attached to the engine, and
a :class:`Vault` encrypts what a job writes::

    log = govdata.AuditLog("audit/", key=sealing_key)        # 32 bytes, or a key file
    engine = govdata.Engine.default(audit=log)
    vault = govdata.Vault.init("vault/", master_key=master_key, engine=engine, audit=log)

The sharing and destruction procedures run through :class:`Workflows`, over the
engine and its log (each step a decision and a record)::

    flows = govdata.Workflows(engine, log)
    step = flows.request_share("wang.wu", "hukou", purpose=..., legal_basis=..., fields=[...],
                               until="2099-12-31", scenario_risk="low")
    step.done, step.decision, step.record          # the record is a dict

A decision explained (``engine.explain(request)``: the forbids that fired, the permits
that allowed it, or the permits that came closest) and a node's compliance
self-assessment (``govdata.assess("govdata.toml")`` or ``platform.assess()``) come as
:class:`Explanation` and :class:`Assessment`, whose ``to_json()`` is the very text
``govdata explain --json`` and ``govdata assess --json -`` print.

Every error is a :class:`GovdataError` subclass whose ``.code`` is the engine's stable
error code (``RequestInvalidError.code == "request_invalid"``).
"""

from ._native import (
    ACTIONS,
    AUDIT_SUITES,
    DECISIONS,
    DESTRUCTION_METHODS,
    ERROR_CODES,
    GRADES,
    PERSONAL_INFO,
    RECORD_KINDS,
    SCENARIO_RISKS,
    SHARE_TYPES,
    STAGES,
    SYNC_MODES,
    VAULT_SUITES,
    AuditLog,
    AuditRetentionError,
    AuditTamperedError,
    AuditUnavailableError,
    AuditView,
    CryptoAuthFailedError,
    Decision,
    Engine,
    GovdataError,
    InternalError,
    InventoryInvalidError,
    IoError,
    StoreLockedError,
    ConfigInvalidError,
    StoreUnavailableError,
    BundleInvalidError,
    KeyDestroyedError,
    KeyInvalidError,
    AccessDeniedError,
    Assessment,
    Explanation,
    KeyNotFoundError,
    Platform,
    PolicyAnnotationError,
    PolicyParseError,
    PolicyValidationError,
    Reason,
    RequestInvalidError,
    SchemaInvalidError,
    StepResult,
    UnknownEntityError,
    Vault,
    WorkflowInvalidError,
    Workflows,
    __version__,
    mask_values,
    assess,
    PI_TYPES,
)
from ._mask import MaskedStream, detect_watermark, mask_stream, mask_table
from ._types import (
    Action,
    AuditRecordDict,
    AuditScope,
    AuditSuite,
    BackupReportDict,
    Channel,
    Context,
    DecisionDict,
    DecisionKind,
    DestructionMethod,
    ErrorCode,
    ExplanationDict,
    FindingDict,
    Grade,
    InclusionProofDict,
    InventoryDict,
    KeyInfoDict,
    KeyStatus,
    NearMissDict,
    PersonalInfo,
    PolicyNoteDict,
    PurgeReportDict,
    ReasonDict,
    RecordKind,
    Request,
    Resource,
    ResourceRef,
    ResourceType,
    RestoreReportDict,
    ScenarioRisk,
    Severity,
    ShareType,
    ShredReportDict,
    Stage,
    SyncMode,
    VaultStatusDict,
    VaultSuite,
    VerifyReportDict,
)

#: Every exception class by its code (the core's codes, and ``internal``).
ERRORS_BY_CODE = {
    cls.code: cls
    for cls in (
        PolicyParseError,
        PolicyValidationError,
        PolicyAnnotationError,
        SchemaInvalidError,
        InventoryInvalidError,
        UnknownEntityError,
        RequestInvalidError,
        AuditTamperedError,
        AuditRetentionError,
        AuditUnavailableError,
        CryptoAuthFailedError,
        KeyNotFoundError,
        KeyDestroyedError,
        KeyInvalidError,
        AccessDeniedError,
        WorkflowInvalidError,
        IoError,
        StoreLockedError,
        ConfigInvalidError,
        StoreUnavailableError,
        BundleInvalidError,
        InternalError,
    )
}

__all__ = [
    "ACTIONS",
    "AUDIT_SUITES",
    "DECISIONS",
    "DESTRUCTION_METHODS",
    "ERRORS_BY_CODE",
    "ERROR_CODES",
    "GRADES",
    "PERSONAL_INFO",
    "RECORD_KINDS",
    "SCENARIO_RISKS",
    "SHARE_TYPES",
    "STAGES",
    "SYNC_MODES",
    "VAULT_SUITES",
    "AccessDeniedError",
    "Action",
    "AuditLog",
    "AuditRecordDict",
    "AuditRetentionError",
    "AuditScope",
    "AuditSuite",
    "AuditTamperedError",
    "AuditUnavailableError",
    "AuditView",
    "BackupReportDict",
    "Channel",
    "Context",
    "CryptoAuthFailedError",
    "Decision",
    "DecisionDict",
    "DecisionKind",
    "DestructionMethod",
    "Engine",
    "ErrorCode",
    "GovdataError",
    "Grade",
    "InclusionProofDict",
    "InternalError",
    "InventoryDict",
    "InventoryInvalidError",
    "IoError",
    "StoreLockedError",
    "ConfigInvalidError",
    "StoreUnavailableError",
    "BundleInvalidError",
    "KeyDestroyedError",
    "KeyInfoDict",
    "KeyInvalidError",
    "KeyNotFoundError",
    "KeyStatus",
    "PersonalInfo",
    "PolicyAnnotationError",
    "PolicyParseError",
    "PolicyValidationError",
    "PurgeReportDict",
    "Reason",
    "ReasonDict",
    "RecordKind",
    "Request",
    "RequestInvalidError",
    "Resource",
    "ResourceRef",
    "ResourceType",
    "RestoreReportDict",
    "ScenarioRisk",
    "SchemaInvalidError",
    "ShareType",
    "ShredReportDict",
    "Stage",
    "StepResult",
    "Platform",
    "SyncMode",
    "UnknownEntityError",
    "Vault",
    "VaultStatusDict",
    "VaultSuite",
    "VerifyReportDict",
    "WorkflowInvalidError",
    "Workflows",
    "__version__",
    "detect_watermark",
    "mask_stream",
    "mask_table",
    "MaskedStream",
    "mask_values",
    "PI_TYPES",
    "Assessment",
    "Explanation",
    "ExplanationDict",
    "FindingDict",
    "NearMissDict",
    "PolicyNoteDict",
    "Severity",
    "assess",
]
