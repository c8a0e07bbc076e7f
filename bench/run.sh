#!/usr/bin/env bash
# The benchmark suite, in one command: installs what it needs (Debian
# packages, only those missing), builds runbox and bench/fork_floor, and runs
# bench/bench.py with Debian's python3. Options go to bench.py:
#   bench/run.sh                 the full suite (rounds of every workload and approach)
#   bench/run.sh --quick         a smaller run, to check the harness; leaves docs/ alone
#   bench/run.sh --scale-only    the scale checks (--scale-jobs N: 1,000,000 by default)
#   bench/run.sh --evalplus-only HumanEval+ canonical: runbox eval vs the evalplus-method
#                                baseline vs the in-process floor (a few minutes;
#                                --evalplus-repeats 5 for 820 samples; --evalplus after the suite)
#   bench/run.sh --render        docs/benchmarks.md and the chart from the saved results
#   bench/run.sh --help          every option
# Results: bench/results/latest*.json, docs/benchmarks.md, docs/benchmarks.png.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's interpreter, never one first on PATH (pyenv): the baselines must run
# the same Python that runbox embeds, and numpy is Debian's python3-numpy.
PY=/usr/bin/python3
case " $* " in
*" --render "* | *" --help "* | *" -h "*)
    exec "$PY" bench/bench.py "$@" ;;
esac
scripts/install-deps.sh python3-numpy gnuplot-nox gcc
# scripts/build.sh sends the compiler's output to /dev/null: say so when it fails.
scripts/build.sh || { echo "bench: building runbox failed; 'meson compile -C build' shows why" >&2; exit 1; }
gcc -O2 -std=c11 -Wall -Wextra -o bench/fork_floor bench/fork_floor.c
exec "$PY" bench/bench.py "$@"
