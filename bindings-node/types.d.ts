/* The wire format of docs/FORMATS.md ("Request and decision"), shared by every language. */

export type Action =
  | 'query' | 'modify' | 'delete' | 'export' | 'aggregate' | 'classify' | 'catalog'
  | 'transmit' | 'backup' | 'restore' | 'process' | 'request_share' | 'review_share'
  | 'share' | 'request_destruction' | 'approve_destruction' | 'destroy'
  | 'grant_superadmin' | 'view_audit' | 'export_audit' | 'purge_audit' | 'manage_keys'

/** A dataset id, or a system or the audit log by type and id. */
export type Resource = string | { type: 'Dataset' | 'System' | 'AuditLog'; id: string }

export interface Context {
  purpose?: string
  legal_basis?: string
  intended_use?: string
  scenario_risk?: 'low' | 'medium' | 'high'
  channel?: { encrypted?: boolean; authenticated?: boolean; integrity_checked?: boolean }
  /** A workflow approval id: resolved by the engine, never trusted as a claim. */
  approval?: string
  grantee?: string
  recipient_department?: string
  audit_department?: string
}

export interface Request {
  principal: string
  action: Action
  resource: Resource
  context?: Context
}

/** A reason of a decision: frozen, shared by the decisions of the loaded pack. */
export interface Reason {
  /** The policy id, or `default-deny` / `engine-error`. */
  readonly policy: string
  /** The article, such as `第十七条`. */
  readonly article: string
  readonly zh: string
  readonly en: string
  /** For a policy that failed to evaluate (which denies), the evaluation error. */
  readonly error?: string
}

/**
 * A decision: an immutable value. The objects that `decide`, `decideManySync` and
 * `decideMany` return are deeply frozen, and decisions with the same outcome may be the
 * same object; to change or annotate one, copy it (`structuredClone(decision)`).
 */
export interface Decision {
  readonly decision: 'allow' | 'deny'
  readonly reasons: readonly Reason[]
  /** What the host must apply before acting on an allow (`mask_personal_info`, `watermark`, …). */
  readonly obligations: readonly string[]
  readonly policy_version: string
  readonly audit_seq: number | null
}

export type RecordKind = 'department' | 'vendor' | 'user' | 'dataset' | 'system'

/** The inventory format of docs/FORMATS.md ("The inventory"). */
export interface Inventory {
  departments?: object[]
  vendors?: object[]
  users?: object[]
  datasets?: object[]
  systems?: object[]
}

export type ErrorCode =
  | 'policy_parse' | 'policy_validation' | 'policy_annotation' | 'schema_invalid'
  | 'inventory_invalid' | 'unknown_entity' | 'request_invalid' | 'audit_tampered'
  | 'audit_retention' | 'audit_unavailable' | 'crypto_auth_failed' | 'key_not_found'
  | 'key_destroyed' | 'key_invalid' | 'access_denied' | 'workflow_invalid' | 'io'
  | 'store_locked' | 'config_invalid' | 'store_unavailable' | 'bundle_invalid' | 'invalid_argument' | 'panic'

/** Every error govdata throws or rejects with. */
export interface GovdataError extends Error {
  code: ErrorCode
  /** For `audit_tampered`: the sequence number of the first bad record. */
  seq?: number
}


export type Grade = 'L1' | 'L2' | 'L3' | 'L4' | 'important' | 'core'
export type ScenarioRisk = 'low' | 'medium' | 'high'

/* The audit log. Reports and records keep the core's snake_case keys, as in every
   language; the options of a call are camelCase. */

/** A key: a `Key`, the raw bytes (32), or the path of a file holding them. */
export type KeyInput = Key | Uint8Array | string

export type SyncMode = 'always' | 'batch' | 'none'
export type AuditSuite = 'sha256' | 'sm3'
export type AuditScope = 'all' | 'required'

export interface AuditLogOptions {
  /** `'always'`: fsync before an append returns (the default); `'batch'`: group commit; `'none'`: buffered. */
  sync?: SyncMode
  /** The hash suite of a new log (an existing log keeps its own). */
  suite?: AuditSuite
  /** Record every decision (`'all'`, the default) or those the regulation requires. */
  scope?: AuditScope
  /** A segment is sealed before it would exceed this size (at least 4096). */
  segmentMaxBytes?: number
  /** How long opening waits for another process that writes the log to close it, in ms (default 5000); `store_locked` past that. */
  lockWaitMs?: number
}

