'use strict'
// The committed index.d.ts and index.js are what a fresh build generates: a change to
// the Rust API that is not regenerated and committed fails here.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const pkgDir = path.resolve(__dirname, '..')
const cli = require.resolve('@napi-rs/cli/package.json', { paths: [pkgDir] })
const napiBin = path.join(path.dirname(cli), JSON.parse(fs.readFileSync(cli, 'utf8')).bin.napi)

test('index.d.ts and index.js match a fresh build', { timeout: 20 * 60 * 1000 }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-typings-'))
  try {
    execFileSync(
      process.execPath,
      [napiBin, 'build', '--platform', '--release', '--output-dir', out, '--js', 'index.js', '--dts', 'index.d.ts'],
      { cwd: pkgDir, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    for (const file of ['index.d.ts', 'index.js']) {
      const fresh = fs.readFileSync(path.join(out, file), 'utf8')
      const committed = fs.readFileSync(path.join(pkgDir, file), 'utf8')
      assert.equal(committed, fresh, `${file} differs from a fresh build: run \`npm run build\` and commit it`)
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true })
  }
})

test('the typings declare the whole API', () => {
  const dts = fs.readFileSync(path.join(pkgDir, 'index.d.ts'), 'utf8')
  for (const name of [
    'export declare class Engine', 'decide(request: Request): Decision',
    'decideMany(requests: Request[]): Promise<Array<Decision | GovdataError>>', 'get policyVersion(): string',
    'export interface Decision', 'export interface GovdataError extends Error',
    'static default(options?: { audit?: AuditLog }): Engine', 'attachAudit(log: AuditLog): void',
    'export declare class AuditLog', 'constructor(dir: string, key: KeyInput, options?: AuditLogOptions)',
    'verify(checkpoint?: string): Promise<VerifyReport>', 'query(filter?: AuditFilter): Promise<AuditRecord[]>',
    'backup(dest: string): Promise<BackupReport>', 'appendEvent(kind: string, event?: AuditEvent): number',
    'export declare class Vault', 'static init(dir: string, options: VaultInitOptions): Vault',
    'encrypt(dataset: string, grade: Grade, data: Uint8Array, options?: { suite?: VaultSuite }): Buffer',
    'encryptFile(dataset: string, grade: Grade, src: string, dst: string, options?: { suite?: VaultSuite }): Promise<number>',
    'shred(operator: string, dataset: string, options?: { witness?: string }): ShredReport',
    'export declare class Workflows', 'static open(engine: Engine, auditLog: AuditLog): Promise<Workflows>',
    'requestShare(requester: string, dataset: string, application: ShareApplication): StepResult<SharingRequest>',
    'executeDestruction(executor: string, id: string, details?: ExecutionDetails): StepResult<DestructionRequest>',
    'export declare class Key', 'static fromBytes(bytes: Uint8Array): Key',
    'export interface VerifyReport', 'export interface SharingRequest', 'export interface StepResult<T>',
    'applyIpc(request: Request, ipc: Uint8Array, options?: MaskOptions): Promise<Buffer>',
    'export declare function maskValues(mask: string, values: Array<string | null>, options?: MaskOptions): Array<string | null>',
    'export declare function detectWatermark(ipc: Uint8Array, options: WatermarkOptions): Promise<WatermarkDetection | null>',
    'export interface WatermarkDetection',
  ]) {
    assert.ok(dts.includes(name), `index.d.ts lacks ${name}`)
  }
})
