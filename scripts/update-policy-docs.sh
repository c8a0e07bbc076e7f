#!/usr/bin/env bash
# Rewrites docs/sandbox.md's system call tables from the policy the zygote
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
path, tables = sys.argv[1], sys.argv[2].strip("\n").split("\n\n")
lines = open(path).read().split("\n")
# Each table replaces the one in the doc with the same header line.
for table in tables:
    rows = table.split("\n")
    start = lines.index(rows[0])
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    lines[start:end] = rows
open(path, "w").write("\n".join(lines))
PY
