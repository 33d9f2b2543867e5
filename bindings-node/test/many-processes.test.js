'use strict'
// Many processes on one host from Node (a service in cluster mode, cron jobs beside
// it): worker processes appending to one audit directory queue on its lock and lose
// nothing; a second writer gets `store_locked` after its wait; a holder killed with
// SIGKILL lets go at once; processes sharing one vault lose no data key.
const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { AuditLog, Engine, Vault } = require('..')

const KEY_HEX = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex')
const MASTER_HEX = Buffer.alloc(32, 9).toString('hex')
const QUERY = { principal: 'zhang.san', action: 'query', resource: 'population-stats', context: { purpose: 'statistics' } }
const PROCS = 4
const ROUNDS = 15
const MODULE = path.resolve(__dirname, '..')

const dirs = []
function tmp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-many-'))
  dirs.push(dir)
  return dir
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

/** Runs `source` in a new Node process with govdata loaded; resolves with its stdout. */
function run(source, { onStdout } = {}) {
  const child = spawn(process.execPath, ['-e', `const gd = require(${JSON.stringify(MODULE)});\n${source}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d) => {
    out += d
    if (onStdout) onStdout(out, child)
  })
  const done = new Promise((resolve, reject) => {
    child.on('exit', (code, signal) =>
      code === 0 ? resolve(out) : reject(new Error(`worker exited ${code ?? signal}: ${out}`)),
    )
  })
  return { child, done }
}

test('worker processes appending to one log queue on its lock and lose nothing', async () => {
  const dir = path.join(tmp(), 'audit')
  const worker = `
    const key = Buffer.from(${JSON.stringify(KEY_HEX)}, 'hex')
    const acked = []
    for (let i = 0; i < ${ROUNDS}; i++) {
      const log = new gd.AuditLog(${JSON.stringify(dir)}, key, { lockWaitMs: 120000 })
      acked.push(gd.Engine.default({ audit: log }).decide(${JSON.stringify(QUERY)}).audit_seq)
      log.close()
    }
    process.stdout.write(JSON.stringify(acked))`
  const outs = await Promise.all(Array.from({ length: PROCS }, () => run(worker).done))
  const acked = outs.flatMap((o) => JSON.parse(o))
  assert.equal(acked.length, PROCS * ROUNDS)
  assert.equal(new Set(acked).size, acked.length, 'a sequence number was handed out twice')
  const log = new AuditLog(dir, Buffer.from(KEY_HEX, 'hex'))
  const report = await log.verify()
  const decisions = (await log.records()).filter((r) => r.kind === 'decision').map((r) => r.seq)
  log.close()
  assert.equal(report.records, acked.length)
  assert.deepEqual(decisions.sort((a, b) => a - b), acked.sort((a, b) => a - b))
})

test('a second writer gets store_locked; a holder killed with SIGKILL lets go at once', async () => {
  const dir = path.join(tmp(), 'audit')
  let held
  const ready = new Promise((resolve) => {
    held = run(
      `const log = new gd.AuditLog(${JSON.stringify(dir)}, Buffer.from(${JSON.stringify(KEY_HEX)}, 'hex'))
       process.stdout.write('held\\n')
       setInterval(() => {}, 1000)`,
      { onStdout: (out) => out.includes('held') && resolve() },
    )
  })
  await ready
  const started = Date.now()
  assert.throws(
    () => new AuditLog(dir, Buffer.from(KEY_HEX, 'hex'), { lockWaitMs: 300 }),
    (e) => {
      assert.equal(e.code, 'store_locked')
      assert.match(e.message, new RegExp(`process ${held.child.pid}`))
      return true
    },
  )
  assert.ok(Date.now() - started >= 300)
  held.child.kill('SIGKILL')
  await assert.rejects(held.done)
  const log = new AuditLog(dir, Buffer.from(KEY_HEX, 'hex'), { lockWaitMs: 0 })
  assert.equal(log.lastSeq, 0)
  Engine.default({ audit: log }).decide(QUERY)
  assert.equal((await log.verify()).records, 1)
  log.close()
})

test('processes sharing one vault lose no data key', async () => {
  const base = tmp()
  const vaultDir = path.join(base, 'vault')
  Vault.init(vaultDir, { engine: Engine.default(), masterKey: Buffer.from(MASTER_HEX, 'hex') })
  const datasets = [['traffic-flow', 'L1'], ['population-stats', 'L2'], ['employment-stats', 'L2'], ['subsidy-list', 'L3']]
  const worker = ([dataset, grade]) => `
    const fs = require('node:fs')
    const path = require('node:path')
    const vault = gd.Vault.open(${JSON.stringify(vaultDir)}, {
      engine: gd.Engine.default(), masterKey: Buffer.from(${JSON.stringify(MASTER_HEX)}, 'hex'), lockWaitMs: 120000 })
    vault.ensureKey('key.admin', ${JSON.stringify(dataset)})
    const files = []
    for (let i = 0; i < 8; i++) {
      const file = path.join(${JSON.stringify(base)}, ${JSON.stringify(dataset)} + '-' + i)
      fs.writeFileSync(file, vault.encrypt(${JSON.stringify(dataset)}, ${JSON.stringify(grade)}, Buffer.from(${JSON.stringify(dataset)} + ' ' + i)))
      files.push(file)
      if (i % 4 === 3) vault.rotateKey('key.admin', ${JSON.stringify(dataset)})
    }
    process.stdout.write(JSON.stringify(files))`
  const outs = await Promise.all(datasets.map((d) => run(worker(d)).done))
  const vault = Vault.open(vaultDir, { engine: Engine.default(), masterKey: Buffer.from(MASTER_HEX, 'hex') })
  outs.forEach((o, w) => {
    const [dataset, grade] = datasets[w]
    JSON.parse(o).forEach((file, i) => {
      assert.equal(vault.decrypt(dataset, grade, fs.readFileSync(file)).toString(), `${dataset} ${i}`)
    })
  })
  assert.equal(vault.status().keys.length, datasets.length * 3)
})