/** The fields of an event of the host's own (`appendEvent`); the log adds `seq` and `time`. */
export interface AuditEvent {
  user?: string
  department?: string
  action?: Action
  resource?: Resource
  decision?: 'allow' | 'deny'
  policies?: string[]
  policy_version?: string
  outcome?: 'success' | 'failure'
  /** Free JSON fields. */
  fields?: Record<string, unknown>
}

/** One audit record: `seq`, `time` (RFC 3339, UTC) and the event's fields. */
export interface AuditRecord extends AuditEvent {
  seq: number
  time: string
  kind: string
  outcome: 'success' | 'failure'
}

/** Which records `query` and `view` return; every field given must match. */
export interface AuditFilter {
  /** The acting user's department (and its sub-departments). */
  department?: string
  user?: string
  action?: Action
  dataset?: string
  decision?: 'allow' | 'deny'
  /** The record kind: `'decision'`, `'sharing.approved'`, `'key.shred'` … */
  kind?: string
  /** From this time on (inclusive): `'YYYY-MM-DD'`, RFC 3339 UTC text or a `Date`. */
  since?: string | Date
  /** Before this time (exclusive). */
  until?: string | Date
  /** At most this many records (the latest). */
  limit?: number
}

export interface TornTail {
  segment: number
  offset: number
  first_lost_seq: number
  reason: string
}

export interface RecoveryReport {
  torn: TornTail
  bytes_cut: number
  kept_at: string
}

/** What `verify` found in an intact log (a tampered one rejects with `audit_tampered`). */
export interface VerifyReport {
  ok: true
  records: number
  first_seq: number | null
  last_seq: number | null
  segments: number
  sealed_segments: number
  torn_tail: TornTail | null
  /** The checkpoint of the verified head. */
  head: string | null
  purged_through: number | null
}

export interface BackupReport {
  dest: string
  copied: number[]
  already_present: number[]
  verified: VerifyReport
  event_seq: number | null
}

export interface PurgeReport {
  before: string
  segments: number[]
  through_seq: number | null
  event_seq: number | null
}

export interface RestoreReport {
  restored: number[]
  verified: VerifyReport
  event_seq: number
}

/** Proof that one record is in a sealed segment (check it with `AuditLog.checkProof`). */
export interface InclusionProof {
  suite: AuditSuite
  log_id: string
  segment: number
  seq: number
  payload: string
  leaf_index: number
  tree_size: number
  path: string[]
  seal: { first_seq: number; last_seq: number; head: string; root: string; sealed_at: number; tag: string }
}

/** What `view` showed: the `view_audit` decision (itself recorded) and the records. */
export interface AuditView {
  decision: Decision
  allowed: boolean
  /** The records the viewer may see (none on a deny). */
  records: AuditRecord[]
}

/* The vault. */

export type VaultSuite = 'xchacha20poly1305' | 'sm4-gcm'

export interface VaultOpenOptions {
  /** The engine that decides every key operation (`manage_keys`). */
  engine: Engine
  /** The master key; or give `masterKeyEnv`. */
  masterKey?: KeyInput
  /** The name of an environment variable holding the master key as 64 hex digits. */
  masterKeyEnv?: string
  /** Where key events are recorded. */
  audit?: AuditLog
  /** The suite new data is encrypted with. */
  suite?: VaultSuite
  /** The chunk size of streamed files: a power of two from 4096 to 16777216. */
  chunkSize?: number
  /** The system whose keys the store-wide operations manage (default `'platform'`). */
  system?: string
  /** How long a write of the key store waits for another process's write, in ms (default 5000); `store_locked` past that. */
  lockWaitMs?: number
}

export interface VaultInitOptions extends VaultOpenOptions {
  /** Who creates the store (default `'key.admin'`). */
  operator?: string
  /** The second key administrator, where dual control applies. */
  witness?: string
  /** What the master key wraps with (default: `suite`). */
  masterSuite?: VaultSuite
}

export interface RotateMasterKeyOptions {
  masterKey?: KeyInput
  masterKeyEnv?: string
  /** Default `'xchacha20poly1305'`. */
  masterSuite?: VaultSuite
  witness?: string
}

/** A data key as the vault shows it (never the key itself). */
export interface KeyInfo {
  id: string
  dataset: string
  version: number
  status: 'active' | 'retired' | 'destroyed'
  created: string
  retired?: string
  destroyed?: string
  destroyed_by?: string
}

