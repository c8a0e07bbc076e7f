"""Jobs: what a job may hold, and how it becomes a manifest line.

A job is a dict with the manifest's fields (docs/manifest.md), or a
:class:`Job`. Either is turned into one line of JSON and handed to the
manifest parser that ``runbox run`` uses, so every field works as it does
there and a wrong field gets the manifest's own message.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import _runbox

__all__ = ["Job", "JobError", "JobTypeError", "JobLike", "FIELDS"]

#: Every field a manifest line may have: the manifest parser's own list.
FIELDS: Tuple[str, ...] = tuple(_runbox.MANIFEST_FIELDS)


class JobError(ValueError):
    """A job the manifest refuses: the message names the job and the field.

    ``job_id`` is the job's id and ``field`` the field at fault (None when the
    problem is the job as a whole).
    """

    def __init__(self, message: str, job_id: Optional[str] = None, field: Optional[str] = None):
        super().__init__(message)
        self.job_id = job_id
        self.field = field


class JobTypeError(JobError, TypeError):
    """A job field of the wrong type, or one that is not a manifest field,
    or a value that cannot be sent to a job (not JSON)."""


@dataclasses.dataclass
class Job:
    """One job, with the manifest's fields as attributes (docs/manifest.md).

    A field left at None is left out of the job, so the manifest's default
    applies. A plain dict with the same keys works everywhere a Job does.

    >>> import runbox
    >>> job = runbox.Job(id="hello", source="print('hello', input())", stdin="world\\n")
    >>> job.to_dict()
    {'id': 'hello', 'source': "print('hello', input())", 'stdin': 'world\\n'}
    >>> runbox.Job(source="print(1)", timeout="soon").validate()
    Traceback (most recent call last):
    ...
    runbox.JobTypeError: job '<unnamed>': field 'timeout' must be a number of seconds, not a string
    """

    id: Optional[str] = None
    source: Optional[str] = None
    file: Optional[Union[str, "os.PathLike[str]"]] = None
    module: Optional[str] = None
    path: Optional[str] = None
    argv: Optional[List[str]] = None
    stdin: Optional[str] = None
    timeout: Optional[float] = None
    cpu_time: Optional[float] = None
    memory_mb: Optional[int] = None
    output_limit_kb: Optional[int] = None
    package: Optional[str] = None
    python_path: Optional[List[str]] = None
    globals: Optional[Dict[str, Any]] = None
    capture: Optional[List[str]] = None
    files: Optional[Dict[str, str]] = None
    tracked_files: Optional[List[str]] = None
    num_times: Optional[int] = None
    commands: Optional[List[Dict[str, Any]]] = None
    cases: Optional[List[Dict[str, str]]] = None
    compare: Optional[str] = None
    float_tolerance: Optional[float] = None
    early_stop: Optional[bool] = None
    calls: Optional[List[Dict[str, Any]]] = None
    entry_point: Optional[str] = None
    entry_class: Optional[str] = None
    all_tests: Optional[bool] = None
    atol: Optional[float] = None
    rtol: Optional[float] = None

    def to_dict(self) -> Dict[str, Any]:
        """The fields that are set, as a manifest line's dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) is not None}

    def validate(self) -> None:
        """Checks the job as the manifest parser would, without running it.

        Raises :class:`JobError` (a ValueError) or :class:`JobTypeError` (also
        a TypeError) naming the field.
        """
        d = self.to_dict()
        d.setdefault("id", "<unnamed>")
        check(d, d["id"])


JobLike = Union[Job, Mapping[str, Any]]

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                            default=lambda o: _json_default(o))


def _json_default(value: Any) -> Any:
    # Paths are the one common non-JSON type a job holds ('file', 'python_path').
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def as_dict(job: JobLike, where: str) -> Dict[str, Any]:
    """The job's fields as a new dict; `where` names it in an error."""
    if isinstance(job, Job):
        return job.to_dict()
    if isinstance(job, Mapping):
        return dict(job)
    raise TypeError(f"{where} must be a dict of manifest fields or a runbox.Job, "
                    f"not {type(job).__name__}")


def encode(fields: Dict[str, Any], job_id: str) -> bytes:
    """One manifest line (UTF-8 JSON) for a job's fields.

    A value that cannot be sent to a job (not JSON, a float that is not
    finite, text that is not valid Unicode) raises JobTypeError naming it.
    """
    try:
        return _encoder.encode(fields).encode("utf-8")
    except (TypeError, ValueError, UnicodeError, RecursionError) as exc:
        raise _unsendable(fields, job_id, exc) from None


def _unsendable(fields: Dict[str, Any], job_id: str, exc: BaseException) -> JobTypeError:
    for key, value in fields.items():
        if not isinstance(key, str):
            return JobTypeError(f"job {job_id!r}: field names must be strings, not {key!r}",
                                job_id, None)
        try:
            _encoder.encode(value).encode("utf-8")
        except (TypeError, ValueError, UnicodeError, RecursionError) as inner:
            return JobTypeError(f"job {job_id!r}: field {key!r} cannot be sent to a job: {inner}",
                                job_id, key)
    return JobTypeError(f"job {job_id!r} cannot be sent to a job: {exc}", job_id, None)


_TYPE_NAMES = ("a string", "a number", "a boolean", "null", "an array", "an object",
               "something else")


def refused(job_id: str, message: str) -> JobError:
    """The exception for a line the manifest parser refused with `message`."""
    field = None
    start = message.find("field '")
    if start >= 0:
        end = message.find("'", start + 7)
        if end > start:
            field = message[start + 7:end]
    wrong_type = message.startswith("unknown field") or (
        ", not " in message and message.rsplit(", not ", 1)[1] in _TYPE_NAMES)
    cls = JobTypeError if wrong_type else JobError
    return cls(f"job {job_id!r}: {message}", job_id, field)


def check(fields: Dict[str, Any], job_id: str) -> None:
    """Raises what the manifest parser says about `fields`, if anything."""
    line = encode(fields, job_id)
    try:
        _runbox.check(line, os.getcwd())
    except ValueError as exc:
        raise refused(job_id, str(exc)) from None
