"""The HumanEval+ benchmark of issue 13, run by bench.py (`--evalplus`, `--evalplus-only`).

HumanEval+ v0.1.10's canonical solutions, base and plus inputs, graded three
ways side by side, round after round (the order rotated each round), with the
same number of workers (-j):

  runbox    `runbox eval --problems HumanEvalPlus-v0.1.10.jsonl.gz --samples S -j N`,
            the full default sandbox, the reference outputs from a warm
            --cache-dir (filled by one untimed cold run first);
  baseline  bench/evalplus_method.py baseline: evalplus's documented method
            (a process pool, a fresh process per sample and test kind,
            comparisons in the child), from a warm ground-truth pickle;
  floor     bench/evalplus_method.py floor: the canonical solutions called on
            every input in N warm interpreters, no isolation, no limits.

runbox and the baseline are timed as whole commands, start-up and loading
included, as a user times them; the floor's clock covers only the grading
(its workers hold the data before it starts). Rates are samples per second;
ratios are taken within a round and their median reported.
"""

import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
METHOD = os.path.join(HERE, "evalplus_method.py")
PY = "/usr/bin/python3"
DATASET = "HumanEvalPlus-v0.1.10.jsonl.gz"

APPROACHES = {
    "runbox": "runbox eval (full default sandbox, warm reference cache)",
    "baseline": "evalplus-method baseline (process pool, a process per sample and test kind)",
    "floor": "in-process floor (N warm interpreters, no isolation)",
}
ORDER = ["runbox", "baseline", "floor"]

