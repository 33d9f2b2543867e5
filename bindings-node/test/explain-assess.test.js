'use strict'
// engine.explain, assess and platform.assess give the very JSON the command line prints
// for the same inputs, byte for byte: the core writes it in one place. The command line
// is this checkout's `govdata` (GOVDATA_CLI, or built with cargo).
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')
const { Engine, Platform, assess, assessJson, assessHtml } = require('..')

const ROOT = path.resolve(__dirname, '..', '..')
const INVENTORY = path.join(ROOT, 'policies', 'examples', 'inventory.json')
const NOW = '2026-12-01'

const REQUESTS = [
  { principal: 'zhang.san', action: 'query', resource: 'hukou', context: { scenario_risk: 'low' } },
  {
    principal: 'ops.admin',
    action: 'grant_superadmin',
    resource: { type: 'System', id: 'lake-db' },
    context: { grantee: 'vendor.li' },
  },
  { principal: 'zhang.san', action: 'modify', resource: 'hukou' },
  { principal: 'yunwei.ops', action: 'query', resource: 'traffic-flow' },
]

let cli
const dirs = []
function tmp() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-report-'))
  dirs.push(dir)
  return dir
}

before(() => {
  cli = process.env.GOVDATA_CLI
  if (!cli) {
    execFileSync('cargo', ['build', '--quiet', '-p', 'govdata-cli'], { cwd: ROOT, stdio: 'inherit' })
    const meta = JSON.parse(
      execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], { cwd: ROOT, encoding: 'utf8' }),
    )
    cli = path.join(meta.target_directory, 'debug', 'govdata')
  }
})
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

function run(args, input) {
  const env = { ...process.env }
  delete env.GOVDATA_CONFIG
  return spawnSync(cli, args, { cwd: ROOT, input, env, timeout: 120000 })
}

function key(file, byte, mode = 0o600) {
  fs.writeFileSync(file, Buffer.alloc(32, byte), { mode })
  fs.chmodSync(file, mode)
}

/** A node with an inventory, an audit log holding a few decisions, and a vault. */
function node() {
  const dir = tmp()
  key(path.join(dir, 'seal.key'), 5)
  key(path.join(dir, 'master.key'), 7)
  const config = path.join(dir, 'govdata.toml')
  fs.writeFileSync(
    config,
    `node_id = "node-assess"\n[inventory]\nfile = ${JSON.stringify(INVENTORY)}\n` +
      '[audit]\ndir = "audit"\nkey_file = "seal.key"\n[vault]\ndir = "vault"\nmaster_key_file = "master.key"\n',
  )
  assert.equal(run(['vault', 'init', '--config', config]).status, 0)
  for (const r of REQUESTS) {
    const out = run(['decide', '--config', config], JSON.stringify(r))
    assert.ok([0, 1].includes(out.status), String(out.stderr))
  }
  return { dir, config }
}

test('explain is the command line\'s JSON byte for byte', () => {
  const engine = new Engine({ inventory: INVENTORY })
  for (const request of REQUESTS) {
    const text = JSON.stringify(request)
    const out = run(['explain', '--inventory', INVENTORY, '--json'], text)
    assert.ok([0, 1].includes(out.status), String(out.stderr))
    assert.equal(out.stdout.toString('utf8'), engine.explainJson(text) + '\n')
    // The object is that JSON read back: typed fields, the decision in the wire format.
    const x = engine.explain(request)
    assert.deepEqual(x, JSON.parse(out.stdout.toString('utf8')))
    assert.equal(x.decision.decision === 'allow', out.status === 0)
    if (x.decision.reasons[0].policy === 'default-deny') {
      assert.ok(x.closest.length > 0 && x.closest.every((c) => c.failed.text))
    }
  }
  assert.throws(() => engine.explain({ principal: 'nobody', action: 'query', resource: 'hukou' }), {
    code: 'unknown_entity',
  })
  assert.throws(() => engine.explainJson('{'), { code: 'request_invalid' })
})

test('explain through a platform is the command line\'s too', () => {
  const dir = tmp()
  const config = path.join(dir, 'govdata.toml')
  fs.writeFileSync(config, `node_id = "node-explain"\n[inventory]\nfile = ${JSON.stringify(INVENTORY)}\n`)
  const engine = Platform.open(config).engine()
  for (const request of REQUESTS) {
    const out = run(['explain', '--config', config, '--json'], JSON.stringify(request))
    assert.equal(out.stdout.toString('utf8'), engine.explainJson(JSON.stringify(request)) + '\n')
  }
})

test('assess from a file is the command line\'s JSON byte for byte, off the event loop', async () => {
  const { config } = node()
  const out = run(['assess', '--config', config, '--now', NOW, '--json', '-', '--fail-on', 'none'])
  assert.equal(out.status, 0, String(out.stderr))
  const pending = assessJson({ config, now: NOW })
  assert.ok(pending instanceof Promise)
  const text = await pending
  assert.equal(out.stdout.toString('utf8'), text + '\n')
  const report = await assess({ config, now: NOW })
  assert.deepEqual(report, JSON.parse(text))
  assert.equal(report.summary.total, report.findings.length)
  assert.ok(report.sources.audit !== null && report.sources.vault !== null)
  assert.match(await assessHtml({ config, now: NOW }), /<html/)
  // The same through the opened node, whose log it reads without writing.
  const opened = Platform.open(config)
  assert.equal(await opened.assessJson({ now: NOW }), text)
  assert.deepEqual(await opened.assess({ now: NOW }), report)
  opened.close()
})

test('assess with options is the command line with flags', async () => {
  const { dir, config } = node()
  const flags = [
    '--inventory', INVENTORY,
    '--audit-dir', path.join(dir, 'audit'),
    '--audit-key-file', path.join(dir, 'seal.key'),
    '--vault-dir', path.join(dir, 'vault'),
    '--master-key-file', path.join(dir, 'master.key'),
    '--now', NOW, '--gap-days', '0', '--backup-days', '3',
  ]
  const out = run(['assess', ...flags, '--json', '-', '--fail-on', 'none'])
  assert.equal(out.status, 0, String(out.stderr))
  const text = await assessJson({
    inventory: INVENTORY,
    auditDir: path.join(dir, 'audit'),
    auditKeyFile: path.join(dir, 'seal.key'),
    vaultDir: path.join(dir, 'vault'),
    masterKeyFile: path.join(dir, 'master.key'),
    now: NOW,
    gapDays: 0,
    backupDays: 3,
  })
  assert.equal(out.stdout.toString('utf8'), text + '\n')
  // An option overrides the file, as a flag does.
  const policies = path.join(ROOT, 'policies')
  const over = run(['assess', '--config', config, '--policies', policies, '--now', NOW, '--json', '-', '--fail-on', 'none'])
  assert.equal(over.stdout.toString('utf8'), (await assessJson({ config, policies: [policies], now: NOW })) + '\n')
})

test('assess refuses a key file others may read, and a half-named source', async () => {
  const { dir, config } = node()
  const loose = path.join(dir, 'loose.key')
  key(loose, 5, 0o644)
  await assert.rejects(assess({ config, auditKeyFile: loose, now: NOW }), { code: 'config_invalid' })
  await assert.rejects(assess({ auditDir: path.join(dir, 'audit'), now: NOW }), { code: 'request_invalid' })
  await assert.rejects(assess({ colour: 'red' }), { code: 'invalid_argument' })
})
