"""Type stubs of the native module ``govdata._native`` (re-exported by ``govdata``).

Kept in sync with the module by ``tests/test_stubs.py``.
"""

import datetime
import os
import pathlib
from types import TracebackType
from typing import Any, ClassVar, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Tuple, Type, Union, overload

from govdata._types import (
    Action,
    AuditRecordDict,
    AuditScope,
    AuditSuite,
    BackupReportDict,
    Context,
    DecisionDict,
    DecisionKind,
    DestructionMethod,
    ExplanationDict,
    FindingDict,
    Grade,
    InclusionProofDict,
    InventoryDict,
    KeyInfoDict,
    NearMissDict,
    PolicyNoteDict,
    PurgeReportDict,
    ReasonDict,
    RecordKind,
    Request,
    Resource,
    RestoreReportDict,
    ScenarioRisk,
    Severity,
    ShredReportDict,
    SyncMode,
    VaultStatusDict,
    VaultSuite,
    VerifyReportDict,
)

_Path = Union[str, "os.PathLike[str]"]
_Key = Union[bytes, bytearray, _Path]
_Time = Union[str, datetime.date, datetime.datetime]
_Data = Union[bytes, bytearray]

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
VAULT_SUITES: List[str]
AUDIT_SUITES: List[str]
SYNC_MODES: List[str]
DESTRUCTION_METHODS: List[str]

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
        *,
        audit: Optional["AuditLog"] = None,
    ) -> None: ...
    @staticmethod
    def default(*, audit: Optional["AuditLog"] = None) -> "Engine": ...
    def attach_audit(self, log: "AuditLog") -> None: ...
    def detach_audit(self) -> None: ...
    @property
    def audited(self) -> bool: ...
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
    def explain(self, request: Request, /) -> "Explanation": ...
    @overload
    def explain(
        self,
        *,
        principal: str,
        action: Action,
        resource: Resource,
        context: Optional[Context] = None,
    ) -> "Explanation": ...
    def explain_json(self, request: str) -> "Explanation": ...
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
    def _time_decide_in_rust(self, requests: Iterable[Request], rounds: int) -> float: ...
    def _time_decide_many_in_rust(self, requests: Iterable[Request]) -> float: ...
    def _plain_cedar(self, requests: Iterable[Request]) -> dict: ...

class AuditView:
    """What ``AuditLog.view`` showed: the ``view_audit`` decision and the records."""

    @property
    def decision(self) -> Decision: ...
    @property
    def allowed(self) -> bool: ...
    @property
    def records(self) -> List[AuditRecordDict]: ...

class AuditLog:
    """The tamper-evident audit log. Thread-safe; the key is never stored or shown."""

    def __init__(
        self,
        dir: _Path,
        key: _Key,
        *,
        sync: SyncMode = "always",
        suite: AuditSuite = "sha256",
        scope: AuditScope = "all",
        segment_max_bytes: Optional[int] = None,
        lock_wait: Optional[float] = None,
    ) -> None: ...
    @property
    def dir(self) -> pathlib.Path: ...
    @property
    def suite(self) -> AuditSuite: ...
    @property
    def sync_mode(self) -> SyncMode: ...
    @property
    def last_seq(self) -> int: ...
    @property
    def recovery(self) -> Optional[Dict[str, Any]]: ...
    def append_event(
        self,
        kind: str,
        /,
        *,
        user: Optional[str] = None,
        department: Optional[str] = None,
        action: Optional[Action] = None,
        resource: Optional[Resource] = None,
        decision: Optional[DecisionKind] = None,
        policies: Optional[Sequence[str]] = None,
        policy_version: Optional[str] = None,
        outcome: Optional[Literal["success", "failure"]] = None,
        **fields: Any,
    ) -> int: ...
    def sync(self) -> None: ...
    def seal(self) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> "AuditLog": ...
    def __exit__(
        self,
        *_exc: Union[Optional[Type[BaseException]], Optional[BaseException], Optional[TracebackType]],
    ) -> bool: ...
    def checkpoint(self) -> str: ...
    def verify(self, checkpoint: Optional[str] = None) -> VerifyReportDict: ...
    @staticmethod
    def verify_dir(dir: _Path, key: _Key, checkpoint: Optional[str] = None) -> VerifyReportDict: ...
    def records(self) -> List[AuditRecordDict]: ...
    def query(
        self,
        *,
        department: Optional[str] = None,
        user: Optional[str] = None,
        action: Optional[Action] = None,
        dataset: Optional[str] = None,
        decision: Optional[DecisionKind] = None,
        kind: Optional[str] = None,
        since: Optional[_Time] = None,
        until: Optional[_Time] = None,
        limit: Optional[int] = None,
    ) -> List[AuditRecordDict]: ...
    def view(
        self,
        engine: Engine,
        viewer: str,
        *,
        department: Optional[str] = None,
        user: Optional[str] = None,
        action: Optional[Action] = None,
        dataset: Optional[str] = None,
        decision: Optional[DecisionKind] = None,
        kind: Optional[str] = None,
        since: Optional[_Time] = None,
        until: Optional[_Time] = None,
        limit: Optional[int] = None,
    ) -> AuditView: ...
    def backup(self, dest: _Path) -> BackupReportDict: ...
    def purge(self, before: Union[str, datetime.date]) -> PurgeReportDict: ...
    @staticmethod
    def restore(
        backup: _Path,
        dir: _Path,
        key: _Key,
        *,
        sync: SyncMode = "always",
        suite: AuditSuite = "sha256",
        scope: AuditScope = "all",
        lock_wait: Optional[float] = None,
    ) -> RestoreReportDict: ...
    def prove(self, seq: int) -> InclusionProofDict: ...
    @staticmethod
    def check_proof(proof: InclusionProofDict, key: _Key) -> AuditRecordDict: ...

