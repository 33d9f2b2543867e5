'use strict'
// The sharing (Art. 14) and destruction (Art. 15) procedures from Node: each step a
// decision of the engine and a record in the audit log, approvals the engine resolves,
// crypto-erasure through the vault, the state rebuilt from the log.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { AuditLog, Engine, Platform, Vault, Workflows } = require('..')

const AUDIT_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
const MASTER = Buffer.from(Array.from({ length: 32 }, (_, i) => 100 + i))
const APPLICATION = {
  purpose: 'social_security_check',
  legal_basis: '社会保险法第五十八条',
  fields: ['name', 'id_number'],
  until: '2099-12-31',
  scenario_risk: 'low',
}

const dirs = []
function tmp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-flows-'))
  dirs.push(dir)
  return dir
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

function throwsCode(fn, code) {
  let caught
  try {
    fn()
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof Error, `expected an error with code ${code}`)
  assert.equal(caught.code, code, `${caught.code}: ${caught.message}`)
  return caught
}

/**
 * A node opened from a govdata.toml with a fresh log, as a deployment opens it: its
 * engine records into the log and its procedures are rebuilt from it.
 */
function setup() {
  const dir = tmp()
  fs.writeFileSync(path.join(dir, 'audit.key'), AUDIT_KEY, { mode: 0o600 })
  fs.writeFileSync(
    path.join(dir, 'govdata.toml'),
    'node_id = "procedures"\n[audit]\ndir = "audit"\nkey_file = "audit.key"\n',
  )
  const node = Platform.open(path.join(dir, 'govdata.toml'))
  return { dir, node, log: node.auditLog(), engine: node.engine(), flows: node.workflows() }
}

const query = (engine, user, approval) =>
  engine.decide({ principal: user, action: 'query', resource: 'hukou', context: { approval } })

function share(flows) {
  const step = flows.requestShare('wang.wu', 'hukou', APPLICATION)
  assert.equal(step.done, true)
  assert.equal(step.decision.decision, 'allow')
  assert.equal(step.record.status, 'submitted')
  return step.record.id
}

test('a conditional share from request to query', () => {
  const { log, engine, flows } = setup()
  const id = share(flows)

  // The requester may not review their own request: refused, and nothing changed.
  const own = flows.approveShare('wang.wu', id)
  assert.equal(own.done, false)
  assert.equal(own.record, null)
  assert.equal(own.decision.decision, 'deny')
  assert.notEqual(own.decision.audit_seq, null)
  assert.equal(flows.share(id).status, 'submitted')

  const approved = flows.approveShare('gongan.officer', id, '同意')
  assert.equal(approved.done, true)
  assert.equal(approved.record.status, 'approved')
  const approval = approved.record.approval.id
  assert.equal(approval, `apr-${id}`)

  // Approved is not yet provisioned: the approval resolves for no query.
  assert.equal(query(engine, 'wang.wu', approval).decision, 'deny')
  const provisioned = flows.provisionShare('li.si', id)
  assert.equal(provisioned.done, true)
  assert.equal(provisioned.record.status, 'provisioned')
  assert.equal(query(engine, 'wang.wu', approval).decision, 'allow')
  assert.equal(query(engine, 'chen.yi', approval).decision, 'deny')

  const listed = flows.shares()
  assert.deepEqual(listed.map((s) => s.id), [id])
  assert.equal(listed[0].status, 'provisioned')
  assert.equal(flows.share('shr-999999'), null)
  assert.deepEqual(flows.overdueShares(), [])
  assert.deepEqual(flows.expireShares(), [])
  log.close()
})

test('revoking a share ends its approval; a rejected share', () => {
  const { log, engine, flows } = setup()
  const id = share(flows)
  const approval = flows.approveShare('gongan.officer', id).record.approval.id
  flows.provisionShare('li.si', id)
  const revoked = flows.revokeShare('gongan.officer', id, '用途已完成')
  assert.equal(revoked.done, true)
  assert.equal(revoked.record.status, 'revoked')
  assert.equal(query(engine, 'wang.wu', approval).decision, 'deny')

  const other = share(flows)
  throwsCode(() => flows.rejectShare('gongan.officer', other, ' '), 'request_invalid')
  const rejected = flows.rejectShare('gongan.officer', other, '字段超出用途')
  assert.equal(rejected.done, true)
  assert.equal(rejected.record.status, 'rejected')
  log.close()
})

test('data not for sharing is refused', () => {
  const { log, flows } = setup()
  const step = flows.requestShare('wang.wu', 'criminal-records', APPLICATION)
  assert.equal(step.done, false)
  assert.equal(step.record, null)
  assert.equal(step.decision.decision, 'deny')
  assert.deepEqual(flows.shares(), [])
  log.close()
})

