"""The closed vocabularies of govdata as ``typing.Literal`` types.

The values are the wire names of docs/FORMATS.md; a test checks them against the engine.
"""

from typing import Any, Dict, List, Literal, Optional, TypedDict, Union

Grade = Literal["L1", "L2", "L3", "L4", "important", "core"]
Stage = Literal["aggregation", "transmission", "storage", "use_processing", "sharing", "destruction"]
PersonalInfo = Literal["none", "personal", "sensitive"]
ShareType = Literal["unconditional", "conditional", "none"]
ScenarioRisk = Literal["low", "medium", "high"]
DecisionKind = Literal["allow", "deny"]
RecordKind = Literal["department", "vendor", "user", "dataset", "system"]
ResourceType = Literal["Dataset", "System", "AuditLog"]
VaultSuite = Literal["xchacha20poly1305", "sm4-gcm"]
AuditSuite = Literal["sha256", "sm3"]
SyncMode = Literal["always", "batch", "none"]
AuditScope = Literal["all", "required"]
KeyStatus = Literal["active", "retired", "destroyed"]
Action = Literal[
    "query",
    "modify",
    "delete",
    "export",
    "aggregate",
    "classify",
    "catalog",
    "transmit",
    "backup",
    "restore",
    "process",
    "request_share",
    "review_share",
    "share",
    "request_destruction",
    "approve_destruction",
    "destroy",
    "grant_superadmin",
    "view_audit",
    "export_audit",
    "purge_audit",
    "manage_keys",
]
ErrorCode = Literal[
    "policy_parse",
    "policy_validation",
    "policy_annotation",
    "schema_invalid",
    "inventory_invalid",
    "unknown_entity",
    "request_invalid",
    "audit_tampered",
    "audit_retention",
    "audit_unavailable",
    "crypto_auth_failed",
    "key_not_found",
    "key_destroyed",
    "key_invalid",
    "access_denied",
    "workflow_invalid",
    "io",
    "store_locked",
    "config_invalid",
    "store_unavailable",
    "bundle_invalid",
    "internal",
]


class Channel(TypedDict, total=False):
    """The transmission channel of a request (Art. 6, 11)."""

    encrypted: bool
    authenticated: bool
    integrity_checked: bool


class Context(TypedDict, total=False):
    """The context of a request; every field is optional (docs/FORMATS.md)."""

    purpose: str
    legal_basis: str
    intended_use: str
    scenario_risk: ScenarioRisk
    channel: Channel
    approval: str
    grantee: str
    recipient_department: str
    audit_department: str


class ResourceRef(TypedDict):
    """A resource other than a dataset: ``{"type": "System", "id": "lake-db"}``."""

    type: ResourceType
    id: str


Resource = Union[str, ResourceRef]
"""A dataset id, or a ``{"type", "id"}`` dict."""


class _RequestBase(TypedDict):
    principal: str
    action: Action
    resource: Resource


class Request(_RequestBase, total=False):
    """A request in the wire format."""

    context: Context


class ReasonDict(TypedDict, total=False):
    policy: str
    article: str
    zh: str
    en: str
    error: str


class DecisionDict(TypedDict):
    """A decision in the wire format."""

    decision: DecisionKind
    reasons: List[ReasonDict]
    obligations: List[str]
    policy_version: str
    audit_seq: Optional[int]


class PolicyNoteDict(TypedDict, total=False):
    """A policy an explanation cites: its id, article, texts, and where it is written."""

    policy: str
    article: str
    zh: str
    en: str
    file: Optional[str]
    line: Optional[int]
    error: str


class ConditionDict(TypedDict, total=False):
    """The first condition of a permit that did not hold (Cedar source)."""

    kind: Literal["when", "unless"]
    text: str
    error: str


class NearMissDict(PolicyNoteDict, total=False):
    """A permit whose scope matches the request, with how many conditions held."""

    held: int
    total: int
    failed: ConditionDict


class ExplanationDict(TypedDict):
    """An explanation: the decision in the wire format, then the policies behind it."""

    decision: DecisionDict
    forbids: List[PolicyNoteDict]
    permits: List[PolicyNoteDict]
    errors: List[PolicyNoteDict]
    closest: List[NearMissDict]


Severity = Literal["info", "low", "medium", "high", "critical"]


class FindingDict(TypedDict):
    """One finding of an assessment."""

    id: str
    code: str
    severity: Severity
    article: Dict[str, Any]
    related_articles: List[Dict[str, Any]]
    title: Dict[str, str]
    detail: Dict[str, str]
    records: List[Dict[str, str]]
    departments: List[str]
    remediation: Dict[str, str]


InventoryDict = Dict[str, List[Dict[str, Any]]]
"""An inventory document: departments, vendors, users, datasets, systems."""


class AuditRecordDict(TypedDict, total=False):
    """One audit record: ``seq``, ``time`` (RFC 3339, UTC) and the event's fields."""

    seq: int
    time: str
    kind: str
    user: str
    department: str
    action: Action
    resource: Resource
    decision: DecisionKind
    policies: List[str]
    policy_version: str
    outcome: Literal["success", "failure"]
    fields: Dict[str, Any]


class TornTailDict(TypedDict):
    segment: int
    offset: int
    first_lost_seq: int
    reason: str


class VerifyReportDict(TypedDict):
    """What ``AuditLog.verify`` found in an intact log (a tampered one raises)."""

    ok: bool
    records: int
    first_seq: Optional[int]
    last_seq: Optional[int]
    segments: int
    sealed_segments: int
    torn_tail: Optional[TornTailDict]
    head: Optional[str]
    purged_through: Optional[int]


class BackupReportDict(TypedDict):
    dest: str
    copied: List[int]
    already_present: List[int]
    verified: VerifyReportDict
    event_seq: Optional[int]


class PurgeReportDict(TypedDict):
    before: str
    segments: List[int]
    through_seq: Optional[int]
    event_seq: Optional[int]


class RestoreReportDict(TypedDict):
    restored: List[int]
    verified: VerifyReportDict
    event_seq: int


class ProofSealDict(TypedDict):
    first_seq: int
    last_seq: int
    head: str
    root: str
    sealed_at: int
    tag: str


class InclusionProofDict(TypedDict):
    """Proof that one record is in a sealed segment (check with ``AuditLog.check_proof``)."""

    suite: AuditSuite
    log_id: str
    segment: int
    seq: int
    payload: str
    leaf_index: int
    tree_size: int
    path: List[str]
    seal: ProofSealDict


class _KeyInfoBase(TypedDict):
    id: str
    dataset: str
    version: int
    status: KeyStatus
    created: str


class KeyInfoDict(_KeyInfoBase, total=False):
    """A data key as the vault shows it (never the key itself)."""

    retired: str
    destroyed: str
    destroyed_by: str


class VaultStatusDict(TypedDict):
    master_key_id: str
    master_algorithm: str
    default_suite: VaultSuite
    generation: int
    backups: int
    keys: List[KeyInfoDict]


class ShredReportDict(TypedDict):
    dataset: str
    key_ids: List[str]
    backups_scrubbed: int
    event_seq: Optional[int]


DestructionMethod = Literal["crypto_erase", "logical_delete", "overwrite", "physical_destroy"]