/** What a node reports about itself (`Platform.status()`). */
export interface PlatformStatus {
  node_id: string
  policy_version: string
  audit: { dir: string; last_seq: number } | null
  vault: { dir: string; generation: number; keys: number } | null
  /** The signed policy bundle the node runs (`[policies] bundle` or `source = "store"`), absent otherwise. */
  bundle?: {
    /** The bundle file, or `store#ID` for the bundle published as row `ID` of the platform store. */
    path: string
    store_id?: number
    version: number
    policy_version: string
    key_id: string
    expires: string
    last_rejection?: { path: string; reason: string; message: string; time: string }
  }
  /** The shipping of the audit log to the platform store, when the node has `[store]`. */
  store: StoreStatus | null
  /** The inventory taken from the platform store (`[inventory] source = "store"`), absent otherwise. */
  inventory?: {
    source: 'store'
    version: number
    loaded_at: string
    records: { departments: number; vendors: number; users: number; datasets: number; systems: number }
    last_error?: string
    last_error_code?: ErrorCode
  }
  /** The connection that follows the platform store's changes, when the node takes its inventory or bundles from there. */
  follow?: {
    connected: boolean
    last_check: string | null
    stale_seconds: number
    last_error: string | null
    last_error_code: ErrorCode | null
  }
  /** The procedures shared through the platform store, when they are. */
  procedures?: ProceduresStatus
}

/** The procedures shared through the platform store: the watcher and the node's mirror. */
export interface ProceduresStatus {
  connected: boolean
  /** Approvals resolve: the store was reached within the staleness bound. */
  fresh: boolean
  staleness_ms: number
  reached_ms_ago: number | null
  change: number
  shares: number
  destructions: number
  last_error: string | null
  last_error_code: ErrorCode | null
}

export interface StoreStatus {
  connected: boolean
  shipped_seq: number
  lag_records: number
  lag_seconds: number
  lag_exceeded: boolean
  fail_closed: boolean
  last_error: string | null
  last_error_code: ErrorCode | null
}

export interface VaultStatus {
  master_key_id: string
  master_algorithm: string
  default_suite: VaultSuite
  generation: number
  backups: number
  keys: KeyInfo[]
}

export interface ShredReport {
  dataset: string
  key_ids: string[]
  backups_scrubbed: number
  event_seq: number | null
}

/* The sharing (Art. 14) and destruction (Art. 15) procedures. */

/** What a requesting department asks for. */
export interface ShareApplication {
  purpose: string
  legal_basis: string
  /** The fields (columns) wanted: the least the purpose needs. */
  fields: string[]
  /** When the share ends: `'YYYY-MM-DD'`, RFC 3339 UTC text or a `Date`. */
  until: string | Date
  scenario_risk: ScenarioRisk
  /** The receiving department; the requester's own when absent. */
  recipient_department?: string
}

/** Who did a step, when, and what they said. */
export interface StepRecord {
  by?: string
  at: string
  reason?: string
  seq: number
}

export interface SharingRequest {
  id: string
  dataset: string
  provider: string
  share_type: 'unconditional' | 'conditional' | 'none'
  grade: Grade | null
  on_platform: boolean
  requester: string
  recipient_department: string
  purpose: string
  legal_basis: string
  fields: string[]
  until: string
  scenario_risk: ScenarioRisk
  submitted_at: string
  submitted_seq: number
  deadlines: { conformity_check: string; provider_reply: string }
  status: 'submitted' | 'approved' | 'rejected' | 'provisioned' | 'revoked' | 'expired'
  overdue: boolean
  /** The approval: its `id` is what requests cite as `context.approval`. */
  approval?: { id: string; approver?: string; at: string; comment?: string; seq: number }
  rejected?: StepRecord
  provisioned?: StepRecord
  obligations?: string[]
  revoked?: StepRecord
  expired?: StepRecord
}

export type DestructionMethod = 'crypto_erase' | 'logical_delete' | 'overwrite' | 'physical_destroy'

export interface DestructionRequest {
  id: string
  dataset: string
  owner: string
  grade: Grade | null
  method: DestructionMethod
  reason: string
  requester: string
  requested_at: string
  requested_seq: number
  status: 'requested' | 'approved' | 'rejected' | 'executed'
  approval?: { id: string; approver: string; at: string; executor: string; valid_until: string; seq: number }
  rejected?: StepRecord
  execution?: {
    executor: string
    at: string
    witness?: string
    operator?: string
    key_ids?: string[]
    note?: string
    obligations?: string[]
    seq: number
  }
  failures?: StepRecord[]
}

/** What the executor of a destruction supplies. */
export interface ExecutionDetails {
  /** The second person present (dual control; required for physical destruction). */
  witness?: string
  /** The external operator who destroys the media (physical destruction). */
  operator?: string
  note?: string
}

