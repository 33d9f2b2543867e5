#!/usr/bin/env bash
# Builds the Node module `govdata` from source and runs its test suite (node:test):
# the shared vectors, every error code, the audit log, vault and workflows, the event
# loop during a large batch, a large file's encryption and a long log's verification,
# the example portal and its audit log, the README quickstarts and the committed typings. Works from a fresh clone; needs Node 18+,
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
