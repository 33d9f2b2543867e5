'use strict'
// Every error code, provoked through the public API and asserted by `.code` (never by
// message). Errors are real `Error` objects.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const govdata = require('..')
const { AuditLog, Engine, Key, Vault, Workflows, errorCodes } = govdata

const root = path.resolve(__dirname, '..', '..')
const schema = fs.readFileSync(path.join(root, 'policies', 'schema.cedarschema'), 'utf8')

function throwsCode(fn, code) {
  let caught
  try {
    fn()
  } catch (err) {
    caught = err
  }
  assert.ok(caught, `expected an error with code ${code}`)
  assert.ok(caught instanceof Error, 'not an Error object')
  assert.equal(caught.code, code, `${caught.code}: ${caught.message}`)
  assert.equal(typeof caught.message, 'string')
  return caught
}

async function rejectsCode(promise, code) {
  let caught
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof Error, 'not an Error object')
    assert.equal(err.code, code, `${err.code}: ${err.message}`)
    caught = err
    return true
  })
  return caught
}

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
const MASTER = Buffer.from(Array.from({ length: 32 }, (_, i) => 100 + i))

const dirs = []
function tmp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-errors-'))
  dirs.push(dir)
  return dir
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

/** A vault over a fresh engine (the example city), with a key for social-insurance. */
function vaultWithKey() {
  const dir = tmp()
  const engine = Engine.default()
  const vault = Vault.init(path.join(dir, 'vault'), { engine, masterKey: MASTER })
  vault.rotateKey('key.admin', 'social-insurance')
  return { dir, engine, vault }
}

/** A pack directory holding the default schema (or `schemaText`) and `files`. */
function pack(files, schemaText = schema) {
  const dir = tmp()
  fs.writeFileSync(path.join(dir, 'schema.cedarschema'), schemaText)
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
  return dir
}

const annotated = (body) =>
  `@id("local-rule")\n@article("第三条")\n@zh("本地规则")\n@en("a local rule")\n${body}\n`

const provoked = new Set()
function provokes(code, name, fn) {
  provoked.add(code)
  test(`${code}: ${name}`, fn)
}

provokes('policy_parse', 'a policy file that does not parse', () => {
  const dir = pack({ 'bad.cedar': 'permit (principal, action == , resource);' })
  throwsCode(() => new Engine({ policies: dir }), 'policy_parse')
})

provokes('policy_validation', 'a policy that does not type-check against the schema', () => {
  const dir = pack({
    'bad.cedar': annotated('permit (principal, action == Action::"query", resource is Dataset) when { principal.no_such_attribute == 1 };'),
  })
  throwsCode(() => new Engine({ policies: dir }), 'policy_validation')
})

provokes('policy_annotation', 'a policy without its article', () => {
  const dir = pack({
    'bad.cedar': '@id("no-article")\n@zh("无")\n@en("none")\npermit (principal, action == Action::"query", resource is Dataset);\n',
  })
  throwsCode(() => new Engine({ policies: dir }), 'policy_annotation')
})

provokes('schema_invalid', 'a schema that does not parse', () => {
  const dir = pack({}, 'entity User = { this is not a schema')
  throwsCode(() => new Engine({ policies: dir }), 'schema_invalid')
})

provokes('inventory_invalid', 'an inventory with an unknown field, a bad record, a bad kind', () => {
  throwsCode(() => new Engine({ inventory: { departments: [{ id: 'd', kind: 'user', colour: 'red' }] } }), 'inventory_invalid')
  throwsCode(() => new Engine({ inventory: { users: [{ id: 'u', department: 'nowhere' }] } }), 'inventory_invalid')
  const engine = Engine.default()
  throwsCode(() => engine.upsert('planet', { id: 'x' }), 'inventory_invalid')
  throwsCode(() => engine.upsert('dataset', { id: 'x' }), 'inventory_invalid')
  throwsCode(() => engine.replaceInventory({ users: 'everyone' }), 'inventory_invalid')
})

provokes('unknown_entity', 'a request naming a user the inventory does not hold', async () => {
  const engine = Engine.default()
  throwsCode(() => engine.decide({ principal: 'nobody', action: 'query', resource: 'hukou' }), 'unknown_entity')
  await rejectsCode(engine.allowedResources('zhang.san', 'query', ['no-such-dataset']), 'unknown_entity')
})

