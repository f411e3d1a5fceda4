"""What both `pingback` commands share: the business as one list returns it, the progress
line and the log lines on stderr (never a secret), and the two errors that set the exit
code (:class:`Usage` 2, :class:`Refused` 1). Used by :mod:`.cli` (``channels``, ``main``)
and :mod:`._export`."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from ._exceptions import ConfigurationError, PingBackError
from ._untrusted import inert

__all__ = [
    "Business",
    "LogHandler",
    "Refused",
    "Usage",
    "command_logging",
    "list_business",
    "progress",
    "unreadable_lines",
]

PROGRESS_AFTER = 0.4  # seconds: a progress line for anything slower than a moment
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class Usage(Exception):
    """A problem with what was asked (exit 2)."""


class Refused(Exception):
    """The business cannot be exported as asked (exit 1); nothing was written."""


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


# ---- logging: PINGBACK_LOG_LEVEL, on stderr, never a secret -----------------------------------


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


# ---- listing ---------------------------------------------------------------------------------


@dataclass
class Business:
    channels: list[Any]
    """The readable channels, in a stable order."""
    unreadable: dict[str, str]
    """id -> the fields that could not be read."""
    without_id: int
    api_url: str

    @property
    def complete(self) -> bool:
        return not self.unreadable and not self.without_id


def list_business(api_url: str | None, err: TextIO, log: LogHandler) -> Business:
    from ._client import PingBackClient
    from ._settings import load_settings

    try:
        given = {} if api_url is None else {"pingback:apiUrl": api_url}  # "": an error
        settings = load_settings(given, cli=True)
    except ConfigurationError as exc:
        raise Usage(exc.message) from None
    client = PingBackClient.from_settings(settings)
    log.redact = client.redactor(fragments=False)
    try:
        with progress(f"listing the channels at {settings.api_url}", err):
            listing = client.listing()
    except PingBackError as exc:
        from ._diagnostics import Context, explain

        ctx = Context("list", api_url=settings.api_url, timeout=settings.timeout, cli=True)
        raise explain(exc, ctx, client.redactor()) from None
    channels = sorted(listing.channels.values(), key=lambda c: (c.type, c.created_at or "", c.id))
    return Business(channels, dict(listing.malformed), listing.without_id, settings.api_url)


def unreadable_lines(business: Business, what: str, ignored: Sequence[str] = ()) -> list[str]:
    lines = [
        f"pingback: channel {inert(cid)} is listed in a form this tool cannot read "
        f"({business.unreadable[cid]}); {what}"
        for cid in sorted(business.unreadable)
        if cid not in ignored
    ]
    if business.without_id:
        n = business.without_id
        lines.append(
            f"pingback: {n} item{'s' if n != 1 else ''} of the listing ha{'ve' if n != 1 else 's'}"
            f" no id: not a channel anything can read or manage; {what}"
        )
    return lines
