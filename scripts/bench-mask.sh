#!/usr/bin/env bash
# Masking benchmark (not part of the test command): govdata.mask_table against pandas
# .str and pyarrow.compute on ROWS rows x 4 personal-information columns, in one run.
#   bash scripts/bench-mask.sh [ROWS]        (after bash scripts/test-python.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
exec bindings-python/.venv/bin/python benches/python/bench_mask.py "${1:-10000000}"
