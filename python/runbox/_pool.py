"""The pool: jobs in, results out, through runbox's C engine.

A Pool owns one engine (the extension module's Engine: a batch of the C
engine driven by a thread of its own, without the GIL) and one dispatcher
thread, which waits for records with the GIL released and hands each to its
job's future. Pool.run takes its records itself, on a channel of its own.
Everything here is thread-safe.
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import itertools
import json
import os
import sys
import threading
import time
import weakref
from concurrent.futures import CancelledError, Future
from typing import Any, Callable, Dict, Iterable, Iterator, Optional, Set, Union

from . import _jobs, _runbox
from ._jobs import JobLike
from ._results import Result

__all__ = ["Pool", "run", "default_pool", "EngineError"]

EngineError = _runbox.EngineError

_BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")


def binary(name: str) -> str:
    """The path of one of the binaries installed with the package."""
    return os.path.join(_BIN, name)


#: The options a Pool takes besides job defaults.
POOL_OPTIONS = frozenset({"preload", "python_path", "workdir", "landlock", "namespaces", "verbose"})


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class _FutureSink:
    """Delivers a record to a concurrent.futures.Future."""

    __slots__ = ("future",)

    def __init__(self, future: "Future[Result]"):
        self.future = future

    def deliver(self, seq: int, text: bytes) -> None:
        if self.future.set_running_or_notify_cancel():
            self.future.set_result(Result(json.loads(text)))

    def fail(self, seq: int, exc: BaseException) -> None:
        if self.future.set_running_or_notify_cancel():
            self.future.set_exception(exc)

    def cancel(self) -> None:
        self.future.cancel()


_live_pools: "weakref.WeakSet[Pool]" = weakref.WeakSet()


class Pool:
    """Sandboxed jobs in flight, each in a process of its own forked from a
    warm interpreter; results as futures.

    ``workers`` is how many jobs run at once (default: one per CPU). The
    other keywords are either pool options (``preload``, ``python_path``,
    ``workdir``, ``landlock``, ``namespaces``, ``verbose``) or defaults for
    the jobs' manifest fields (``timeout=2``, ``memory_mb=256``, ...), which
    a job's own fields override. Defaults are checked here, as a job's fields
    would be.

    Closing the pool (``close()``, leaving a ``with`` block on an exception,
    Ctrl-C, the interpreter exiting) ends every job: queued ones never start,
    running ones are killed, and no process is left behind. Leaving a
    ``with`` block normally first waits for the jobs submitted, as
    ``concurrent.futures`` executors do.

    >>> import runbox
    >>> with runbox.Pool(workers=2, timeout=5) as pool:
    ...     future = pool.submit({"source": "print(6 * 7)"})
    ...     print(future.result().stdout, end="")
    ...     print([r.stdout for r in pool.map([{"source": f"print({i})"} for i in range(3)])])
    42
    ['0\\n', '1\\n', '2\\n']
    """

    def __init__(self, workers: Optional[int] = None, *,
                 preload: Union[str, Iterable[str], None] = None,
                 python_path: Iterable[Union[str, "os.PathLike[str]"]] = (),
                 workdir: Union[str, "os.PathLike[str]", None] = None,
                 landlock: bool = True,
                 namespaces: bool = True,
                 verbose: bool = False,
                 **defaults: Any):
        if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool)
                                    or not 1 <= workers <= 4096):
            raise ValueError(f"workers must be a whole number from 1 to 4096, not {workers!r}")
        self._defaults = _check_defaults(defaults)
        if preload is not None and not isinstance(preload, str):
            preload = ",".join(preload)
        paths = [os.path.abspath(os.fspath(p)) for p in python_path]
        self._workers = workers or _cpu_count()
        self._window = max(64, 8 * self._workers)
        self._lock = threading.Lock()
        self._sinks: Dict[int, Any] = {}
        self._counter = itertools.count()
        self._closed = False
        self._engine = _runbox.Engine(
            workers=workers or 0, zygote=binary("runbox-zygote"),
            workdir=os.fspath(workdir) if workdir is not None else None,
            preload=preload, python_path=paths, landlock=landlock, namespaces=namespaces,
            verbose=verbose)
        self._dispatcher = threading.Thread(target=self._dispatch, name="runbox-dispatcher",
                                            daemon=True)
        self._dispatcher.start()
        _live_pools.add(self)

    # ---- the context manager and closing ---------------------------------

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.shutdown(wait=True)
        else:
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._sinks)} pending"
        return f"<runbox.Pool workers={self._workers} {state}>"

    @property
    def workers(self) -> int:
        """How many jobs run at once."""
        return self._workers

    @property
    def closed(self) -> bool:
        """True once the pool is closed (or its engine stopped)."""
        return self._closed or self._engine.closed

    def close(self) -> None:
        """Ends every job now: queued ones never start, running ones are
        killed, their futures are cancelled. Waits until the jobs' processes
        and the working dirs are gone. Calling it again does nothing."""
        with self._lock:
            already = self._closed
            self._closed = True
            sinks = list(self._sinks.values())
        if not already:
            for sink in sinks:
                sink.cancel()
        self._engine.close()
        # Not from the dispatcher itself (a done-callback closing the pool),
        # nor while the interpreter finalizes, when daemon threads never run again.
        if threading.current_thread() is not self._dispatcher and not sys.is_finalizing():
            self._dispatcher.join()
        _live_pools.discard(self)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """As ``Executor.shutdown``: with ``wait`` (and without
        ``cancel_futures``), waits for every job submitted, then closes."""
        if wait and not cancel_futures:
            while True:
                with self._lock:
                    futures = [s.future for s in self._sinks.values() if isinstance(s, _FutureSink)]
                if not futures:
                    break
                for f in futures:
                    try:
                        f.exception()
                    except CancelledError:
                        pass
        self.close()

    # ---- submitting ------------------------------------------------------

    def _submit(self, job: JobLike, default_id: str, sink: Any, channel: int = 0) -> int:
        fields = _jobs.as_dict(job, f"job {default_id}")
        if self._defaults:
            fields = {**self._defaults, **fields}
        job_id = fields.get("id")
        if job_id is None:
            job_id = fields["id"] = default_id
        line = _jobs.encode(fields, str(job_id))
        # Relative paths ('file', 'python_path') are taken from the current
        # directory, as of now; other jobs need none (a system call saved).
        cwd = os.getcwd() if "file" in fields or "python_path" in fields else ""
        with self._lock:
            if self._closed:
                raise EngineError("the pool is closed")
            try:
                seq = self._engine.submit(line, cwd, channel)
            except ValueError as exc:
                raise _jobs.refused(str(job_id), str(exc)) from None
            if sink is not None:
                self._sinks[seq] = sink
        return seq

    def _cancel(self, seqs: Iterable[int]) -> None:
        seqs = list(seqs)
        with self._lock:
            for seq in seqs:
                self._sinks.pop(seq, None)
        if seqs and not self._engine.closed:
            self._engine.cancel(seqs)

    def submit(self, job: JobLike) -> "Future[Result]":
        """Starts one job (or queues it) and returns a Future of its Result.

        The job is a dict of manifest fields or a :class:`runbox.Job`; one
        without an ``id`` gets ``job-N``. A wrong field raises
        :class:`runbox.JobError` (a ValueError) or :class:`runbox.JobTypeError`
        (also a TypeError) here, naming the job and the field.

        ``future.cancel()`` works while the job is queued *or running*: a
        running job is killed. A job that fails (an exception, a timeout...)
        is still a result: read its ``status``.
        """
        future: "Future[Result]" = Future()
        seq = self._submit(job, f"job-{next(self._counter)}", _FutureSink(future))
        future.add_done_callback(lambda f, seq=seq: f.cancelled() and self._cancel((seq,)))
        return future

    def map(self, jobs: Iterable[JobLike], *, timeout: Optional[float] = None) -> Iterator[Result]:
        """Runs the jobs and yields their results in the order of ``jobs``,
        as ``Executor.map`` does (``timeout`` is for the whole iteration).

        Jobs are submitted as the pool has room for them, so ``jobs`` may be
        a long generator. A job without an ``id`` gets its position.
        Stopping the iteration early cancels the jobs not yet yielded.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pending: "collections.deque[Future[Result]]" = collections.deque()
        source = enumerate(jobs)
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < self._window:
                    try:
                        index, job = next(source)
                    except StopIteration:
                        exhausted = True
                        break
                    future: "Future[Result]" = Future()
                    seq = self._submit(job, str(index), _FutureSink(future))
                    future.add_done_callback(
                        lambda f, seq=seq: f.cancelled() and self._cancel((seq,)))
                    pending.append(future)
                if not pending:
                    return
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                first = pending.popleft()
                try:
                    result = first.result(left)
                except BaseException:
                    first.cancel()
                    raise
                yield result
        finally:
            for future in pending:
                future.cancel()

    def run(self, jobs: Iterable[JobLike]) -> Iterator[Result]:
        """Runs the jobs and yields each result as it finishes.

        Jobs are submitted as the pool has room for them, so ``jobs`` may be
        a long generator. A job without an ``id`` gets its position in
        ``jobs``, as a string. Stopping the iteration early (``break``, an
        exception, Ctrl-C) cancels the jobs not yet yielded.
        """
        # The records come on a channel of this run's own, taken here, in
        # the consumer's thread: no other thread between the engine and it.
        engine = self._engine
        channel = engine.open_channel()
        outstanding: Set[int] = set()
        source = enumerate(jobs)
        exhausted = False

        def fill() -> None:
            nonlocal exhausted
            while not exhausted and len(outstanding) < self._window:
                try:
                    index, job = next(source)
                except StopIteration:
                    exhausted = True
                    return
                outstanding.add(self._submit(job, str(index), None, channel))

        try:
            fill()
            while outstanding:
                batch = engine.take(None, channel)
                if batch is None:
                    why = engine.error
                    raise EngineError(f"the pool stopped: {why}" if why else "the pool is closed")
                for seq, text in batch:
                    outstanding.discard(seq)
                    fill()
                    yield Result(json.loads(text))
        finally:
            if outstanding:
                self._cancel(outstanding)
            engine.close_channel(channel)

    async def run_async(self, job: JobLike) -> Result:
        """Runs one job and returns its Result, for asyncio.

        >>> import asyncio, runbox
        >>> async def main():
        ...     with runbox.Pool(workers=2) as pool:
        ...         rs = await asyncio.gather(*(pool.run_async({"source": f"print({i} * 2)"})
        ...                                     for i in range(3)))
        ...     return [r.stdout for r in rs]
        >>> asyncio.run(main())
        ['0\\n', '2\\n', '4\\n']

        Cancelling the awaiting task kills the job.
        """
        return await asyncio.wrap_future(self.submit(job))

    def layers(self) -> Dict[str, Any]:
        """The sandbox layers this pool's jobs run under (as ``runbox
        doctor`` reports them) and the interpreter's version."""
        return self._engine.layers()

    # ---- the dispatcher thread -------------------------------------------

    def _dispatch(self) -> None:
        take = self._engine.take
        while True:
            batch = take(None, 0, False)
            if batch is None:
                break
            with self._lock:
                sinks = [(seq, text, self._sinks.pop(seq, None)) for seq, text in batch]
            for seq, text, sink in sinks:
                if sink is not None:
                    try:
                        sink.deliver(seq, text)
                    except Exception:  # a done-callback's fault must not stop delivery
                        pass
        # The engine stopped: whatever is left never gets a record.
        with self._lock:
            rest = list(self._sinks.items())
            self._sinks.clear()
        why = self._engine.error
        exc = EngineError(f"the pool stopped: {why}" if why else "the pool is closed")
        for seq, sink in rest:
            sink.fail(seq, exc)


