#!/usr/bin/env bash
# Soak of the many-processes scenarios (not part of the test command): more `govdata`
# processes and more rounds on one audit directory and one vault than the test
# command's run of cli/tests/many_processes.rs, in a release build.
#
#   bash scripts/many-processes-soak.sh [PROCESSES] [ROUNDS] [REPEATS]   # default 8 40 3
set -euo pipefail
cd "$(dirname "$0")/.."
PROCS="${1:-8}"
ROUNDS="${2:-40}"
REPEATS="${3:-3}"
cargo build --release -p govdata-cli --tests --quiet
for i in $(seq 1 "$REPEATS"); do
    echo "== round $i of $REPEATS: $PROCS processes x $ROUNDS calls"
    GOVDATA_MANY_PROCS="$PROCS" GOVDATA_MANY_ROUNDS="$ROUNDS" \
        cargo test --release -p govdata-cli --test many_processes --quiet -- --test-threads=1
done
