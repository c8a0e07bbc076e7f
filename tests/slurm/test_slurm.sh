#!/usr/bin/env bash
# The sharded evaluation on a real single-node Slurm (docs/scaling.md, "The
# Slurm integration test").
#
# Installs Debian's slurmctld, slurmd, slurm-client and munge when they are
# missing; starts munged, slurmctld and slurmd by hand (no systemd), each on
# a private socket or port and with all its state in one temp dir; then:
#   1. grades 164 canonical + 164 broken HumanEval samples as a 4-task array
#      of examples/scaling/eval-array.sbatch (runbox eval --shard slurm;
#      sbatch --wait --array=0-3), merged by examples/scaling/merge.sbatch
#      submitted with --dependency=afterok on the array;
#   2. meanwhile grades the same samples in one unsharded `runbox eval`;
#   3. checks that each task graded its own shard (disjoint, together all, each
#      sample where the documented hash puts it), that the merged lines are
#      byte-identical to the single run's but for runtime, cpu_time and
#      max_rss_kb, and that pass@k is the same;
#   4. the resume story: shard 2 "crashes" half-way (its results gone, half
#      a journal and a torn line left), the merge fails and lists its samples,
#      the task is re-submitted alone and carries on (--resume), and the
#      merge then gives the same lines again.
# Every daemon it started is stopped and the temp dir removed, also on
# failure.
#
# Exit: 0 passed, 1 failed, 77 skipped (meson's skip) when Slurm cannot be set
# up here: not root, the packages cannot be installed, or a daemon does not
# start. The reason is printed. RUNBOX_REQUIRE_SLURM=1 turns a skip into a
# failure (for CI machines that must run it); RUNBOX_SLURM_KEEP=1 keeps the
# temp dir and its logs.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${RUNBOX_SOURCE_ROOT:-$(cd "$HERE/../.." && pwd)}
RUNBOX=$(realpath -m "${RUNBOX:-$SRC/build/runbox}")
ZYGOTE=$(realpath -m "${RUNBOX_ZYGOTE:-$(dirname "$RUNBOX")/runbox-zygote}")
DATASETS=${RUNBOX_DATASETS:-$SRC/data}
PROBLEMS=$(realpath -m "$DATASETS/HumanEval.jsonl.gz")
EXAMPLES=$SRC/examples/scaling
NSHARDS=4
EVAL_ARGS=(-k 1,2 --timeout 20)   # generous: the machine may be busy
START=$SECONDS

say() { printf '[slurm %3ds] %s\n' $((SECONDS - START)) "$*"; }

skip() {
    if [ "${RUNBOX_REQUIRE_SLURM:-0}" = 1 ]; then
        echo "FAIL: the Slurm test cannot run here: $* (RUNBOX_REQUIRE_SLURM=1 makes that a failure)" >&2
        exit 1
    fi
    echo "SKIP: the Slurm test cannot run here: $*" >&2
    echo "SKIP: the Slurm test cannot run here: $*"
    exit 77
}

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

[ -x "$RUNBOX" ] && [ -x "$ZYGOTE" ] || fail "no runbox and runbox-zygote at $RUNBOX, $ZYGOTE (scripts/build.sh)"
[ -f "$PROBLEMS" ] || fail "no HumanEval problems at $PROBLEMS"
[ "$(id -u)" = 0 ] || skip "it needs root (to install Slurm and run munged, slurmctld and slurmd)"

# A Slurm job's variables would confuse the clients (and --shard slurm), and
# SHARDS would make the array's tasks take --shard slurm:SHARDS.
while read -r v; do unset "$v"; done < <(compgen -e | grep '^SLURM_' || true)
unset SHARDS

# ---- install ----------------------------------------------------------------
PROGRAMS=(munged mungekey slurmctld slurmd sbatch sinfo squeue scancel)
have_all() {
    local p
    for p in "${PROGRAMS[@]}"; do
        PATH=$PATH:/usr/sbin:/sbin command -v "$p" >/dev/null || return 1
    done
}
if ! have_all; then
    say "installing slurmctld slurmd slurm-client munge (apt-get)"
    command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get"
    export DEBIAN_FRONTEND=noninteractive
    PKGS=(slurmctld slurmd slurm-client munge)
    APTLOG=$(mktemp /tmp/runbox-slurm-apt.XXXXXX)
    if ! apt-get install -y -q --no-install-recommends "${PKGS[@]}" >"$APTLOG" 2>&1; then
        # A fresh machine may not have the package lists yet.
        apt-get update -q >>"$APTLOG" 2>&1 || true
        if ! apt-get install -y -q --no-install-recommends "${PKGS[@]}" >>"$APTLOG" 2>&1; then
            why=$(tail -n 3 "$APTLOG")
            rm -f "$APTLOG"
            skip "apt-get install ${PKGS[*]} failed: $why"
        fi
    fi
    rm -f "$APTLOG"
    have_all || skip "installed the packages, but ${PROGRAMS[*]} are not all there"