class Vault:
    """Envelope encryption: a data key per dataset under a master key. Thread-safe."""

    @staticmethod
    def init(
        dir: _Path,
        *,
        engine: Engine,
        master_key: Optional[_Key] = None,
        master_key_env: Optional[str] = None,
        operator: str = "key.admin",
        witness: Optional[str] = None,
        audit: Optional[AuditLog] = None,
        suite: VaultSuite = "xchacha20poly1305",
        master_suite: Optional[VaultSuite] = None,
        chunk_size: Optional[int] = None,
        system: Optional[str] = None,
        lock_wait: Optional[float] = None,
    ) -> "Vault": ...
    @staticmethod
    def open(
        dir: _Path,
        *,
        engine: Engine,
        master_key: Optional[_Key] = None,
        master_key_env: Optional[str] = None,
        audit: Optional[AuditLog] = None,
        suite: Optional[VaultSuite] = None,
        chunk_size: Optional[int] = None,
        system: Optional[str] = None,
        lock_wait: Optional[float] = None,
    ) -> "Vault": ...
    @property
    def dir(self) -> pathlib.Path: ...
    @property
    def default_suite(self) -> VaultSuite: ...
    def encrypt(self, dataset: str, grade: Grade, data: _Data, *, suite: Optional[VaultSuite] = None) -> bytes: ...
    def decrypt(self, dataset: str, grade: Grade, data: _Data) -> bytes: ...
    def encrypt_file(
        self, dataset: str, grade: Grade, src: _Path, dst: _Path, *, suite: Optional[VaultSuite] = None
    ) -> int: ...
    def decrypt_file(self, dataset: str, grade: Grade, src: _Path, dst: _Path) -> int: ...
    def rotate_key(self, operator: str, dataset: str, *, witness: Optional[str] = None) -> KeyInfoDict: ...
    def ensure_key(self, operator: str, dataset: str, *, witness: Optional[str] = None) -> KeyInfoDict: ...
    def rotate_master_key(
        self,
        operator: str,
        *,
        master_key: Optional[_Key] = None,
        master_key_env: Optional[str] = None,
        master_suite: VaultSuite = "xchacha20poly1305",
        witness: Optional[str] = None,
    ) -> None: ...
    def shred(self, operator: str, dataset: str, *, witness: Optional[str] = None) -> ShredReportDict: ...
    def status(self) -> VaultStatusDict: ...
    def keys(self, dataset: str) -> List[KeyInfoDict]: ...

class StepResult:
    """The outcome of one step of a procedure."""

    @property
    def done(self) -> bool: ...
    @property
    def decision(self) -> Decision: ...
    @property
    def record(self) -> Optional[Dict[str, Any]]: ...

class Explanation:
    """Why the engine decided a request as it did."""

    @property
    def decision(self) -> Decision: ...
    @property
    def forbids(self) -> List[PolicyNoteDict]: ...
    @property
    def permits(self) -> List[PolicyNoteDict]: ...
    @property
    def errors(self) -> List[PolicyNoteDict]: ...
    @property
    def closest(self) -> List[NearMissDict]: ...
    @property
    def is_default_deny(self) -> bool: ...
    def to_dict(self) -> ExplanationDict: ...
    def to_json(self) -> str: ...

class Assessment:
    """A compliance self-assessment (Art. 20): findings per article."""

    @property
    def now(self) -> str: ...
    @property
    def summary(self) -> Dict[str, Any]: ...
    @property
    def findings(self) -> List[FindingDict]: ...
    def findings_at_or_above(self, severity: Severity) -> int: ...
    def to_dict(self) -> Dict[str, Any]: ...
    def to_json(self) -> str: ...
    def to_html(self) -> str: ...

