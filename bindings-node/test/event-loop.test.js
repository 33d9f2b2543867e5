'use strict'
// A large batch runs on the thread pool: the event loop keeps serving (a timer keeps
// firing) while it is decided.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { Engine } = require('..')

test('a timer keeps firing while a large decideMany runs', async () => {
  const engine = Engine.default()
  const one = { principal: 'zhang.san', action: 'query', resource: 'hukou', context: { purpose: 'public_security' } }
  // Size the batch so that it takes at least ~300 ms here (after a warm-up: the first
  // decisions on a thread prepare that thread's copy of the pack).
  engine.decideManySync(Array(500).fill(one))
  const t0 = process.hrtime.bigint()
  engine.decideManySync(Array(2000).fill(one))
  const perDecision = Number(process.hrtime.bigint() - t0) / 2000
  const n = Math.min(200000, Math.max(2000, Math.ceil(300e6 / perDecision)))
  const requests = Array(n).fill(one)

  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  const started = process.hrtime.bigint()
  let ticksWhenDone = -1
  const pending = engine.decideMany(requests).then((r) => {
    ticksWhenDone = ticks
    return r
  })
  // The call returned at once; the batch is still running.
  assert.equal(ticksWhenDone, -1)
  const results = await pending
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6
  clearInterval(timer)

  assert.equal(results.length, n)
  assert.ok(results.every((r) => r.decision === results[0].decision))
  // A blocked loop would fire the timer at most once or twice in the whole run.
  assert.ok(elapsedMs >= 100, `the batch took only ${elapsedMs.toFixed(0)} ms: too short to show anything`)
  assert.ok(ticksWhenDone >= 5, `only ${ticksWhenDone} ticks in ${elapsedMs.toFixed(0)} ms for ${n} decisions`)
})

test('a timer keeps firing while allowedResources filters a large batch', async () => {
  const engine = Engine.default()
  const resources = Array(20000).fill('population-stats')
  let ticks = 0
  const timer = setInterval(() => ticks++, 5)
  const started = Date.now()
  const allowed = await engine.allowedResources('zhang.san', 'query', resources)
  const elapsed = Date.now() - started
  clearInterval(timer)
  assert.equal(allowed.length, resources.length)
  if (elapsed > 100) assert.ok(ticks >= 3, `only ${ticks} ticks in ${elapsed} ms`)
})

// ---------------------------------------------------------------- the vault and the log
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { AuditLog, Vault } = require('..')

const KEY = Buffer.alloc(32, 7)

/**
 * Runs `start()` (which returns a Promise) while a 2 ms interval timer runs, and
 * returns the elapsed time and the ticks counted before the Promise settled. The call
 * itself must return at once: a tick is only possible if the work is off the loop.
 */
async function ticksDuring(start) {
  let ticks = 0
  const timer = setInterval(() => ticks++, 2)
  const t0 = process.hrtime.bigint()
  let ticksWhenDone = -1
  const pending = start().then((value) => {
    ticksWhenDone = ticks
    return value
  })
  const returnedAfterMs = Number(process.hrtime.bigint() - t0) / 1e6
  try {
    const value = await pending
    return { value, ticks: ticksWhenDone, elapsedMs: Number(process.hrtime.bigint() - t0) / 1e6, returnedAfterMs }
  } finally {
    clearInterval(timer)
  }
}

test('a timer keeps firing while a 96 MiB file is encrypted and decrypted', { timeout: 120000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-loop-'))
  try {
    const engine = Engine.default()
    const vault = Vault.init(path.join(dir, 'vault'), { engine, masterKey: Buffer.alloc(32, 9) })
    vault.rotateKey('key.admin', 'social-insurance')
    // 96 MiB of incompressible data, written in 1 MiB pieces.
    const src = path.join(dir, 'big.bin')
    const fd = fs.openSync(src, 'w')
    const hash = crypto.createHash('sha256')
    const piece = crypto.randomBytes(1 << 20)
    for (let i = 0; i < 96; i++) {
      piece[0] = i
      fs.writeSync(fd, piece)
      hash.update(piece)
    }
    fs.closeSync(fd)
    const digest = hash.digest('hex')
    const enc = path.join(dir, 'big.gdv')
    const out = path.join(dir, 'big.out')

    const e = await ticksDuring(() => vault.encryptFile('social-insurance', 'L3', src, enc))
    assert.equal(e.value, 96 << 20)
    assert.ok(e.returnedAfterMs < 50, `encryptFile took ${e.returnedAfterMs.toFixed(1)} ms to return its Promise`)
    // A blocked loop would fire the 2 ms timer at most once in the whole run.
    assert.ok(e.ticks >= 3, `only ${e.ticks} ticks in ${e.elapsedMs.toFixed(0)} ms of encryption`)

    const d = await ticksDuring(() => vault.decryptFile('social-insurance', 'L3', enc, out))
    assert.equal(d.value, 96 << 20)
    assert.ok(d.ticks >= 3, `only ${d.ticks} ticks in ${d.elapsedMs.toFixed(0)} ms of decryption`)
    assert.equal(crypto.createHash('sha256').update(fs.readFileSync(out)).digest('hex'), digest)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a timer keeps firing while a long audit log is verified', { timeout: 120000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-loop-'))
  try {
    const log = new AuditLog(path.join(dir, 'audit'), KEY, { sync: 'none' })
    const note = 'x'.repeat(512)
    let records = 0
    const grow = (n) => {
      for (let i = 0; i < n; i++) log.appendEvent('test.event', { user: 'zhang.san', fields: { i: records + i, note } })
      records += n
      log.sync()
    }
    // Grow the log until verifying it takes long enough to show anything (at least
    // 100 ms here), starting from many thousand records.
    grow(20000)
    let v
    for (;;) {
      v = await ticksDuring(() => log.verify())
      if (v.elapsedMs >= 100 || records >= 640000) break
      grow(records)
    }
    assert.equal(v.value.ok, true)
    assert.equal(v.value.records, records)
    assert.ok(v.returnedAfterMs < 50, `verify took ${v.returnedAfterMs.toFixed(1)} ms to return its Promise`)
    assert.ok(v.elapsedMs >= 100, `verifying ${records} records took only ${v.elapsedMs.toFixed(0)} ms`)
    assert.ok(v.ticks >= 5, `only ${v.ticks} ticks in ${v.elapsedMs.toFixed(0)} ms verifying ${records} records`)
    log.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
