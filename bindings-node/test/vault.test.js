'use strict'
// The vault from Node: envelope encryption in both suites, files, key rotation,
// crypto-shredding, key operations decided by the engine and recorded in the audit log.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const { AuditLog, Engine, Key, Vault } = require('..')

const MASTER = Buffer.from(Array.from({ length: 32 }, (_, i) => 100 + i))
const AUDIT_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
const ADMIN = 'key.admin'
const DATASET = 'social-insurance'
const GRADE = 'L3'

const dirs = []
function tmp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-vault-'))
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

async function rejectsCode(promise, code) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof Error)
    assert.equal(err.code, code, `${err.code}: ${err.message}`)
    return true
  })
}

/** A vault whose engine records its decisions, and whose key events, in a log. */
function setup() {
  const dir = tmp()
  const log = new AuditLog(path.join(dir, 'audit'), AUDIT_KEY)
  const engine = Engine.default({ audit: log })
  const vault = Vault.init(path.join(dir, 'vault'), { masterKey: MASTER, engine, audit: log })
  vault.rotateKey(ADMIN, DATASET)
  return { dir, log, engine, vault }
}

function flip(data, at) {
  const b = Buffer.from(data)
  b[at] ^= 0x01
  return b
}

for (const suite of ['xchacha20poly1305', 'sm4-gcm']) {
  test(`a record round-trips with ${suite}`, () => {
    const { vault, log } = setup()
    const plain = Buffer.from('张某,330102197001013456,3200')
    const sealed = vault.encrypt(DATASET, GRADE, plain, { suite })
    assert.ok(Buffer.isBuffer(sealed))
    assert.equal(sealed.indexOf(plain), -1)
    assert.deepEqual(vault.decrypt(DATASET, GRADE, sealed), plain)
    assert.deepEqual(vault.decrypt(DATASET, GRADE, new Uint8Array(sealed)), plain)
    assert.notDeepEqual(vault.encrypt(DATASET, GRADE, Buffer.alloc(0)), vault.encrypt(DATASET, GRADE, Buffer.alloc(0)))
    log.close()
  })

  test(`a vault on ${suite} throughout, reopened`, () => {
    const dir = tmp()
    const engine = Engine.default()
    const vault = Vault.init(path.join(dir, 'v'), { masterKey: MASTER, engine, suite })
    assert.equal(vault.defaultSuite, suite)
    assert.equal(vault.status().master_algorithm, suite)
    vault.rotateKey(ADMIN, DATASET)
    const sealed = vault.encrypt(DATASET, GRADE, Buffer.from('record'))
    // Reopened, the master key wraps with the algorithm the store records.
    const again = Vault.open(path.join(dir, 'v'), { masterKey: MASTER, engine })
    assert.equal(again.decrypt(DATASET, GRADE, sealed).toString(), 'record')
  })
}

test('tampered or misplaced ciphertext is crypto_auth_failed', () => {
  const { vault, log } = setup()
  const sealed = vault.encrypt(DATASET, GRADE, Buffer.from('an insured person'))
  for (const at of [sealed.length >> 1, sealed.length - 1]) {
    throwsCode(() => vault.decrypt(DATASET, GRADE, flip(sealed, at)), 'crypto_auth_failed')
  }
  throwsCode(() => vault.decrypt(DATASET, 'L4', sealed), 'crypto_auth_failed') // another grade
  throwsCode(() => vault.decrypt(DATASET, GRADE, sealed.subarray(0, sealed.length - 1)), 'crypto_auth_failed')
  vault.rotateKey(ADMIN, 'subsidy-list')
  throwsCode(() => vault.decrypt('subsidy-list', GRADE, sealed), 'crypto_auth_failed') // another dataset
  log.close()
})

test('a file round-trips and a tampered file leaves no output', async () => {
  const { dir, vault, log } = setup()
  const src = path.join(dir, 'rows.csv')
  fs.writeFileSync(src, Buffer.from('id,name\n1,张\n'.repeat(20000)))
  const enc = path.join(dir, 'rows.csv.gdv')
  const out = path.join(dir, 'rows.out.csv')
  const n = await vault.encryptFile(DATASET, GRADE, src, enc, { suite: 'sm4-gcm' })
  assert.equal(n, fs.statSync(src).size)
  assert.equal(await vault.decryptFile(DATASET, GRADE, enc, out), n)
  assert.deepEqual(fs.readFileSync(out), fs.readFileSync(src))

  fs.unlinkSync(out)
  const bad = path.join(dir, 'bad.gdv')
  fs.writeFileSync(bad, flip(fs.readFileSync(enc), fs.statSync(enc).size >> 1))
  await rejectsCode(vault.decryptFile(DATASET, GRADE, bad, out), 'crypto_auth_failed')
  assert.equal(fs.existsSync(out), false)
  // A record is not a stream, and a stream is not a record.
  throwsCode(() => vault.decrypt(DATASET, GRADE, fs.readFileSync(enc)), 'crypto_auth_failed')
  await rejectsCode(vault.encryptFile(DATASET, GRADE, path.join(dir, 'missing.csv'), enc), 'io')
  // Bad arguments reject too: a Promise-returning call never throws.
  await rejectsCode(vault.encryptFile(DATASET, 'L9', src, enc), 'request_invalid')
  await rejectsCode(vault.decryptFile(DATASET, GRADE, 42, out), 'invalid_argument')
  log.close()
})