def assess(
    config: Optional[_Path] = None,
    *,
    inventory: Optional[_Path] = None,
    policies: Union[_Path, Sequence[_Path], None] = None,
    audit_dir: Optional[_Path] = None,
    audit_key_file: Optional[_Path] = None,
    vault_dir: Optional[_Path] = None,
    master_key_file: Optional[_Path] = None,
    checkpoint: Optional[str] = None,
    now: Optional[str] = None,
    backup_days: int = 7,
    key_rotation_days: int = 365,
    unused_days: int = 90,
    gap_days: int = 7,
) -> Assessment: ...

class Platform:
    """One node: its engine, audit log, procedures and vault, opened from ``govdata.toml``."""

    def __init__(self, path: _Path) -> None: ...
    @property
    def node_id(self) -> str: ...
    @property
    def engine(self) -> Engine: ...
    @property
    def audit_log(self) -> Optional[AuditLog]: ...
    @property
    def workflows(self) -> Optional[Workflows]: ...
    @property
    def vault(self) -> Optional[Vault]: ...
    def status(self) -> Dict[str, Any]: ...
    def store_sync(self, timeout: float) -> None: ...
    def assess(
        self,
        *,
        checkpoint: Optional[str] = None,
        now: Optional[str] = None,
        backup_days: int = 7,
        key_rotation_days: int = 365,
        unused_days: int = 90,
        gap_days: int = 7,
    ) -> Assessment: ...
    def close(self) -> None: ...
    def __enter__(self) -> "Platform": ...
    def __exit__(
        self,
        *_exc: Union[Optional[Type[BaseException]], Optional[BaseException], Optional[TracebackType]],
    ) -> bool: ...

class Workflows:
    """The sharing (Art. 14) and destruction (Art. 15) procedures over an engine and its
    audit log, their state rebuilt from the log. Thread-safe."""

    def __init__(self, engine: Engine, audit_log: AuditLog) -> None: ...
    @property
    def rebuild_report(self) -> Dict[str, Any]: ...
    def set_vault(self, vault: Optional[Vault]) -> None: ...
    def request_share(
        self,
        requester: str,
        dataset: str,
        *,
        purpose: str,
        legal_basis: str,
        fields: Sequence[str],
        until: str,
        scenario_risk: ScenarioRisk,
        recipient_department: Optional[str] = None,
    ) -> StepResult: ...
    def approve_share(self, reviewer: str, id: str, comment: Optional[str] = None) -> StepResult: ...
    def reject_share(self, reviewer: str, id: str, reason: str) -> StepResult: ...
    def provision_share(self, provisioner: str, id: str) -> StepResult: ...
    def revoke_share(self, user: str, id: str, reason: str) -> StepResult: ...
    def expire_shares(self) -> List[Dict[str, Any]]: ...
    def share(self, id: str) -> Optional[Dict[str, Any]]: ...
    def shares(self) -> List[Dict[str, Any]]: ...
    def overdue_shares(self) -> List[Dict[str, Any]]: ...
    def request_destruction(
        self, requester: str, dataset: str, method: DestructionMethod, reason: str
    ) -> StepResult: ...
    def approve_destruction(self, approver: str, id: str, executor: Optional[str] = None) -> StepResult: ...
    def reject_destruction(self, approver: str, id: str, reason: str) -> StepResult: ...
    def execute_destruction(
        self,
        executor: str,
        id: str,
        *,
        witness: Optional[str] = None,
        operator: Optional[str] = None,
        note: Optional[str] = None,
    ) -> StepResult: ...
    def destruction(self, id: str) -> Optional[Dict[str, Any]]: ...
    def destructions(self) -> List[Dict[str, Any]]: ...

PI_TYPES: List[str]

def _mask_stream(
    engine: Engine, request: Request, stream: Any, *, key: Optional[Union[bytes, bytearray, _Path]] = None, suite: str = "sha256"
) -> Tuple[Any, Decision, List[str]]: ...
def mask_values(
    mask: str, values: Sequence[Optional[str]], *, key: Optional[Union[bytes, bytearray, _Path]] = None, suite: str = "sha256"
) -> List[Optional[str]]: ...
def _watermark_detect_stream(
    stream: Any, *, key: Union[bytes, bytearray, _Path], suite: str = "sha256", candidates: Optional[Sequence[str]] = None
) -> Optional[Dict[str, Any]]: ...
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
    seq: int
    """The sequence number of the first bad record."""

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

class StoreLockedError(GovdataError):
    code: ClassVar[Literal["store_locked"]]

class ConfigInvalidError(GovdataError):
    code: ClassVar[Literal["config_invalid"]]

class StoreUnavailableError(GovdataError):
    code: ClassVar[Literal["store_unavailable"]]
class BundleInvalidError(GovdataError):
    code: ClassVar[Literal["bundle_invalid"]]

class InternalError(GovdataError):
    code: ClassVar[Literal["internal"]]
