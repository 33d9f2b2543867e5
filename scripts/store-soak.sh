#!/usr/bin/env bash
# The platform store's soak: a shipping process SIGKILLed at random moments mid-batch
# a hundred times (the test command does it twenty times), then the store checked for
# gaps and duplicates and verified. Uses the server GOVDATA_TEST_PG names, or starts a
# throwaway one (scripts/pg-test-server.sh) and stops it at the end.
#
#   bash scripts/store-soak.sh            # STORE_SOAK_KILLS=500 for a longer run
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0
if [ -z "${GOVDATA_TEST_PG:-}" ]; then
  trap 'bash scripts/pg-test-server.sh stop' EXIT
  eval "$(bash scripts/pg-test-server.sh start)"
fi
export STORE_SOAK_KILLS="${STORE_SOAK_KILLS:-100}"
echo "== store soak: $STORE_SOAK_KILLS kills"
cargo test -p govdata-cli --features store-tests --locked --test store_cli \
  -- --exact a_shipper_killed_mid_batch_again_and_again_leaves_no_gap_and_no_duplicate --nocapture
