'use strict'
// A node of the platform store's four-language test, in Node: opens the node of a
// govdata.toml through Platform.open, decides N requests (each recorded in the node's
// audit log, and shipped by its shipper meanwhile), waits until the store holds them
// and prints the audit_seq of every acknowledged decision as a JSON array.
//
//   node node.js <the govdata module's directory> govdata.toml N

const [modulePath, config, count] = process.argv.slice(2)
const { Platform } = require(modulePath)

const request = {
  principal: 'zhang.san',
  action: 'query',
  resource: 'hukou',
  context: { scenario_risk: 'low' },
}

const node = Platform.open(config)
const engine = node.engine()
const seqs = []
for (let i = 0; i < Number(count); i++) {
  const d = engine.decide(request)
  if (d.decision !== 'allow') throw new Error(`not allowed: ${JSON.stringify(d)}`)
  seqs.push(d.audit_seq)
}
node.storeSync(600000)
const status = node.status().store
if (status.lag_records !== 0 || status.last_error !== null) {
  throw new Error(`not shipped: ${JSON.stringify(status)}`)
}
node.close()
process.stdout.write(JSON.stringify(seqs) + '\n')
