'use strict'
// A data portal on plain node:http that asks govdata before it serves any data, and
// records every decision in a tamper-evident audit log.
//
//   node examples/server.js            # listens on 127.0.0.1, PORT or a free port
//
// The API gateway in front of it authenticates the caller and passes the user id in
// `x-user-id`. Every request becomes a govdata request; an allow is served with its
// obligations applied (personal information masked, a watermark added), a deny is a
// 403 citing the article in Chinese and English. An obligation this service cannot
// apply refuses the request: a host must apply every obligation it receives. Each
// decision is a record of the audit log (Art. 3(5), 8), whose sequence number the
// response carries in `x-govdata-audit-seq`.
//
//   GET  /datasets/:id                    query a dataset        (?purpose=…)
//   GET  /datasets/:id/export             export it              (?purpose=…&approval=…)
//   POST /datasets/:id/process            process it             (body: the context)
//   POST /decide                          any request of the wire format → the decision
//   GET  /audit                           the audit records the caller may see (?department=…)
//
// The audit log: GOVDATA_AUDIT_DIR (default: a new directory under the system's
// temporary directory, printed at start), sealed with the 32-byte key in the file
// GOVDATA_AUDIT_KEY_FILE (default: a new random key written beside that directory,
// for trying the portal out — in production the key lives elsewhere than the log),
// synced as GOVDATA_AUDIT_SYNC says (`always`, the default; `batch`; `none`).
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { AuditLog, Engine } = require('..')

/** The rows the portal serves, per dataset (sample data). */
const ROWS = {
  hukou: [
    { name: '张三', id_number: '110101199003071234', phone: '13800138000', district: '东城区', household: '户主' },
    { name: '李四', id_number: '110102198511204321', phone: '13900139000', district: '西城区', household: '配偶' },
  ],
  'population-stats': [
    { district: '东城区', population: 708829 },
    { district: '西城区', population: 1106214 },
  ],
  'social-insurance': [{ name: '王五', id_number: '110105197707070707', phone: '13700137000', paid_months: 180 }],
}
const PERSONAL_FIELDS = new Set(['name', 'id_number', 'phone'])

function mask(value) {
  const s = String(value)
  if (s.length <= 2) return s[0] + '*'
  const keep = s.length > 6 ? 3 : 1
  return s.slice(0, keep) + '*'.repeat(s.length - keep * 2) + s.slice(s.length - keep)
}

/** The obligations this service knows how to apply to rows it serves. */
const OBLIGATIONS = {
  mask_personal_info: (rows) =>
    rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, PERSONAL_FIELDS.has(k) ? mask(v) : v]))),
  watermark: (rows, ctx) => rows.map((row) => ({ ...row, _watermark: ctx.watermark })),
}

function reply(res, status, body, headers = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  })
  res.end(text)
}

/** A 403 that cites the articles behind a deny, in Chinese and English. */
function forbidden(res, decision) {
  const reasons = decision.reasons.map(({ policy, article, zh, en }) => ({ policy, article, zh, en }))
  reply(
    res,
    403,
    {
      error: 'forbidden',
      message_zh: reasons.map((r) => `${r.article}：${r.zh}`).join('；'),
      message_en: reasons.map((r) => `${r.article}: ${r.en}`).join('; '),
      reasons,
      policy_version: decision.policy_version,
    },
    { 'content-language': 'zh-CN, en', ...auditHeaders(decision) },
  )
}

