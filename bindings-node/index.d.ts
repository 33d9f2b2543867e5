/* The wire format of DESIGN.md ("Request and decision"), shared by every language. */

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

export interface Reason {
  /** The policy id, or `default-deny` / `engine-error`. */
  policy: string
  /** The article, such as `第十七条`. */
  article: string
  zh: string
  en: string
  /** For a policy that failed to evaluate (which denies), the evaluation error. */
  error?: string
}

export interface Decision {
  decision: 'allow' | 'deny'
  reasons: Reason[]
  /** What the host must apply before acting on an allow (`mask_personal_info`, `watermark`, …). */
  obligations: string[]
  policy_version: string
  audit_seq: number | null
}

export type RecordKind = 'department' | 'vendor' | 'user' | 'dataset' | 'system'

/** The inventory format of DESIGN.md ("Domain model"). */
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
  | 'invalid_argument' | 'panic'

/** Every error govdata throws or rejects with. */
export interface GovdataError extends Error {
  code: ErrorCode
}


/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

/**
 * The policy engine: a policy pack and an inventory, deciding requests.
 *
 * Safe to share across the whole process; decisions never block one another, and
 * a reload is atomic (a request sees the old or the new pack, never half of one).
 */
export declare class Engine {
  /**
   * An engine over a policy pack and an inventory.
   *
   * `policies` is a directory holding `schema.cedarschema` and `*.cedar` files, or
   * several directories (a department's own policies beside the default pack);
   * without it, the default pack. `inventory` is the inventory object or the path
   * of its JSON file; without it, an empty inventory.
   */
  constructor(options?: { policies?: string | string[]; inventory?: string | Inventory })
  /** The default policy pack and the example inventory: a city to try the engine on. */
  static default(): Engine
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
 * Every error code: the core's (`govdata::error::ERROR_CODES`) and the module's own
 * `invalid_argument` and `panic`.
 */
export declare function errorCodes(): ErrorCode[]

/** The version of govdata (the crate, the wheel, the npm package and the C header agree). */
export declare const VERSION: string
