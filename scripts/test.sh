#!/usr/bin/env bash
# The README's second command, and what CI runs: install, build, run every test.
# Order matters: the sandbox's own unit tests (seccomp among them) pass before
# any end-to-end test runs a program that would be dangerous outside it.
#
# Four phases, each in a build dir of its own (docs/testing.md):
#   1. build/       the normal build: unit, e2e, hostile (after the sandbox's
#                   own tests passed), slurm (skips, saying why, where the
#                   daemons cannot start)
#   2. a venv       the Python package, installed as docs/python.md says (a
#                   fresh venv, pip install . from here), and its pytest suite
#                   (tests/python) importing it from there
#   3. build-asan/  -Dsanitizers=true: the unit and e2e suites again, under
#                   ASan + LeakSanitizer + UBSan outside the sandbox, UBSan in it
#   4. build-fuzz/  -Dfuzz=true with clang: each libFuzzer target for
#                   RUNBOX_FUZZ_SECONDS (40) seconds
# RUNBOX_TEST_PHASES picks some of them ("normal python sanitizers fuzz", the
# default).
set -euo pipefail
cd "$(dirname "$0")/.."
phases=" ${RUNBOX_TEST_PHASES:-normal python sanitizers fuzz} "

build_dir=build
run_suite() {
    echo "== $1 ($build_dir)"
    meson test -C "$build_dir" --suite "$1" --print-errorlogs --num-processes 2 ${MESON_TEST_ARGS:-}
}
phase_started=$SECONDS
phase_done() {
    echo "== phase $1: $((SECONDS - phase_started)) s"
    phase_started=$SECONDS
}

scripts/install-deps.sh --test
phase_done install-deps

if [[ $phases == *" normal "* ]]; then
    scripts/build.sh
    run_suite unit
    run_suite e2e
    run_suite agreement
    run_suite hostile
    run_suite slurm
    phase_done normal
fi

if [[ $phases == *" python "* ]]; then
    echo "== python (a fresh venv)"
    (
        venv=$(mktemp -d /tmp/runbox-venv-XXXXXX)
        trap 'rm -rf "$venv"' EXIT
        # As root, jobs run under uids of their own, and some import from the venv.
        chmod 755 "$venv"
        # Debian's interpreter, as the README's command runs it on Debian 12.
        /usr/bin/python3 -m venv --system-site-packages "$venv"
        PKG_CONFIG_PATH= "$venv/bin/pip" install -q --no-build-isolation .
        timeout 900 "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/python
    )
    phase_done python
fi

if [[ $phases == *" sanitizers "* ]]; then
    build_dir=build-asan
    export PKG_CONFIG_PATH=
    if [ ! -f "$build_dir/build.ninja" ]; then
        meson setup "$build_dir" --buildtype=debugoptimized -Dsanitizers=true >/dev/null
    fi
    meson compile -C "$build_dir" >/dev/null
    run_suite unit
    run_suite e2e
    phase_done sanitizers
fi

if [[ $phases == *" fuzz "* ]]; then
    tests/fuzz/run.sh -t "${RUNBOX_FUZZ_SECONDS:-40}"
    phase_done fuzz
fi
echo "== all tests passed"
