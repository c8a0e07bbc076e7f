#!/usr/bin/python3
"""End-to-end tests of sharding and merging (docs/scaling.md): `--shard` in
`runbox run` and `runbox eval`, and `runbox merge`.

Run with Debian's interpreter: /usr/bin/python3 tests/e2e/test_scale.py
Environment: RUNBOX, RUNBOX_DATASETS (see test_eval.py). Everything written
goes to a temporary directory removed at the end (RUNBOX_E2E_KEEP=1 keeps it).
"""
import gzip
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rbtest import (  # noqa: E402
    RUNBOX, SOURCE_ROOT, cleanup_tmp_root, new_tmpdir, run_runbox, write_manifest)

DATASETS = os.path.abspath(os.environ.get("RUNBOX_DATASETS")
                           or os.path.join(SOURCE_ROOT, "data"))
HUMANEVAL = os.path.join(DATASETS, "HumanEval.jsonl.gz")

# Fields that measure the run rather than describe its outcome.
TIMING_KEYS = ("runtime", "cpu_time", "max_rss_kb")
SHARD_ENV = ("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN",
             "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX", "RUNBOX_SHARD_COUNT")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in SHARD_ENV}
    env.update(extra)
    return env


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "surrogateescape")


def lines_of(path):
    text = read_text(path)
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def without_timings(line):
    """A results line with its timing fields removed, keys kept in order."""
    rec = json.loads(line)
    for k in TIMING_KEYS:
        rec.pop(k, None)
    return json.dumps(rec, ensure_ascii=False)


def trivial_jobs(n, prefix="job"):
    return [{"id": "%s-%03d" % (prefix, i), "source": "print(%d * 7)" % i} for i in range(n)]


def ids_in(path):
    return [json.loads(x)["id"] for x in lines_of(path)]