TARGETS = [
    {"id": "evalplus_baseline", "text": "HumanEval+ canonical: runbox eval ≥ 2.5× the evalplus-method baseline",
     "ratio": "runbox/baseline", "min": 2.5},
    {"id": "evalplus_floor", "text": "HumanEval+ canonical: runbox eval ≥ 60% of the in-process floor",
     "ratio": "runbox/floor", "min": 0.6},
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def children_cpu():
    import resource
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return c.ru_utime + c.ru_stime


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def write_samples(problems_path, path, repeats):
    """The canonical solutions as completions (prompt + completion is the
    program, as evalplus builds it), every task `repeats` times in task order."""
    import gzip
    with gzip.open(problems_path, "rt") as f:
        probs = [json.loads(line) for line in f if line.strip()]
    with open(path, "w") as f:
        for _ in range(repeats):
            for p in probs:
                f.write(json.dumps({"task_id": p["task_id"], "completion": p["canonical_solution"]}) + "\n")
    return len(probs) * repeats, len(probs), sum(len(p["base_input"]) + len(p["plus_input"]) for p in probs)


class EvalplusBench:
    def __init__(self, b, args):
        self.b = b
        self.args = args
        self.j = args.jobs
        self.work = os.path.join(b.work, "evalplus")
        os.makedirs(self.work, exist_ok=True)
        self.problems = os.path.join(args.datasets, DATASET)
        self.samples = os.path.join(self.work, "samples.jsonl")
        self.n, self.tasks, self.inputs = write_samples(self.problems, self.samples, args.evalplus_repeats)
        self.truth = os.path.join(self.work, "ground-truth.pkl")
        self.cache = os.path.join(self.work, "runbox-cache")

    # -- one measurement each --

    def run_cmd(self, cmd):
        c0 = children_cpu()
        l0 = loadavg()
        t0 = time.monotonic()
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        wall = time.monotonic() - t0
        return p, wall, children_cpu() - c0, [l0, loadavg()]

    def m_runbox(self, n=None, samples=None):
        n = n or self.n
        out = os.path.join(self.work, "runbox-results.jsonl")
        stats = os.path.join(self.work, "runbox-stats.json")
        for f in (out, stats):
            if os.path.exists(f):
                os.unlink(f)
        cmd = [self.b.runbox, "eval", "--problems", self.problems, "--samples", samples or self.samples,
               "-o", out, "-j", str(self.j), "-q", "--cache-dir", self.cache, "--stats", stats]
        l0 = loadavg()
        rc, wall, cpu, sampler, _, errtail = self.b.run_runbox(cmd, n)
        m = {"wall_s": wall, "cpu_s": cpu, "load": [l0, loadavg()], "samples": n}
        if rc != 0:
            m["void"] = f"runbox exited {rc}: {errtail.strip()[-300:]}"
            return m
        bad, count = None, 0
        with open(out) as f:
            for line in f:
                count += 1
                r = json.loads(line)
                if not (r.get("passed") is True and r.get("base_status") == "pass" and r.get("plus_status") == "pass"):
                    bad = bad or {k: r.get(k) for k in ("task_id", "status", "base_status", "plus_status", "error")}
        if count != n or bad:
            m["void"] = f"{count} records for {n} samples; first not passed: {json.dumps(bad)}"
        try:
            with open(stats) as f:
                m["stats"] = json.load(f)
        except (OSError, ValueError) as e:
            m["stats"] = {"error": str(e)}
        m["supervisor_hwm_kb"] = sampler.sup_hwm_kb
        m["zygote_rss_kb"] = sampler.max_zygote()
        m["rate"] = None if m.get("void") else n / wall
        return m

    def m_method(self, command):
        cmd = [PY, METHOD, command, "--problems", self.problems, "--samples", self.samples,
               "--ground-truth", self.truth, "-j", str(self.j)]
        p, wall, cpu, load = self.run_cmd(cmd)
        m = {"wall_s": wall, "cpu_s": cpu, "load": load, "samples": self.n}
        if p.returncode != 0:
            m["void"] = f"{command} exited {p.returncode}: {p.stderr.strip()[-300:]}"
            return m
        try:
            r = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            m["void"] = f"{command} printed no JSON: {p.stdout[-300:]} {p.stderr[-300:]}"
            return m
        m.update({k: r.get(k) for k in ("load_s", "grade_s", "start_s", "grade_cpu_s")})
        if r["passed"] != self.n:
            m["void"] = f"{r['passed']} of {self.n} samples passed; first not: {json.dumps(r['first_not_passed'])}"
        # The floor's clock is the grading alone; the baseline's the whole command.
        timed = r["grade_s"] if command == "floor" else wall
        m["rate"] = None if m.get("void") else self.n / timed
        if command == "floor" and not m.get("void"):
            m["rate_whole_command"] = self.n / wall
        return m

    def measure(self, approach):
        return self.m_runbox() if approach == "runbox" else self.m_method(approach)

    # -- the run --

    def prepare(self):
        """Untimed set-up: the baseline's ground truth, runbox's reference cache
        (a cold run, which is also checked), and runbox's fixed cost."""
        prep = {}
        p, wall, cpu, load = self.run_cmd([PY, METHOD, "groundtruth", "--problems", self.problems,
                                           "--ground-truth", self.truth])
        if p.returncode != 0:
            raise RuntimeError(f"evalplus_method.py groundtruth failed: {p.stderr.strip()[-500:]}")
        prep["groundtruth"] = {"wall_s": wall, "cpu_s": cpu, **json.loads(p.stdout.strip().splitlines()[-1])}
        log(f"bench: evalplus ground truth computed in-process: {wall:.1f} s ({self.inputs:,} inputs)")
        one = os.path.join(self.work, "one.jsonl")
        with open(self.samples) as f, open(one, "w") as g:
            g.write(f.readline())
        cold = self.m_runbox(1, one)  # fills the cache: every task's reference outputs
        prep["runbox_cold"] = {k: cold.get(k) for k in ("wall_s", "cpu_s", "void", "stats", "supervisor_hwm_kb")}
        if cold.get("void"):
            raise RuntimeError(f"runbox eval with a cold cache: {cold['void']}")
        log(f"bench: runbox eval, cold cache (1 sample; computes every task's reference outputs): "
            f"{cold['wall_s']:.1f} s")
        fixed = [self.m_runbox(1, one) for _ in range(2)]
        prep["runbox_one_sample"] = {"wall_s": median([m["wall_s"] for m in fixed]),
                                     "supervisor_cpu_s": median([m["stats"].get("supervisor_cpu_s") for m in fixed]),
                                     "supervisor_hwm_kb": max(m["supervisor_hwm_kb"] or 0 for m in fixed)}
        log(f"bench: runbox eval, warm cache, 1 sample: {prep['runbox_one_sample']['wall_s']:.2f} s")
        cache_files = [os.path.join(self.cache, f) for f in os.listdir(self.cache)]
        prep["runbox_cache_bytes"] = sum(os.path.getsize(f) for f in cache_files)
        prep["ground_truth_bytes"] = os.path.getsize(self.truth)
        return prep

    def run(self):
        t_start = time.monotonic()
        prep = self.prepare()
        rounds = {a: [] for a in ORDER}
        nr = self.args.evalplus_rounds
        for r in range(nr):
            order = ORDER[r % 3:] + ORDER[:r % 3]
            for a in order:
                m = self.measure(a)
                m["round"] = r
                rounds[a].append(m)
                rate = f"{m['rate']:7.2f} samples/s" if m.get("rate") else "VOID: " + m["void"]
                log(f"[evalplus round {r + 1}/{nr}] {a:8s} {self.n} samples {m['wall_s']:6.2f} s {rate} "
                    f"(load {m['load'][0]:.2f}→{m['load'][1]:.2f})")
        return self.report(prep, rounds, time.monotonic() - t_start)

    def report(self, prep, rounds, runtime):
        res = {"samples": self.n, "tasks": self.tasks, "inputs_per_pass": self.inputs, "jobs_in_flight": self.j,
               "repeats": self.args.evalplus_repeats, "rounds": len(rounds["runbox"]), "prepare": prep,
               "approaches": {}, "ratios": {}, "runtime_s": runtime}
        loads = [x for a in ORDER for m in rounds[a] for x in m["load"]]
        res["loadavg_1min"] = {"median": median(loads), "min": min(loads), "max": max(loads)}
        for a in ORDER:
            ms = rounds[a]
            ok = [m for m in ms if m.get("rate")]
            s = {"label": APPROACHES[a], "rates": [m.get("rate") for m in ms], "valid_rounds": len(ok),
                 "rate_median": median([m["rate"] for m in ok]),
                 "rate_min": min((m["rate"] for m in ok), default=None),
                 "rate_max": max((m["rate"] for m in ok), default=None),
                 "wall_s_median": median([m["wall_s"] for m in ms]),
                 "cpu_s_per_sample": median([m["cpu_s"] / self.n for m in ok]),
                 "void": [m["void"] for m in ms if m.get("void")], "rounds_detail": ms}
            if a != "runbox":
                s["load_s_median"] = median([m.get("load_s") for m in ok])
                s["grade_s_median"] = median([m.get("grade_s") for m in ok])
            if a == "floor":
                s["rate_whole_command_median"] = median([m.get("rate_whole_command") for m in ok])
                s["grade_cpu_s_per_sample"] = median([m["grade_cpu_s"] / self.n for m in ok if m.get("grade_cpu_s")])
            if a == "runbox":
                sts = [m["stats"] for m in ok if "job_cpu_s" in m.get("stats", {})]
                for k in ("supervisor_cpu_s", "job_cpu_s", "zygote_cpu_s", "runs", "job_cpu_per_run_ms",
                          "job_wall_per_run_ms", "job_minor_faults_per_run", "supervisor_cpu_per_run_ms"):
                    s[k] = median([st.get(k) for st in sts])
                s["supervisor_hwm_kb"] = max((m.get("supervisor_hwm_kb") or 0 for m in ok), default=None)
            res["approaches"][a] = s
        for base in ("baseline", "floor"):
            per = [ra["rate"] / rb["rate"] for ra, rb in zip(rounds["runbox"], rounds[base])
                   if ra.get("rate") and rb.get("rate")]
            res["ratios"][f"runbox/{base}"] = {"per_round": per, "median": median(per),
                                               "min": min(per, default=None), "max": max(per, default=None)}
        per = [rb["rate"] / rf["rate"] for rb, rf in zip(rounds["baseline"], rounds["floor"])
               if rb.get("rate") and rf.get("rate")]
        res["ratios"]["baseline/floor"] = {"per_round": per, "median": median(per)}
        res["targets"] = []
        for t in TARGETS:
            r = res["ratios"][t["ratio"]]
            v = r["median"]
            row = {"id": t["id"], "text": t["text"], "value": v, "min": t["min"]}
            if v is None:
                row["shown"], row["verdict"] = "n/a", "VOID"
            else:
                row["shown"] = (f"{v * 100:.1f}%" if t["min"] < 1 else f"{v:.2f}×") + \
                    f" (rounds {r['min']:.3g}–{r['max']:.3g})"
                row["verdict"] = "PASS" if v >= t["min"] else "FAIL"
            res["targets"].append(row)
        return res


def run_evalplus(b, args):
    if not os.path.exists(os.path.join(args.datasets, DATASET)):
        raise RuntimeError(f"no {DATASET} in {args.datasets}")
    return EvalplusBench(b, args).run()


# ---- reporting ----------------------------------------------------------------

def fmt(v, spec=".1f", none="–"):
    return none if v is None else format(v, spec)


def table(ep):
    head = ["approach", "samples/s median", "[min–max]", "wall s median", "CPU s/sample", "runbox / this"]
    rows = []
    for a in ORDER:
        s = ep["approaches"][a]
        r = ep["ratios"].get(f"runbox/{a}")
        ratio = "" if a == "runbox" else (
            (f"{r['median'] * 100:.1f}%" if a == "floor" else f"{r['median']:.2f}×") if r and r["median"] else "–")
        # The floor's CPU is its grading's, as its rate is (its workers' loading is left out of both).
        cpu = s.get("grade_cpu_s_per_sample") if a == "floor" else s["cpu_s_per_sample"]
        rows.append([s["label"], fmt(s["rate_median"], ".2f") if s["valid_rounds"] else "VOID",
                     f"{fmt(s['rate_min'], '.2f')}–{fmt(s['rate_max'], '.2f')}", fmt(s["wall_s_median"], ".2f"),
                     fmt(cpu, ".3f"), ratio])
    return head, rows


def detail_rows(ep):
    """Where runbox's time goes, from --stats (medians over rounds)."""
    s = ep["approaches"]["runbox"]
    n = ep["samples"]
    p = ep["prepare"]
    one = p.get("runbox_one_sample") or {}
    rows = [
        ["runs (jobs) per sample", fmt((s.get("runs") or 0) / n, ".1f")],
        ["job CPU per run, ms", fmt(s.get("job_cpu_per_run_ms"), ".1f")],
        ["job wall per run, ms", fmt(s.get("job_wall_per_run_ms"), ".1f")],
        ["job minor faults per run", fmt(s.get("job_minor_faults_per_run"), ".0f")],
        ["jobs' CPU, s (all runs)", fmt(s.get("job_cpu_s"), ".2f")],
        ["supervisor CPU, s (per run, ms)",
         f"{fmt(s.get('supervisor_cpu_s'), '.2f')} ({fmt(s.get('supervisor_cpu_per_run_ms'), '.1f')})"],
        ["zygote CPU, s", fmt(s.get("zygote_cpu_s"), ".2f")],
        ["all CPU of the command, s", fmt((s.get("cpu_s_per_sample") or 0) * n, ".2f")],
        ["supervisor peak RSS, MB", fmt((s.get("supervisor_hwm_kb") or 0) / 1024, ".0f")],
        ["a 1-sample batch, warm cache: wall s / supervisor CPU s",
         f"{fmt(one.get('wall_s'), '.2f')} / {fmt(one.get('supervisor_cpu_s'), '.2f')}"],
        ["reference cache on disk, MB", fmt((p.get("runbox_cache_bytes") or 0) / 1e6, ".0f")],
        ["cold cache, 1 sample (computes the reference outputs), s", fmt((p.get("runbox_cold") or {}).get("wall_s"), ".1f")],
    ]
    return ["runbox eval, per batch of " + f"{n} samples", "value"], rows


def method_rows(ep):
    b = ep["approaches"]["baseline"]
    f = ep["approaches"]["floor"]
    p = ep["prepare"]
    return ["Python harnesses", "value"], [
        ["baseline: loading the dataset and ground truth / grading, s (median)",
         f"{fmt(b.get('load_s_median'), '.2f')} / {fmt(b.get('grade_s_median'), '.2f')}"],
        ["floor: grading only, s (median); samples/s counting its start-up",
         f"{fmt(f.get('grade_s_median'), '.2f')}; {fmt(f.get('rate_whole_command_median'), '.2f')}"],
        ["baseline / floor (rates, median)", fmt(ep["ratios"]["baseline/floor"]["median"], ".3f")],
        ["CPU s per sample: floor's grading / baseline, whole command / runbox, whole command (medians)",
         f"{fmt(f.get('grade_cpu_s_per_sample'), '.4f')} / {fmt(b.get('cpu_s_per_sample'), '.4f')} / "
         f"{fmt(ep['approaches']['runbox'].get('cpu_s_per_sample'), '.4f')}"],
        ["ground truth computed in-process (evalplus's way), s; its pickle, MB",
         f"{fmt(p['groundtruth']['wall_s'], '.1f')}; {fmt(p.get('ground_truth_bytes', 0) / 1e6, '.0f')}"],
    ]


def text_report(ep, text_table):
    out = [text_table(*table(ep)), "", text_table(*detail_rows(ep)), "", text_table(*method_rows(ep)), ""]
    out.append(text_table(["target", "measured (median of rounds)", "verdict"],
                          [[t["text"], t["shown"], t["verdict"]] for t in ep["targets"]]))
    la = ep["loadavg_1min"]
    out.append(f"\n{ep['samples']} samples ({ep['tasks']} tasks × {ep['repeats']}), -j {ep['jobs_in_flight']}, "
               f"{ep['rounds']} rounds; 1-min load average during the rounds: median {la['median']:.2f} "
               f"(range {la['min']:.2f}–{la['max']:.2f}); {ep['runtime_s'] / 60:.1f} min in all")
    return "\n".join(out)


def markdown(ep, md_table):
    if not ep:
        return "Not run yet: `bench/run.sh --evalplus-only` runs it (a few minutes)."
    la = ep["loadavg_1min"]
    m = ep.get("meta", {})
    voids = [f"- {ep['approaches'][a]['label']}: {v}" for a in ORDER for v in ep["approaches"][a]["void"]]
    parts = [
        f"Run {m.get('date', '?')} on commit {m.get('git_head', '?')} (`{m.get('command', 'bench/run.sh --evalplus-only')}`): "
        f"{ep['samples']} samples ({ep['tasks']} tasks × {ep['repeats']}), {ep['rounds']} rounds, "
        f"-j {ep['jobs_in_flight']} for all three; 1-minute load average during the rounds: median "
        f"{la['median']:.2f} (range {la['min']:.2f}–{la['max']:.2f}) on {m.get('nproc', '?')} CPUs; "
        f"{ep['runtime_s'] / 60:.1f} min in all.",
        md_table(["target", "measured (median of rounds)", "verdict"],
                 [[t["text"], t["shown"], f"**{t['verdict']}**"] for t in ep["targets"]]),
        md_table(*table(ep)),
        md_table(*detail_rows(ep)),
        md_table(*method_rows(ep)),
    ]
    bf = ep["ratios"]["baseline/floor"]["median"]
    if bf:
        parts.append(
            f"What bounds the first target: in this run the in-process floor, which isolates nothing, was "
            f"{1 / bf:.2f}× as fast as the baseline (median of rounds), so a harness 2.5× the baseline would "
            f"have to run at {2.5 * bf:.0%} of the floor's speed. Most of HumanEval+'s work is the "
            f"{ep['inputs_per_pass']:,} calls themselves (a few tasks' calls take seconds), which every harness "
            f"makes; removing all of what evalplus's method adds to them gains {1 / bf:.2f}× at most.")
    if voids:
        parts.append("Void measurements:\n\n" + "\n".join(voids))
    return "\n\n".join(parts)
