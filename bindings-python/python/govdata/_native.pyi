"""Type stubs of the native module ``govdata._native`` (re-exported by ``govdata``).

Kept in sync with the module by ``tests/test_stubs.py``.
"""

import os
from typing import Any, ClassVar, Iterable, List, Literal, Mapping, Optional, Sequence, Union, overload

from govdata._types import (
    Action,
    Context,
    DecisionDict,
    DecisionKind,
    InventoryDict,
    ReasonDict,
    RecordKind,
    Request,
    Resource,
)

_Path = Union[str, "os.PathLike[str]"]

__version__: str
ERROR_CODES: List[str]
ACTIONS: List[str]
GRADES: List[str]
STAGES: List[str]
PERSONAL_INFO: List[str]
SHARE_TYPES: List[str]
SCENARIO_RISKS: List[str]
DECISIONS: List[str]
RECORD_KINDS: List[str]

class Reason:
    """Why a decision came out as it did: one policy and the article behind it."""

    @property
    def policy(self) -> str: ...
    @property
    def article(self) -> str: ...
    @property
    def zh(self) -> str: ...
    @property
    def en(self) -> str: ...
    @property
    def error(self) -> Optional[str]: ...
    def to_dict(self) -> ReasonDict: ...

class Decision:
    """The outcome of a request."""

    @property
    def allowed(self) -> bool: ...
    @property
    def decision(self) -> DecisionKind: ...
    @property
    def reasons(self) -> List[Reason]: ...
    @property
    def reason_ids(self) -> List[str]: ...
    @property
    def obligations(self) -> List[str]: ...
    @property
    def policy_version(self) -> str: ...
    @property
    def audit_seq(self) -> Optional[int]: ...
    def to_dict(self) -> DecisionDict: ...
    def to_json(self) -> str: ...

class Engine:
    """The policy engine: a policy pack and an inventory. Thread-safe."""

    def __init__(
        self,
        policies: Union[_Path, Sequence[_Path], None] = None,
        inventory: Union[_Path, InventoryDict, None] = None,
    ) -> None: ...
    @staticmethod
    def default() -> "Engine": ...
    @overload
    def decide(self, request: Request, /) -> Decision: ...
    @overload
    def decide(
        self,
        *,
        principal: str,
        action: Action,
        resource: Resource,
        context: Optional[Context] = None,
    ) -> Decision: ...
    def decide_json(self, request: str) -> Decision: ...
    @overload
    def decide_many(
        self, requests: Iterable[Request], *, errors: Literal["raise"] = "raise"
    ) -> List[Decision]: ...
    @overload
    def decide_many(
        self, requests: Iterable[Request], *, errors: Literal["return"]
    ) -> List[Union[Decision, "GovdataError"]]: ...
    def allowed_resources(
        self,
        principal: str,
        action: Action,
        resources: Iterable[Resource],
        context: Optional[Context] = None,
    ) -> List[Resource]: ...
    def upsert(self, kind: RecordKind, record: Mapping[str, Any]) -> None: ...
    def remove(self, kind: RecordKind, id: str) -> None: ...
    def replace_inventory(self, inventory: Union[_Path, InventoryDict]) -> None: ...
    def reload_policies(self, policies: Union[_Path, Sequence[_Path], None] = None) -> None: ...
    @property
    def policy_version(self) -> str: ...
    def inventory(self) -> InventoryDict: ...
    def _time_decide_in_rust(self, request: Request, n: int) -> float: ...
    def _plain_cedar(self, requests: Iterable[Request]) -> dict: ...

def _panic_for_test() -> None: ...
def _parse_request(request: Request) -> None: ...

class GovdataError(Exception):
    """The root of every govdata error; ``.code`` is the stable error code."""

    code: ClassVar[Optional[str]]

class PolicyParseError(GovdataError):
    code: ClassVar[Literal["policy_parse"]]

class PolicyValidationError(GovdataError):
    code: ClassVar[Literal["policy_validation"]]

class PolicyAnnotationError(GovdataError):
    code: ClassVar[Literal["policy_annotation"]]

class SchemaInvalidError(GovdataError):
    code: ClassVar[Literal["schema_invalid"]]

class InventoryInvalidError(GovdataError):
    code: ClassVar[Literal["inventory_invalid"]]

class UnknownEntityError(GovdataError):
    code: ClassVar[Literal["unknown_entity"]]

class RequestInvalidError(GovdataError):
    code: ClassVar[Literal["request_invalid"]]

class AuditTamperedError(GovdataError):
    code: ClassVar[Literal["audit_tampered"]]

class AuditRetentionError(GovdataError):
    code: ClassVar[Literal["audit_retention"]]

class AuditUnavailableError(GovdataError):
    code: ClassVar[Literal["audit_unavailable"]]

class CryptoAuthFailedError(GovdataError):
    code: ClassVar[Literal["crypto_auth_failed"]]

class KeyNotFoundError(GovdataError):
    code: ClassVar[Literal["key_not_found"]]

class KeyDestroyedError(GovdataError):
    code: ClassVar[Literal["key_destroyed"]]

class KeyInvalidError(GovdataError):
    code: ClassVar[Literal["key_invalid"]]

class AccessDeniedError(GovdataError):
    code: ClassVar[Literal["access_denied"]]

class WorkflowInvalidError(GovdataError):
    code: ClassVar[Literal["workflow_invalid"]]

class IoError(GovdataError):
    code: ClassVar[Literal["io"]]

class InternalError(GovdataError):
    code: ClassVar[Literal["internal"]]
