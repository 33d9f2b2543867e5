#!/usr/bin/env bash
# Runs every test of govdata: the Rust workspace (unit, integration, policy, vector and
# doc tests) and the language bindings' suites. Each part installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== rust"
cargo test --workspace --locked
