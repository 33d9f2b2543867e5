#!/usr/bin/env bash
# The platform store's benchmark (benches/benches/store.rs): records shipped per second
# by 1 and 4 nodes against COPY of the same rows into the same table, the lag from
# append to committed row at 10,000 records/s, decide latency with the shipper running
# against without, and the curve of 1 to 16 shipping nodes with the server's CPU and
# WAL per record. Uses the server GOVDATA_TEST_PG names, or starts a throwaway one
# (scripts/pg-test-server.sh) and stops it at the end. Prints Markdown tables
# (benches/RESULTS-store.md holds a run). Not part of the test command.
#
#   bash scripts/bench-store.sh     # STORE_BENCH_RECORDS, _ROUNDS, _RATE, _LAG_SECS, _CURVE
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${GOVDATA_TEST_PG:-}" ]; then
  trap 'bash scripts/pg-test-server.sh stop' EXIT
  eval "$(bash scripts/pg-test-server.sh start)"
fi
cargo bench --locked -p govdata-benches --features store --bench store
