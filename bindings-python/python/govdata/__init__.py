"""govdata: the government-data security measures of a city's big data platform as code.

An embeddable policy engine: Cedar policies that cite the regulation decide who may do
what to which data, with the reasons and the obligations (masking, watermarking …) the
host must apply. Quick start::

    import govdata

    engine = govdata.Engine.default()
    d = engine.decide(principal="zhang.san", action="query", resource="population-stats",
                      context={"purpose": "statistics"})
    print(d.decision, [r.policy for r in d.reasons], d.obligations)

Every error is a :class:`GovdataError` subclass whose ``.code`` is the engine's stable
error code (``RequestInvalidError.code == "request_invalid"``).
"""

from ._native import (
    ACTIONS,
    DECISIONS,
    ERROR_CODES,
    GRADES,
    PERSONAL_INFO,
    RECORD_KINDS,
    SCENARIO_RISKS,
    SHARE_TYPES,
    STAGES,
    AuditRetentionError,
    AuditTamperedError,
    AuditUnavailableError,
    CryptoAuthFailedError,
    Decision,
    Engine,
    GovdataError,
    InternalError,
    InventoryInvalidError,
    IoError,
    KeyDestroyedError,
    KeyInvalidError,
    AccessDeniedError,
    KeyNotFoundError,
    PolicyAnnotationError,
    PolicyParseError,
    PolicyValidationError,
    Reason,
    RequestInvalidError,
    SchemaInvalidError,
    UnknownEntityError,
    WorkflowInvalidError,
    __version__,
)
from ._types import (
    Action,
    Channel,
    Context,
    DecisionDict,
    DecisionKind,
    ErrorCode,
    Grade,
    InventoryDict,
    PersonalInfo,
    ReasonDict,
    RecordKind,
    Request,
    Resource,
    ResourceRef,
    ResourceType,
    ScenarioRisk,
    ShareType,
    Stage,
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
        InternalError,
    )
}

__all__ = [
    "ACTIONS",
    "DECISIONS",
    "ERRORS_BY_CODE",
    "ERROR_CODES",
    "GRADES",
    "PERSONAL_INFO",
    "RECORD_KINDS",
    "SCENARIO_RISKS",
    "SHARE_TYPES",
    "STAGES",
    "Action",
    "AuditRetentionError",
    "AuditTamperedError",
    "AuditUnavailableError",
    "Channel",
    "Context",
    "CryptoAuthFailedError",
    "Decision",
    "DecisionDict",
    "DecisionKind",
    "Engine",
    "ErrorCode",
    "GovdataError",
    "Grade",
    "InternalError",
    "InventoryDict",
    "InventoryInvalidError",
    "IoError",
    "KeyDestroyedError",
    "KeyInvalidError",
    "AccessDeniedError",
    "KeyNotFoundError",
    "PersonalInfo",
    "PolicyAnnotationError",
    "PolicyParseError",
    "PolicyValidationError",
    "Reason",
    "ReasonDict",
    "RecordKind",
    "Request",
    "RequestInvalidError",
    "Resource",
    "ResourceRef",
    "ResourceType",
    "ScenarioRisk",
    "SchemaInvalidError",
    "ShareType",
    "Stage",
    "UnknownEntityError",
    "WorkflowInvalidError",
    "__version__",
]
