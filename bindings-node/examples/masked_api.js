'use strict'
// An API that answers with records of the household register (hukou) after govdata
// has decided the request and carried out its obligations on the response itself:
// the masks of the masking profile the permit names, and the watermark that names the
// caller and the audit record of the decision. The service writes no masking of its
// own: it hands the response, as an Arrow IPC stream, to `engine.applyIpc`.
//
//   node examples/masked_api.js          # listens on 127.0.0.1, PORT or a free port
//
//   GET /datasets/:id/records?purpose=…  (x-user-id: the caller, set by the gateway)
//     → 200 {"records": [...]}, or with `accept: application/vnd.apache.arrow.stream`
//       the masked Arrow IPC stream itself
//     → 403 when the decision denies or carries an obligation no call can carry out
//       (`dual_control`), 400 when the records do not fit the dataset's declared
//       fields: nothing of the data is sent (fail closed)
//
// The audit log (whose record each watermark names) is GOVDATA_AUDIT_DIR, sealed by
// the key in GOVDATA_AUDIT_KEY_FILE; the masking key (pseudonyms, watermarks) is
// GOVDATA_MASK_KEY_FILE. Without them the example makes a scratch directory and
// random keys, for trying it out.
const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const arrow = require('apache-arrow')
const { AuditLog, Engine, Key } = require('..')

const ARROW_STREAM = 'application/vnd.apache.arrow.stream'

/** The dataset's records as the back end returns them (generated sample data). */
function sampleRecords(n) {
  const surnames = ['王', '李', '张', '刘', '欧阳', '陈']
  const given = ['伟', '芳', '娜娜', '强', '静']
  const records = []
  for (let i = 0; i < n; i++) {
    const seq = String(1000 + (i % 9000)).padStart(4, '0')
    records.push({
      sfzh: `11010519${60 + (i % 40)}0307${seq}`,
      xm: surnames[i % surnames.length] + given[i % given.length],
      sjhm: `138${String(10000000 + i).slice(-8)}`,
      zz: `北京市朝阳区建国路${1 + (i % 200)}号`,
      csrq: `19${60 + (i % 40)}-03-07`,
      hjlb: i % 3 === 0 ? '非农业' : '农业',
    })
  }
  return records
}

/** Records (objects with the same keys, string values) as an Arrow IPC stream. */
function toIpc(records) {
  const names = records.length ? Object.keys(records[0]) : []
  const columns = {}
  for (const name of names) {
    columns[name] = arrow.vectorFromArray(
      records.map((r) => (r[name] == null ? null : String(r[name]))),
      new arrow.Utf8(),
    )
  }
  return arrow.tableToIPC(new arrow.Table(columns), 'stream')
}

/** An Arrow IPC stream back into plain records. */
function fromIpc(bytes) {
  return arrow
    .tableFromIPC(bytes)
    .toArray()
    .map((row) => row.toJSON())
}

const STATUS = { access_denied: 403, request_invalid: 400, unknown_entity: 404 }

function reply(res, status, body, type = 'application/json; charset=utf-8') {
  const data = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(data) })
  res.end(data)
}

/**
 * The service: `engine` decides (and records in its audit log), `maskKey` keys the
 * pseudonyms and watermarks, `records(dataset)` is the back end.
 */
function createServer({ engine, maskKey, records }) {
  return http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost')
      const m = /^\/datasets\/([^/]+)\/records$/.exec(url.pathname)
      if (req.method !== 'GET' || !m) return reply(res, 404, { error: 'not_found' })
      const user = req.headers['x-user-id']
      if (!user) return reply(res, 401, { error: 'unauthenticated' })
      const dataset = decodeURIComponent(m[1])
      const context = { scenario_risk: 'low' }
      if (url.searchParams.get('purpose')) context.purpose = url.searchParams.get('purpose')
      const request = { principal: String(user), action: 'query', resource: dataset, context }
      let masked
      try {
        masked = await engine.applyIpc(request, toIpc(records(dataset)), { key: maskKey })
      } catch (e) {
        if (!e.code) throw e
        return reply(res, STATUS[e.code] || 500, { error: e.code, message: e.message })
      }
      if ((req.headers.accept || '').includes(ARROW_STREAM)) return reply(res, 200, masked, ARROW_STREAM)
      reply(res, 200, { records: fromIpc(masked) })
    } catch (e) {
      reply(res, 500, { error: 'internal', message: String(e && e.message) })
    }
  })
}

function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'govdata-api-'))
  const auditDir = process.env.GOVDATA_AUDIT_DIR || path.join(work, 'audit')
  const auditKey = process.env.GOVDATA_AUDIT_KEY_FILE ? Key.fromFile(process.env.GOVDATA_AUDIT_KEY_FILE) : crypto.randomBytes(32)
  const maskKey = process.env.GOVDATA_MASK_KEY_FILE ? Key.fromFile(process.env.GOVDATA_MASK_KEY_FILE) : crypto.randomBytes(32)
  const log = new AuditLog(auditDir, auditKey)
  const engine = Engine.default({ audit: log })
  const data = { hukou: sampleRecords(1000) }
  const server = createServer({ engine, maskKey, records: (id) => data[id] || [] })
  server.listen(Number(process.env.PORT || 0), process.env.HOST || '127.0.0.1', () => {
    const { address, port } = server.address()
    console.log(`audit log in ${auditDir}`)
    console.log(`listening on http://${address}:${port}`)
  })
  const stop = () => server.close(() => log.close())
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

module.exports = { createServer, sampleRecords, toIpc, fromIpc }

if (require.main === module) main()
