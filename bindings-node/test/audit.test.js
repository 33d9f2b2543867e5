'use strict'
// The audit log from Node: decisions recorded, verification, tampering found, queries,
// viewing as the regulation allows (Art. 8, 18, 19), retention, backup, restore, proofs.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const util = require('node:util')
const { AuditLog, Engine, Key } = require('..')

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
const QUERY = { principal: 'zhang.san', action: 'query', resource: 'population-stats', context: { purpose: 'statistics' } }
const DENY = { principal: 'zhang.san', action: 'modify', resource: 'population-stats' }
const RENSHE = { principal: 'wang.wu', action: 'query', resource: 'employment-stats', context: { purpose: 'statistics' } }

const dirs = []
function tmp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-audit-'))
  dirs.push(dir)
  return dir
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

/** A fresh log, and an engine (the default pack and example city) recording into it. */
function setup(options) {
  const dir = tmp()
  const log = new AuditLog(path.join(dir, 'audit'), KEY, options)
  return { dir, log, engine: Engine.default({ audit: log }) }
}

const segments = (dir) =>
  fs.readdirSync(dir).filter((f) => f.startsWith('seg-') && f.endsWith('.log')).sort().map((f) => path.join(dir, f))

async function rejectsCode(promise, code) {
  let caught
  try {
    await promise
  } catch (err) {
    caught = err
  }
  assert.ok(caught instanceof Error, `expected a rejection with code ${code}`)
  assert.equal(caught.code, code, `${caught.code}: ${caught.message}`)
  return caught
}

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

test('decisions are recorded and carry their sequence number', async () => {
  const { log, engine } = setup()
  assert.equal(engine.audited, true)
  const a = engine.decide(QUERY)
  const b = engine.decide(DENY)
  const c = JSON.parse(engine.decideJson(JSON.stringify(RENSHE)))
  assert.deepEqual([a.audit_seq, b.audit_seq, c.audit_seq], [1, 2, 3])
  const batch = await engine.decideMany([QUERY, DENY, RENSHE])
  assert.deepEqual(batch.map((d) => d.audit_seq).sort(), [4, 5, 6])
  assert.equal(log.lastSeq, 6)

  const records = await log.records()
  assert.deepEqual(records.map((r) => r.seq), [1, 2, 3, 4, 5, 6])
  const first = records[0]
  assert.equal(first.kind, 'decision')
  assert.equal(first.user, 'zhang.san')
  assert.equal(first.department, 'gongan')
  assert.equal(first.action, 'query')
  assert.equal(first.resource, 'population-stats')
  assert.equal(first.decision, 'allow')
  assert.equal(first.outcome, 'success')
  assert.deepEqual([...first.policies].sort(), a.reasons.map((r) => r.policy).sort())
  assert.equal(first.policy_version, a.policy_version)
  assert.deepEqual(first.fields, { purpose: 'statistics' })
  assert.equal(records[1].decision, 'deny')
  assert.equal(records[1].outcome, 'failure')
  assert.deepEqual(records[1].policies, ['default-deny'])

  const report = await log.verify()
  assert.equal(report.ok, true)
  assert.deepEqual([report.records, report.first_seq, report.last_seq], [6, 1, 6])
  assert.equal(report.torn_tail, null)
  log.close()
})

test('an engine without a log records nothing; a log can be attached and detached', () => {
  const dir = tmp()
  const log = new AuditLog(path.join(dir, 'audit'), KEY)
  const engine = Engine.default()
  assert.equal(engine.audited, false)
  assert.equal(engine.decide(QUERY).audit_seq, null)
  engine.attachAudit(log)
  assert.equal(engine.decide(QUERY).audit_seq, 1)
  engine.detachAudit()
  assert.equal(engine.audited, false)
  assert.equal(engine.decide(QUERY).audit_seq, null)
  assert.equal(log.lastSeq, 1)
  const viaConstructor = new Engine({ inventory: path.join(__dirname, '..', '..', 'policies', 'examples', 'inventory.json'), audit: log })
  assert.equal(viaConstructor.decide(QUERY).audit_seq, 2)
  throwsCode(() => engine.attachAudit({}), 'invalid_argument')
  throwsCode(() => Engine.default({ audit: 'audit/' }), 'invalid_argument')
  throwsCode(() => Engine.default({ audt: log }), 'invalid_argument')
  log.close()
})

