'use strict'
// The example portal (examples/server.js), started as a user would start it on a
// loopback port and driven over HTTP; afterwards its audit log holds one verified
// record per decision it made. Bounded: every step has a deadline and the server is
// stopped at the end whatever happens.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { AuditLog, Engine } = require('..')
const { createServer } = require('../examples/server.js')

const root = path.resolve(__dirname, '..', '..')
const serverJs = path.join(__dirname, '..', 'examples', 'server.js')

async function call(base, method, pathname, { user, body } = {}) {
  const headers = {}
  if (user) headers['x-user-id'] = user
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(base + pathname, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  })
  return { status: res.status, headers: res.headers, body: await res.json() }
}

function startChild(env) {
  const child = spawn(process.execPath, [serverJs], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 10 s')), 10000)
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the server exited with ${code}`))
    })
  })
  return { child, ready, exited }
}

test('the example portal serves, masks, watermarks, refuses with the article and audits every decision', { timeout: 60000 }, async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-portal-'))
  const auditDir = path.join(work, 'audit')
  const keyFile = path.join(work, 'audit.key')
  fs.writeFileSync(keyFile, Buffer.alloc(32, 42))
  const { child, ready, exited } = startChild({ GOVDATA_AUDIT_DIR: auditDir, GOVDATA_AUDIT_KEY_FILE: keyFile })
  // The sequence number of every decision the portal made, as its responses name it.
  const decided = []
  const served = async (...args) => {
    const r = await call(...args)
    const seq = r.headers.get('x-govdata-audit-seq') ?? r.body.audit_seq
    if (seq !== undefined && seq !== null) decided.push(Number(seq))
    return r
  }
  let stopped = false
  try {
    const base = await ready

    // An allow without obligations: the rows as they are.
    let r = await served(base, 'GET', '/datasets/population-stats', { user: 'zhang.san' })
    assert.equal(r.status, 200)
    assert.deepEqual(r.body.obligations, [])
    assert.equal(r.body.rows[0].population, 708829)
    assert.match(r.headers.get('x-govdata-policy-version'), /^sha256:/)

    // An allow with obligations: personal information masked, a watermark added.
    r = await served(base, 'POST', '/datasets/hukou/process', { user: 'zhang.san', body: { purpose: 'public_security' } })
    assert.equal(r.status, 200)
    assert.deepEqual([...r.body.obligations].sort(), ['mask_personal_info', 'watermark'])
    const row = r.body.rows[0]
    assert.notEqual(row.id_number, '110101199003071234')
    assert.match(row.id_number, /^110\*+234$/)
    assert.equal(row.district, '东城区')
    assert.match(row._watermark, /^zhang\.san@/)
    assert.equal(r.headers.get('x-govdata-watermark'), row._watermark)

    // A deny: 403 with the article's rule in Chinese and English.
    r = await served(base, 'GET', '/datasets/hukou', { user: 'vendor.wang' })
    assert.equal(r.status, 403)
    assert.equal(r.body.error, 'forbidden')
    assert.deepEqual(r.body.reasons.map((x) => x.policy), ['art16-vendor-no-sensitive-pi'])
    assert.equal(r.body.reasons[0].article, '第十六条')
    assert.ok(r.body.message_zh.startsWith('第十六条：'))
    assert.ok(r.body.message_en.startsWith('第十六条: '))
    assert.ok(r.body.reasons[0].zh.length > 0 && r.body.reasons[0].en.length > 0)

    // Nothing permits it: the default deny of Art. 3.
    r = await served(base, 'GET', '/datasets/hukou/export', { user: 'zhang.san' })
    assert.equal(r.status, 403)
    assert.equal(r.body.reasons[0].policy, 'default-deny')
    assert.equal(r.body.reasons[0].article, '第三条')

    // Fail closed on what cannot be decided.
    assert.equal((await served(base, 'GET', '/datasets/hukou', { user: 'nobody' })).status, 403)
    assert.equal((await served(base, 'GET', '/datasets/hukou')).status, 401)
    assert.equal((await served(base, 'GET', '/datasets/hukou?purpose=x', { user: 'zhang.san' })).status, 403)
    r = await served(base, 'POST', '/datasets/hukou/process', { user: 'zhang.san', body: { purpos: 'typo' } })
    assert.equal(r.status, 400)
    assert.equal(r.body.error, 'request_invalid')
    assert.equal((await served(base, 'GET', '/elsewhere', { user: 'zhang.san' })).status, 404)

    // The decision point: the wire format in and out.
    r = await served(base, 'POST', '/decide', {
      body: { principal: 'ops.admin', action: 'grant_superadmin', resource: { type: 'System', id: 'lake-db' }, context: { grantee: 'vendor.li' } },
    })
    assert.equal(r.status, 200)
    assert.equal(r.body.decision, 'deny')
    assert.equal(r.body.reasons[0].policy, 'art17-no-vendor-superadmin')

    // Viewing the log is a decision of its own (Art. 18): an officer sees their
    // department's records; vendor staff see nothing.
    r = await served(base, 'GET', '/audit?department=gongan', { user: 'gongan.officer' })
    assert.equal(r.status, 200)
    assert.ok(r.body.records.length >= 3)
    assert.ok(r.body.records.every((rec) => ['gongan', 'gongan-huzheng'].includes(rec.department)))
    r = await served(base, 'GET', '/audit', { user: 'vendor.wang' })
    assert.equal(r.status, 403)

    // Stopped as an operator stops it, the portal closes its log cleanly.
    child.kill('SIGTERM')
    stopped = true
    assert.deepEqual(await exited, { code: 0, signal: null })

    // One record per decision made, each the one its response named, and the log
    // verifies: nothing was recorded for the requests that were never decided.
    assert.equal(decided.length, 8)
    assert.equal(new Set(decided).size, decided.length)
    const log = new AuditLog(auditDir, keyFile)
    const report = await log.verify()
    assert.equal(report.ok, true)
    assert.equal(report.records, decided.length)
    const records = await log.records()
    assert.deepEqual(records.map((rec) => rec.seq), [...decided].sort((a, b) => a - b))
    assert.ok(records.every((rec) => rec.kind === 'decision'))
    assert.deepEqual(
      records.filter((rec) => rec.user === 'vendor.wang').map((rec) => [rec.action, rec.decision]),
      [['query', 'deny'], ['view_audit', 'deny']],
    )
    log.close()
    assert.equal((await AuditLog.verifyDir(auditDir, keyFile)).records, decided.length)
  } finally {
    if (!stopped) child.kill('SIGTERM')
    await exited
    fs.rmSync(work, { recursive: true, force: true })
  }
})

test('an obligation the portal cannot apply refuses the request', { timeout: 30000 }, async () => {
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-portal-'))
  fs.writeFileSync(
    path.join(local, 'local.cedar'),
    '@id("local-dual-control-traffic")\n@article("第七条")\n@zh("本地：交通数据须双人控制")\n@en("local: traffic data needs dual control")\n' +
      '@obligations("dual_control")\npermit (principal, action == Action::"query", resource == Dataset::"traffic-flow");\n',
  )
  const engine = new Engine({
    policies: [path.join(root, 'policies'), local],
    inventory: path.join(root, 'policies', 'examples', 'inventory.json'),
  })
  const server = createServer(engine)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const base = `http://127.0.0.1:${server.address().port}`
    const r = await call(base, 'GET', '/datasets/traffic-flow', { user: 'jiaotong.analyst' })
    assert.equal(r.status, 403)
    assert.equal(r.body.error, 'obligation_not_applicable')
    assert.deepEqual(r.body.obligations, ['dual_control'])
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})
