'use strict'
// The Engine API as a Node service uses it: construction, decisions, batches, the
// batch filter, inventory updates and policy reloads.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const govdata = require('..')
const { Engine, VERSION } = govdata

const root = path.resolve(__dirname, '..', '..')
const inventoryFile = path.join(root, 'policies', 'examples', 'inventory.json')
const allow = { principal: 'zhang.san', action: 'query', resource: 'population-stats' }
const vendorGrant = {
  principal: 'ops.admin',
  action: 'grant_superadmin',
  resource: { type: 'System', id: 'lake-db' },
  context: { grantee: 'vendor.li' },
}

test('one version for the crate and the npm package', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'))
  const cargo = fs.readFileSync(path.join(root, 'Cargo.toml'), 'utf8')
  const workspaceVersion = /\[workspace\.package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(cargo)[1]
  assert.equal(VERSION, pkg.version)
  assert.equal(VERSION, workspaceVersion)
})

test('Engine.default() decides with the default pack and the example inventory', () => {
  const engine = Engine.default()
  const d = engine.decide(vendorGrant)
  assert.deepEqual(Object.keys(d), ['decision', 'reasons', 'obligations', 'policy_version', 'audit_seq'])
  assert.equal(d.decision, 'deny')
  assert.deepEqual(d.reasons, [
    {
      policy: 'art17-no-vendor-superadmin',
      article: '第十七条',
      zh: '数据库、操作系统最高管理员权限不得转交供应商人员',
      en: 'database and OS super-administrator rights may not be given to vendor staff',
    },
  ])
  assert.deepEqual(d.obligations, [])
  assert.equal(d.policy_version, engine.policyVersion)
  assert.equal(d.audit_seq, null)
})

test('new Engine(...) takes a pack directory, several directories, an inventory file or object', () => {
  const inventory = JSON.parse(fs.readFileSync(inventoryFile, 'utf8'))
  const fromFile = new Engine({ policies: path.join(root, 'policies'), inventory: inventoryFile })
  const fromObject = new Engine({ inventory })
  assert.equal(fromFile.policyVersion, fromObject.policyVersion)
  assert.equal(fromFile.decide(allow).decision, 'allow')
  assert.equal(fromObject.decide(allow).decision, 'allow')

  // A department's own policies beside the default pack.
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-local-'))
  fs.writeFileSync(
    path.join(local, 'local.cedar'),
    '@id("local-forbid-stats")\n@article("第三条")\n@zh("本地：禁止查询人口统计")\n@en("local: no queries of population statistics")\n' +
      'forbid (principal, action == Action::"query", resource == Dataset::"population-stats");\n',
  )
  const layered = new Engine({ policies: [path.join(root, 'policies'), local], inventory })
  const d = layered.decide(allow)
  assert.equal(d.decision, 'deny')
  assert.deepEqual(d.reasons.map((r) => r.policy), ['local-forbid-stats'])
  assert.notEqual(layered.policyVersion, fromFile.policyVersion)

  // Without options: the default pack and an empty inventory.
  const empty = new Engine()
  assert.equal(empty.policyVersion, fromFile.policyVersion)
  assert.throws(() => empty.decide(allow), { code: 'unknown_entity' })
})

test('decideJson takes and returns the wire format as text', () => {
  const engine = Engine.default()
  const text = engine.decideJson(JSON.stringify(vendorGrant))
  assert.equal(typeof text, 'string')
  assert.equal(JSON.parse(text).reasons[0].policy, 'art17-no-vendor-superadmin')
})

test('decideMany resolves in order, with an Error in place of a request that cannot be decided', async () => {
  const engine = Engine.default()
  const bad = { principal: 'zhang.san', action: 'query' }
  const unknown = { principal: 'nobody', action: 'query', resource: 'hukou' }
  const requests = [allow, vendorGrant, bad, unknown]
  const results = await engine.decideMany(requests)
  assert.equal(results.length, 4)
  assert.equal(results[0].decision, 'allow')
  assert.equal(results[1].decision, 'deny')
  assert.ok(results[2] instanceof Error)
  assert.equal(results[2].code, 'request_invalid')
  assert.ok(results[3] instanceof Error)
  assert.equal(results[3].code, 'unknown_entity')
  const sync = engine.decideManySync(requests)
  assert.deepEqual(sync.map((r) => r.decision ?? r.code), ['allow', 'deny', 'request_invalid', 'unknown_entity'])
  assert.deepEqual(await engine.decideMany([]), [])
})