test('rotation keeps old data readable', () => {
  const { vault, log } = setup()
  const old = vault.encrypt(DATASET, GRADE, Buffer.from('before'))
  const info = vault.rotateKey(ADMIN, DATASET)
  assert.equal(info.version, 2)
  assert.equal(info.status, 'active')
  assert.equal(info.dataset, DATASET)
  assert.deepEqual(vault.keys(DATASET).map((k) => k.status), ['retired', 'active'])
  assert.equal(vault.decrypt(DATASET, GRADE, old).toString(), 'before')
  assert.equal(vault.ensureKey(ADMIN, DATASET).id, info.id)
  log.close()
})

test('shredding destroys the key for good and is recorded', async () => {
  const { vault, log } = setup()
  const sealed = vault.encrypt(DATASET, GRADE, Buffer.from('to be destroyed'))
  const report = vault.shred(ADMIN, DATASET)
  assert.equal(report.dataset, DATASET)
  assert.equal(report.key_ids.length, 1)
  assert.notEqual(report.event_seq, null)
  throwsCode(() => vault.decrypt(DATASET, GRADE, sealed), 'key_destroyed')
  throwsCode(() => vault.encrypt(DATASET, GRADE, Buffer.from('new data')), 'key_destroyed')
  throwsCode(() => vault.shred(ADMIN, DATASET), 'key_destroyed')
  assert.deepEqual(vault.keys(DATASET).map((k) => k.status), ['destroyed'])
  const [shred] = await log.query({ kind: 'key.shred' })
  assert.equal(shred.user, ADMIN)
  assert.equal(shred.resource, DATASET)
  assert.deepEqual(shred.fields.key_ids, report.key_ids)
  assert.equal(shred.seq, report.event_seq)
  log.close()
})

test('key operations are decided by the engine and recorded', async () => {
  const { vault, log } = setup()
  throwsCode(() => vault.shred('vendor.li', DATASET), 'access_denied')
  throwsCode(() => vault.rotateKey('zhang.san', DATASET), 'access_denied')
  // Important data needs dual control: a witness whom the policies also allow.
  throwsCode(() => vault.rotateKey(ADMIN, 'medical-records'), 'access_denied')
  throwsCode(() => vault.rotateKey(ADMIN, 'medical-records', { witness: 'vendor.li' }), 'access_denied')
  assert.equal(vault.rotateKey(ADMIN, 'medical-records', { witness: 'ops.admin' }).version, 1)
  throwsCode(() => vault.rotateKey(ADMIN, 'medical-records', { witnes: 'ops.admin' }), 'invalid_argument')

  const kinds = (await log.records()).map((r) => r.kind)
  assert.equal(kinds.filter((k) => k === 'key.init_store').length, 1)
  assert.equal(kinds.filter((k) => k === 'key.create_key').length, 2)
  const denials = await log.query({ action: 'manage_keys', decision: 'deny' })
  const users = new Set(denials.map((r) => r.user))
  assert.ok(users.has('vendor.li') && users.has('zhang.san'))
  const [create] = await log.query({ kind: 'key.create_key', dataset: 'medical-records' })
  assert.equal(create.fields.witness, 'ops.admin')
  assert.ok(create.fields.decision_seq < create.seq)
  assert.equal((await log.verify()).ok, true)
  log.close()
})

test('vendor staff cannot create a key store', () => {
  throwsCode(
    () => Vault.init(path.join(tmp(), 'v'), { masterKey: MASTER, engine: Engine.default(), operator: 'vendor.li' }),
    'access_denied',
  )
})

test('no key yet is key_not_found', () => {
  const { vault, log } = setup()
  throwsCode(() => vault.encrypt('subsidy-list', GRADE, Buffer.from('x')), 'key_not_found')
  throwsCode(() => vault.shred(ADMIN, 'subsidy-list'), 'key_not_found')
  log.close()
})

test('a master key of the wrong length is key_invalid', () => {
  const dir = tmp()
  for (const bad of [Buffer.alloc(0), MASTER.subarray(0, 31), Buffer.concat([MASTER, Buffer.alloc(1)])]) {
    throwsCode(() => Vault.init(path.join(dir, 'v'), { masterKey: bad, engine: Engine.default() }), 'key_invalid')
    const keyFile = path.join(dir, 'master.key')
    fs.writeFileSync(keyFile, bad)
    throwsCode(() => Vault.init(path.join(dir, 'v'), { masterKey: keyFile, engine: Engine.default() }), 'key_invalid')
  }
})

