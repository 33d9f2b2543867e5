'use strict'
// Masks, pseudonyms and watermarks from Node: the shared vectors of
// tests/vectors/masks, and a decision's obligations carried out on Arrow IPC streams
// (built and read with apache-arrow), failing closed.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const arrow = require('apache-arrow')
const { AuditLog, Engine, Key, maskValues, detectWatermark } = require('..')

const root = path.resolve(__dirname, '..', '..')
const vectors = path.join(root, 'tests', 'vectors', 'masks')
const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => 100 + i))
const QUERY = { principal: 'zhang.san', action: 'query', resource: 'hukou', context: { scenario_risk: 'low' } }

function cases(name) {
  return JSON.parse(fs.readFileSync(path.join(vectors, name), 'utf8')).cases
}

async function rejectsCode(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error)
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`)
    return true
  })
}

function throwsCode(f, code) {
  assert.throws(f, (e) => {
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`)
    return true
  })
}

/** A seeded generator, so that a failure can be replayed. */
function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

/** `n` rows of the household register: ID, name, mobile (strings) and an integer. */
function people(n, seed = 1) {
  const r = rng(seed)
  const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1))
  const pad = (v, w) => String(v).padStart(w, '0')
  const sfzh = []
  const xm = []
  const sjhm = []
  for (let i = 0; i < n; i++) {
    sfzh.push(`${int(11, 65)}${pad(int(0, 9999), 4)}19${int(40, 99)}0101${pad(int(0, 9999), 4)}`)
    xm.push(['张', '欧阳', '李'][int(0, 2)] + ['伟', '娜娜', '强'][int(0, 2)])
    sjhm.push(`1${int(3, 9)}${pad(int(0, 999999999), 9)}`)
  }
  return { sfzh, xm, sjhm, hjlb: Int32Array.from({ length: n }, (_, i) => i) }
}

/** An Arrow IPC stream of string columns (and Int32 typed arrays). */
function ipc(columns) {
  const vectors = {}
  for (const [name, values] of Object.entries(columns)) {
    vectors[name] =
      values instanceof Int32Array ? arrow.makeVector(values) : arrow.vectorFromArray(values, new arrow.Utf8())
  }
  return arrow.tableToIPC(new arrow.Table(vectors), 'stream')
}

function column(table, name) {
  return [...table.getChild(name)]
}

function audited() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-mask-'))
  const log = new AuditLog(path.join(dir, 'audit'), Buffer.alloc(32, 7))
  return { engine: Engine.default({ audit: log }), log, dir }
}

test('every mask gives the shared table\'s output', () => {
  for (const c of cases('masks.json')) {
    assert.deepEqual(maskValues(c.mask, [c.in]), [c.out], `${c.mask}: ${JSON.stringify(c.in)}`)
  }
})

test('pseudonyms match the shared vectors in both suites, and need their key', () => {
  const doc = JSON.parse(fs.readFileSync(path.join(vectors, 'pseudonyms.json'), 'utf8'))
  const key = Buffer.from(doc.key_hex, 'hex')
  for (const c of doc.cases) {
    assert.deepEqual(maskValues('pseudonym', [c.in], { key, suite: c.suite }), [c.out])
    assert.deepEqual(maskValues('pseudonym', [c.in], { key: Key.fromBytes(key), suite: c.suite }), [c.out])
  }
  throwsCode(() => maskValues('pseudonym', ['13812345678']), 'key_not_found')
  throwsCode(() => maskValues('passport', ['x']), 'request_invalid')
  throwsCode(() => maskValues('pseudonym', ['x'], { key: Buffer.alloc(8) }), 'key_invalid')
  throwsCode(() => maskValues('mobile', [1]), 'invalid_argument')
  throwsCode(() => maskValues('mobile', ['x'], { suite: 'md5' }), 'request_invalid')
  throwsCode(() => maskValues('mobile', ['x'], { kee: KEY }), 'invalid_argument')
})

