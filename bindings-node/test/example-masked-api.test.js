'use strict'
// The example API (examples/masked_api.js) driven over HTTP on a loopback port: the
// records it answers with are masked by govdata as the decision says, a leaked
// response names its recipient and the audit record, and a deny sends no data.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { AuditLog, Engine, detectWatermark, maskValues } = require('..')
const { createServer, sampleRecords } = require('../examples/masked_api.js')

const MASK_KEY = Buffer.alloc(32, 9)

async function get(base, pathname, user, accept) {
  const headers = { 'x-user-id': user }
  if (accept) headers.accept = accept
  const res = await fetch(base + pathname, { headers, signal: AbortSignal.timeout(10000) })
  const type = res.headers.get('content-type')
  const body = type.startsWith('application/json') ? await res.json() : Buffer.from(await res.arrayBuffer())
  return { status: res.status, type, body }
}

test('the example API masks and watermarks its answers and refuses a deny with no data', { timeout: 60000 }, async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-api-test-'))
  const log = new AuditLog(path.join(work, 'audit'), Buffer.alloc(32, 3))
  const engine = Engine.default({ audit: log })
  const records = sampleRecords(15000)
  const server = createServer({ engine, maskKey: MASK_KEY, records: (id) => (id === 'hukou' ? records : []) })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${server.address().port}`
  try {
    const ok = await get(base, '/datasets/hukou/records', 'zhang.san')
    assert.equal(ok.status, 200)
    const got = ok.body.records
    assert.ok(got.length > records.length, 'the watermark added canary rows')
    // The first row is the first record, masked by the core's masks for each type.
    assert.equal(got[0].sfzh, maskValues('resident_id', [records[0].sfzh])[0])
    assert.equal(got[0].xm, maskValues('name', [records[0].xm])[0])
    assert.equal(got[0].sjhm, maskValues('mobile', [records[0].sjhm])[0])
    assert.equal(got[0].zz, '北京市朝阳区' + '*'.repeat([...records[0].zz].length - 6))
    assert.equal(got[0].csrq, records[0].csrq.slice(0, 4))
    assert.equal(got[0].hjlb, records[0].hjlb, 'a field that is not personal information is kept')
    const text = JSON.stringify(ok.body)
    for (const r of records.slice(0, 100)) {
      assert.ok(!text.includes(r.sjhm) && !text.includes(r.sfzh), 'no number leaves in the clear')
    }

    // The Arrow stream of the same answer is traceable: the mark names the caller.
    const leak = await get(base, '/datasets/hukou/records', 'zhang.san', 'application/vnd.apache.arrow.stream')
    assert.equal(leak.status, 200)
    const found = await detectWatermark(leak.body, { key: MASK_KEY, candidates: ['li.si', 'zhang.san'] })
    assert.ok(found)
    assert.equal(found.recipient, 'zhang.san')
    const recorded = (await log.query({ user: 'zhang.san' })).map((r) => r.seq)
    assert.ok(recorded.includes(found.audit_seq), 'the mark names a recorded decision')

    // A deny sends no data and says why.
    const denied = await get(base, '/datasets/hukou/records', 'vendor.li')
    assert.equal(denied.status, 403)
    assert.equal(denied.body.error, 'access_denied')
    assert.equal(denied.body.records, undefined)

    // Records that are not the dataset's declared fields are refused whole.
    const bad = createServer({ engine, maskKey: MASK_KEY, records: () => [{ passport: 'E1234567' }] })
    await new Promise((resolve) => bad.listen(0, '127.0.0.1', resolve))
    try {
      const res = await get(`http://127.0.0.1:${bad.address().port}`, '/datasets/hukou/records', 'zhang.san')
      assert.equal(res.status, 400)
      assert.equal(res.body.error, 'request_invalid')
    } finally {
      await new Promise((resolve) => bad.close(resolve))
    }
  } finally {
    await new Promise((resolve) => server.close(resolve))
    log.close()
    fs.rmSync(work, { recursive: true, force: true })
  }
})
