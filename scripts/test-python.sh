#!/usr/bin/env bash
# The Python package's tests from a fresh clone: a virtualenv, maturin and pytest from
# PyPI, the package built and installed as a user installs it (`pip install
# ./bindings-python`), then pytest. Any failure stops the script with a non-zero status.
#
#   bash scripts/test-python.sh            # PYTHON=python3.12 to pick the interpreter
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="bindings-python/.venv"

echo "== python: virtualenv ($("$PYTHON" --version))"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "maturin>=1.9.4,<2" "pytest>=7"
# The masks on tables (govdata.mask_table) take pyarrow tables and pandas frames.
"$VENV/bin/python" -m pip install --quiet "pyarrow>=15" "pandas>=2"

echo "== python: pip install ./bindings-python"
# The install line of the README, built by pip through maturin (release build).
"$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps ./bindings-python

echo "== python: pytest"
# Run from outside the source tree so that the installed package is what is imported.
cd bindings-python/tests
"../../$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