test('a checkpoint verifies and exposes a rollback', async () => {
  const { dir, log, engine } = setup()
  engine.decide(QUERY)
  const checkpoint = log.checkpoint()
  assert.ok(checkpoint.startsWith('gdaudit1:'))
  engine.decide(DENY)
  assert.equal((await log.verify(checkpoint)).last_seq, 2)
  assert.equal((await log.verify(log.checkpoint())).head, log.checkpoint())
  await rejectsCode(log.verify('not a checkpoint'), 'request_invalid')
  // A checkpoint of another log (another key) does not authenticate here.
  const other = new AuditLog(path.join(dir, 'other'), KEY)
  other.appendEvent('test.event')
  await rejectsCode(log.verify(other.checkpoint()), 'request_invalid')
  other.close()
  log.close()
})

test('a flipped byte in a segment is found and named by its sequence number', async () => {
  const { dir, log, engine } = setup()
  for (let i = 0; i < 5; i++) engine.decide(QUERY)
  log.close()
  const [segment] = segments(path.join(dir, 'audit'))
  const data = fs.readFileSync(segment)
  // The payload of every record begins with its time; change one digit of the second.
  const marker = Buffer.from('{"time":"')
  const second = data.indexOf(marker, data.indexOf(marker) + 1)
  const at = second + marker.length + 3
  data[at] = data[at] === 0x37 ? 0x38 : 0x37
  fs.writeFileSync(segment, data)

  const err = await rejectsCode(AuditLog.verifyDir(path.join(dir, 'audit'), KEY), 'audit_tampered')
  assert.equal(err.seq, 2)
  // Opening the log for writing refuses it too: the bad record is not in a torn tail.
  const opened = throwsCode(() => new AuditLog(path.join(dir, 'audit'), KEY), 'audit_tampered')
  assert.equal(opened.seq, 2)
})

test('tampering under an open log is found by verify', async () => {
  const { dir, log, engine } = setup()
  for (let i = 0; i < 4; i++) engine.decide(DENY)
  const [segment] = segments(path.join(dir, 'audit'))
  const data = fs.readFileSync(segment)
  const first = data.indexOf('"user":"zhang.san"')
  data[first + '"user":"'.length] = 'Z'.charCodeAt(0)
  fs.writeFileSync(segment, data)
  const err = await rejectsCode(log.verify(), 'audit_tampered')
  assert.equal(err.seq, 1)
  log.close()
})