class ShardRunTest(unittest.TestCase):
    """`runbox run --shard`: every job runs in exactly one shard, decided by its id."""

    @classmethod
    def setUpClass(cls):
        cls.dir = new_tmpdir("shard-run")
        cls.jobs = trivial_jobs(48)
        cls.manifest = write_manifest(os.path.join(cls.dir, "m.jsonl"), cls.jobs)
        cls.reversed_manifest = write_manifest(os.path.join(cls.dir, "rev.jsonl"),
                                               list(reversed(cls.jobs)))

    def run_shard(self, manifest, spec, out, env=None, extra=()):
        r = run_runbox(["run", manifest, "-o", out, "-j", "2", "-q", "--shard", spec] + list(extra),
                       env=env or clean_env())
        self.assertEqual(r.returncode, 0, r.describe())
        return ids_in(out)

    def test_every_job_in_exactly_one_shard(self):
        all_ids = sorted(j["id"] for j in self.jobs)
        for n in (1, 3, 4):
            seen = []
            for i in range(n):
                got = self.run_shard(self.manifest, "%d/%d" % (i, n),
                                     os.path.join(self.dir, "r-%d-of-%d.jsonl" % (i, n)))
                seen += got
            self.assertEqual(sorted(seen), all_ids, "N=%d: the shards do not partition the jobs" % n)
        # With 4 shards and 48 jobs, no shard may be empty or take everything.
        sizes = [len(ids_in(os.path.join(self.dir, "r-%d-of-4.jsonl" % i))) for i in range(4)]
        self.assertTrue(all(0 < s < 48 for s in sizes), sizes)

    def test_assignment_does_not_depend_on_manifest_order(self):
        for i in range(3):
            a = self.run_shard(self.manifest, "%d/3" % i, os.path.join(self.dir, "o-%d.jsonl" % i))
            b = self.run_shard(self.reversed_manifest, "%d/3" % i,
                               os.path.join(self.dir, "rev-%d.jsonl" % i))
            self.assertEqual(sorted(a), sorted(b), "shard %d/3 changed with the manifest's order" % i)

    def test_slurm_and_k8s_environments_name_the_same_shards(self):
        want = sorted(self.run_shard(self.manifest, "1/3", os.path.join(self.dir, "e-plain.jsonl")))
        slurm = self.run_shard(self.manifest, "slurm", os.path.join(self.dir, "e-slurm.jsonl"),
                               env=clean_env(SLURM_ARRAY_TASK_ID="1", SLURM_ARRAY_TASK_COUNT="3"))
        self.assertEqual(sorted(slurm), want)
        # An array numbered from 1 (sbatch --array=1-3): task 2 is the second shard.
        slurm1 = self.run_shard(self.manifest, "slurm", os.path.join(self.dir, "e-slurm1.jsonl"),
                                env=clean_env(SLURM_ARRAY_TASK_ID="2", SLURM_ARRAY_TASK_COUNT="3",
                                              SLURM_ARRAY_TASK_MIN="1"))
        self.assertEqual(sorted(slurm1), want)
        # A re-submission of task 1 alone (sbatch --array=1) is an array of one
        # task: slurm:N names the batch's shard count.
        again = self.run_shard(self.manifest, "slurm:3", os.path.join(self.dir, "e-slurm3.jsonl"),
                               env=clean_env(SLURM_ARRAY_TASK_ID="1", SLURM_ARRAY_TASK_COUNT="1",
                                             SLURM_ARRAY_TASK_MIN="1"))
        self.assertEqual(sorted(again), want)
        k8s = self.run_shard(self.manifest, "k8s:3", os.path.join(self.dir, "e-k8s.jsonl"),
                             env=clean_env(JOB_COMPLETION_INDEX="1"))
        self.assertEqual(sorted(k8s), want)
        k8s_env = self.run_shard(self.manifest, "k8s", os.path.join(self.dir, "e-k8s2.jsonl"),
                                 env=clean_env(JOB_COMPLETION_INDEX="1", RUNBOX_SHARD_COUNT="3"))
        self.assertEqual(sorted(k8s_env), want)

    def test_bad_shard_specs_are_usage_errors_naming_the_problem(self):
        cases = [
            ("3/3", clean_env(), "does not exist"),
            ("-1/3", clean_env(), "--shard"),
            ("a/b", clean_env(), "whole numbers"),
            ("1", clean_env(), "--shard"),
            ("slurm", clean_env(), "SLURM_ARRAY_TASK_ID"),
            ("slurm", clean_env(SLURM_ARRAY_TASK_ID="x", SLURM_ARRAY_TASK_COUNT="2"),
             "SLURM_ARRAY_TASK_ID"),
            ("slurm", clean_env(SLURM_ARRAY_TASK_ID="5", SLURM_ARRAY_TASK_COUNT="2"), "does not exist"),
            ("k8s", clean_env(RUNBOX_SHARD_COUNT="2"), "JOB_COMPLETION_INDEX"),
            ("k8s", clean_env(JOB_COMPLETION_INDEX="0"), "RUNBOX_SHARD_COUNT"),
        ]
        for spec, env, words in cases:
            out = os.path.join(self.dir, "bad.jsonl")
            r = run_runbox(["run", self.manifest, "-o", out, "-q", "--overwrite", "--shard", spec],
                           env=env)
            self.assertEqual(r.returncode, 2, "--shard %r: %s" % (spec, r.describe()))
            self.assertIn(words, r.stderr, "--shard %r" % spec)
            self.assertFalse(os.path.exists(out) and os.path.getsize(out),
                             "--shard %r: a usage error must not run jobs" % spec)

    def test_resume_inside_a_shard(self):
        out = os.path.join(self.dir, "resume.jsonl")
        full = self.run_shard(self.manifest, "2/4", out)
        # Keep the first two records and a torn third, as a killed shard leaves them.
        lines = lines_of(out)
        with open(out, "w") as f:
            f.write(lines[0] + "\n" + lines[1] + "\n" + lines[2][:10])
        again = self.run_shard(self.manifest, "2/4", out, extra=["--resume"])
        self.assertEqual(sorted(again), sorted(full))
        self.assertEqual(len(again), len(set(again)), "a job ran twice after --resume")