test('arguments are read by the core', () => {
  const { log, flows } = setup()
  throwsCode(() => flows.requestShare('wang.wu', 'hukou', { ...APPLICATION, scenario_risk: 'extreme' }), 'request_invalid')
  throwsCode(() => flows.requestShare('wang.wu', 'hukou', { ...APPLICATION, until: 'not a date' }), 'request_invalid')
  throwsCode(() => flows.requestShare('wang.wu', 'hukou', { ...APPLICATION, colour: 'red' }), 'request_invalid')
  throwsCode(() => flows.requestShare('wang.wu', 'hukou', 'please'), 'invalid_argument')
  throwsCode(() => flows.requestDestruction('zhao.liu', 'social-insurance', 'burn', '到期'), 'request_invalid')
  throwsCode(() => flows.requestShare('wang.wu', 'no-such-dataset', APPLICATION), 'unknown_entity')
  throwsCode(() => flows.approveShare('gongan.officer', 'shr-999999'), 'unknown_entity')
  throwsCode(() => flows.executeDestruction('ops.admin', 'dst-000001', { witnes: 'key.admin' }), 'invalid_argument')
  // A Date is a term as good as its text.
  const step = flows.requestShare('wang.wu', 'hukou', { ...APPLICATION, until: new Date(Date.UTC(2099, 11, 31)) })
  assert.equal(step.done, true)
  assert.match(step.record.until, /^2099-12-31T00:00:00/)
  log.close()
})

test('a crypto-erasure from request to execution, and the state rebuilt from the log', async () => {
  const { dir, log, engine, flows } = setup()
  const vault = Vault.init(path.join(dir, 'vault'), { masterKey: MASTER, engine, audit: log })
  vault.rotateKey('key.admin', 'social-insurance')
  const sealed = vault.encrypt('social-insurance', 'L3', Buffer.from('张某,3200'))
  flows.setVault(vault)

  const requested = flows.requestDestruction('zhao.liu', 'social-insurance', 'crypto_erase', '保存期限届满')
  assert.equal(requested.done, true)
  const d = requested.record
  assert.equal(d.status, 'requested')
  assert.equal(d.method, 'crypto_erase')

  const own = flows.approveDestruction('zhao.liu', d.id, 'ops.admin')
  assert.equal(own.done, false)
  assert.equal(own.record, null)

  const approved = flows.approveDestruction('renshe.officer', d.id, 'ops.admin')
  assert.equal(approved.done, true)
  assert.equal(approved.record.status, 'approved')
  assert.equal(approved.record.approval.executor, 'ops.admin')

  const executed = flows.executeDestruction('ops.admin', d.id, { witness: 'key.admin', note: '证书 001' })
  assert.equal(executed.done, true)
  assert.equal(executed.record.status, 'executed')
  assert.equal(executed.record.execution.witness, 'key.admin')
  assert.ok(executed.record.execution.key_ids.length > 0)
  throwsCode(() => vault.decrypt('social-insurance', 'L3', sealed), 'key_destroyed')

  // The log is the only store: reopened over it, the procedures stand where they did,
  // whether rebuilt here or on the thread pool.
  for (const again of [new Workflows(engine, log), await Workflows.open(engine, log)]) {
    assert.ok(again instanceof Workflows)
    assert.deepEqual(again.destructions(), flows.destructions())
    assert.equal(again.destruction(d.id).status, 'executed')
    assert.deepEqual(again.rebuildReport.skipped, [])
    assert.equal(again.rebuildReport.destructions, 1)
  }
  assert.equal(flows.destruction('dst-999999'), null)
  assert.equal((await log.verify()).ok, true)
  log.close()
})

test('a step out of order is workflow_invalid', () => {
  const { log, flows } = setup()
  const id = share(flows)
  throwsCode(() => flows.provisionShare('li.si', id), 'workflow_invalid')
  assert.equal(flows.requestDestruction('zhao.liu', 'social-insurance', 'overwrite', '到期').done, true)
  throwsCode(() => flows.requestDestruction('zhao.liu', 'social-insurance', 'overwrite', '重复申请'), 'workflow_invalid')
  log.close()
})

test('a crypto-erasure without a vault is workflow_invalid', () => {
  const { log, flows } = setup()
  const d = flows.requestDestruction('zhao.liu', 'social-insurance', 'crypto_erase', '到期').record
  flows.approveDestruction('renshe.officer', d.id, 'ops.admin')
  flows.setVault(null)
  throwsCode(() => flows.executeDestruction('ops.admin', d.id, { witness: 'key.admin' }), 'workflow_invalid')
  assert.equal(flows.destruction(d.id).status, 'approved')
  throwsCode(() => flows.setVault({}), 'invalid_argument')
  log.close()
})

test('Workflows.open rejects bad arguments through its Promise', async () => {
  const { log, engine } = setup()
  await assert.rejects(Workflows.open(engine, {}), { code: 'invalid_argument' })
  await assert.rejects(Workflows.open(log, log), { code: 'invalid_argument' })
  log.close()
})