def _check_defaults(defaults: Dict[str, Any]) -> Dict[str, Any]:
    """Job defaults, checked as a job's fields would be."""
    if not defaults:
        return {}
    for key in defaults:
        if key not in _jobs.FIELDS:
            raise TypeError(f"unexpected keyword argument {key!r}: neither a pool option "
                            f"({', '.join(sorted(POOL_OPTIONS))}) nor a manifest field")
    if "id" in defaults:
        raise TypeError("'id' cannot be a default: each job has its own")
    probe = dict(defaults, id="defaults")
    if not {"source", "file", "module"} & probe.keys():
        probe["source"] = ""
    try:
        _jobs.check(probe, "defaults")
    except _jobs.JobError as exc:
        message = str(exc).replace("job 'defaults': ", "defaults: ", 1)
        raise type(exc)(message, None, exc.field) from None
    return dict(defaults)


# ---- the default pool, and the interpreter's end ----------------------------

_default_pool: Optional[Pool] = None
_default_lock = threading.Lock()


def default_pool() -> Pool:
    """The pool that functions use when given none: one per process, made on
    first use, with a worker per CPU, closed when the interpreter exits."""
    global _default_pool
    with _default_lock:
        if _default_pool is None or _default_pool.closed:
            _default_pool = Pool()
        return _default_pool


