#!/usr/bin/env bash
# runbox serve's benchmark (bench/serve_bench.py): installs wrk (Debian's, the
# HTTP load generator) if missing, builds runbox, and compares POST /run_code
# at 64 connections with `runbox run` on the same jobs and with SandboxFusion's
# method, in one run. Options go to serve_bench.py (--rounds, --seconds, -j).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh wrk
scripts/build.sh || { echo "bench: building runbox failed; 'meson compile -C build' shows why" >&2; exit 1; }
exec /usr/bin/python3 bench/serve_bench.py "$@"
