#!/usr/bin/env bash
# The README's first command: install, build, run the example manifest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/runbox run examples/quickstart.jsonl --overwrite