test('a large decideMany agrees with decide, request by request', async () => {
  const engine = Engine.default()
  const users = ['zhang.san', 'li.si', 'wang.wu', 'vendor.li', 'huzheng.analyst', 'zhou.ba']
  const datasets = ['hukou', 'population-stats', 'social-insurance', 'medical-records', 'traffic-flow']
  const actions = ['query', 'modify', 'export', 'process']
  const requests = []
  for (let i = 0; i < 2000; i++) {
    requests.push({
      principal: users[i % users.length],
      action: actions[(i >> 3) % actions.length],
      resource: datasets[(i * 7) % datasets.length],
      context: i % 3 ? { purpose: 'public_security' } : {},
    })
  }
  const results = await engine.decideMany(requests)
  const by = (a, b) => (a.policy < b.policy ? -1 : 1)
  for (let i = 0; i < requests.length; i += 37) {
    const one = engine.decide(requests[i])
    assert.equal(results[i].decision, one.decision)
    assert.deepEqual([...results[i].reasons].sort(by), [...one.reasons].sort(by))
  }
})

test('allowedResources keeps the resources the principal may act on, in order', async () => {
  const engine = Engine.default()
  const resources = ['hukou', 'population-stats', 'traffic-flow', 'medical-records']
  const expected = resources.filter((r) => engine.decide({ principal: 'zhang.san', action: 'query', resource: r }).decision === 'allow')
  assert.ok(expected.length > 0 && expected.length < resources.length)
  assert.deepEqual(await engine.allowedResources('zhang.san', 'query', resources), expected)
  assert.deepEqual(engine.allowedResourcesSync('zhang.san', 'query', resources), expected)
  assert.deepEqual(engine.allowedResourcesSync('zhang.san', 'query', resources, {}), expected)
  // Systems come back as {type, id}.
  const systems = engine.allowedResourcesSync('ops.admin', 'grant_superadmin', [{ type: 'System', id: 'lake-db' }], { grantee: 'dba.chen' })
  assert.deepEqual(systems, [{ type: 'System', id: 'lake-db' }])
})

test('upsert and remove change the inventory in place', () => {
  const engine = Engine.default()
  const request = { principal: 'new.analyst', action: 'query', resource: 'population-stats' }
  assert.throws(() => engine.decide(request), { code: 'unknown_entity' })
  engine.upsert('user', { id: 'new.analyst', name: '新分析员', department: 'gongan', roles: ['analyst'] })
  assert.equal(engine.decide(request).decision, 'allow')
  engine.upsert('user', { id: 'new.analyst', name: '新分析员', department: 'gongan', roles: [] })
  assert.equal(engine.decide(request).decision, 'deny')
  engine.remove('user', 'new.analyst')
  assert.throws(() => engine.decide(request), { code: 'unknown_entity' })
})

test('replaceInventory swaps the whole inventory; reloadPolicies swaps the pack', () => {
  const engine = Engine.default()
  engine.replaceInventory({
    departments: [{ id: 'd1', name: '某使用部门', kind: 'user' }],
    users: [{ id: 's1', department: 'd1', roles: ['data_steward'] }],
    datasets: [{ id: 'raw', owner: 'd1', grade: 'L2', stage: 'storage', personal_info: 'none', share_type: 'unconditional' }],
  })
  assert.equal(engine.decide({ principal: 's1', action: 'catalog', resource: 'raw' }).decision, 'allow')
  assert.throws(() => engine.decide(allow), { code: 'unknown_entity' })
  engine.replaceInventory(inventoryFile)
  assert.equal(engine.decide(allow).decision, 'allow')

  const version = engine.policyVersion
  engine.reloadPolicies(path.join(root, 'policies'))
  assert.equal(engine.policyVersion, version)
  engine.reloadPolicies()
  assert.equal(engine.policyVersion, version)
})

