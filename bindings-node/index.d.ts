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

/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/**
 * The tamper-evident audit log: hash-chained, MAC-sealed segments in a directory.
 *
 * Attach it to an engine (`engine.attachAudit(log)` or `new Engine({ audit })`) and
 * every decision is recorded and carries its `audit_seq`. The sealing key is never
 * stored or shown. One process writes a log directory at a time.
 */
export declare class AuditLog {
  /**
   * Opens the log in `dir`, creating it if there is none, sealed with `key` (a
   * `Key`, 32 bytes, or the path of a file holding them). Options: `sync`
   * (`'always'`: fsync before an append returns, the default; `'batch'`: group
   * commit; `'none'`), `suite` (`'sha256'` or `'sm3'`, for a new log), `scope`
   * (`'all'` decisions, or those the regulation `'required'`), `segmentMaxBytes`.
   * A key that is not the log's throws `key_invalid`; a damaged last segment,
   * `audit_tampered`.
   */
  constructor(dir: string, key: KeyInput, options?: AuditLogOptions)
  /** The log's directory. */
  get dir(): string
  /** The hash suite: `'sha256'` or `'sm3'`. */
  get suite(): AuditSuite
  /** The sync mode: `'always'`, `'batch'` or `'none'`. */
  get syncMode(): SyncMode
  /** The sequence number of the last record (0 for an empty log). */
  get lastSeq(): number
  /** What opening the log cut after a crash (a torn tail), or `null`. */
  get recovery(): RecoveryReport | null
  /**
   * Appends an event of the host's own (a workflow step, an administrative act)
   * and returns its sequence number once it is as durable as the sync mode
   * promises. `event` holds the other fields of an audit record (`user`,
   * `department`, `action`, `resource`, `decision`, `policies`, `policy_version`,
   * `outcome`) and `fields`, an object of free JSON fields. After a failed write,
   * or once closed, the log throws `audit_unavailable`.
   */
  appendEvent(kind: string, event?: AuditEvent): number
  /** Makes every record appended so far durable (in any sync mode). */
  sync(): void
  /** Seals the open segment now and begins a new one (before a backup, say). */
  seal(): void
  /**
   * Syncs and closes the log; later appends throw `audit_unavailable` (and an
   * engine that records into it then denies).
   */
  close(): void
  /**
   * A checkpoint of the current head, as text: keep it outside the log, and
   * `verify(checkpoint)` later finds truncation and rollback.
   */
  checkpoint(): string
  /**
   * Checks every record, link and seal (and, with a checkpoint, that the log still
   * holds the chain it names) on the thread pool. Resolves to the report; the first
   * bad record rejects with `audit_tampered`, whose `.seq` is its sequence number.
   */
  verify(checkpoint?: string): Promise<VerifyReport>
  /**
   * Verifies the log in `dir` without opening it for writing (a log another
   * process writes, a backup), on the thread pool.
   */
  static verifyDir(dir: string, key: KeyInput, checkpoint?: string): Promise<VerifyReport>
  /** Every record, oldest first (each verified as it is read), on the thread pool. */
  records(): Promise<AuditRecord[]>
  /**
   * The records matching every filter given, oldest first; no access decision
   * (the host's own use; people view records through `view`). `since` (inclusive)
   * and `until` (exclusive) are `'YYYY-MM-DD'`, RFC 3339 UTC text or a `Date`;
   * `limit` keeps the latest records. Runs on the thread pool.
   */
  query(filter?: AuditFilter): Promise<AuditRecord[]>
  /**
   * Shows `viewer` the records matching the filter if `engine` allows it: a
   * `view_audit` decision with `audit_department` set to `filter.department`,
   * recorded in this log. A department's security officer sees that department
   * (Art. 18); the auditors of the operator and of the management department see
   * everyone. Resolves to the decision, whether it allowed, and the records (none on
   * a deny).
   */
  view(engine: Engine, viewer: string, filter?: AuditFilter): Promise<AuditView>
  /**
   * Copies every sealed segment to `dest` (a verifiable log of its own), verifies
   * the copy, remembers it for `purge` and records the backup, on the thread pool.
   */
  backup(dest: string): Promise<BackupReport>
  /**
   * Removes whole sealed segments whose records are all older than `before`
   * (`'YYYY-MM-DD'` or a `Date`), each only when a verified backup holds it, and
   * records the purge, on the thread pool. Anything younger than six calendar
   * months is refused with `audit_retention`.
   */
  purge(before: string | Date): Promise<PurgeReport>
  /**
   * Brings segments back from the backup `backup` into the log in `dir` (which
   * must not be open): missing or altered segments are replaced by the backup's
   * verified copies, the log is verified and the restore recorded in it. Runs on
   * the thread pool.
   */
  static restore(backup: string, dir: string, key: KeyInput, options?: AuditLogOptions): Promise<RestoreReport>
  /**
   * An inclusion proof that record `seq`, in a sealed segment, is in the log;
   * anyone with the sealing key checks it with `AuditLog.checkProof`. Runs on the
   * thread pool.
   */
  prove(seq: number): Promise<InclusionProof>
  /**
   * Checks an inclusion proof under the sealing key, without the log, and returns
   * the record it proves; a proof that does not check throws `audit_tampered`.
   */
  static checkProof(proof: InclusionProof, key: KeyInput): AuditRecord
  /** A description of the log (never its key). */
  toString(): string
}

