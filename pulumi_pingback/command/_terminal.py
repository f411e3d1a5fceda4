"""How the `pingback` command talks to its user: every line through one inert stream
(:class:`Terminal`, so nothing PingBack sent reaches a terminal as a control sequence),
a progress line for anything slower than a moment, the package's log lines on stderr
(PINGBACK_LOG_LEVEL; never a secret), and the two errors that set the exit code
(:class:`Usage` 2, :class:`Refused` 1)."""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from .._untrusted import inert

__all__ = ["LogHandler", "Refused", "Terminal", "Usage", "command_logging", "progress"]

PROGRESS_AFTER = 0.4  # seconds: a progress line for anything slower than a moment
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Usage(Exception):
    """A problem with what was asked (exit 2)."""


class Refused(Exception):
    """The business cannot be exported as asked (exit 1); nothing was written."""


class Terminal(io.TextIOBase):
    """A stream every write of the command passes through: inert (:func:`.._untrusted.inert`),
    its own line breaks kept, so nothing PingBack sent reaches the terminal as a control
    sequence, whichever line quotes it (a cell is made inert whole, its line breaks too)."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(inert(text, keep_newlines=True))
        return len(text)

    def flush(self) -> None:
        self._inner.flush()


@contextmanager
def progress(message: str, err: TextIO) -> Iterator[None]:
    """A line on stderr if what follows takes longer than a moment."""
    timer = threading.Timer(
        PROGRESS_AFTER, lambda: print(f"pingback: {message}…", file=err, flush=True)
    )
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class LogHandler(logging.Handler):
    def __init__(self, err: TextIO) -> None:
        super().__init__()
        self.err = err
        self.redact: Callable[[str], str] = lambda text: text

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = f"pingback: {record.levelname.lower()}: {record.getMessage()}"
            self.err.write(inert(self.redact(line), keep_newlines=True) + "\n")
            self.err.flush()
        except Exception:  # pragma: no cover - as logging.StreamHandler does
            self.handleError(record)


@contextmanager
def command_logging(err: TextIO) -> Iterator[LogHandler]:
    """The package's log lines on ``err`` for the run: warnings (a rate-limit wait), or
    down to PINGBACK_LOG_LEVEL."""
    raw = os.environ.get("PINGBACK_LOG_LEVEL", "").strip()
    if raw and raw.upper() not in LOG_LEVELS:
        raise Usage(f"PINGBACK_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {raw!r}")
    logger = logging.getLogger("pulumi_pingback")
    handler = LogHandler(err)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(raw.upper() or "WARNING")
    logger.propagate = False  # the lines are ours to print: once, on err
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