fi
export PATH=$PATH:/usr/sbin:/sbin

# ---- the temp dir, and stopping everything on the way out ---------------------
T=$(mktemp -d /tmp/runbox-slurm.XXXXXX)
chmod 755 "$T" # munged (as the munge user) must reach its socket dir in it
mkdir -p "$T/state" "$T/spool" "$T/log" "$T/work" "$T/single"
MUNGED_PID= CTLD_PID= SLURMD_PID=
WAITERS=() # the sbatch --wait processes in the background

stop_pid() { # pid name: TERM, up to 10 s, then KILL
    local pid=$1 i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "slurm test: $2 (pid $pid) ignored SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    set +e
    for pid in "${WAITERS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    if [ -n "$CTLD_PID" ] && kill -0 "$CTLD_PID" 2>/dev/null; then
        # Jobs first, so that no slurmstepd outlives its slurmd.
        scancel --quiet --user=root 2>/dev/null
        for ((i = 0; i < 50; i++)); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
        for f in "$T"/log/* "$T/munge-etc/munged.log"; do
            [ -f "$f" ] || continue
            echo "---- $f (last 40 lines)" >&2
            tail -n 40 "$f" >&2
        done
    fi
    stop_pid "$SLURMD_PID" slurmd
    stop_pid "$CTLD_PID" slurmctld
    stop_pid "$MUNGED_PID" munged
    if [ "${RUNBOX_SLURM_KEEP:-0}" = 1 ]; then
        echo "slurm test: kept $T" >&2
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- munged: own key, socket and pid file, as the munge user --------------------
MUNGE_USER=munge
id "$MUNGE_USER" >/dev/null 2>&1 || MUNGE_USER=root
mkdir -p "$T/munge-etc" "$T/munge-run"
chown "$MUNGE_USER:" "$T/munge-etc" "$T/munge-run"
chmod 700 "$T/munge-etc"
chmod 755 "$T/munge-run"
MUNGE_SOCKET=$T/munge-run/munge.socket
as_munge() { setpriv --reuid="$MUNGE_USER" --regid="$(id -g "$MUNGE_USER")" --init-groups -- "$@"; }
as_munge mungekey --create --keyfile="$T/munge-etc/munge.key" >"$T/log/mungekey.log" 2>&1 ||
    skip "mungekey could not create a key: $(cat "$T/log/mungekey.log")"
MUNGED_ARGS=(--socket="$MUNGE_SOCKET" --key-file="$T/munge-etc/munge.key"
    --pid-file="$T/munge-run/munged.pid" --log-file="$T/munge-etc/munged.log"
    --seed-file="$T/munge-etc/munged.seed")
[ "$MUNGE_USER" = root ] && MUNGED_ARGS+=(--force)
as_munge munged "${MUNGED_ARGS[@]}" >"$T/log/munged.out" 2>&1 ||
    skip "munged refused to start: $(cat "$T/log/munged.out")"
MUNGED_PID=$(cat "$T/munge-run/munged.pid")
munge -S "$MUNGE_SOCKET" -n </dev/null | unmunge -S "$MUNGE_SOCKET" >/dev/null 2>&1 ||
    skip "munged runs but a credential does not round-trip (munge -n | unmunge)"
say "munged is up (pid $MUNGED_PID)"

# ---- slurm.conf -------------------------------------------------------------
NODE=$(hostname -s 2>/dev/null || hostname)
CPUS=$(nproc)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
while [ "$SLURMD_PORT" = "$CTLD_PORT" ]; do SLURMD_PORT=$(free_port); done
CLUSTER=runboxtest
export SLURM_CONF=$T/slurm.conf
cat >"$SLURM_CONF" <<EOF
# Written by tests/slurm/test_slurm.sh: one node, everything in $T.
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
KillWait=5
MailProg=/bin/true
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$CPUS State=UNKNOWN
PartitionName=runbox Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

# ---- slurmctld and slurmd, in the foreground of background jobs --------------
slurmctld -D -i -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
CTLD_PID=$!
for ((i = 0; i < 100; i++)); do
    scontrol ping 2>/dev/null | grep -q 'is UP' && break
    kill -0 "$CTLD_PID" 2>/dev/null || skip "slurmctld exited: $(tail -n 5 "$T/log/slurmctld.out")"
    sleep 0.1
done
scontrol ping 2>/dev/null | grep -q 'is UP' || skip "slurmctld did not answer within 10 s"
slurmd -D -f "$SLURM_CONF" -N "$NODE" >"$T/log/slurmd.out" 2>&1 &
SLURMD_PID=$!
state=
for ((i = 0; i < 300; i++)); do
    state=$(sinfo -h -n "$NODE" -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    kill -0 "$SLURMD_PID" 2>/dev/null || skip "slurmd exited: $(tail -n 5 "$T/log/slurmd.out")"
    sleep 0.1
done
[ "$state" = idle ] || skip "node $NODE is '$state', not idle, 30 s after slurmd started"
say "slurmctld (pid $CTLD_PID) and slurmd (pid $SLURMD_PID) are up; node $NODE idle with $CPUS CPUs"

# ---- from here on, a problem is a failure ---------------------------------------
# Copies of the binaries: a rebuild of the tree while the test runs must not
# swap them under the array's tasks.
mkdir -p "$T/bin"
cp "$RUNBOX" "$T/bin/runbox"
cp "$ZYGOTE" "$T/bin/runbox-zygote"
RUNBOX=$T/bin/runbox
export RUNBOX_ZYGOTE=$T/bin/runbox-zygote
cd "$T/work"
SAMPLES=$T/work/samples.jsonl
python3 "$HERE/check.py" samples "$PROBLEMS" "$SAMPLES" >/dev/null
mkdir -p "$T/single"
cp "$SAMPLES" "$T/single/samples.jsonl"
SINGLE=$T/single/samples.jsonl_results.jsonl
MERGED=${SAMPLES}_results.jsonl
export RUNBOX PROBLEMS SAMPLES

# sbatch --wait in the background, under a time limit; its output in LOG.
# Sets WAIT_PID, and JOB once sbatch has said "Submitted batch job N".
submit_wait() { # LOG sbatch-arguments...
    local log=$1 i
    shift
    timeout 300 sbatch --wait --chdir="$T/work" "$@" >"$log" 2>&1 &
    WAIT_PID=$!
    WAITERS+=("$WAIT_PID")
    JOB=
    for ((i = 0; i < 300; i++)); do
        JOB=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' "$log")
        [ -n "$JOB" ] && return 0
        kill -0 "$WAIT_PID" 2>/dev/null || break
        sleep 0.1
    done
    fail "sbatch $* did not submit: $(cat "$log")"
}

# sbatch without waiting; sets JOB.
submit() {
    JOB=$(sbatch --parsable --chdir="$T/work" "$@") || fail "sbatch $* failed"
    JOB=${JOB%%;*}
}

# Waits (polling twice a second: sbatch --wait polls at 2, 10, 42, 74 s...)
# until every task of job $1 has ended; fails unless all COMPLETED.
wait_job() { # JOBID WHAT
    local i states
    for ((i = 0; i < 600; i++)); do
        states=$(scontrol show job -o "$1" | grep -o 'JobState=[A-Z_]*' | sort -u | tr '\n' ' ')
        case "$states" in
        *PENDING* | *RUNNING* | *CONFIGURING* | *COMPLETING* | *SUSPENDED* | *REQUEUE* | '') sleep 0.5 ;;
        'JobState=COMPLETED ') return 0 ;;
        *) fail "$2 (job $1) ended as: $states$(scontrol show job "$1" | grep -E 'Reason|ExitCode' | sort -u)" ;;
        esac
    done
    fail "$2 (job $1) did not end within 300 s: $states"
}

# 1, 2. The 4-task array and, with --dependency=afterok on it, the merge job,
# as docs/scaling.md submits them; while Slurm runs them, the single unsharded
# run here.
say "1. sbatch --wait --array=0-$((NSHARDS - 1)) examples/scaling/eval-array.sbatch"
submit_wait "$T/log/sbatch-array.out" --array=0-$((NSHARDS - 1)) --cpus-per-task=1 \
    --output="$T/log/eval-%A_%a.out" "$EXAMPLES/eval-array.sbatch" "${EVAL_ARGS[@]}"
ARRAY=$JOB ARRAY_WAIT=$WAIT_PID
say "   array job $ARRAY; sbatch --dependency=afterok:$ARRAY examples/scaling/merge.sbatch"
SHARDS=$NSHARDS submit --dependency=afterok:"$ARRAY" \
    --output="$T/log/merge-%j.out" "$EXAMPLES/merge.sbatch" -k 1,2
MERGE=$JOB

say "2. meanwhile, one unsharded runbox eval over the same 328 samples (niced)"
nice -n 10 "$RUNBOX" eval --problems "$PROBLEMS" --samples "$T/single/samples.jsonl" "${EVAL_ARGS[@]}" -q \
    >"$T/single/stdout" || fail "the unsharded runbox eval failed (exit $?)"
say "   pass@k: $(tail -n 1 "$T/single/stdout")"

rc=0
wait "$ARRAY_WAIT" || rc=$?
[ "$rc" = 0 ] || fail "the array (job $ARRAY) failed: sbatch --wait exit $rc: $(cat "$T/log/sbatch-array.out")"
say "   array job $ARRAY done"
wait_job "$MERGE" "the merge job"
say "   merge job $MERGE: $(tail -n 1 "$T/log/merge-$MERGE.out")"

# 3. The checks.
say "3. checks"
for ((i = 0; i < NSHARDS; i++)); do
    grep -q -- "runbox eval --shard slurm\$" "$T/log/eval-${ARRAY}_$i.out" ||
        fail "array task $i did not run runbox eval --shard slurm: $(cat "$T/log/eval-${ARRAY}_$i.out")"
done
python3 "$HERE/check.py" shards "$SAMPLES" "$NSHARDS" "$T/log" "$ARRAY"
python3 "$HERE/check.py" same "$SINGLE" "$MERGED"
[ ! -e "$MERGED.missing.jsonl" ] || fail "a complete merge left the earlier $MERGED.missing.jsonl"
python3 "$HERE/check.py" passk "$T/single/stdout" "$T/log/merge-$MERGE.out"

# 4. Resume: shard 2 dies half-way, leaving its journal (the lines it had
# graded, then a line cut short) and no results file.
say "4. resume: shard 2 crashes half-way; merge; re-submit task 2 alone; merge again"
S2=${SAMPLES}_results.shard-2-of-$NSHARDS.jsonl
mv "$S2" "$T/shard-2.before"
n2=$(wc -l <"$T/shard-2.before")
half=$((n2 / 2))
{ head -n "$half" "$T/shard-2.before"; sed -n "$((half + 1))p" "$T/shard-2.before" | head -c 40; } >"$S2.partial"

SHARD_FILES=()
for ((i = 0; i < NSHARDS; i++)); do SHARD_FILES+=("${SAMPLES}_results.shard-$i-of-$NSHARDS.jsonl"); done
rc=0
"$RUNBOX" merge "${SHARD_FILES[@]}" --samples "$SAMPLES" -o "$MERGED" -k 1,2 \
    >"$T/log/merge-incomplete.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "runbox merge without shard 2's results exited $rc, expected 1: $(cat "$T/log/merge-incomplete.out")"
python3 "$HERE/check.py" missing "$SAMPLES" "$T/shard-2.before" "$MERGED.missing.jsonl"

# Only task 2 again: an array of one task, so the shard count comes from
# SHARDS; and the merge after it.
SHARDS=$NSHARDS submit --array=2 --cpus-per-task=1 \
    --output="$T/log/resume-%A_%a.out" "$EXAMPLES/eval-array.sbatch" "${EVAL_ARGS[@]}"
RESUME=$JOB
SHARDS=$NSHARDS submit --dependency=afterok:"$RESUME" \
    --output="$T/log/merge-%j.out" "$EXAMPLES/merge.sbatch" -k 1,2
MERGE2=$JOB
wait_job "$RESUME" "the re-submitted task 2"
wait_job "$MERGE2" "the merge after the resume"
grep -q -- "runbox eval --shard slurm:$NSHARDS\$" "$T/log/resume-${RESUME}_2.out" ||
    fail "the re-submitted task did not run runbox eval --shard slurm:$NSHARDS: $(cat "$T/log/resume-${RESUME}_2.out")"
grep -q "dropping the last" "$T/log/resume-${RESUME}_2.out" ||
    fail "the re-submitted task did not resume from the journal: $(cat "$T/log/resume-${RESUME}_2.out")"
python3 "$HERE/check.py" prefix "$T/shard-2.before" "$S2" "$half"
[ ! -e "$S2.partial" ] || fail "the resumed shard left its journal $S2.partial"
python3 "$HERE/check.py" same "$SINGLE" "$MERGED"
[ ! -e "$MERGED.missing.jsonl" ] || fail "a complete merge left the earlier $MERGED.missing.jsonl"
python3 "$HERE/check.py" passk "$T/single/stdout" "$T/log/merge-$MERGE2.out"

say "passed"