/**
 * The policy engine: a policy pack and an inventory, deciding requests.
 *
 * Safe to share across the whole process; decisions never block one another, and
 * a reload is atomic (a request sees the old or the new pack, never half of one).
 */
export declare class Engine {
  /**
   * Decides `request` (recorded in the attached audit log, whose record a
   * watermark names) and carries out the decision's obligations on `ipc`, an Arrow
   * IPC stream of the request's dataset: masks and pseudonyms column by column as
   * the masking profile says, canary rows for a watermark. On the thread pool;
   * resolves to the masked stream as a `Buffer`. Rejects, and releases nothing,
   * when the decision denies or carries an obligation this call cannot carry out
   * (`access_denied`), when a column is not a declared field of the dataset or
   * `ipc` is not a valid stream (`request_invalid`), or when a key the
   * obligations need is not given (`key_not_found`). `key` (at least 32 bytes, a
   * `Key` or a key file) keys the pseudonyms and the watermark; `suite` is
   * `'sha256'` (the default) or `'sm3'`.
   */
  applyIpc(request: Request, ipc: Uint8Array, options?: MaskOptions): Promise<Buffer>
  /**
   * An engine over a policy pack and an inventory.
   *
   * `policies` is a directory holding `schema.cedarschema` and `*.cedar` files, or
   * several directories (a department's own policies beside the default pack);
   * without it, the default pack. `inventory` is the inventory object or the path
   * of its JSON file; without it, an empty inventory. With `audit`, every decision
   * is recorded in that log (see `attachAudit`).
   */
  constructor(options?: { policies?: string | string[]; inventory?: string | Inventory; audit?: AuditLog })
  /**
   * The default policy pack and the example inventory: a city to try the engine on.
   * With `audit`, every decision is recorded in that log.
   */
  static default(options?: { audit?: AuditLog }): Engine
  /**
   * Records every later decision in `log` (replacing any log attached before):
   * each decision then carries its record's `audit_seq`, and a decision that cannot
   * be recorded is a deny.
   */
  attachAudit(log: AuditLog): void
  /** Stops recording decisions. */
  detachAudit(): void
  /** Whether an audit log records this engine's decisions. */
  get audited(): boolean
  /**
   * Decides one request (the wire format) and returns the decision as a plain
   * object in the wire format. Throws `request_invalid` or `unknown_entity` when no
   * decision can be made; the caller must treat that as a deny.
   */
  decide(request: Request): Decision
  /**
   * Decides one request given as JSON text and returns the decision as JSON text:
   * for a service that already holds the request body as a string.
   */
  decideJson(request: string): string
  /**
   * Decides one request (the wire format) and explains the decision: the forbids
   * that fired, the permits that allowed it, the policies that could not be
   * evaluated, or for a default deny the permits that came closest and the
   * condition each lacked. A plain object; the decision is recorded like any other.
   */
  explain(request: Request): Explanation
  /**
   * Explains one request given as JSON text and returns the explanation as JSON
   * text: what `govdata explain --json` prints, byte for byte.
   */
  explainJson(request: string): string
  /**
   * Decides many requests on the thread pool, off the event loop. The Promise
   * resolves to one entry per request, in order: the decision, or an `Error` with
   * `.code` for a request that could not be decided (which counts as a deny).
   */
  decideMany(requests: Request[]): Promise<Array<Decision | GovdataError>>
  /** `decideMany` on the calling thread: the same results, synchronously. */
  decideManySync(requests: Request[]): Array<Decision | GovdataError>
  /**
   * The resources among `resources` that `principal` may act on with `action` in
   * `context`, in their order: the filter a job applies to a batch. Runs off the
   * event loop. Any bad input rejects the whole batch, so nothing is dropped for
   * the wrong reason.
   */
  allowedResources(principal: string, action: Action, resources: Resource[], context?: Context): Promise<Resource[]>
  /** `allowedResources` on the calling thread. */
  allowedResourcesSync(principal: string, action: Action, resources: Resource[], context?: Context): Resource[]
  /**
   * Adds or replaces one inventory record of `kind` (`department`, `vendor`,
   * `user`, `dataset`, `system`). On `inventory_invalid` nothing changes.
   */
  upsert(kind: RecordKind, record: object): void
  /** Removes the inventory record of `kind` with `id`. On error nothing changes. */
  remove(kind: RecordKind, id: string): void
  /**
   * Replaces the whole inventory atomically: an inventory object or the path of
   * its JSON file. On error the old inventory stays.
   */
  replaceInventory(inventory: string | Inventory): void
  /**
   * Replaces the policy pack atomically: a directory, several directories, or
   * nothing for the default pack. A pack that does not load leaves the old one.
   */
  reloadPolicies(policies?: string | string[]): void
  /**
   * The version (hash) of the loaded policy pack, as in every decision's
   * `policy_version`.
   */
  get policyVersion(): string
}

