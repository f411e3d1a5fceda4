"""An operation's time limit: a resource's ``customTimeouts`` for its create, update or
delete. Every request of the operation, every wait between its attempts and every settle
window ends by it (:mod:`._transport`, :mod:`._retry`, :mod:`._creates`), so the whole
operation — retries and settling included — takes no longer than the limit plus the one
request that was in flight when it ran out.

The limit lives in a context variable set around the operation, on the thread that runs
it (each front runs one operation per call).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

__all__ = ["Limit", "current", "left", "limited", "parse_duration"]


@dataclass(frozen=True)
class Limit:
    """A time limit: ``seconds`` from ``started`` (monotonic), named ``what`` for messages
    (``customTimeouts.create``)."""

    seconds: float
    what: str
    started: float

    @property
    def end(self) -> float:
        return self.started + self.seconds

    def describe(self) -> str:
        return f"{self.what}: {self.seconds:g} s"


_CURRENT: ContextVar[Limit | None] = ContextVar("pingback_limit", default=None)


@contextlib.contextmanager
def limited(seconds: float | None, what: str) -> Iterator[None]:
    """Run the block under a limit of ``seconds`` (None or 0: none, as the engine sends
    no ``customTimeouts``)."""
    if not seconds or seconds <= 0:
        yield
        return
    token = _CURRENT.set(Limit(seconds, what, time.monotonic()))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current() -> Limit | None:
    return _CURRENT.get()


def left() -> float | None:
    """Seconds left of the current limit (None: no limit; at most 0 when it ran out)."""
    limit = _CURRENT.get()
    return None if limit is None else limit.end - time.monotonic()


_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """A Go duration (``10s``, ``1m30s``, ``1.5h``), as ``customTimeouts`` take them, in
    seconds. Raises ValueError for anything else."""
    rest, total = text.strip(), 0.0
    if not rest:
        raise ValueError("an empty duration")
    while rest:
        match = _PART.match(rest)
        if match is None:
            raise ValueError("not a duration like 10s, 5m or 1h30m")
        total += float(match.group(1)) * _UNITS[match.group(2)]
        rest = rest[match.end() :]
    return total
