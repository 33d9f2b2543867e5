'use strict'
// Every shared vector of tests/vectors/, decided through each entry point of the
// module: decide, decideJson, decideManySync and decideMany must all agree with it.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { Engine } = require('..')

const root = path.resolve(__dirname, '..', '..')
const dir = path.join(root, 'tests', 'vectors')
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()

const engines = new Map()
function engineFor(inventory) {
  const key = typeof inventory === 'string' ? inventory : JSON.stringify(inventory)
  if (!engines.has(key)) {
    const inv = typeof inventory === 'string' ? path.join(root, inventory) : inventory
    engines.set(key, new Engine({ inventory: inv }))
  }
  return engines.get(key)
}

function check(vector, outcome) {
  const { expect } = vector
  if (expect.error !== undefined) {
    assert.ok(outcome instanceof Error, `expected error ${expect.error}, got ${JSON.stringify(outcome)}`)
    assert.equal(outcome.code, expect.error)
    return
  }
  assert.ok(!(outcome instanceof Error), `unexpected error ${outcome && outcome.code}: ${outcome && outcome.message}`)
  assert.equal(outcome.decision, expect.decision)
  const ids = outcome.reasons.map((r) => r.policy).sort()
  assert.deepEqual(ids, [...expect.reasons].sort())
  if (expect.obligations !== undefined) {
    assert.deepEqual([...outcome.obligations].sort(), [...expect.obligations].sort())
  }
  for (const r of outcome.reasons) {
    assert.equal(typeof r.article, 'string')
    assert.ok(r.zh.length > 0 && r.en.length > 0)
  }
  assert.match(outcome.policy_version, /^sha256:[0-9a-f]{64}$/)
}

function sorted(decision) {
  const by = (a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0)
  return { ...decision, reasons: [...decision.reasons].sort(by) }
}

function attempt(fn) {
  try {
    return fn()
  } catch (err) {
    return err
  }
}

test('the shared vectors are there', () => {
  assert.ok(files.length >= 40, `only ${files.length} vectors in ${dir}`)
})

for (const file of files) {
  const vector = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'))
  test(`vector ${file}: ${vector.name}`, async () => {
    const engine = engineFor(vector.inventory)
    check(vector, attempt(() => engine.decide(vector.request)))

    const viaObject = attempt(() => engine.decide(vector.request))
    const viaJson = attempt(() => JSON.parse(engine.decideJson(JSON.stringify(vector.request))))
    check(vector, viaJson)
    // The object is the wire format: exactly what the core writes as JSON (reasons in
    // any order, as docs/FORMATS.md allows).
    if (!(viaObject instanceof Error)) assert.deepEqual(sorted(viaObject), sorted(viaJson))

    const [sync] = engine.decideManySync([vector.request])
    check(vector, sync)
    const [async_] = await engine.decideMany([vector.request])
    check(vector, async_)
  })
}
