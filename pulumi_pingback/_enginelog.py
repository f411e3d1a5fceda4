"""What a provider must tell the user, through the Pulumi engine's log service.

A plugin's stderr reaches the CLI's output only with ``--debug``; the engine's ``Log``
RPC is what ``pulumi.log`` uses, and what the CLI prints under the resource (warnings
also in the *Diagnostics* at the end). So the ``pulumi_pingback`` logger gets a handler
that sends each record there: warnings always (why an ``up`` pauses: a create whose
outcome is unknown being settled, a rate limit honoured; an SDK the plugin was not
tested with), and info or debug lines when ``PINGBACK_LOG_LEVEL`` asks for them. The
native plugin names the resource a record is about (its URN, from :data:`current_urn`);
the dynamic provider cannot know it, so its records show under the stack.

Log lines carry methods, paths, statuses, ids and waits, never a token or a body. When
the engine cannot be reached, a record goes to stderr instead.
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import threading
from typing import Any

from ._defaults import NOTICE_LOGGER
from ._untrusted import inert

__all__ = [
    "EngineLogHandler",
    "attach",
    "busy",
    "current_urn",
    "install",
    "log_to_stderr",
    "watch_engine",
]

current_urn: contextvars.ContextVar[str] = contextvars.ContextVar("pingback_urn", default="")
"""The URN of the resource the current call is about (set by the native front)."""

_SEVERITY = {  # logging level -> pulumirpc.LogSeverity name
    logging.DEBUG: "DEBUG",
    logging.INFO: "INFO",
    logging.WARNING: "WARNING",
    logging.ERROR: "ERROR",
}


class _InertFormatter(logging.Formatter):
    """Log lines with no control character of PingBack's text (:func:`._untrusted.inert`)."""

    def format(self, record: logging.LogRecord) -> str:
        return inert(super().format(record), keep_newlines=True)


class EngineLogHandler(logging.Handler):
    """A logging handler that sends records to the engine at ``address``."""

    def __init__(self, address: str, level: int = logging.WARNING) -> None:
        super().__init__(min(level, logging.INFO))
        self.address = address
        self.wanted = level
        self.addFilter(self._wanted)
        self._stub: Any = None
        self._lock = threading.Lock()
        self.setFormatter(_InertFormatter("%(message)s"))

    def _wanted(self, record: logging.LogRecord) -> bool:
        """Records at the level asked, and the notices (``NOTICE_LOGGER``) always."""
        return record.levelno >= self.wanted or record.name == NOTICE_LOGGER

    def _engine(self) -> Any:
        with self._lock:
            if self._stub is None:
                import grpc
                from pulumi.runtime.proto import engine_pb2_grpc

                channel = grpc.insecure_channel(self.address)
                self._stub = engine_pb2_grpc.EngineStub(channel)
            return self._stub

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from pulumi.runtime.proto import engine_pb2

            name = _SEVERITY.get(record.levelno, "ERROR" if record.levelno > 40 else "INFO")
            request = engine_pb2.LogRequest(
                severity=engine_pb2.LogSeverity.Value(name),
                message=self.format(record),
                urn=current_urn.get(),
            )
            self._engine().Log(request, timeout=5)
        except Exception:  # the engine is gone or refuses: say it where one can read it
            line = inert(record.getMessage(), keep_newlines=True)
            sys.stderr.write(f"pulumi-pingback {record.levelname}: {line}\n")


def log_to_stderr(level: int | None) -> None:
    """PINGBACK_LOG_LEVEL=DEBUG|INFO (``level``): the provider's log lines on stderr (shown
    by the CLI), when no engine takes them.

    Lines carry methods, paths, statuses and retry decisions, never a token or a body.
    """
    if level is None:
        return
    logger = logging.getLogger("pulumi_pingback")
    if not any(getattr(h, "_pingback", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler._pingback = True  # type: ignore[attr-defined]
        handler.setFormatter(_InertFormatter("pulumi-pingback %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


def _asked_level() -> int | None:
    """PINGBACK_LOG_LEVEL as a logging level; None when unset or not a level (ignored:
    the provider starts anyway)."""
    raw = os.environ.get("PINGBACK_LOG_LEVEL")
    asked = logging.getLevelName(raw.upper()) if raw else None
    return asked if isinstance(asked, int) else None


def attach(address: str | None) -> None:
    """A provider's logging once it knows the engine's ``address`` (or None), for both
    fronts: PINGBACK_LOG_LEVEL lines on stderr, or to the engine's log with its warnings
    when there is an engine (:func:`install`); and the process ends once that engine is
    gone (:func:`watch_engine`). Safe to call again."""
    level = _asked_level()
    if address:
        install(address, level)
    else:
        log_to_stderr(level)
    watch_engine(address)


def install(address: str, asked: int | None) -> None:
    """Send the ``pulumi_pingback`` logger's records to the engine at ``address``:
    warnings and above, or down to the level PINGBACK_LOG_LEVEL ``asked`` when lower."""
    logger = logging.getLogger("pulumi_pingback")
    level = logging.WARNING if asked is None else min(logging.WARNING, asked)
    for handler in list(logger.handlers):
        if isinstance(handler, EngineLogHandler) or getattr(handler, "_pingback", False):
            logger.removeHandler(handler)  # the engine's handler replaces stderr's
    logger.addHandler(EngineLogHandler(address, level))
    logger.setLevel(min(level, logger.level or level))
    logger.propagate = False
    logging.getLogger(NOTICE_LOGGER).setLevel(logging.INFO)


# ---- a provider whose engine is gone -----------------------------------------------------

_active = 0
_active_lock = threading.Lock()


class busy:
    """Marks a provider call in flight, so that :func:`watch_engine` never exits under it."""

    def __enter__(self) -> None:
        global _active
        with _active_lock:
            _active += 1

    def __exit__(self, *exc: object) -> None:
        global _active
        with _active_lock:
            _active -= 1


_watching: set[str] = set()


def watch_engine(address: str | None, *, every: float = 2.0, misses: int = 3) -> None:
    """End this provider process once the engine at ``address`` has stopped answering
    (``misses`` probes in a row, ``every`` seconds apart) and no call is in flight, as
    Pulumi's own plugins do: a CLI killed outright leaves no provider running (nor its
    create journal's entries open). Calls still in flight finish first, so the journal
    records what they made."""
    if not address or address in _watching:
        return
    _watching.add(address)

    def watch() -> None:
        import os
        import time

        time.sleep(every)
        from .client._journal import listening  # not before: a plugin's start does without it

        missed = 0
        while True:
            missed = 0 if listening(address, timeout=2.0) else missed + 1
            if missed >= misses:
                with _active_lock:
                    idle = _active == 0
                if idle:
                    sys.stderr.flush()
                    os._exit(0)
            time.sleep(every)

    threading.Thread(target=watch, name="pingback-engine-watch", daemon=True).start()
