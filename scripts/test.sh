#!/usr/bin/env bash
# Runs every test of govdata: the Rust workspace (unit, integration, policy, vector,
# audit, vault, workflow, CLI and doc tests) and the language bindings' suites (Python,
# Node, C). Each part installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-off run gains nothing from incremental compilation, and its caches are the
# largest part of a debug build on disk.
export CARGO_INCREMENTAL=0

echo "== rust"
cargo test --workspace --locked

bash scripts/test-python.sh
bash scripts/test-node.sh
bash scripts/test-c.sh
