"""Results: one job's record as a Python object."""

from __future__ import annotations

import copy
from typing import Any, Dict, Iterator, List, Mapping, Optional

__all__ = ["Result", "Opaque", "namespace_values"]


class Result(Mapping[str, Any]):
    """What happened to one job: its record (docs/results.md), read-only.

    Every field of the record is an attribute and a key, so ``r.status`` and
    ``r["status"]`` are the same; fields a job did not ask for (``namespace``,
    ``cases``, ``runs``...) are absent, as in the record.

    >>> import runbox
    >>> r = runbox.Result({"id": "a", "status": "ok", "return_code": 0, "stdout": "hi\\n"})
    >>> r.status, r["stdout"], r.ok
    ('ok', 'hi\\n', True)
    >>> r.to_dict()["return_code"]
    0
    """

    __slots__ = ("_record",)

    # The fields every record has (docs/results.md), for type checkers.
    id: Optional[str]
    status: str
    return_code: Optional[int]
    timed_out: bool
    runtime: float
    cpu_time: float
    max_rss_kb: int
    stdout: str
    stdout_truncated: bool
    stderr: str
    stderr_truncated: bool
    error: Optional[str]
    error_detail: Optional[str]
    doc: Optional[str]
    signal: Optional[int]
    had_unexpected_error: bool

    def __init__(self, record: Mapping[str, Any]):
        object.__setattr__(self, "_record", dict(record))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(f"this record has no field {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Result is read-only; to_dict() gives a copy to change")

    def __getitem__(self, key: str) -> Any:
        return self._record[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._record)

    def __len__(self) -> int:
        return len(self._record)

    def __contains__(self, key: object) -> bool:
        return key in self._record

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Result):
            return self._record == other._record
        if isinstance(other, Mapping):
            return self._record == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self):
        return (Result, (self._record,))

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={self._record[k]!r}" for k in ("id", "status", "return_code")
                          if k in self._record)
        out = self._record.get("stdout")
        if out:
            shown += f", stdout={out[:40]!r}" + ("..." if len(out) > 40 else "")
        if self._record.get("error"):
            shown += f", error={self._record['error'][:60]!r}"
        return f"Result({shown})"

    @property
    def ok(self) -> bool:
        """True when the job's status is ``ok`` (and, for a job with cases
        or calls, every one passed)."""
        return self._record.get("status") == "ok" and self._record.get("passed", True) is not False

    def to_dict(self) -> Dict[str, Any]:
        """The record as a new dict, nothing shared with this Result."""
        return copy.deepcopy(self._record)


class Opaque:
    """A captured value that could not come back as JSON.

    ``repr`` is the value's repr() in the job; ``error`` says why even that
    failed. Printing an Opaque shows the repr, so a namespace reads as it
    would have in the job.
    """

    __slots__ = ("repr", "error")

    def __init__(self, repr: Optional[str] = None, error: Optional[str] = None):  # noqa: A002
        self.repr = repr
        self.error = error

    def __repr__(self) -> str:
        if self.repr is not None:
            return self.repr
        return f"<unrepresentable: {self.error}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Opaque):
            return (self.repr, self.error) == (other.repr, other.error)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.repr, self.error))


def _value(v: Any) -> Any:
    if isinstance(v, dict) and len(v) == 1:
        if "$repr" in v and isinstance(v["$repr"], str):
            return Opaque(repr=v["$repr"])
        if "$error" in v and isinstance(v["$error"], str):
            return Opaque(error=v["$error"])
    return v


def namespace_values(record: Mapping[str, Any]) -> Dict[str, Any]:
    """The record's captured names, with values that came back only as a
    repr (``{"$repr": ...}``) or an error made :class:`Opaque`."""
    ns = record.get("namespace") or {}
    return {name: _value(v) for name, v in ns.items()}


def split_error(error: Optional[str]) -> List[str]:
    """'ValueError: bad input' -> ['ValueError', 'bad input']."""
    if not error:
        return ["", ""]
    head, sep, tail = error.partition(": ")
    return [head, tail] if sep else [head, ""]