test('the exports are the documented ones', () => {
  for (const cls of ['Engine', 'AuditLog', 'Vault', 'Workflows', 'Key']) assert.equal(typeof govdata[cls], 'function', cls)
  assert.equal(typeof govdata.errorCodes, 'function')
  assert.equal(typeof VERSION, 'string')
  for (const m of ['decide', 'decideJson', 'decideMany', 'decideManySync', 'allowedResources', 'allowedResourcesSync', 'upsert', 'remove', 'replaceInventory', 'reloadPolicies', 'attachAudit', 'detachAudit']) {
    assert.equal(typeof Engine.prototype[m], 'function', m)
  }
})

test('decisions are deeply frozen values, one per outcome of the pack', () => {
  const engine = Engine.default()
  const a = engine.decide(vendorGrant)
  const b = engine.decide(vendorGrant)
  // The same outcome is the same value.
  assert.equal(a, b)
  assert.ok(Object.isFrozen(a))
  assert.ok(Object.isFrozen(a.reasons))
  assert.ok(Object.isFrozen(a.obligations))
  assert.ok(Object.isFrozen(a.reasons[0]))
  assert.throws(() => {
    'use strict'
    a.reasons[0].policy = 'something else'
  }, TypeError)
  assert.throws(() => {
    'use strict'
    a.decision = 'allow'
  }, TypeError)
  assert.throws(() => a.reasons.push({ policy: 'note' }), TypeError)
  assert.throws(() => a.obligations.push('x'), TypeError)
  assert.equal(b.reasons[0].policy, 'art17-no-vendor-superadmin')
  assert.deepEqual(Object.keys(engine.decide(vendorGrant)), ['decision', 'reasons', 'obligations', 'policy_version', 'audit_seq'])
  // A caller who wants to change one copies it.
  const copy = structuredClone(a)
  copy.request_id = 'r-1'
  copy.obligations.push('x')
  assert.equal(engine.decide(vendorGrant).obligations.length, 0)
  // Another outcome is another value; an allow with obligations is frozen alike.
  const other = engine.decide(allow)
  assert.notEqual(other, a)
  assert.ok(Object.isFrozen(other) && Object.isFrozen(other.obligations))
  // The batch on the engine's thread shares them too, and says the same as the serde path.
  const [viaBatch] = engine.decideManySync([vendorGrant])
  assert.equal(viaBatch, a)
  assert.deepEqual(JSON.parse(engine.decideJson(JSON.stringify(vendorGrant))), JSON.parse(JSON.stringify(b)))
})

test('the async batch hands out deeply frozen decisions too', async () => {
  const engine = Engine.default()
  const [d] = await engine.decideMany([vendorGrant])
  assert.ok(Object.isFrozen(d) && Object.isFrozen(d.reasons) && Object.isFrozen(d.obligations) && Object.isFrozen(d.reasons[0]))
  assert.deepEqual(d, engine.decide(vendorGrant))
})

test('a reload gives the decisions the new pack\'s reasons and version', () => {
  const engine = Engine.default()
  const before = engine.decide(allow)
  const local = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-local-'))
  fs.writeFileSync(
    path.join(local, 'local.cedar'),
    '@id("local-forbid-stats")\n@article("第三条")\n@zh("本地：禁止查询人口统计")\n@en("local: no queries of population statistics")\n' +
      'forbid (principal, action == Action::"query", resource == Dataset::"population-stats");\n',
  )
  engine.reloadPolicies([path.join(root, 'policies'), local])
  const after = engine.decide(allow)
  assert.equal(after.decision, 'deny')
  assert.deepEqual(after.reasons.map((r) => r.policy), ['local-forbid-stats'])
  assert.equal(after.policy_version, engine.policyVersion)
  assert.notEqual(after.policy_version, before.policy_version)
  engine.reloadPolicies()
  const again = engine.decide(allow)
  assert.deepEqual(again, before)
  assert.notEqual(again.reasons[0], before.reasons[0], 'the values are rebuilt for the pack in force')
})

test('engines collected after deciding release their shared values', () => {
  const script = `
    const { Engine } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const request = { principal: 'zhang.san', action: 'query', resource: 'population-stats' }
    for (let i = 0; i < 100; i++) {
      const engine = Engine.default()
      for (let k = 0; k < 5; k++) engine.decide(request)
      if (i % 20 === 0) global.gc()
    }
    global.gc()
    console.log('ok')
  `
  const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 120000 })
  assert.equal(out.trim(), 'ok')
})
