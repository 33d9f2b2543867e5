#!/usr/bin/env bash
# The C API bench (ffi/benches/bench.c): decisions per second through the fast path
# and the JSON call against the same decisions from Rust in the same run. Exits
# non-zero when the fast path is slower than 1.2x Rust.
#
#   bash scripts/bench-c.sh [rounds] [trials]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --release -p govdata-ffi --features testing
target_dir=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')}
lib_dir="$target_dir/release"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc -std=c11 -O2 -Wall -Wextra -Werror -Iffi/include ffi/benches/bench.c -o "$out/bench" \
  -L"$lib_dir" -Wl,-rpath,"$lib_dir" -lgovdata
"$out/bench" "$@"
