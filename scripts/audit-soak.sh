#!/usr/bin/env bash
# The longer run of the audit log's attack tests: many more generated tampering cases
# per kind and SIGKILL crash trials than `cargo test` runs, in release mode.
#
#   bash scripts/audit-soak.sh            # 5,000 cases per kind, 1,000 crash trials
#   CASES=20000 TRIALS=5000 bash scripts/audit-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CASES="${CASES:-5000}"
TRIALS="${TRIALS:-1000}"
SEED="${SEED:-$(date +%s)}"
echo "== audit soak: ${CASES} tampering cases per kind (seed ${SEED}), ${TRIALS} crash trials"
GOVDATA_AUDIT_SEED="$SEED" GOVDATA_AUDIT_CASES="$CASES" cargo test --release --locked -p govdata --test audit_tamper
GOVDATA_AUDIT_CRASH_TRIALS="$TRIALS" cargo test --release --locked -p govdata --test audit_crash
cargo test --release --locked -p govdata --test audit_retention --test audit_engine
