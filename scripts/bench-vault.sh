#!/usr/bin/env bash
# The vault bench (benches/benches/vault.rs): SM4-GCM in memory before and after on one
# and two threads, 256 MiB streams of both suites against `openssl speed -evp
# chacha20-poly1305`, and `govdata vault encrypt`/`decrypt` of 256 MiB and 1 GiB files
# end to end with the release binary built here. Needs about 3 GiB free in $TMPDIR.
# Extra arguments go to criterion (e.g. a filter: `bash scripts/bench-vault.sh none`
# prints the comparison tables only).
#
#   bash scripts/bench-vault.sh [criterion args]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --release -p govdata-cli
target_dir=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}
GOVDATA_BIN="$target_dir/release/govdata" cargo bench --locked -p govdata-benches --bench vault -- "$@"
