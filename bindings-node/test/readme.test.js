'use strict'
// The README's quickstart runs as written and prints what its comments say.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const pkgDir = path.resolve(__dirname, '..')

/**
 * What a snippet must print: the comment after each `console.log(...)`, one line each,
 * with the quotes of string values dropped (`// 'allow' 2` prints `allow 2`).
 */
function expectedOutput(code) {
  return code
    .split('\n')
    .filter((line) => line.includes('console.log('))
    .map((line) => /\/\/ (.+)$/.exec(line))
    .filter(Boolean)
    .map((m) => m[1].replace(/'/g, ''))
}

test('the README quickstart runs as written', () => {
  const readme = fs.readFileSync(path.join(pkgDir, 'README.md'), 'utf8')
  const quickstart = readme.split('## Quickstart')[1]
  const code = /```js\n([\s\S]*?)```/.exec(quickstart)[1]
  assert.ok(code.includes('new AuditLog('), 'the quickstart shows the audit log in use')
  // `require('govdata')` resolves to this package, as it does for an installed one.
  const script = code.replace("require('govdata')", `require(${JSON.stringify(pkgDir)})`)
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 })
  const expected = expectedOutput(code)
  assert.ok(expected.length >= 6)
  assert.deepEqual(out.trim().split('\n'), expected)
})

test("the project README's Node quickstart runs as written", () => {
  const root = path.resolve(pkgDir, '..')
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const code = /```js\n([\s\S]*?)```/.exec(readme.split('### Node')[1])[1]
  assert.ok(code.includes('Platform.open('), 'the quickstart opens a node from its govdata.toml')
  const out = execFileSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 30000, cwd: root })
  assert.deepEqual(out.trim().split('\n'), expectedOutput(code))
  assert.equal(out.trim().split('\n')[0], 'deny 第十七条 数据库、操作系统最高管理员权限不得转交供应商人员 1')
})