provokes('request_invalid', 'malformed requests, in every entry point', async () => {
  const engine = Engine.default()
  throwsCode(() => engine.decide({ principal: 'zhang.san', action: 'query', resource: 'hukou', extra: 1 }), 'request_invalid')
  throwsCode(() => engine.decide({ principal: 'zhang.san', action: 'fly', resource: 'hukou' }), 'request_invalid')
  throwsCode(() => engine.decide(undefined), 'request_invalid')
  throwsCode(() => engine.decide(42), 'request_invalid')
  throwsCode(() => engine.decide({ principal: 'zhang.san', action: 'query', resource: 'hukou', context: { n: 1n } }), 'request_invalid')
  const cyclic = { principal: 'zhang.san', action: 'query', resource: 'hukou' }
  cyclic.context = cyclic
  throwsCode(() => engine.decide(cyclic), 'request_invalid')
  throwsCode(() => engine.decideJson('{"principal": '), 'request_invalid')
  throwsCode(() => engine.allowedResourcesSync('zhang.san', 'fly', ['hukou']), 'request_invalid')
  throwsCode(() => engine.allowedResourcesSync('zhang.san', 'query', ['hukou'], { bogus: true }), 'request_invalid')
  await rejectsCode(engine.allowedResources('zhang.san', 'grant_superadmin', ['hukou']), 'request_invalid')
})

provokes('bundle_invalid', 'a govdata.toml naming a bundle that is no bundle', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-bundle-'))
  // The public key of RFC 8032's first Ed25519 test vector, as an SPKI PEM file.
  fs.writeFileSync(path.join(dir, 'mgmt.pub'),
    '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n-----END PUBLIC KEY-----\n')
  fs.writeFileSync(path.join(dir, 'pack.bundle'), '{}')
  fs.writeFileSync(path.join(dir, 'govdata.toml'),
    'node_id = "a"\n[policies]\nbundle = "pack.bundle"\ntrust_keys = ["mgmt.pub"]\nstate_file = "state.json"\n')
  throwsCode(() => govdata.Platform.open(path.join(dir, 'govdata.toml')), 'bundle_invalid')
  fs.rmSync(dir, { recursive: true, force: true })
})

provokes('config_invalid', 'a govdata.toml with a key it does not know', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-config-'))
  fs.writeFileSync(path.join(dir, 'govdata.toml'), 'node_id = "a"\nunknown_key = 1\n')
  throwsCode(() => govdata.Platform.open(path.join(dir, 'govdata.toml')), 'config_invalid')
  fs.rmSync(dir, { recursive: true, force: true })
})

provokes('store_unavailable', 'a wait for a store that nobody serves', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-store-'))
  fs.writeFileSync(path.join(dir, 'seal.key'), Buffer.alloc(32, 7), { mode: 0o600 })
  fs.writeFileSync(path.join(dir, 'govdata.toml'),
    `node_id = "a"\n[audit]\ndir = "audit"\nkey_file = "seal.key"\n[store]\nurl = "postgresql://govdata@/govdata?host=${path.join(dir, 'no-server')}"\n`)
  const node = govdata.Platform.open(path.join(dir, 'govdata.toml'))
  node.engine().decide({ principal: 'zhang.san', action: 'query', resource: 'hukou' })
  throwsCode(() => node.storeSync(200), 'store_unavailable')
  assert.equal(node.status().store.lag_records, 1)
  node.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

provokes('store_locked', 'a second writer of one audit log directory, past its wait', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-locked-'))
  const holder = new govdata.AuditLog(path.join(dir, 'audit'), Buffer.alloc(32))
  throwsCode(() => new govdata.AuditLog(path.join(dir, 'audit'), Buffer.alloc(32), { lockWaitMs: 50 }), 'store_locked')
  holder.close()
  new govdata.AuditLog(path.join(dir, 'audit'), Buffer.alloc(32), { lockWaitMs: 0 }).close()
  fs.rmSync(dir, { recursive: true, force: true })
})