function readBody(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks = []
    req.on('data', (chunk) => {
      size += chunk.length
      if (size > limit) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** Maps an HTTP request to a govdata request (or null for an unknown route). */
async function toGovdataRequest(req, url, user) {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent)
  const context = {}
  for (const key of ['purpose', 'approval']) {
    if (url.searchParams.has(key)) context[key] = url.searchParams.get(key)
  }
  if (parts[0] !== 'datasets' || !parts[1]) return null
  if (req.method === 'GET' && parts.length === 2) return { principal: user, action: 'query', resource: parts[1], context }
  if (req.method === 'GET' && parts[2] === 'export' && parts.length === 3) {
    return { principal: user, action: 'export', resource: parts[1], context }
  }
  if (req.method === 'POST' && parts[2] === 'process' && parts.length === 3) {
    const body = await readBody(req)
    return { principal: user, action: 'process', resource: parts[1], context: body ? JSON.parse(body) : {} }
  }
  return null
}

/** The headers that tie a response to its audit record. */
function auditHeaders(decision) {
  return decision.audit_seq === null ? {} : { 'x-govdata-audit-seq': String(decision.audit_seq) }
}

/**
 * The portal's request handler over `engine`; with `auditLog` (the log the engine
 * records into), `GET /audit` shows the caller the records the policies let them see.
 */
function createHandler(engine, auditLog = null) {
  return async function handle(req, res) {
    try {
      const url = new URL(req.url, 'http://portal.invalid')
      const user = req.headers['x-user-id']
      if (req.method === 'POST' && url.pathname === '/decide') {
        // A policy decision point for other services: the wire format in and out (the
        // decision's own `audit_seq` names its record).
        const body = await readBody(req)
        const decision = engine.decideJson(body)
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
        return res.end(decision)
      }
      if (typeof user !== 'string' || user === '') return reply(res, 401, { error: 'unauthenticated' })
      if (req.method === 'GET' && url.pathname === '/audit' && auditLog !== null) {
        // Viewing the log is itself a decision (view_audit, Art. 8, 18, 19), recorded
        // in the log; reading the log runs off the event loop.
        const filter = {}
        if (url.searchParams.has('department')) filter.department = url.searchParams.get('department')
        const view = await auditLog.view(engine, user, filter)
        if (!view.allowed) return forbidden(res, view.decision)
        return reply(res, 200, { records: view.records }, auditHeaders(view.decision))
      }
      const request = await toGovdataRequest(req, url, user)
      if (request === null) return reply(res, 404, { error: 'not_found' })

      const decision = engine.decide(request)
      if (decision.decision !== 'allow') return forbidden(res, decision)

      const unknown = decision.obligations.filter((o) => !(o in OBLIGATIONS))
      if (unknown.length > 0) {
        // Fail closed: an obligation the service cannot apply means no data.
        return reply(res, 403, {
          error: 'obligation_not_applicable',
          message_zh: `本服务无法履行义务：${unknown.join('、')}，拒绝提供数据`,
          message_en: `this service cannot apply the obligations ${unknown.join(', ')}, so it serves no data`,
          obligations: unknown,
        }, auditHeaders(decision))
      }
      const ctx = { watermark: `${user}@${new Date().toISOString()}` }
      let rows = ROWS[request.resource] ?? []
      for (const o of decision.obligations) rows = OBLIGATIONS[o](rows, ctx)
      const headers = { 'x-govdata-policy-version': decision.policy_version, ...auditHeaders(decision) }
      if (decision.obligations.includes('watermark')) headers['x-govdata-watermark'] = ctx.watermark
      return reply(res, 200, { dataset: request.resource, obligations: decision.obligations, rows }, headers)
    } catch (err) {
      if (err.status) return reply(res, err.status, { error: err.message })
      if (err instanceof SyntaxError) return reply(res, 400, { error: 'request_invalid', message: err.message })
      // govdata's errors carry .code: a request it cannot decide is never served.
      if (err.code === 'unknown_entity') return reply(res, 403, { error: err.code, message: err.message })
      if (err.code === 'request_invalid') return reply(res, 400, { error: err.code, message: err.message })
      return reply(res, 500, { error: 'internal' })
    }
  }
}

function createServer(engine = Engine.default(), auditLog = null) {
  return http.createServer(createHandler(engine, auditLog))
}

/** The audit log the portal records into, as the environment configures it. */
function openAuditLog(env = process.env) {
  const dir = env.GOVDATA_AUDIT_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-portal-audit-'))
  let keyFile = env.GOVDATA_AUDIT_KEY_FILE
  if (!keyFile) {
    keyFile = `${dir}.key`
    if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, crypto.randomBytes(32), { mode: 0o600 })
  }
  const log = new AuditLog(dir, keyFile, { sync: env.GOVDATA_AUDIT_SYNC || 'always' })
  return { log, dir, keyFile }
}

module.exports = { createServer, createHandler, openAuditLog }

if (require.main === module) {
  const { log, dir, keyFile } = openAuditLog()
  const engine = Engine.default({ audit: log })
  const server = createServer(engine, log)
  server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
    const { address, port } = server.address()
    console.log(`govdata audit log in ${dir} (key file ${keyFile})`)
    console.log(`govdata portal listening on http://${address}:${port}`)
  })
  const stop = () =>
    server.close(() => {
      // Every acknowledged decision is on disk already; closing syncs the rest.
      log.close()
      process.exit(0)
    })
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