/** The outcome of one step: done, or refused (and the refusal recorded). */
export interface StepResult<T> {
  done: boolean
  /** The engine's decision on the step; its reasons say why a refused step was. */
  decision: Decision
  /** The request after the step, or `null` when the step was refused. */
  record: T | null
}

export interface RebuildReport {
  records: number
  transitions: number
  shares: number
  destructions: number
  skipped: Array<{ seq: number; kind: string; reason: string }>
}

/** A policy an explanation cites: its id, article, texts, and where it is written. */
export interface PolicyNote {
  policy: string
  article: string
  zh: string
  en: string
  file?: string | null
  line?: number | null
  /** For a policy that could not be evaluated (which denies), the evaluation error. */
  error?: string
}

/** A permit whose scope matches a denied request, with how many conditions held. */
export interface NearMiss extends PolicyNote {
  held: number
  total: number
  /** The first condition that did not hold, as Cedar source. */
  failed: { kind: 'when' | 'unless'; text: string; error?: string }
}

/**
 * Why the engine decided a request as it did (`engine.explain`); `explainJson` gives the
 * same as the JSON text `govdata explain --json` prints.
 */
export interface Explanation {
  decision: Decision
  /** The forbids that fired. */
  forbids: PolicyNote[]
  /** The permits that allowed the request. */
  permits: PolicyNote[]
  /** The policies that could not be evaluated (each a deny: fail closed). */
  errors: PolicyNote[]
  /** For a default deny, the permits whose scope matches, closest first. */
  closest: NearMiss[]
}

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical'

/** The time and periods of an assessment (`platform.assess`). */
export interface AssessPeriods {
  /** `'YYYY-MM-DD'` or RFC 3339 UTC; now if omitted. */
  now?: string
  /** A checkpoint of the audit log kept elsewhere (`gdaudit1:…`). */
  checkpoint?: string
  /** A verified backup of the audit log is due at least this often (days; 7). */
  backupDays?: number
  /** Data keys and the master key are rotated at least this often (days; 365). */
  keyRotationDays?: number
  /** Roles and grants unused for this long are reported (days; 90). */
  unusedDays?: number
  /** A stretch this long without audit records is a gap (days; 7; 0: no check). */
  gapDays?: number
}

/**
 * What `assess` reads: the configuration file, and what overrides it (the flags of
 * `govdata assess`). Key files must be readable by their owner only.
 */
export interface AssessOptions extends AssessPeriods {
  /** A `govdata.toml`. */
  config?: string
  inventory?: string
  policies?: string | string[]
  auditDir?: string
  auditKeyFile?: string
  vaultDir?: string
  masterKeyFile?: string
}

/** One finding of an assessment. */
export interface Finding {
  id: string
  code: string
  severity: Severity
  article: { id: string; number: number; zh: string; heading_zh: string; heading_en: string; [k: string]: unknown }
  related_articles: object[]
  title: { zh: string; en: string }
  detail: { zh: string; en: string }
  records: Array<{ type: string; id: string }>
  departments: string[]
  remediation: { zh: string; en: string }
}

/**
 * A compliance self-assessment (Art. 20); `assessJson` gives the same as the JSON text
 * `govdata assess --json -` prints.
 */
export interface Assessment {
  format: string
  generator: string
  now: string
  options: object
  sources: {
    inventory: { departments: number; vendors: number; users: number; datasets: number; systems: number }
    policies: { version: string; policies: number; default_pack: boolean }
    audit: object | null
    vault: object | null
  }
  summary: {
    total: number
    max_severity: Severity | null
    by_severity: Record<Severity, number>
    by_article: object[]
    by_department: object[]
    by_code: Record<string, number>
  }
  findings: Finding[]
  records: object[]
}

/** A hash suite of pseudonyms and watermarks: HMAC-SHA-256 or HMAC-SM3. */
export type MaskSuite = 'sha256' | 'sm3'

/**
 * The key of `engine.applyIpc` and `maskValues`: at least 32 bytes (a `Key`, the raw
 * bytes, or the path of a file holding them) that key the pseudonyms and the watermark.
 */
export interface MaskOptions {
  key?: KeyInput
  suite?: MaskSuite
}

/** The options of `detectWatermark`: the key the mark was made under. */
export interface WatermarkOptions {
  key: KeyInput
  suite?: MaskSuite
  /** The possible recipients (user ids): the one the mark names is returned. */
  candidates?: string[]
}

/** A watermark read from a stream. */
export interface WatermarkDetection {
  /** The low 32 bits of the sequence number of the audit record of the decision. */
  audit_seq: number
  /** The cells that voted for the mark. */
  votes: number
  /** The first of the candidates the mark names, or `null`. */
  recipient: string | null
}