def run(jobs: Iterable[JobLike], workers: Optional[int] = None, **defaults: Any) -> Iterator[Result]:
    """Runs the jobs, each in its own sandboxed process, and yields each
    :class:`Result` as it finishes.

    ``jobs`` are dicts with the manifest's fields (docs/manifest.md) or
    :class:`runbox.Job` objects; a job without an ``id`` gets its position
    in ``jobs``. ``workers`` jobs run at once (default: one per CPU).
    ``defaults`` are fields for every job (``timeout=2``...), which a job's
    own fields override, or pool options (``preload``, ``python_path``...).
    A ``pool=`` keyword runs the jobs on that pool instead of a new one.

    >>> import runbox
    >>> jobs = [{"id": "ok", "source": "print('hi')"},
    ...         {"id": "boom", "source": "1/0"},
    ...         {"id": "slow", "source": "while True: pass", "timeout": 0.5}]
    >>> for r in sorted(runbox.run(jobs, workers=2), key=lambda r: r.id):
    ...     print(r.id, r.status, r.error)
    boom error ZeroDivisionError: division by zero
    ok ok None
    slow timeout wall time limit of 0.5 s exceeded

    Stopping the iteration early (``break``, an exception, Ctrl-C) ends the
    jobs not yet yielded.
    """
    pool = defaults.pop("pool", None)
    if pool is not None:
        if workers is not None or POOL_OPTIONS & defaults.keys():
            raise TypeError("give workers and pool options to the Pool, not with pool=")
        return _run_on(lambda: pool, jobs, _check_defaults(defaults), close=False)
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool)
                                or not 1 <= workers <= 4096):
        raise ValueError(f"workers must be a whole number from 1 to 4096, not {workers!r}")
    options = {k: defaults.pop(k) for k in list(defaults) if k in POOL_OPTIONS}
    checked = _check_defaults(defaults)  # wrong fields are refused now, not at the first result
    return _run_on(lambda: Pool(workers, **options, **checked), jobs, {}, close=True)


def _run_on(make_pool: Callable[[], Pool], jobs: Iterable[JobLike], defaults: Dict[str, Any],
            close: bool) -> Iterator[Result]:
    # The pool is made on the first next(): a run() never iterated starts nothing.
    pool = make_pool()
    if defaults:
        jobs = ({**defaults, **_jobs.as_dict(job, f"job {i}")} for i, job in enumerate(jobs))
    try:
        yield from pool.run(jobs)
    finally:
        if close:
            pool.close()


@atexit.register
def _close_all_pools() -> None:
    for pool in list(_live_pools):
        pool.close()


def _forget_pools_after_fork() -> None:
    # A forked child has copies of the pools but not their threads; their
    # zygotes are the parent's. It forgets them (never closing them, which
    # would talk to the parent's zygote) and makes pools of its own.
    global _default_pool, _default_lock
    for pool in list(_live_pools):
        pool._closed = True
        pool._lock = threading.Lock()  # the parent's may have been held at the fork
    _live_pools.clear()
    _default_pool = None
    _default_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools_after_fork)
