"""The closed vocabularies of govdata as ``typing.Literal`` types.

The values are the wire names of DESIGN.md; a test checks them against the engine.
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
    "internal",
]


class Channel(TypedDict, total=False):
    """The transmission channel of a request (Art. 6, 11)."""

    encrypted: bool
    authenticated: bool
    integrity_checked: bool


class Context(TypedDict, total=False):
    """The context of a request; every field is optional (DESIGN.md)."""

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


InventoryDict = Dict[str, List[Dict[str, Any]]]
"""An inventory document: departments, vendors, users, datasets, systems."""
