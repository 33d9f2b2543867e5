#!/usr/bin/env bash
# Runs every test of govdata: the Rust workspace (unit, integration, policy, vector,
# audit, vault, workflow, CLI and doc tests) and the language bindings' suites (Python,
# Node, C). Each part installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# A one-off run gains nothing from incremental compilation, and its caches are the
# largest part of a debug build on disk.
export CARGO_INCREMENTAL=0

# The proofs of the regulation's invariants (govdata-prove, `govdata prove`) need the
# cvc5 SMT solver; their tests fail without it.
if ! command -v cvc5 >/dev/null && [ -z "${CVC5:-}" ]; then
  echo "== installing cvc5"
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq cvc5 >/dev/null
fi

echo "== rust"
cargo test --workspace --locked
# The masks on Arrow record batches sit behind the core's `arrow` feature.
cargo test -p govdata --features arrow --locked --test mask_arrow

bash scripts/test-python.sh
bash scripts/test-node.sh
bash scripts/test-c.sh
bash scripts/test-assess-html.sh

# The platform store's tests run against a real PostgreSQL server: the one that
# GOVDATA_TEST_PG names, or a throwaway cluster started here (in a temporary
# directory, stopped and removed at the end whatever happens). They run last: the
# many-node tests start Python and Node nodes from the builds test-python.sh and
# test-node.sh made, the four-language test also a C node linked to the libgovdata
# test-c.sh built (scripts/store-soak.sh runs it and the kill test at full size).
if [ -z "${GOVDATA_TEST_PG:-}" ]; then
  echo "== starting a throwaway PostgreSQL server"
  # The run's own server: never one that another run on this machine started (and may
  # stop under it).
  export GOVDATA_TEST_PG_STATE="${TMPDIR:-/tmp}/govdata-pg-test.$$.state"
  trap 'bash scripts/pg-test-server.sh stop' EXIT
  eval "$(bash scripts/pg-test-server.sh start)"
fi
echo "== platform store (PostgreSQL)"
export GOVDATA_TEST_PYTHON="$PWD/bindings-python/.venv/bin/python"
# The shared procedures' three-node test runs a Node node from the module
# test-node.sh built.
export GOVDATA_TEST_NODE="$PWD/bindings-node"
cargo test -p govdata --features store-tests --locked --test store_schema --test store_shipper \
  --test store_procedures --test store_live --test store_proofs
cargo test -p govdata-cli --features store-tests --locked --test store_cli --test store_query \
  --test store_procedures_cli --test store_live_cli --test store_nodes --test store_proofs_cli
