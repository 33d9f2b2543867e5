#!/usr/bin/env bash
# Builds the Node module `govdata` from source and runs its test suite (node:test):
# the shared vectors, every error code, the event loop under a large batch, the
# example portal and the committed typings. Works from a fresh clone; needs Node 18+,
# npm and a Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/../bindings-node"

echo "== node: install"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  npm install --no-audit --no-fund
fi

echo "== node: build"
npm run build

echo "== node: test"
npm test
