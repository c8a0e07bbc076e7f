"""runbox.run: jobs in, results out as they finish."""

import itertools

import pytest

import runbox


def test_yields_every_result_with_its_record():
    jobs = [{"id": "ok", "source": "print('hi')"},
            {"id": "boom", "source": "1/0"},
            {"id": "slow", "source": "while True: pass", "timeout": 0.5}]
    got = {r.id: r for r in runbox.run(jobs, workers=2)}
    assert set(got) == {"ok", "boom", "slow"}
    assert (got["ok"].status, got["ok"].stdout, got["ok"]["return_code"]) == ("ok", "hi\n", 0)
    assert got["boom"].status == "error"
    assert got["boom"].error == "ZeroDivisionError: division by zero"
    assert "Traceback" in got["boom"].error_detail
    assert got["slow"].status == "timeout" and got["slow"].timed_out


def test_every_record_field_is_there():
    (r,) = runbox.run([{"id": "a", "source": "print(1)"}], workers=1)
    assert list(r)[:16] == ["id", "status", "return_code", "timed_out", "runtime", "cpu_time",
                            "max_rss_kb", "stdout", "stdout_truncated", "stderr",
                            "stderr_truncated", "error", "error_detail", "doc", "signal",
                            "had_unexpected_error"]


def test_jobs_without_id_get_their_position():
    ids = sorted(r.id for r in runbox.run([{"source": "pass"}] * 3, workers=2))
    assert ids == ["0", "1", "2"]


def test_defaults_apply_and_job_fields_win():
    jobs = [{"id": "default", "source": "import sys; print(sys.argv[1:])"},
            {"id": "own", "source": "import sys; print(sys.argv[1:])", "argv": ["mine"]}]
    got = {r.id: r.stdout for r in runbox.run(jobs, workers=2, argv=["shared"])}
    assert got == {"default": "['shared']\n", "own": "['mine']\n"}


def test_a_long_generator_is_consumed_as_results_come():
    made = itertools.count()

    def jobs():
        for i in range(300):
            next(made)
            yield {"source": f"print({i})"}

    seen = 0
    for r in runbox.run(jobs(), workers=2):
        assert r.status == "ok"
        seen += 1
    assert seen == 300 and next(made) == 300


def test_stopping_early_cancels_the_rest():
    pool = runbox.Pool(workers=2)
    try:
        it = runbox.run(({"source": "import time; time.sleep(30)"} for _ in range(10)), pool=pool)
        fast = runbox.run([{"source": "print('x')"}], pool=pool)
        assert next(fast).stdout == "x\n"
        it.close()  # never started: nothing submitted
        it = runbox.run([{"id": "quick", "source": "pass"}] +
                        [{"source": "import time; time.sleep(30)"} for _ in range(5)], pool=pool)
        assert next(it).id == "quick"
        it.close()  # five sleepers cancelled, so the next job starts at once
        (r,) = runbox.run([{"source": "print('free')"}], pool=pool, timeout=5)
        assert r.stdout == "free\n"
    finally:
        pool.close()


def test_pool_keyword_runs_on_that_pool(pool):
    (r,) = runbox.run([{"source": "print(2)"}], pool=pool)
    assert r.stdout == "2\n"
    with pytest.raises(TypeError):
        runbox.run([], pool=pool, workers=3)


def test_bad_defaults_are_refused_at_the_call():
    with pytest.raises(TypeError, match="timout"):
        runbox.run([], timout=3)
    with pytest.raises(ValueError, match="defaults: field 'memory_mb' must be between"):
        runbox.run([], memory_mb=0)
    with pytest.raises(ValueError, match="workers"):
        runbox.run([], workers=0)


def test_pool_options_pass_through():
    probe = [{"source": "import sys; print('fractions' in sys.modules, 'wave' in sys.modules)"}]
    (r,) = runbox.run(probe, workers=1, preload="wave")
    assert r.stdout == "False True\n"