test('master keys from bytes, a Key, a file or the environment', () => {
  const { dir, vault, engine, log } = setup()
  const sealed = vault.encrypt(DATASET, GRADE, Buffer.from('record'))
  const vdir = path.join(dir, 'vault')
  const keyFile = path.join(dir, 'master.key')
  fs.writeFileSync(keyFile, MASTER)
  for (const masterKey of [keyFile, Key.fromFile(keyFile), Key.fromBytes(MASTER), new Uint8Array(MASTER)]) {
    const opened = Vault.open(vdir, { masterKey, engine })
    assert.equal(opened.decrypt(DATASET, GRADE, sealed).toString(), 'record')
  }
  process.env.GOVDATA_TEST_MASTER_KEY = MASTER.toString('hex')
  try {
    const byEnv = Vault.open(vdir, { masterKeyEnv: 'GOVDATA_TEST_MASTER_KEY', engine })
    assert.equal(byEnv.decrypt(DATASET, GRADE, sealed).toString(), 'record')
  } finally {
    delete process.env.GOVDATA_TEST_MASTER_KEY
  }
  throwsCode(() => Vault.open(vdir, { masterKeyEnv: 'GOVDATA_TEST_NO_SUCH_VARIABLE', engine }), 'key_invalid')
  throwsCode(() => Vault.open(vdir, { engine }), 'invalid_argument')
  throwsCode(() => Vault.open(vdir, { masterKey: MASTER, masterKeyEnv: 'X', engine }), 'invalid_argument')
  throwsCode(() => Vault.open(vdir, { masterKey: 1234, engine }), 'invalid_argument')
  throwsCode(() => Vault.open(vdir, { masterKey: MASTER, engine: {} }), 'invalid_argument')
  log.close()
})

test('another master key is key_invalid, and rotation rewraps', () => {
  const { dir, vault, engine, log } = setup()
  const vdir = path.join(dir, 'vault')
  const sealed = vault.encrypt(DATASET, GRADE, Buffer.from('record'))
  throwsCode(() => Vault.open(vdir, { masterKey: crypto.randomBytes(32), engine }), 'key_invalid')
  const next = crypto.randomBytes(32)
  vault.rotateMasterKey(ADMIN, { masterKey: next })
  const reopened = Vault.open(vdir, { masterKey: next, engine })
  assert.equal(reopened.decrypt(DATASET, GRADE, sealed).toString(), 'record')
  throwsCode(() => Vault.open(vdir, { masterKey: MASTER, engine }), 'key_invalid')
  log.close()
})

test('an altered key store is crypto_auth_failed', () => {
  const { dir, engine, log } = setup()
  const vdir = path.join(dir, 'vault')
  for (const f of fs.readdirSync(vdir)) {
    const p = path.join(vdir, f)
    if (!fs.statSync(p).isFile()) continue
    fs.writeFileSync(p, fs.readFileSync(p, 'latin1').replaceAll('"social-insurance"', '"subsidy-list\\u0000\\u0000\\u0000\\u0000"'), 'latin1')
  }
  throwsCode(() => Vault.open(vdir, { masterKey: MASTER, engine }), 'crypto_auth_failed')
  log.close()
})

test('status and descriptions never show key material', () => {
  const { vault, log } = setup()
  const status = vault.status()
  assert.match(status.master_key_id, /^mk-/)
  assert.equal(status.default_suite, 'xchacha20poly1305')
  assert.deepEqual(status.keys.map((k) => k.dataset), [DATASET])
  const key = Key.fromBytes(MASTER)
  const text = [String(vault), util.inspect(vault), JSON.stringify(status), String(key), util.inspect(key, { showHidden: true }), JSON.stringify(key)].join('\n')
  for (const form of [MASTER.toString('hex'), MASTER.toString('base64'), Array.from(MASTER).join(',')]) {
    assert.ok(!text.includes(form))
  }
  assert.match(String(vault), /^Vault\(/)
  log.close()
})

test('bad arguments', () => {
  const { vault, log } = setup()
  throwsCode(() => vault.encrypt(DATASET, 'L9', Buffer.from('x')), 'request_invalid')
  throwsCode(() => vault.encrypt(DATASET, GRADE, Buffer.from('x'), { suite: 'rot13' }), 'request_invalid')
  throwsCode(() => vault.encrypt(DATASET, GRADE, 'text is not bytes'), 'invalid_argument')
  throwsCode(() => Vault.init(vault.dir, { masterKey: MASTER, engine: Engine.default() }), 'io')
  throwsCode(() => Vault.init(path.join(tmp(), 'v'), { masterKey: MASTER, engine: Engine.default(), chunkSize: 1000 }), 'request_invalid')
  log.close()
})
