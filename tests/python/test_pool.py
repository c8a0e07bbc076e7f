"""runbox.Pool: futures, map, run, asyncio, cancellation, threads, closing."""

import asyncio
import concurrent.futures
import os
import threading
import time

import pytest

import runbox

SLEEP = "import time; time.sleep(30)"


def test_submit_returns_a_future_of_the_result(pool):
    future = pool.submit({"source": "print(6 * 7)"})
    assert isinstance(future, concurrent.futures.Future)
    r = future.result(timeout=30)
    assert isinstance(r, runbox.Result)
    assert (r.id, r.status, r.stdout) == ("job-" + r.id[4:], "ok", "42\n")


def test_a_job_object_works_like_a_dict(pool):
    r = pool.submit(runbox.Job(id="j", source="print(input()[::-1])", stdin="abc\n")).result()
    assert (r.id, r.stdout) == ("j", "cba\n")


def test_futures_work_with_concurrent_futures_helpers(pool):
    futures = [pool.submit({"id": str(i), "source": f"print({i})"}) for i in range(6)]
    done = {f.result().id for f in concurrent.futures.as_completed(futures, timeout=60)}
    assert done == {str(i) for i in range(6)}
    concurrent.futures.wait(futures)
    assert all(f.done() and not f.cancelled() for f in futures)


def test_map_keeps_the_order(pool):
    out = [r.stdout for r in pool.map({"source": f"import time; time.sleep({0.05 * (5 - i)}); print({i})"}
                                      for i in range(6))]
    assert out == [f"{i}\n" for i in range(6)]


def test_map_timeout_raises_and_cancels():
    with runbox.Pool(workers=1) as p:
        it = p.map([{"source": SLEEP}, {"source": SLEEP}], timeout=0.5)
        with pytest.raises(concurrent.futures.TimeoutError):
            next(it)
        # Both sleepers were cancelled: a new job starts at once.
        assert p.submit({"source": "print(1)", "timeout": 5}).result(timeout=10).stdout == "1\n"


def test_run_yields_as_jobs_finish(pool):
    jobs = [{"id": "slow", "source": "import time; time.sleep(1)"}, {"id": "fast", "source": "pass"}]
    assert [r.id for r in pool.run(jobs)] == ["fast", "slow"]


def test_cancel_a_running_job_kills_it():
    with runbox.Pool(workers=1) as p:
        sleeper = p.submit({"source": SLEEP})
        time.sleep(0.3)
        assert sleeper.cancel()
        assert sleeper.cancelled()
        with pytest.raises(concurrent.futures.CancelledError):
            sleeper.result()
        # The only slot is free again at once.
        start = time.monotonic()
        assert p.submit({"source": "print('next')"}).result(timeout=10).stdout == "next\n"
        assert time.monotonic() - start < 5


def test_cancel_a_queued_job():
    with runbox.Pool(workers=1) as p:
        first = p.submit({"source": "import time; time.sleep(0.5); print('first')"})
        queued = p.submit({"source": "print('never')"})
        assert queued.cancel()
        assert first.result(timeout=30).stdout == "first\n"
        assert queued.cancelled()


def test_a_finished_job_cannot_be_cancelled(pool):
    f = pool.submit({"source": "pass"})
    f.result()
    assert not f.cancel()


def test_asyncio_run_async(pool):
    async def main():
        results = await asyncio.gather(*(pool.run_async({"source": f"print({i} * 2)"})
                                         for i in range(4)))
        return [r.stdout for r in results]

    assert asyncio.run(main()) == ["0\n", "2\n", "4\n", "6\n"]


def test_asyncio_cancel_kills_the_job():
    async def main(p):
        task = asyncio.ensure_future(p.run_async({"source": SLEEP}))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await asyncio.wait_for(p.run_async({"source": "print('after')"}), 10)

    with runbox.Pool(workers=1) as p:
        assert asyncio.run(main(p)).stdout == "after\n"


def test_asyncio_timeout():
    async def main(p):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(p.run_async({"source": SLEEP}), 0.3)
        return await asyncio.wait_for(p.run_async({"source": "print('free')"}), 10)

    with runbox.Pool(workers=1) as p:
        assert asyncio.run(main(p)).stdout == "free\n"


