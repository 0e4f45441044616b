#!/usr/bin/env bash
# The Python package's tests (python/tests): builds the package from this
# tree into a virtual environment (kept beside the cargo target directory,
# so later runs reuse it and the build), then runs pytest against the
# release binary built from the same tree.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${SENTINEL_TARGET_DIR:-${HOME:-/root}/.cache/sentinel-target}}"
VENV="${SENTINEL_VENV:-$CARGO_TARGET_DIR/python-venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r python/requirements-test.txt
echo "== pip install ./python"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-build-isolation --force-reinstall --no-deps ./python
cargo build --release --quiet --bin sentinel
echo "== pytest python/tests"
"$VENV/bin/python" -m pytest python/tests -q -p no:cacheprovider -W ignore::DeprecationWarning "$@"