provokes('io', 'a policy directory or inventory file that does not exist', () => {
  throwsCode(() => new Engine({ policies: path.join(os.tmpdir(), 'govdata-no-such-dir') }), 'io')
  throwsCode(() => new Engine({ inventory: path.join(os.tmpdir(), 'govdata-no-such-file.json') }), 'io')
  throwsCode(() => Engine.default().reloadPolicies('/nonexistent/govdata'), 'io')
})

provokes('invalid_argument', 'arguments of the wrong shape', async () => {
  throwsCode(() => new Engine({ polices: 'typo' }), 'invalid_argument')
  throwsCode(() => new Engine({ policies: 42 }), 'invalid_argument')
  const engine = Engine.default()
  throwsCode(() => engine.decideManySync('not an array'), 'invalid_argument')
  // A call that returns a Promise reports even a bad argument through the Promise.
  await rejectsCode(engine.decideMany({ 0: 'x' }), 'invalid_argument')
  await rejectsCode(engine.allowedResources(42, 'query', ['hukou']), 'invalid_argument')
  throwsCode(() => engine.allowedResourcesSync('zhang.san', 'query', 'hukou'), 'invalid_argument')
  throwsCode(() => engine.replaceInventory(null), 'invalid_argument')
  // A value of the wrong type is the module's invalid_argument, never a napi status.
  throwsCode(() => engine.remove(42, 'x'), 'invalid_argument')
  throwsCode(() => engine.decideJson(42), 'invalid_argument')
  throwsCode(() => new AuditLog(path.join(tmp(), 'a'), 42), 'invalid_argument')
  throwsCode(() => new Workflows(engine, {}), 'invalid_argument')
  throwsCode(() => Vault.init(path.join(tmp(), 'v'), { masterKey: MASTER }), 'invalid_argument')
  throwsCode(() => Vault.init(path.join(tmp(), 'v'), { engine, masterKey: MASTER, masterKeyEnv: 'X' }), 'invalid_argument')
  throwsCode(() => Vault.init(path.join(tmp(), 'v'), { engine, masterkey: MASTER }), 'invalid_argument')
  await rejectsCode(AuditLog.verifyDir(path.join(tmp(), 'a'), KEY, 7), 'invalid_argument')
})

provokes('panic', 'a panic becomes an exception or a rejection, never an abort', async () => {
  throwsCode(() => govdata.__panicForTesting('call'), 'panic')
  await rejectsCode(govdata.__panicForTesting('arguments'), 'panic')
  await rejectsCode(govdata.__panicForTesting('task'), 'panic')
  // The module still works afterwards.
  const d = Engine.default().decide({ principal: 'zhang.san', action: 'query', resource: 'population-stats' })
  assert.equal(d.decision, 'allow')
})

provokes('audit_tampered', 'a byte of a record changed on disk, then verified', async () => {
  const dir = tmp()
  const log = new AuditLog(path.join(dir, 'audit'), KEY)
  for (const kind of ['a', 'b', 'c']) log.appendEvent(`test.${kind}`)
  log.close()
  const [segment] = fs.readdirSync(path.join(dir, 'audit')).filter((f) => /^seg-.*\.log$/.test(f))
  const file = path.join(dir, 'audit', segment)
  const data = fs.readFileSync(file)
  const at = data.indexOf('"kind":"test.b"') + '"kind":"test.'.length
  data[at] = 'B'.charCodeAt(0)
  fs.writeFileSync(file, data)
  const err = await rejectsCode(AuditLog.verifyDir(path.join(dir, 'audit'), KEY), 'audit_tampered')
  assert.equal(err.seq, 2)
  // Opening it for writing finds the bad record too, synchronously.
  assert.equal(throwsCode(() => new AuditLog(path.join(dir, 'audit'), KEY), 'audit_tampered').seq, 2)
})

provokes('audit_retention', 'a purge of records younger than six months', async () => {
  const log = new AuditLog(path.join(tmp(), 'audit'), KEY)
  log.appendEvent('test.event')
  log.seal()
  await rejectsCode(log.purge(new Date()), 'audit_retention')
  log.close()
})

