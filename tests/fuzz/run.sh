#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ (meson -Dfuzz=true:
# libFuzzer + ASan + UBSan) and runs each for a bounded time, two at a time,
# as the meson test suite "fuzz". See docs/testing.md.
#
#   tests/fuzz/run.sh                  build, then run every target 60 s
#   tests/fuzz/run.sh -t 300 results   run one target for 5 minutes
#   tests/fuzz/run.sh --build-only
#   build-fuzz/tests/fuzz/fuzz_manifest CRASH-FILE   replay one input
#
# The committed seeds in tests/fuzz/corpus/<target>/ are only read: what the
# fuzzer finds goes to build-fuzz/tests/fuzz/corpus/<target>/ (scratch, kept
# between runs), and an input that crashes to build-fuzz/tests/fuzz/artifacts/
# <target>/. Exit status: 0 when every target ran its time without a crash.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=
build_only=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        -t) seconds="$2"; shift 2 ;;
        --build-only) build_only=1; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) targets+=("fuzz_$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_manifest fuzz_results fuzz_record fuzz_problems fuzz_compare fuzz_run_code)

# Debian 12's clang is clang-14; libFuzzer itself is in libclang-rt-14-dev.
cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
    for c in clang-14 clang; do
        command -v "$c" >/dev/null && { cc=$c; break; }
    done
fi
[ -n "$cc" ] || { echo "fuzz: no clang (scripts/install-deps.sh installs clang-14 and libclang-rt-14-dev)" >&2; exit 1; }

out=build-fuzz
export PKG_CONFIG_PATH=
if [ ! -f "$out/build.ninja" ]; then
    CC=$cc meson setup "$out" --buildtype=debugoptimized -Dfuzz=true -Dtests=false >/dev/null
fi
# Only the targets: the rest of the project is not meant to be built here.
meson compile -C "$out" "${targets[@]/#/tests/fuzz/}" >/dev/null
[ "$build_only" -eq 1 ] && exit 0

test_args=()
[ -n "$seconds" ] && test_args=("--test-args=-max_total_time=$seconds")
meson test -C "$out" --no-rebuild --suite fuzz --num-processes 2 --print-errorlogs \
    "${test_args[@]}" "${targets[@]}"
