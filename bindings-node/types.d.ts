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

