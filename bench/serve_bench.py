"""`runbox serve` side by side with `runbox run` and SandboxFusion's method.

One run, three approaches, interleaved rounds, the same trivial job
(`print(sum(range(100)))`):

  serve     POST /run_code to `runbox serve -j N` at 64 concurrent keep-alive
            connections (wrk), SandboxFusion's request shape
  run       `runbox run -j N` on a manifest of the same jobs (no HTTP)
  baseline  POST /run_code at 64 connections to bench/sf_baseline.py: a temp
            dir and a file per request, `python3 FILE` spawned through bash
  replicas  (--replicas) N replicas of `runbox serve -j 1` instead of one of
            -j N, each at 64/N connections at once: replicas per core

Prints a table (rates, p50/p99 latency, ratios) and writes it as JSON to
bench/results/serve-latest.json. Run it through bench/serve.sh.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"
CODE = "print(sum(range(100)))"
BODY = json.dumps({"compile_timeout": 10, "run_timeout": 10, "code": CODE, "stdin": "", "language": "python",
                   "files": {}, "fetch_files": []})


def wait_listening(proc, pattern, what):
    deadline = time.monotonic() + 60
    out = b""
    while time.monotonic() < deadline:
        line = proc.stderr.readline() if what == "serve" else proc.stdout.readline()
        if not line:
            break
        out += line
        m = re.search(pattern, line.decode())
        if m:
            return int(m.group(1))
    proc.kill()
    sys.exit("bench: %s did not start: %s" % (what, out.decode(errors="replace")))


def check(port, what):
    req = urllib.request.Request("http://127.0.0.1:%d/run_code" % port, data=BODY.encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        resp = json.load(r)
    if resp["run_result"]["stdout"] != "4950\n":
        sys.exit("bench: %s answered %r" % (what, resp))


def wrk(port, seconds, connections):
    env = dict(os.environ, RB_BODY=BODY)
    p = subprocess.run(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "60s",
                        "-s", os.path.join(HERE, "post.lua"), "http://127.0.0.1:%d/run_code" % port],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=seconds + 120)
    out = p.stdout.decode()
    m = re.search(r"^JSON (.*)$", out, re.M)
    if p.returncode != 0 or not m:
        sys.exit("bench: wrk failed:\n" + out)
    r = json.loads(m.group(1))
    if r["non2xx"] or r["socket_errors"]:
        sys.exit("bench: wrk saw errors (%s):\n%s" % (r, out))
    r["rate"] = r["requests"] / (r["duration_us"] / 1e6)
    return r


def start_serve(runbox, jobs):
    p = subprocess.Popen([runbox, "serve", "--listen", "127.0.0.1:0", "-j", str(jobs), "--no-access-log"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return p, wait_listening(p, r"listening on http://127\.0\.0\.1:(\d+)", "serve")


def wrk_many(ports, seconds, connections):
    """One wrk per port, all at once; their rates add up."""
    env = dict(os.environ, RB_BODY=BODY)
    procs = [subprocess.Popen(["wrk", "-t1", "-c%d" % (connections // len(ports)), "-d%ds" % seconds,
                               "--timeout", "60s", "-s", os.path.join(HERE, "post.lua"),
                               "http://127.0.0.1:%d/run_code" % port], stdout=subprocess.PIPE, env=env)
             for port in ports]
    rate = 0.0
    for p in procs:
        out = p.communicate(timeout=seconds + 120)[0].decode()
        r = json.loads(re.search(r"^JSON (.*)$", out, re.M).group(1))
        if r["non2xx"] or r["socket_errors"]:
            sys.exit("bench: wrk saw errors: %s" % r)
        rate += r["requests"] / (r["duration_us"] / 1e6)
    return {"rate": rate}


def runbox_run(runbox, jobs, n):
    with tempfile.TemporaryDirectory() as d:
        manifest = os.path.join(d, "jobs.jsonl")
        with open(manifest, "w") as f:
            for i in range(n):
                f.write(json.dumps({"id": "j%d" % i, "source": CODE}) + "\n")
        t0 = time.monotonic()
        p = subprocess.run([runbox, "run", manifest, "-o", os.path.join(d, "out.jsonl"), "-j", str(jobs), "-q"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit("bench: runbox run failed: %s" % p.stderr.decode())
        with open(os.path.join(d, "out.jsonl")) as f:
            ok = sum(1 for line in f if '"status":"ok"' in line)
        if ok != n:
            sys.exit("bench: runbox run: %d of %d jobs ok" % (ok, n))
    return {"rate": n / wall, "jobs": n, "seconds": wall}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runbox", default=os.path.join(ROOT, "build", "runbox"))
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--seconds", type=int, default=10, help="per wrk measurement")
    ap.add_argument("--run-jobs", type=int, default=4000, help="jobs in runbox run's manifest")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--replicas", action="store_true", help="also -j N replicas of -j 1 each")
    args = ap.parse_args()

    serve, serve_port = start_serve(args.runbox, args.jobs)
    replicas = [start_serve(args.runbox, 1) for _ in range(args.jobs if args.replicas else 0)]
    base = subprocess.Popen([PY, os.path.join(HERE, "sf_baseline.py"), "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        base_port = wait_listening(base, r"listening on (\d+)", "baseline")
        check(serve_port, "runbox serve")
        check(base_port, "the baseline")
        wrk(serve_port, 2, args.connections)  # warm-up
        rounds = []
        for i in range(args.rounds):
            r = {"serve": wrk(serve_port, args.seconds, args.connections),
                 "run": runbox_run(args.runbox, args.jobs, args.run_jobs),
                 "baseline": wrk(base_port, args.seconds, args.connections)}
            if replicas:
                r["replicas"] = wrk_many([port for _, port in replicas], args.seconds, args.connections)
            rounds.append(r)
            print("round %d: serve %.1f/s (p50 %.1f ms, p99 %.1f ms), run %.1f/s, baseline %.1f/s "
                  "(p50 %.1f ms, p99 %.1f ms)" % (i + 1, r["serve"]["rate"], r["serve"]["p50_ms"],
                                                 r["serve"]["p99_ms"], r["run"]["rate"], r["baseline"]["rate"],
                                                 r["baseline"]["p50_ms"], r["baseline"]["p99_ms"]), flush=True)
    finally:
        for p, _ in replicas:
            p.terminate()
            p.wait(60)
        serve.terminate()
        base.terminate()
        serve.wait(60)
        base.wait(60)

    def med(k, f):
        return statistics.median(r[k][f] for r in rounds)

    s, run, b = med("serve", "rate"), med("run", "rate"), med("baseline", "rate")
    summary = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"), "jobs": args.jobs, "connections": args.connections,
        "seconds": args.seconds, "rounds": rounds, "code": CODE,
        "serve_rate": s, "run_rate": run, "baseline_rate": b,
        "serve_p50_ms": med("serve", "p50_ms"), "serve_p99_ms": med("serve", "p99_ms"),
        "baseline_p50_ms": med("baseline", "p50_ms"), "baseline_p99_ms": med("baseline", "p99_ms"),
        "serve_vs_run": s / run, "serve_vs_baseline": s / b,
    }
    print()
    print("| approach (-j %d, median of %d rounds) | jobs/s | p50 latency | p99 latency |" % (args.jobs, args.rounds))
    print("| --- | --- | --- | --- |")
    print("| `runbox serve`, POST /run_code, %d connections | %.1f | %.1f ms | %.1f ms |"
          % (args.connections, s, summary["serve_p50_ms"], summary["serve_p99_ms"]))
    print("| `runbox run`, the same jobs in a manifest | %.1f | | |" % run)
    print("| SandboxFusion's method (file + `python3` per request), %d connections | %.1f | %.1f ms | %.1f ms |"
          % (args.connections, b, summary["baseline_p50_ms"], summary["baseline_p99_ms"]))
    if replicas:
        summary["replicas_rate"] = med("replicas", "rate")
        summary["replicas"] = args.jobs
        print("| %d x `runbox serve -j 1`, %d connections each | %.1f | | |"
              % (args.jobs, args.connections // args.jobs, summary["replicas_rate"]))
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "serve-latest.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print()
    print("serve / run: %.2f (target >= 0.80); serve / baseline: %.2fx (target >= 5x)"
          % (summary["serve_vs_run"], summary["serve_vs_baseline"]))


if __name__ == "__main__":
    main()
