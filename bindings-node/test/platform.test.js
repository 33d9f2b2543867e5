'use strict'
// Platform.open: one node opened from its govdata.toml — the engine recording into the
// log, the procedures on it, the vault deciding with the engine; the shared vectors
// decided through a node; a wrong file names the key.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Engine, Platform, Vault } = require('..')

const ROOT = path.resolve(__dirname, '..', '..')
const INVENTORY = path.join(ROOT, 'policies', 'examples', 'inventory.json')
const QUERY = { principal: 'zhang.san', action: 'query', resource: 'population-stats', context: { purpose: 'statistics' } }

const dirs = []
function tmp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-platform-'))
  dirs.push(dir)
  return dir
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

function key(file, byte) {
  fs.writeFileSync(file, Buffer.alloc(32, byte), { mode: 0o600 })
}

test('a node opens from its config and its parts are wired', async () => {
  const dir = tmp()
  key(path.join(dir, 'seal.key'), 5)
  key(path.join(dir, 'master.key'), 9)
  Vault.init(path.join(dir, 'vault'), { engine: Engine.default(), masterKey: Buffer.alloc(32, 9) })
  fs.writeFileSync(
    path.join(dir, 'govdata.toml'),
    `node_id = "node-svc"\n[inventory]\nfile = ${JSON.stringify(INVENTORY)}\n` +
      '[audit]\ndir = "audit"\nkey_file = "seal.key"\n[vault]\ndir = "vault"\nmaster_key_file = "master.key"\n',
  )
  const node = Platform.open(path.join(dir, 'govdata.toml'))
  assert.equal(node.nodeId, 'node-svc')
  assert.equal(node.engine().decide(QUERY).audit_seq, 1)
  const vault = node.vault()
  vault.ensureKey('key.admin', 'social-insurance')
  const sealed = vault.encrypt('social-insurance', 'L3', Buffer.from('rows'))
  assert.equal(vault.decrypt('social-insurance', 'L3', sealed).toString(), 'rows')
  assert.deepEqual(node.workflows().shares(), [])
  const status = node.status()
  assert.equal(status.node_id, 'node-svc')
  assert.equal(status.audit.last_seq, node.auditLog().lastSeq)
  assert.ok(status.audit.last_seq >= 2)
  assert.equal(status.vault.keys, 1)
  node.close()
  const again = Platform.open(path.join(dir, 'govdata.toml'))
  assert.ok((await again.auditLog().verify()).records >= 2)
  again.close()
})

test('the shared vectors decide the same through a node', () => {
  const dir = tmp()
  fs.writeFileSync(path.join(dir, 'govdata.toml'), `node_id = "vectors"\n[inventory]\nfile = ${JSON.stringify(INVENTORY)}\n`)
  const engine = Platform.open(path.join(dir, 'govdata.toml')).engine()
  const vectors = path.join(ROOT, 'tests', 'vectors')
  let checked = 0
  for (const file of fs.readdirSync(vectors).filter((f) => f.endsWith('.json'))) {
    const v = JSON.parse(fs.readFileSync(path.join(vectors, file), 'utf8'))
    if (v.inventory !== 'policies/examples/inventory.json' || 'error' in v.expect || typeof v.request !== 'object') continue
    const d = engine.decide(v.request)
    assert.equal(d.decision, v.expect.decision, file)
    assert.deepEqual(d.reasons.map((r) => r.policy).sort(), [...v.expect.reasons].sort(), file)
    checked++
  }
  assert.ok(checked >= 20, `only ${checked} vectors`)
})

test('a node without parts is the engine alone; a wrong file names the key', () => {
  const dir = tmp()
  fs.writeFileSync(path.join(dir, 'govdata.toml'), 'node_id = "bare"\n')
  const node = Platform.open(path.join(dir, 'govdata.toml'))
  assert.equal(node.auditLog(), null)
  assert.equal(node.vault(), null)
  assert.equal(node.workflows(), null)
  assert.equal(node.engine().decide(QUERY).audit_seq, null)
  fs.writeFileSync(path.join(dir, 'govdata.toml'), 'node_id = "a"\n[audit]\ndir = "a"\nkey = "00"\n')
  assert.throws(() => Platform.open(path.join(dir, 'govdata.toml')), (e) => e.code === 'config_invalid' && /audit\.key/.test(e.message))
})
