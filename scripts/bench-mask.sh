#!/usr/bin/env bash
# Masking benchmarks (not part of the test command), figures in benches/RESULTS-mask.md:
# govdata.mask_table against pandas .str and pyarrow.compute on ROWS rows x 4
# personal-information columns in one run, then `govdata mask` on a CSV file of
# SIZE_MB megabytes.
#   bash scripts/bench-mask.sh [ROWS] [SIZE_MB]     (after bash scripts/test-python.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
py=bindings-python/.venv/bin/python
"$py" benches/python/bench_mask.py "${1:-10000000}"
cargo build --release --locked -p govdata-cli
"$py" benches/python/bench_mask_cli.py target/release/govdata "${2:-1000}"