test('keys: bytes, a Key or a file, and never shown', async () => {
  const dir = tmp()
  const keyFile = path.join(dir, 'audit.key')
  fs.writeFileSync(keyFile, KEY)
  const log = new AuditLog(path.join(dir, 'a'), keyFile, { suite: 'sm3', sync: 'batch' })
  assert.equal(log.suite, 'sm3')
  assert.equal(log.syncMode, 'batch')
  assert.equal(log.dir, path.join(dir, 'a'))
  const seq = log.appendEvent('test.event', { user: 'zhang.san' })
  log.close()

  const key = Key.fromBytes(KEY)
  const shown = [String(log), util.inspect(log), String(key), util.inspect(key), JSON.stringify({ key }), `${Key.fromFile(keyFile)}`]
  for (const text of shown) {
    assert.ok(!text.includes(KEY.toString('hex')), text)
    assert.ok(!text.includes(KEY.toString('base64')), text)
    assert.ok(!text.includes(Array.from(KEY).join(',')), text)
    assert.ok(!text.includes(Array.from(KEY).join(', ')), text)
  }
  assert.match(String(key), /^Key\(32 bytes/)

  // The Key holds its own copy: wiping the caller's buffer changes nothing.
  const copy = Buffer.from(KEY)
  const held = Key.fromBytes(copy)
  copy.fill(0)
  const again = new AuditLog(path.join(dir, 'a'), held)
  assert.equal(again.suite, 'sm3')
  assert.equal((await again.records())[0].seq, seq)
  again.close()
  // A plain Uint8Array and a Key from the file open it too.
  new AuditLog(path.join(dir, 'a'), new Uint8Array(KEY)).close()
  new AuditLog(path.join(dir, 'a'), Key.fromFile(keyFile)).close()
  throwsCode(() => new AuditLog(path.join(dir, 'a'), Buffer.alloc(32, 1)), 'key_invalid')
})

test('a key of the wrong length is key_invalid and a key of the wrong type invalid_argument', () => {
  const dir = tmp()
  for (const bad of [Buffer.alloc(0), KEY.subarray(0, 31), Buffer.concat([KEY, Buffer.alloc(1)])]) {
    const err = throwsCode(() => new AuditLog(path.join(dir, 'a'), bad), 'key_invalid')
    if (bad.length > 0) assert.ok(!err.message.includes(bad.toString('hex')))
    const keyFile = path.join(dir, 'short.key')
    fs.writeFileSync(keyFile, bad)
    throwsCode(() => new AuditLog(path.join(dir, 'b'), keyFile), 'key_invalid')
  }
  throwsCode(() => new AuditLog(path.join(dir, 'a'), 12345), 'invalid_argument')
  throwsCode(() => new AuditLog(path.join(dir, 'a'), [1, 2, 3]), 'invalid_argument')
  throwsCode(() => Key.fromBytes('not bytes'), 'invalid_argument')
})

test('bad options are request_invalid or invalid_argument', () => {
  const dir = tmp()
  for (const options of [{ sync: 'sometimes' }, { suite: 'md5' }, { scope: 'some' }]) {
    throwsCode(() => new AuditLog(path.join(dir, 'a'), KEY, options), 'request_invalid')
  }
  throwsCode(() => new AuditLog(path.join(dir, 'a'), KEY, { synch: 'always' }), 'invalid_argument')
  throwsCode(() => new AuditLog(path.join(dir, 'a'), KEY, { segmentMaxBytes: -1 }), 'invalid_argument')
  throwsCode(() => new AuditLog(42, KEY), 'invalid_argument')
})

test('the required scope skips allowed processing but keeps denies', () => {
  const { log, engine } = setup({ scope: 'required' })
  const allowed = engine.decide({ principal: 'zhang.san', action: 'process', resource: 'population-stats', context: { purpose: 'statistics' } })
  assert.equal(allowed.decision, 'allow')
  assert.equal(allowed.audit_seq, null)
  const denied = engine.decide({ principal: 'zhang.san', action: 'process', resource: 'hukou', context: { purpose: 'statistics' } })
  assert.equal(denied.decision, 'deny')
  assert.equal(denied.audit_seq, 1)
  assert.equal(engine.decide(QUERY).audit_seq, 2)
  log.close()
})

test('query filters', async () => {
  const { log, engine } = setup()
  engine.decide(QUERY)
  engine.decide(DENY)
  engine.decide(RENSHE)
  engine.decide({ principal: 'huzheng.analyst', action: 'query', resource: 'hukou' })
  log.appendEvent('sharing.submitted', { user: 'wang.wu', fields: { request: 'shr-1', datasets: ['hukou'] } })

  const seqs = async (filter) => (await log.query(filter)).map((r) => r.seq)
  assert.deepEqual(await seqs({ user: 'zhang.san' }), [1, 2])
  assert.deepEqual(await seqs({ decision: 'deny', user: 'zhang.san' }), [2])
  assert.deepEqual(await seqs({ action: 'modify' }), [2])
  assert.deepEqual(await seqs({ dataset: 'employment-stats' }), [3])
  assert.deepEqual(await seqs({ department: 'gongan' }), [1, 2])
  assert.deepEqual(await seqs({ kind: 'sharing.submitted' }), [5])
  assert.deepEqual((await log.query({ kind: 'sharing.submitted' }))[0].fields, { request: 'shr-1', datasets: ['hukou'] })
  assert.deepEqual(await seqs({ limit: 2 }), [4, 5])
  assert.deepEqual(await seqs(), [1, 2, 3, 4, 5])

  const today = new Date().toISOString().slice(0, 10)
  const tomorrow = new Date(Date.now() + 86400e3).toISOString().slice(0, 10)
  assert.equal((await log.query({ since: today })).length, 5)
  assert.equal((await log.query({ since: today, until: tomorrow })).length, 5)
  assert.deepEqual(await log.query({ since: tomorrow }), [])
  assert.deepEqual(await log.query({ until: today }), [])
  assert.equal((await log.query({ until: new Date(Date.now() + 5000) })).length, 5)
  assert.deepEqual(await log.query({ since: new Date(Date.now() + 60000) }), [])
  await rejectsCode(log.query({ since: 'yesterday' }), 'request_invalid')
  await rejectsCode(log.query({ decision: 'maybe' }), 'request_invalid')
  await rejectsCode(log.query({ action: 'fly' }), 'request_invalid')
  await rejectsCode(log.query({ usr: 'zhang.san' }), 'request_invalid')
  await rejectsCode(log.query('zhang.san'), 'invalid_argument')
  log.close()
})

test('appendEvent uses the core event fields', async () => {
  const { log } = setup()
  const seq = log.appendEvent('destruction.executed', {
    user: 'key.admin', action: 'destroy', resource: 'hukou', outcome: 'success', fields: { method: 'crypto-shredding' },
  })
  const [r] = await log.records()
  assert.equal(r.seq, seq)
  assert.equal(seq, 1)
  assert.deepEqual([r.kind, r.user, r.action, r.resource], ['destruction.executed', 'key.admin', 'destroy', 'hukou'])
  assert.deepEqual(r.fields, { method: 'crypto-shredding' })
  throwsCode(() => log.appendEvent('x', { action: 'fly' }), 'request_invalid')
  throwsCode(() => log.appendEvent('x', { outcome: 'perhaps' }), 'request_invalid')
  throwsCode(() => log.appendEvent('x', { blob: 1 }), 'request_invalid')
  throwsCode(() => log.appendEvent('x', { kind: 'y' }), 'request_invalid')
  throwsCode(() => log.appendEvent('x', { fields: { n: 1n } }), 'request_invalid')
  throwsCode(() => log.appendEvent(7), 'invalid_argument')
  assert.equal(log.lastSeq, 1)
  log.close()
})

test('a closed log refuses appends and an engine recording into it denies', () => {
  const { log, engine } = setup()
  assert.equal(engine.decide(QUERY).decision, 'allow')
  log.close()
  throwsCode(() => log.appendEvent('test.event'), 'audit_unavailable')
  const d = engine.decide(QUERY)
  assert.equal(d.decision, 'deny', 'what cannot be recorded does not happen')
  assert.equal(d.audit_seq, null)
})

test('a department officer views only their own department', async () => {
  const { log, engine } = setup()
  engine.decide(QUERY) // gongan
  engine.decide({ principal: 'huzheng.analyst', action: 'query', resource: 'hukou' }) // gongan-huzheng
  engine.decide(RENSHE) // renshe

  const view = await log.view(engine, 'gongan.officer', { department: 'gongan' })
  assert.equal(view.allowed, true)
  assert.equal(view.decision.decision, 'allow')
  assert.notEqual(view.decision.audit_seq, null, 'the viewing is recorded')
  assert.deepEqual(new Set(view.records.map((r) => r.user)), new Set(['zhang.san', 'huzheng.analyst', 'gongan.officer']))
  assert.equal(view.records.at(-1).seq, view.decision.audit_seq)

  const refused = await log.view(engine, 'gongan.officer', { department: 'renshe' })
  assert.equal(refused.allowed, false)
  assert.deepEqual(refused.records, [])
  assert.ok(refused.decision.reasons.some((r) => r.policy === 'art18-own-department-only'))

  // The management department's auditor reviews every department (Art. 19).
  const everyone = await log.view(engine, 'audit.he')
  assert.equal(everyone.allowed, true)
  const users = new Set(everyone.records.map((r) => r.user))
  for (const u of ['zhang.san', 'wang.wu', 'huzheng.analyst']) assert.ok(users.has(u))

  const views = await log.query({ action: 'view_audit' })
  assert.deepEqual(views.map((r) => r.user), ['gongan.officer', 'gongan.officer', 'audit.he'])
  assert.deepEqual(views.map((r) => r.decision), ['allow', 'deny', 'allow'])
  await rejectsCode(log.view(log, 'audit.he'), 'invalid_argument')
  log.close()
})

test('a purge within six months is refused', async () => {
  const { log, engine } = setup()
  engine.decide(QUERY)
  log.seal()
  const today = new Date()
  for (const before of [today, today.toISOString().slice(0, 10), new Date(Date.now() - 150 * 86400e3)]) {
    await rejectsCode(log.purge(before), 'audit_retention')
  }
  await rejectsCode(log.purge('2020-13-45'), 'request_invalid')
  await rejectsCode(log.purge(20200101), 'invalid_argument')
  // Nothing is older than the floor: a purge far back removes nothing.
  const report = await log.purge(new Date(Date.UTC(2000, 0, 1)))
  assert.deepEqual(report.segments, [])
  assert.equal(report.before, '2000-01-01')
  assert.ok((await log.verify()).records >= 1)
  log.close()
})

test('backup, proof and restore', async () => {
  const { dir, log, engine } = setup()
  for (let i = 0; i < 3; i++) engine.decide(QUERY)
  log.seal()
  const backupDir = path.join(dir, 'backup')
  const backup = await log.backup(backupDir)
  assert.ok(backup.copied.length > 0)
  assert.equal(backup.verified.ok, true)
  assert.notEqual(backup.event_seq, null)
  assert.ok((await AuditLog.verifyDir(backupDir, KEY)).records >= 3)

  const proof = await log.prove(2)
  assert.equal(proof.seq, 2)
  assert.equal(proof.suite, 'sha256')
  const record = AuditLog.checkProof(proof, KEY)
  assert.equal(record.seq, 2)
  assert.equal(record.user, 'zhang.san')
  const forged = { ...proof, payload: proof.payload.replace('zhang.san', 'zhang.si') }
  const err = throwsCode(() => AuditLog.checkProof(forged, KEY), 'audit_tampered')
  assert.equal(err.seq, 2)
  throwsCode(() => AuditLog.checkProof({ ...proof, extra: 1 }, KEY), 'request_invalid')
  await rejectsCode(log.prove(10000), 'unknown_entity')

  log.close()
  fs.unlinkSync(segments(path.join(dir, 'audit'))[0])
  await rejectsCode(AuditLog.verifyDir(path.join(dir, 'audit'), KEY), 'audit_tampered')
  const restored = await AuditLog.restore(backupDir, path.join(dir, 'audit'), KEY)
  assert.ok(restored.restored.length > 0)
  assert.equal(restored.verified.ok, true)
  const again = new AuditLog(path.join(dir, 'audit'), KEY)
  assert.equal((await again.verify()).records, again.lastSeq)
  assert.ok((await again.query({ kind: 'audit.restore' })).length > 0)
  again.close()
})

test('a torn tail is cut at open and reported; a clean log reports none', async () => {
  // Written unsynced, the segment holds exactly its records: note where they end.
  const { dir, log } = setup({ sync: 'none' })
  log.appendEvent('test.a')
  log.appendEvent('test.b')
  log.close()
  const [segment] = segments(path.join(dir, 'audit'))
  const end = fs.statSync(segment).size
  // Opened to sync, the open segment is padded with zeros ahead of its records.
  const clean = new AuditLog(path.join(dir, 'audit'), KEY)
  assert.equal(clean.recovery, null)
  clean.close()
  // A crash in the middle of the third append left part of its frame, written in
  // place over the padding.
  const fd = fs.openSync(segment, 'r+')
  fs.writeSync(fd, Buffer.from([0x40, 0, 0, 0, 1, 2, 3]), 0, 7, end)
  fs.closeSync(fd)
  const again = new AuditLog(path.join(dir, 'audit'), KEY)
  const { torn, bytes_cut: cut, kept_at: keptAt } = again.recovery
  assert.equal(torn.first_lost_seq, 3)
  assert.equal(cut, 7)
  assert.ok(fs.existsSync(keptAt))
  assert.equal(again.lastSeq, 2)
  assert.equal((await again.verify()).records, 2)
  again.close()
})