provokes('audit_unavailable', 'an append to a closed log', () => {
  const log = new AuditLog(path.join(tmp(), 'audit'), KEY)
  log.close()
  throwsCode(() => log.appendEvent('test.event'), 'audit_unavailable')
})

provokes('crypto_auth_failed', 'a ciphertext with one bit flipped, or of another grade', () => {
  const { vault } = vaultWithKey()
  const sealed = vault.encrypt('social-insurance', 'L3', Buffer.from('record'))
  const flipped = Buffer.from(sealed)
  flipped[flipped.length - 1] ^= 1
  throwsCode(() => vault.decrypt('social-insurance', 'L3', flipped), 'crypto_auth_failed')
  throwsCode(() => vault.decrypt('social-insurance', 'L4', sealed), 'crypto_auth_failed')
})

provokes('key_not_found', 'encrypting for a dataset that has no key yet', () => {
  const { vault } = vaultWithKey()
  throwsCode(() => vault.encrypt('subsidy-list', 'L3', Buffer.from('record')), 'key_not_found')
})

provokes('key_destroyed', 'decrypting after the dataset was shredded', () => {
  const { vault } = vaultWithKey()
  const sealed = vault.encrypt('social-insurance', 'L3', Buffer.from('record'))
  vault.shred('key.admin', 'social-insurance')
  throwsCode(() => vault.decrypt('social-insurance', 'L3', sealed), 'key_destroyed')
})

provokes('key_invalid', 'a key of the wrong length, or the wrong master key', () => {
  const dir = tmp()
  throwsCode(() => new AuditLog(path.join(dir, 'a'), KEY.subarray(0, 16)), 'key_invalid')
  throwsCode(() => new AuditLog(path.join(dir, 'b'), Key.fromBytes(Buffer.concat([KEY, KEY]))), 'key_invalid')
  const { dir: vdir, engine } = vaultWithKey()
  throwsCode(() => Vault.open(path.join(vdir, 'vault'), { engine, masterKey: KEY }), 'key_invalid')
  throwsCode(() => Vault.open(path.join(vdir, 'vault'), { engine, masterKeyEnv: 'GOVDATA_TEST_NO_SUCH_VARIABLE' }), 'key_invalid')
})

provokes('access_denied', 'vendor staff shredding a dataset', () => {
  const { vault } = vaultWithKey()
  throwsCode(() => vault.shred('vendor.li', 'social-insurance'), 'access_denied')
})

provokes('workflow_invalid', 'provisioning a sharing request nobody has reviewed', () => {
  const log = new AuditLog(path.join(tmp(), 'audit'), KEY)
  const flows = new Workflows(Engine.default({ audit: log }), log)
  const step = flows.requestShare('wang.wu', 'hukou', {
    purpose: 'social_security_check', legal_basis: '社会保险法第五十八条', fields: ['name'], until: '2099-12-31', scenario_risk: 'low',
  })
  assert.equal(step.done, true)
  throwsCode(() => flows.provisionShare('li.si', step.record.id), 'workflow_invalid')
  log.close()
})

test('every code is provoked above', () => {
  const codes = errorCodes()
  assert.equal(new Set(codes).size, codes.length)
  for (const code of codes) assert.ok(provoked.has(code), `code ${code} is never provoked`)
  for (const code of provoked) assert.ok(codes.includes(code), `${code} is not in errorCodes()`)
})

test('the typings list exactly the codes the module raises', () => {
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const union = /export type ErrorCode =([^]*?)\n\n/.exec(dts)[1]
  const typed = [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1])
  assert.deepEqual([...typed].sort(), [...errorCodes()].sort())
})

test('a failed reload or update changes nothing', () => {
  const engine = Engine.default()
  const version = engine.policyVersion
  const request = { principal: 'zhang.san', action: 'query', resource: 'population-stats' }
  const before = engine.decide(request)
  throwsCode(() => engine.reloadPolicies(pack({ 'bad.cedar': 'permit (' })), 'policy_parse')
  throwsCode(() => engine.upsert('user', { id: 'zhang.san', department: 'nowhere' }), 'inventory_invalid')
  assert.equal(engine.policyVersion, version)
  assert.deepEqual(engine.decide(request).decision, before.decision)
})