/**
 * Key material held by the module: the sealing key of an audit log or the master
 * key of a vault. `Key.fromBytes` copies the bytes into memory that is wiped when the
 * key is collected, so the caller can wipe its own buffer (`buf.fill(0)`) at once;
 * `Key.fromFile` names a file holding the 32 raw bytes, read when the key is used.
 * A key never shows its bytes: `toString()`, `toJSON()` and `util.inspect` describe
 * it only.
 */
export declare class Key {
  /** A key from raw bytes (32 for an audit log or a vault), copied out of `bytes`. */
  static fromBytes(bytes: Uint8Array): Key
  /**
   * A key held in the file at `path` (exactly the 32 raw bytes), read each time
   * the key is used.
   */
  static fromFile(path: string): Key
  /** A description of the key that never includes its bytes. */
  toString(): string
  /** `JSON.stringify(key)` gives the description, never the bytes. */
  toJSON(): string
}

/**
 * One node of the platform: its engine, audit log, procedures and vault, opened from
 * one `govdata.toml` and wired once.
 */
export declare class Platform {
  /**
   * Opens the node that the configuration file at `path` describes (on the calling
   * thread: the procedures are rebuilt from the log).
   */
  static open(path: string): Platform
  /** The node's id. */
  get nodeId(): string
  /**
   * The engine, recording into the node's audit log when it keeps one (a new
   * handle on the same engine at each call).
   */
  engine(): Engine
  /** The audit log, or `null` when the configuration has no `[audit]` section. */
  auditLog(): AuditLog | null
  /** The sharing and destruction procedures (they need the audit log), or `null`. */
  workflows(): Workflows | null
  /** The vault, or `null` when the configuration has no `[vault]` section. */
  vault(): Vault | null
  /**
   * What the node reports about itself: `node_id`, `policy_version`, `audit`,
   * `vault`, `store`.
   */
  status(): PlatformStatus
  /**
   * Waits until the platform store holds every record the node appended before
   * the call, at most `timeoutMs` milliseconds; throws `store_unavailable` past it
   * (naming the shipper's last error), `config_invalid` for a node without
   * `[store]`.
   */
  storeSync(timeoutMs: number): void
  /** Syncs and closes the audit log, letting go of its lock. */
  close(): void
  /**
   * The compliance self-assessment (Art. 20) of this node, from the configuration
   * it was opened with (see `assess`), on the thread pool; its log is read, not
   * written.
   */
  assess(options?: AssessPeriods): Promise<Assessment>
  /**
   * `assess` as the core's JSON text: what `govdata assess --config … --json -`
   * prints, byte for byte.
   */
  assessJson(options?: AssessPeriods): Promise<string>
}

/**
 * Envelope encryption for the platform's datasets: a data key per dataset, wrapped
 * by a master key the host supplies. Every key operation is a `manage_keys`
 * decision of the engine and is recorded in the audit log (when one is given).
 */
