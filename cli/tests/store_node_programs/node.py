"""A node of the platform store's four-language test, in Python: opens the node of a
govdata.toml through govdata.Platform, decides N requests (each recorded in the node's
audit log, and shipped by its shipper meanwhile), waits until the store holds them and
prints the audit_seq of every acknowledged decision as a JSON array.

    python node.py govdata.toml N
"""
import json
import sys

import govdata

REQUEST = {"principal": "zhang.san", "action": "query", "resource": "hukou",
           "context": {"scenario_risk": "low"}}

config, n = sys.argv[1], int(sys.argv[2])
node = govdata.Platform(config)
engine = node.engine
seqs = []
for _ in range(n):
    d = engine.decide(REQUEST)
    assert d.allowed, d
    seqs.append(d.audit_seq)
node.store_sync(600)
status = node.status()["store"]
assert status["lag_records"] == 0 and status["last_error"] is None, status
node.close()
print(json.dumps(seqs))
