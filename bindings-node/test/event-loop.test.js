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
