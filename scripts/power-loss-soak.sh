#!/usr/bin/env bash
# The longer run of the power-loss tests of the audit log and the key store: a larger
# random sample of the crash states at each point of the traced runs, and a power
# loss again during every recovery rather than every fourth.
#
#   bash scripts/power-loss-soak.sh                    # 400 sampled states per point
#   SAMPLES=2000 SEED=7 bash scripts/power-loss-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLES="${SAMPLES:-400}"
NESTED="${NESTED:-1}"
SEED="${SEED:-$(date +%s)}"
echo "== power-loss soak: ${SAMPLES} sampled states per crash point (seed ${SEED}), a power loss during every ${NESTED}. recovery"
GOVDATA_POWER_LOSS_SAMPLES="$SAMPLES" GOVDATA_POWER_LOSS_NESTED="$NESTED" GOVDATA_POWER_LOSS_SEED="$SEED" \
  cargo test --locked -p govdata --test audit_power_loss --test vault_power_loss -- --nocapture --test-threads 2