export declare class Vault {
  /**
   * Creates a key store in `dir`, sealed by the master key, as `operator`
   * (decided as `manage_keys` on `system`). `suite` is what new data is encrypted
   * with (`'xchacha20poly1305'` or `'sm4-gcm'`); `masterSuite`, what the master key
   * wraps with (the same by default).
   */
  static init(dir: string, options: VaultInitOptions): Vault
  /**
   * Opens the key store in `dir` and authenticates it under the master key (which
   * wraps with the algorithm the store records). A store sealed by another master
   * key throws `key_invalid`; an altered one, `crypto_auth_failed`.
   */
  static open(dir: string, options: VaultOpenOptions): Vault
  /** The vault directory. */
  get dir(): string
  /** The suite new data is encrypted with. */
  get defaultSuite(): VaultSuite
  /**
   * Encrypts a record of `dataset` (of `grade`) under the dataset's active data
   * key; the grade and dataset are bound to the ciphertext.
   */
  encrypt(dataset: string, grade: Grade, data: Uint8Array, options?: { suite?: VaultSuite }): Buffer
  /**
   * Decrypts a record of `dataset` and `grade`, whatever suite and key version it
   * was encrypted with. Any change, or another dataset or grade, throws
   * `crypto_auth_failed`; a shredded dataset, `key_destroyed`.
   */
  decrypt(dataset: string, grade: Grade, data: Uint8Array): Buffer
  /**
   * Encrypts the file `src` into `dst` as a chunked stream (written under a
   * temporary name and renamed into place), on the thread pool; resolves to the
   * plaintext size.
   */
  encryptFile(dataset: string, grade: Grade, src: string, dst: string, options?: { suite?: VaultSuite }): Promise<number>
  /**
   * Decrypts the file `src` into `dst` on the thread pool; `dst` appears only when
   * the whole stream authenticated. Resolves to the plaintext size.
   */
  decryptFile(dataset: string, grade: Grade, src: string, dst: string): Promise<number>
  /**
   * Makes a new data key for `dataset` (its first, or a rotation: the previous key
   * is retired and still decrypts old data). Decided as `manage_keys` on the
   * dataset; `witness` is the second key administrator where dual control applies.
   */
  rotateKey(operator: string, dataset: string, options?: { witness?: string }): KeyInfo
  /** The active key of `dataset`, made first if it has none and was never shredded. */
  ensureKey(operator: string, dataset: string, options?: { witness?: string }): KeyInfo
  /**
   * Rewraps every data key under a new master key (`masterKey` or
   * `masterKeyEnv`, wrapping with `masterSuite`) without touching any data.
   */
  rotateMasterKey(operator: string, options: RotateMasterKeyOptions): void
  /**
   * Crypto-shreds `dataset` (Art. 15): every version of its data key is destroyed
   * and the destruction recorded; its data then throws `key_destroyed` forever.
   * Decided as `manage_keys` on the dataset.
   */
  shred(operator: string, dataset: string, options?: { witness?: string }): ShredReport
  /** The master key's fingerprint and every data key's state (never key material). */
  status(): VaultStatus
  /** The keys of one dataset, oldest first (never key material). */
  keys(dataset: string): KeyInfo[]
  /** A description of the vault (never a key). */
  toString(): string
}

/**
 * The sharing and destruction procedures over an engine and its audit log.
 *
 * Opening rebuilds their state from the log (the log is their only store) and makes
 * the engine resolve `context.approval` against it. Open one per engine and log.
 */