test('a stream is masked as the decision says, and kept columns keep their type', async () => {
  const { engine, log } = audited()
  const rows = people(50)
  rows.sfzh[0] = '11010519900307123X'
  rows.xm[0] = '欧阳娜娜'
  const promise = engine.applyIpc(QUERY, ipc(rows), { key: KEY })
  assert.ok(promise instanceof Promise)
  const out = arrow.tableFromIPC(await promise)
  const sfzh = column(out, 'sfzh')
  assert.equal(sfzh[0], '110105********123X')
  assert.equal(column(out, 'xm')[0], '欧阳**')
  assert.ok(column(out, 'sjhm').every((m) => /^1\d\d\*{4}\d{4}$/.test(m)))
  assert.equal(String(out.schema.fields.find((f) => f.name === 'hjlb').type), 'Int32')
  // Past the canary rows (which repeat the row before in the kept column), the rows
  // are what maskValues gives for the same values.
  const ids = column(out, 'hjlb')
  const real = sfzh.filter((_, i) => i === 0 || ids[i] !== ids[i - 1])
  assert.deepEqual(real, maskValues('resident_id', rows.sfzh))
  log.close()
})

test('the watermark names the recipient and the record after a 10 % sample', async () => {
  const { engine, log } = audited()
  const out = arrow.tableFromIPC(await engine.applyIpc(QUERY, ipc(people(16000)), { key: KEY }))
  assert.ok(out.numRows > 16000, 'canary rows were added')
  const mobiles = column(out, 'sjhm')
  const r = rng(5)
  const order = mobiles.map((_, i) => i)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  const sample = order.slice(0, Math.floor(mobiles.length / 10)).map((i) => mobiles[i])
  const found = await detectWatermark(ipc({ sjhm: sample }), { key: KEY, candidates: ['li.si', 'zhang.san'] })
  assert.ok(found, 'the mark is read from the sample')
  assert.equal(found.recipient, 'zhang.san')
  assert.ok(found.audit_seq >= 1 && found.votes > 0)
  assert.equal(await detectWatermark(ipc(people(2000)), { key: KEY }), null)
  // Under another key, nothing.
  assert.equal(await detectWatermark(ipc({ sjhm: sample }), { key: Buffer.alloc(32, 1) }), null)
  log.close()
})

test('a deny, an undeclared column, a missing key or a bad stream releases nothing', async () => {
  const engine = Engine.default()
  await rejectsCode(engine.applyIpc({ ...QUERY, principal: 'vendor.li' }, ipc(people(5)), { key: KEY }), 'access_denied')
  await rejectsCode(engine.applyIpc(QUERY, ipc({ passport: ['E123'] }), { key: KEY }), 'request_invalid')
  await rejectsCode(engine.applyIpc(QUERY, ipc(people(5))), 'key_not_found')
  await rejectsCode(engine.applyIpc(QUERY, Buffer.from('not arrow'), { key: KEY }), 'request_invalid')
  await rejectsCode(engine.applyIpc(QUERY, 'not a buffer', { key: KEY }), 'invalid_argument')
  await rejectsCode(engine.applyIpc(QUERY, ipc(people(5)), { key: KEY, colour: 1 }), 'invalid_argument')
  // A watermark needs the decision's audit record: an engine without a log refuses it.
  await rejectsCode(engine.applyIpc(QUERY, ipc(people(5)), { key: KEY }), 'request_invalid')
  await rejectsCode(detectWatermark(ipc(people(5)), {}), 'invalid_argument')
})

test('the event loop keeps turning while a large stream is masked', async () => {
  const { engine, log } = audited()
  const data = ipc(people(200000, 3))
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  const out = await engine.applyIpc(QUERY, data, { key: KEY })
  clearInterval(timer)
  assert.ok(arrow.tableFromIPC(out).numRows > 200000)
  assert.ok(ticks > 0, 'timers fired while the stream was masked')
  log.close()
})
