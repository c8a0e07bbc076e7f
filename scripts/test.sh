#!/usr/bin/env bash
# The README's second command, and what CI runs: install, build, run every test.
# Order matters: the sandbox's own unit tests (seccomp among them) pass before
# any end-to-end test runs a program that would be dangerous outside it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

run_suite() {
    echo "== $1"
    meson test -C build --suite "$1" --print-errorlogs --num-processes 2 ${MESON_TEST_ARGS:-}
}
run_suite unit
run_suite e2e
# Only now, with the sandbox's own tests passed: programs that attack it.
run_suite hostile
run_suite slurm
echo "== all tests passed"