def test_eight_threads_share_one_pool():
    errors = []
    per_thread = 25
    results = {}
    barrier = threading.Barrier(8)

    def worker(t):
        try:
            barrier.wait()
            futures = [p.submit({"id": f"{t}-{i}", "source": f"print({t} * 1000 + {i})"})
                       for i in range(per_thread)]
            for f in futures:
                r = f.result(timeout=120)
                results[r.id] = r.stdout
            out = list(p.map({"source": f"print({t})"} for _ in range(5)))
            assert all(r.stdout == f"{t}\n" for r in out)
        except BaseException as exc:  # reported below
            errors.append(exc)

    with runbox.Pool(workers=2) as p:
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert not errors, errors
    assert len(results) == 8 * per_thread
    assert all(results[f"{t}-{i}"] == f"{t * 1000 + i}\n" for t in range(8) for i in range(per_thread))


def test_close_cancels_pending_futures_and_refuses_new_jobs():
    p = runbox.Pool(workers=1)
    running = p.submit({"source": SLEEP})
    queued = p.submit({"source": SLEEP})
    time.sleep(0.3)
    start = time.monotonic()
    p.close()
    assert time.monotonic() - start < 10
    assert running.cancelled() and queued.cancelled()
    assert p.closed
    with pytest.raises(runbox.EngineError, match="closed"):
        p.submit({"source": "pass"})
    p.close()  # again: nothing


def test_with_block_waits_for_submitted_jobs():
    with runbox.Pool(workers=2) as p:
        futures = [p.submit({"source": f"import time; time.sleep(0.2); print({i})"}) for i in range(4)]
    assert [f.result(timeout=0).stdout for f in futures] == [f"{i}\n" for i in range(4)]


def test_with_block_left_by_an_exception_kills_the_jobs():
    with pytest.raises(RuntimeError):
        with runbox.Pool(workers=1) as p:
            sleeper = p.submit({"source": SLEEP})
            raise RuntimeError("stop")
    assert sleeper.cancelled()


def test_shutdown_without_waiting_cancels():
    p = runbox.Pool(workers=1)
    f = p.submit({"source": SLEEP})
    p.shutdown(cancel_futures=True)
    assert f.cancelled()


def test_layers_and_repr(pool):
    layers = pool.layers()
    assert layers["seccomp"] is True
    assert layers["python"].startswith(runbox.interpreter().version)
    assert "runbox.Pool" in repr(pool) and pool.workers == 2


def test_bad_pool_arguments():
    with pytest.raises(ValueError, match="workers"):
        runbox.Pool(workers=0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'timout'"):
        runbox.Pool(timout=1)
    with pytest.raises(TypeError, match="defaults: field 'timeout' must be a number"):
        runbox.Pool(timeout="1")
    with pytest.raises(runbox.EngineError):
        runbox.Pool(workdir="/nonexistent/runbox-test")


def test_default_pool_is_shared():
    assert runbox.default_pool() is runbox.default_pool()


def test_a_forked_child_makes_its_own_pool(pool):
    assert pool.submit({"source": "pass"}).result().status == "ok"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's pool is not usable, a new one is
        try:
            os.close(read)
            try:
                pool.submit({"source": "pass"})
                msg = b"parent pool usable"
            except runbox.EngineError:
                with runbox.Pool(workers=1) as own:
                    msg = own.submit({"source": "print('child')"}).result().stdout.encode()
            os.write(write, msg)
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        msg = f.read()
    os.waitpid(pid, 0)
    assert msg == b"child\n"
    assert pool.submit({"source": "print('parent')"}).result().stdout == "parent\n"


def test_runs_and_futures_at_once_each_get_their_own(pool):
    out = {}

    def consume(tag):
        out[tag] = sorted(r.stdout for r in pool.run({"source": f"print('{tag}', {i})"} for i in range(30)))

    threads = [threading.Thread(target=consume, args=(tag,)) for tag in "ab"]
    futures = [pool.submit({"source": f"print('f', {i})"}) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out["a"] == sorted(f"a {i}\n" for i in range(30))
    assert out["b"] == sorted(f"b {i}\n" for i in range(30))
    assert sorted(f.result().stdout for f in futures) == sorted(f"f {i}\n" for i in range(30))


def test_a_run_on_a_closed_pool_raises():
    p = runbox.Pool(workers=1)
    it = p.run({"source": "import time; time.sleep(30)"} for _ in range(3))
    threading.Timer(0.5, p.close).start()
    with pytest.raises(runbox.EngineError, match="closed"):
        next(it)
