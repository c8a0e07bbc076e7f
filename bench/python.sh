#!/usr/bin/env bash
# The Python package's benchmark (bench/python_bench.py): installs the
# package into a fresh venv as docs/python.md says, then runs the bench with
# the venv's Python. Options go to python_bench.py (--quick, --rounds N, -j N).
# Results: bench/results/python-latest.json and a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
venv=$(mktemp -d /tmp/runbox-bench-venv-XXXXXX)
trap 'rm -rf "$venv"' EXIT
chmod 755 "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
PKG_CONFIG_PATH= "$venv/bin/pip" install -q --no-build-isolation .
"$venv/bin/python" bench/python_bench.py "$@"
