#!/usr/bin/env bash
# Rewrites docs/sandbox.md's system call table from the policy the zygote
# compiles (sandbox/seccomp_policy.c), so the doc says what the code does;
# tests/test_seccomp.c checks that it does.
#   scripts/update-policy-docs.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
doc=docs/sandbox.md
table=$("$build/runbox-zygote" --print-seccomp-policy)
python3 - "$doc" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2].rstrip("\n") + "\n"
lines = open(path).read().split("\n")
start = lines.index("| system call | action | why |")
end = start
while end < len(lines) and lines[end].startswith("|"):
    end += 1
lines[start:end] = table.rstrip("\n").split("\n")
open(path, "w").write("\n".join(lines))
PY