export declare class Workflows {
  /**
   * Opens the procedures over `engine` and `auditLog` on the calling thread: every
   * step is a decision of the engine and a record in the log. For a long log,
   * `Workflows.open` rebuilds off the event loop.
   */
  constructor(engine: Engine, auditLog: AuditLog)
  /**
   * `new Workflows(engine, auditLog)` with the state rebuilt from the log on the
   * thread pool.
   */
  static open(engine: Engine, auditLog: AuditLog): Promise<Workflows>
  /** What rebuilding the state from the log found. */
  get rebuildReport(): RebuildReport
  /** Makes `vault` carry out crypto-erasure (`null` detaches it). */
  setVault(vault: Vault | null): void
  /**
   * Submits a sharing request by `requester` for `dataset`: `application` holds
   * `purpose`, `legal_basis`, `fields`, `until` (`'YYYY-MM-DD'`, RFC 3339 or a
   * `Date`), `scenario_risk` and optionally `recipient_department`.
   */
  requestShare(requester: string, dataset: string, application: ShareApplication): StepResult<SharingRequest>
  /** Approves the submitted sharing request `id` as `reviewer`. */
  approveShare(reviewer: string, id: string, comment?: string): StepResult<SharingRequest>
  /** Rejects the submitted sharing request `id` as `reviewer`, with `reason`. */
  rejectShare(reviewer: string, id: string, reason: string): StepResult<SharingRequest>
  /** Provisions the approved sharing request `id` as `provisioner`. */
  provisionShare(provisioner: string, id: string): StepResult<SharingRequest>
  /**
   * Revokes the approved or provisioned sharing request `id` as `user`, with
   * `reason`.
   */
  revokeShare(user: string, id: string, reason: string): StepResult<SharingRequest>
  /** Records the expiry of every share whose term has ended; returns them. */
  expireShares(): SharingRequest[]
  /** The sharing request `id` as it stands now, or `null`. */
  share(id: string): SharingRequest | null
  /** Every sharing request as it stands now, by id. */
  shares(): SharingRequest[]
  /** The sharing requests whose review is past its deadline, by id. */
  overdueShares(): SharingRequest[]
  /**
   * Requests the destruction of `dataset` by `method` as `requester`, with
   * `reason`.
   */
  requestDestruction(requester: string, dataset: string, method: DestructionMethod, reason: string): StepResult<DestructionRequest>
  /**
   * Approves the requested destruction `id` as `approver`, granted to `executor`
   * (the requester when absent).
   */
  approveDestruction(approver: string, id: string, executor?: string): StepResult<DestructionRequest>
  /** Rejects the requested destruction `id` as `approver`, with `reason`. */
  rejectDestruction(approver: string, id: string, reason: string): StepResult<DestructionRequest>
  /**
   * Carries out the approved destruction `id` as `executor`: crypto-erasure through
   * the vault (`setVault`), or the record of an external method. `details` names
   * the `witness` (dual control), the external `operator` (physical destruction)
   * and a `note`.
   */
  executeDestruction(executor: string, id: string, details?: ExecutionDetails): StepResult<DestructionRequest>
  /** The destruction request `id`, or `null`. */
  destruction(id: string): DestructionRequest | null
  /** Every destruction request, by id. */
  destructions(): DestructionRequest[]
  /** A description of the procedures' state. */
  toString(): string
}

/**
 * The compliance self-assessment (Art. 20) of a node, on the thread pool: the
 * inventory, policy pack, audit log (verified and read, never written) and vault key
 * store (its status read) that the configuration file `options.config` names, the
 * other options overriding it — as `govdata assess --config … --inventory …` would,
 * with the same report. Key files must be readable by their owner only. `now` is
 * `'YYYY-MM-DD'` or RFC 3339 UTC (now if omitted).
 */
export declare function assess(options?: AssessOptions): Promise<Assessment>

/** `assess` as a self-contained HTML page: what `govdata assess --html` writes. */
export declare function assessHtml(options?: AssessOptions): Promise<string>

/**
 * `assess` as the core's JSON text: what `govdata assess --json -` prints, byte for
 * byte.
 */
export declare function assessJson(options?: AssessOptions): Promise<string>

/**
 * Reads the watermark of `ipc`, an Arrow IPC stream (a leaked extract), on the
 * thread pool. Resolves to `null` when no mark under `key` is found, or to
 * `{ audit_seq, votes, recipient }`: the audit record of the decision that released
 * the extract, the cells that voted for it, and the first of `candidates` the mark
 * names (`null` if none does).
 */
export declare function detectWatermark(ipc: Uint8Array, options: WatermarkOptions): Promise<WatermarkDetection | null>

/**
 * Every error code: the core's (`govdata::error::ERROR_CODES`) and the module's own
 * `invalid_argument` and `panic`.
 */
export declare function errorCodes(): ErrorCode[]

/**
 * Applies one mask by name (`resident_id`, `mobile`, `show_first:4`, `hash`,
 * `pseudonym` …) to each value (a string or `null`): the shared vectors' entry
 * point. A pseudonym needs `key` (`key_not_found` without it); an unknown mask is
 * `request_invalid`.
 */
export declare function maskValues(mask: string, values: Array<string | null>, options?: MaskOptions): Array<string | null>

/** The version of govdata (the crate, the wheel, the npm package and the C header agree). */
export declare const VERSION: string
