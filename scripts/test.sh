#!/usr/bin/env bash
# The test command (README and CI): every test on an optimised build, then
# the Python package's (scripts/test-python.sh).
# The browser test drives Debian's Chromium through chromedriver; when they
# are missing they are installed here (apt-get, as root or through sudo), so
# that a fresh machine needs nothing installed by hand. The browser test
# itself never skips: without a browser it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "== installing chromium and chromium-driver for the browser test"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo="sudo"
    else
      echo "scripts/test.sh: the browser test needs Debian's chromium and chromium-driver; install them as root: apt-get install chromium chromium-driver" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
cargo test --release --workspace "$@"
# The Python package, built from the same tree, against the command line.
bash scripts/test-python.sh