class MergeRunTest(unittest.TestCase):
    """`runbox merge --manifest`: exactly one record per job, in manifest order."""

    @classmethod
    def setUpClass(cls):
        cls.dir = new_tmpdir("merge-run")
        jobs = trivial_jobs(30)
        # An invalid line (no id) and a duplicate id: merge keys them as run does.
        jobs.insert(5, '{"source": "print(1)", "timeout": "soon"}')
        jobs.insert(9, {"id": "job-001", "source": "print('dup')"})
        cls.manifest = write_manifest(os.path.join(cls.dir, "m.jsonl"), jobs)
        cls.single = os.path.join(cls.dir, "single.jsonl")
        r = run_runbox(["run", cls.manifest, "-o", cls.single, "-j", "2", "-q"], env=clean_env())
        assert r.returncode == 0, r.describe()
        cls.shards = []
        for i in range(3):
            p = os.path.join(cls.dir, "s%d.jsonl" % i)
            r = run_runbox(["run", cls.manifest, "-o", p, "-j", "2", "-q", "--shard", "%d/3" % i],
                           env=clean_env())
            assert r.returncode == 0, r.describe()
            cls.shards.append(p)

    def merge(self, files, out, *extra):
        return run_runbox(["merge"] + list(files) + ["-o", out, "--manifest", self.manifest]
                          + list(extra))

    def assertSameAsSingle(self, out):
        # Records come in manifest order; a single run writes them as jobs end, so
        # compare as sets of lines, and the merged order against the manifest.
        got = [without_timings(x) for x in lines_of(out)]
        want = [without_timings(x) for x in lines_of(self.single)]
        self.assertEqual(sorted(got), sorted(want))
        manifest_ids = []
        for line in lines_of(self.manifest):
            try:
                manifest_ids.append(json.loads(line).get("id"))
            except ValueError:
                manifest_ids.append(None)
        merged_ids = [json.loads(x).get("id") for x in lines_of(out)]
        self.assertEqual(len(merged_ids), len(manifest_ids))
        for m, g in zip(manifest_ids, merged_ids):
            if m is not None and m != "job-001":
                self.assertEqual(m, g, "merged records are not in manifest order")

    def test_complete_merge_equals_a_single_run(self):
        out = os.path.join(self.dir, "merged.jsonl")
        r = self.merge(self.shards, out)
        self.assertEqual(r.returncode, 0, r.describe())
        self.assertSameAsSingle(out)
        self.assertFalse(os.path.exists(out + ".missing.jsonl"))
        self.assertIn("32 of 32", r.stderr)

    def test_missing_shard_file_reports_and_writes_a_rerun_manifest(self):
        out = os.path.join(self.dir, "partial.jsonl")
        gone = os.path.join(self.dir, "never-written.jsonl")
        r = self.merge([self.shards[0], self.shards[1], gone], out)
        self.assertEqual(r.returncode, 1, r.describe())
        self.assertIn("never-written.jsonl", r.stderr)
        self.assertIn("missing", r.stderr)
        missing = out + ".missing.jsonl"
        self.assertTrue(os.path.exists(missing), r.describe())
        # The missing manifest holds exactly shard 2's manifest lines: re-running it
        # and merging again completes the batch.
        expect = sorted(ids_in(self.shards[2]))
        got_ids = []
        for line in lines_of(missing):
            try:
                got_ids.append(json.loads(line).get("id"))
            except ValueError:
                got_ids.append(None)
        self.assertEqual(sorted(i for i in got_ids if i), sorted(i for i in expect if i))
        rerun = os.path.join(self.dir, "rerun.jsonl")
        r2 = run_runbox(["run", missing, "-o", rerun, "-j", "2", "-q"], env=clean_env())
        self.assertEqual(r2.returncode, 0, r2.describe())
        out2 = os.path.join(self.dir, "completed.jsonl")
        r3 = self.merge([self.shards[0], self.shards[1], rerun], out2)
        # (The manifest's id-less invalid lines fall in shards 0 and 1, so every
        # record of the re-run is keyed by an id the merge knows.)
        self.assertEqual(r3.returncode, 0, r3.describe())
        self.assertIn("32 of 32", r3.stderr)
        self.assertSameAsSingle(out2)
        # Merged complete into the first output, the stale missing file goes.
        r4 = self.merge([self.shards[0], self.shards[1], rerun], out)
        self.assertEqual(r4.returncode, 0, r4.describe())
        self.assertFalse(os.path.exists(missing), "a complete merge left %s" % missing)

    def test_duplicated_records_are_reported_and_the_first_kept(self):
        out = os.path.join(self.dir, "dup.jsonl")
        r = self.merge([self.shards[0], self.shards[1], self.shards[2], self.shards[0]], out)
        self.assertEqual(r.returncode, 1, r.describe())
        self.assertIn("second record", r.stderr)
        n0 = len(lines_of(self.shards[0]))
        self.assertIn("duplicated %d" % n0, r.stderr)
        self.assertSameAsSingle(out)

    def test_torn_last_line_counts_as_missing(self):
        torn = os.path.join(self.dir, "torn.jsonl")
        lines = lines_of(self.shards[1])
        with open(torn, "w") as f:
            f.write("\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])
        out = os.path.join(self.dir, "torn-merged.jsonl")
        r = self.merge([self.shards[0], torn, self.shards[2]], out)
        self.assertEqual(r.returncode, 1, r.describe())
        self.assertIn("torn", r.stderr)
        self.assertEqual(len(lines_of(out)), 31)
        self.assertEqual(len(lines_of(out + ".missing.jsonl")), 1)

    def test_records_of_another_batch_are_unexpected(self):
        other = os.path.join(self.dir, "other.jsonl")
        with open(other, "w") as f:
            f.write(json.dumps({"id": "not-in-manifest", "status": "ok"}) + "\n")
        out = os.path.join(self.dir, "other-merged.jsonl")
        r = self.merge(self.shards + [other], out)
        self.assertEqual(r.returncode, 1, r.describe())
        self.assertIn("not in the manifest 1", r.stderr)

    def test_usage_errors(self):
        out = os.path.join(self.dir, "u.jsonl")
        for args, words in [
            (["merge", self.shards[0], "-o", out], "--manifest"),
            (["merge", "-o", out, "--manifest", self.manifest], "no results files"),
            (["merge", self.shards[0], "--manifest", self.manifest], "-o"),
            (["merge", self.shards[0], "-o", out, "--manifest", "/nonexistent/m.jsonl"],
             "/nonexistent/m.jsonl"),
        ]:
            r = run_runbox(args)
            self.assertIn(r.returncode, (1, 2), r.describe())
            self.assertIn(words, r.stderr, r.describe())


@unittest.skipUnless(os.path.isfile(HUMANEVAL), "HumanEval not found at %s" % HUMANEVAL)
class ShardEvalTest(unittest.TestCase):
    """issue 7's done-when: 4 shards of HumanEval canonical plus broken samples,
    merged, give the single run's lines (ignoring timings) and its pass@k."""

    @classmethod
    def setUpClass(cls):
        cls.dir = new_tmpdir("shard-eval")
        samples = []
        with gzip.open(HUMANEVAL, "rt", encoding="utf-8") as f:
            problems = [json.loads(x) for x in f if x.strip()]
        for p in problems:
            body = p["canonical_solution"]
            samples.append({"task_id": p["task_id"], "completion": body})
            samples.append({"task_id": p["task_id"], "completion": "    return None\n"})
        samples.insert(17, "this line is not JSON")
        cls.samples = os.path.join(cls.dir, "samples.jsonl")
        with open(cls.samples, "w") as f:
            for s in samples:
                f.write((s if isinstance(s, str) else json.dumps(s)) + "\n")
        cls.n_lines = len(samples)
        single = os.path.join(cls.dir, "single.jsonl")
        r = run_runbox(["eval", "--problems", HUMANEVAL, "--samples", cls.samples, "-o", single,
                        "-j", "2", "-q", "-k", "1,2"], env=clean_env(), timeout=900)
        assert r.returncode == 0, r.describe()
        cls.single_lines = lines_of(single)
        cls.single_passk = r.stdout.strip().split("\n")[-1]
        cls.shard_runs = []
        for i in range(4):
            r = run_runbox(["eval", "--problems", HUMANEVAL, "--samples", cls.samples, "-j", "2",
                            "-q", "--shard", "%d/4" % i], env=clean_env(), timeout=900)
            assert r.returncode == 0, r.describe()
            cls.shard_runs.append(r)
        cls.shard_files = [cls.samples[:-len(".jsonl")] + ".jsonl_results.shard-%d-of-4.jsonl" % i
                           for i in range(4)]
        if not os.path.exists(cls.shard_files[0]):
            cls.shard_files = [cls.samples + "_results.shard-%d-of-4.jsonl" % i for i in range(4)]

    def test_shard_files_partition_the_samples(self):
        seen = []
        for i, path in enumerate(self.shard_files):
            self.assertTrue(os.path.exists(path), path)
            recs = [json.loads(x) for x in lines_of(path)]
            self.assertTrue(recs, "shard %d graded nothing" % i)
            seen += [r["sample_index"] for r in recs]
            last = json.loads(self.shard_runs[i].stdout.strip().split("\n")[-1])
            self.assertEqual(last["shard"], "%d/4" % i)
            self.assertEqual(last["samples"], len(recs))
            self.assertEqual(last["passed"], sum(1 for r in recs if r.get("passed")))
        self.assertEqual(sorted(seen), list(range(self.n_lines)))

    def test_merged_equals_single_run(self):
        out = os.path.join(self.dir, "merged.jsonl")
        # Shard files in any order give the same merge.
        r = run_runbox(["merge"] + list(reversed(self.shard_files)) +
                       ["-o", out, "--samples", self.samples, "-k", "1,2"])
        self.assertEqual(r.returncode, 0, r.describe())
        got = [without_timings(x) for x in lines_of(out)]
        want = [without_timings(x) for x in self.single_lines]
        self.assertEqual(len(got), len(want))
        for n, (g, w) in enumerate(zip(got, want), 1):
            self.assertEqual(g, w, "merged line %d differs from the single run's" % n)
        self.assertEqual(r.stdout.strip().split("\n")[-1], self.single_passk)
        self.assertEqual(json.loads(self.single_passk)["pass@1"], 0.5)

    def test_a_shard_of_other_completions_does_not_fill_the_gaps(self):
        # Same tasks in the same places, other code: samples regenerated.
        recs = [json.loads(x) for x in lines_of(self.shard_files[2])]
        other = os.path.join(self.dir, "other-completions.jsonl")
        with open(other, "w") as f:
            for rec in recs:
                if isinstance(rec.get("completion"), str):
                    rec["completion"] += "    # another sample\n"
                f.write(json.dumps(rec) + "\n")
        out = os.path.join(self.dir, "other-merged.jsonl")
        r = run_runbox(["merge", self.shard_files[0], self.shard_files[1], other,
                        self.shard_files[3], "-o", out, "--samples", self.samples])
        self.assertEqual(r.returncode, 1, r.describe())
        self.assertIn("not in the samples %d" % len(recs), r.stderr)

    def test_a_finished_shard_resumed_reports_as_a_shard(self):
        r = run_runbox(["eval", "--problems", HUMANEVAL, "--samples", self.samples, "-q",
                        "--shard", "1/4", "--resume"], env=clean_env(), timeout=300)
        self.assertEqual(r.returncode, 0, r.describe())
        last = json.loads(r.stdout.strip().split("\n")[-1])
        self.assertEqual(last["shard"], "1/4", r.stdout)
        self.assertEqual(last["samples"], len(lines_of(self.shard_files[1])))

    def test_passk_command_agrees_with_merge(self):
        out = os.path.join(self.dir, "merged2.jsonl")
        r = run_runbox(["merge"] + self.shard_files + ["-o", out, "--samples", self.samples,
                                                       "-k", "1,2", "-q"])
        self.assertEqual(r.returncode, 0, r.describe())
        p = run_runbox(["passk", out, "-k", "1,2"])
        self.assertEqual(p.returncode, 0, p.describe())
        self.assertEqual(p.stdout.strip().split("\n")[-1], self.single_passk)

    def test_a_shard_of_other_samples_does_not_fill_the_gaps(self):
        # Records carry their sample's place and task: a shard of a different
        # samples file (same size, tasks shuffled) must not be merged in.
        recs = [json.loads(x) for x in lines_of(self.shard_files[3])]
        forged = os.path.join(self.dir, "forged.jsonl")
        with open(forged, "w") as f:
            for rec in recs:
                if isinstance(rec.get("task_id"), str):
                    rec["task_id"] = "HumanEval/163" if rec["task_id"] != "HumanEval/163" else "HumanEval/0"
                f.write(json.dumps(rec) + "\n")
        out = os.path.join(self.dir, "forged-merged.jsonl")
        r = run_runbox(["merge"] + self.shard_files[:3] + [forged, "-o", out,
                                                            "--samples", self.samples])
        self.assertEqual(r.returncode, 1, r.describe())
        self.assertIn("missing", r.stderr)


def tearDownModule():
    cleanup_tmp_root()


if __name__ == "__main__":
    if not os.access(RUNBOX, os.X_OK):
        sys.stderr.write("FAIL: runbox binary not found at %s (set RUNBOX or build first)\n" % RUNBOX)
        sys.exit(1)
    if not os.path.isfile(HUMANEVAL):
        sys.stderr.write("FAIL: HumanEval not found at %s (set RUNBOX_DATASETS)\n" % HUMANEVAL)
        sys.exit(1)
    t0 = time.monotonic()
    prog = unittest.main(verbosity=2, exit=False)
    sys.stderr.write("scale e2e suite: %d tests, %.1f s\n" % (prog.result.testsRun,
                                                               time.monotonic() - t0))
    sys.exit(0 if prog.result.wasSuccessful() else 1)
