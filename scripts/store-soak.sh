#!/usr/bin/env bash
# The platform store's soak, at the sizes the test command scales down:
#
# - a shipping process SIGKILLed at random moments mid-batch five hundred times (the
#   test command does it a hundred times), then the store checked for gaps and
#   duplicates and verified;
# - four node processes in four languages (the command line, Python, Node, C) deciding
#   50,000 requests each while they ship at once (the test command: 2,000 each), every
#   acknowledged record then in the store exactly once and verify --store clean.
#
# Uses the server GOVDATA_TEST_PG names, or starts a throwaway one
# (scripts/pg-test-server.sh) and stops it at the end. Builds what the four nodes need
# when it is missing (the Python virtualenv, the Node module, libgovdata).
#
#   bash scripts/store-soak.sh     # STORE_SOAK_KILLS=2000, STORE_NODES_RECORDS=100000 for longer runs
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0
if [ ! -x bindings-python/.venv/bin/python ]; then
  bash scripts/test-python.sh
fi
if ! ls bindings-node/*.node >/dev/null 2>&1; then
  (cd bindings-node && npm ci --no-audit --no-fund && npm run build)
fi
cargo build --locked --workspace --features govdata-ffi/testing
if [ -z "${GOVDATA_TEST_PG:-}" ]; then
  trap 'bash scripts/pg-test-server.sh stop' EXIT
  eval "$(bash scripts/pg-test-server.sh start)"
fi
export GOVDATA_TEST_PYTHON="$PWD/bindings-python/.venv/bin/python"
export STORE_SOAK_KILLS="${STORE_SOAK_KILLS:-500}"
export STORE_NODES_RECORDS="${STORE_NODES_RECORDS:-50000}"
echo "== store soak: $STORE_SOAK_KILLS kills"
cargo test -p govdata-cli --features store-tests --locked --test store_cli \
  -- --exact a_shipper_killed_mid_batch_again_and_again_leaves_no_gap_and_no_duplicate --nocapture
echo "== store soak: 4 nodes in 4 languages, $STORE_NODES_RECORDS records each"
cargo test -p govdata-cli --features store-tests --locked --test store_nodes -- --nocapture
