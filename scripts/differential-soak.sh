#!/usr/bin/env bash
# The differential against plain Cedar at scale: REQUESTS (default 1,000,000) random requests,
# 100,000 on the example inventory and the rest on proptest-generated inventories of 500
# requests each, decided by the engine and by plain Cedar's `is_authorized`; any disagreement
# fails with the request. Built in release mode; takes some minutes.
#
#   scripts/differential-soak.sh [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
total="${1:-1000000}"
example=$((total / 10))
per=500
inventories=$(((total - example + per - 1) / per))
echo "differential: $example requests on the example inventory, $inventories generated inventories x $per"
start=$(date +%s)
GOVDATA_DIFF_EXAMPLE_REQUESTS=$example GOVDATA_DIFF_INVENTORIES=$inventories GOVDATA_DIFF_REQUESTS=$per \
    cargo test --release --locked -p govdata --test differential -- --nocapture --test-threads 2
echo "differential: $((example + inventories * per)) requests, 0 disagreements, $(( $(date +%s) - start ))s"
