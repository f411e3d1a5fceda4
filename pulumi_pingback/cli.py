"""``pingback``: a business's channels, and a Pulumi project that adopts them.

    pingback channels [--json]           the channels, a table (or JSON for scripts)
    pingback export DIR                  a Pulumi project (Python) adopting every channel
    pingback export [-o FILE]            the program alone, on stdout or into FILE

The API token comes from PINGBACK_TOKEN (never a flag: it would land in shell
history), the URL from ``--api-url`` or PINGBACK_API_URL (default
https://api.pingback.live); PINGBACK_LOG_LEVEL=DEBUG|INFO shows the requests on stderr.
Exit codes: 0 done, 1 PingBack could not answer as asked (or listed a channel this tool
cannot read, or a business no program can declare), 2 a usage or setting problem
(nothing was sent, nothing written).

Here: the parser, the log lines and the progress line, the listing both commands read,
the ``channels`` command, and :func:`main` (its exit codes). ``export`` is
:mod:`._export` (which writes no credential anywhere), its program :mod:`._program`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from ._exceptions import ConfigurationError, PingBackError
from ._program import NOTE
from ._version import __version__

__all__ = ["main"]

PROGRESS_AFTER = 0.4  # seconds: a progress line for anything slower than a moment
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class _Usage(Exception):
    """A problem with what was asked (exit 2)."""


class _Refused(Exception):
    """The business cannot be exported as asked (exit 1); nothing was written."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pingback",
        description="Your PingBack business's channels, and a Pulumi project that adopts them.",
        epilog="The API token is read from PINGBACK_TOKEN; the URL from --api-url or "
        "PINGBACK_API_URL; PINGBACK_LOG_LEVEL=DEBUG or INFO logs the requests on stderr.",
    )
    parser.add_argument("--version", action="version", version=f"pingback {__version__}")
    url_help = "PingBack's API (default: $PINGBACK_API_URL, else the service)"
    parser.add_argument("--api-url", default=None, help=url_help)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    channels = commands.add_parser("channels", help="list the business's channels")
    channels.add_argument("--json", action="store_true", help="JSON for scripts")
    export = commands.add_parser(
        "export",
        help="write a Pulumi project (Python) that adopts every channel",
        description="Write DIR/Pulumi.yaml, DIR/__main__.py (every channel declared with "
        f"adopt_id), DIR/requirements.txt and DIR/{NOTE} (the secret stack config to set). "
        "Without DIR: the program alone, on stdout or into -o FILE.",
    )
    export.add_argument("dir", nargs="?", metavar="DIR", help="the project folder to write")
    export.add_argument("-o", "--output", metavar="FILE", help="write the program alone to FILE")
    export.add_argument("--force", action="store_true", help="overwrite files that exist")
    export.add_argument(
        "--no-protect",
        dest="protect",
        action="store_false",
        help="do not protect the channels (by default each has protect=True: PingBack's "
        "delete cannot be undone)",
    )
    export.add_argument(
        "--exclude",
        metavar="ID",
        action="append",
        default=[],
        help="leave this channel out (it stays in PingBack, unmanaged); repeatable",
    )
    export.add_argument(
        "--stack", default="prod", help="the stack name in the commands it prints (default: prod)"
    )
    for sub in (channels, export):  # also after the command: `pingback channels --api-url X`
        sub.add_argument("--api-url", default=argparse.SUPPRESS, help=url_help)
    return parser


@contextmanager
def _progress(message: str, err: TextIO) -> Iterator[None]:
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


class _LogHandler(logging.Handler):
    def __init__(self, err: TextIO) -> None:
        super().__init__()
        self.err = err
        self.redact: Callable[[str], str] = lambda text: text

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = f"pingback: {record.levelname.lower()}: {record.getMessage()}"
            self.err.write(self.redact(line) + "\n")
            self.err.flush()
        except Exception:  # pragma: no cover - as logging.StreamHandler does
            self.handleError(record)


@contextmanager
def _logging(err: TextIO) -> Iterator[_LogHandler]:
    """The package's log lines on ``err`` for the run: warnings (a rate-limit wait), or
    down to PINGBACK_LOG_LEVEL."""
    raw = os.environ.get("PINGBACK_LOG_LEVEL", "").strip()
    if raw and raw.upper() not in LOG_LEVELS:
        raise _Usage(f"PINGBACK_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {raw!r}")
    logger = logging.getLogger("pulumi_pingback")
    handler = _LogHandler(err)
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
class _Business:
    channels: list[Any]
    """The readable channels, in a stable order."""
    unreadable: dict[str, str]
    """id -> the fields that could not be read."""
    without_id: int
    api_url: str

    @property
    def complete(self) -> bool:
        return not self.unreadable and not self.without_id


def _list(api_url: str | None, err: TextIO, log: _LogHandler) -> _Business:
    from ._client import PingBackClient
    from ._settings import load_settings

    try:
        settings = load_settings({"pingback:apiUrl": api_url} if api_url else {}, cli=True)
    except ConfigurationError as exc:
        raise _Usage(exc.message) from None
    client = PingBackClient.from_settings(settings)
    log.redact = client.redactor(fragments=False)
    try:
        with _progress(f"listing the channels at {settings.api_url}", err):
            listing = client.listing()
    except PingBackError as exc:
        from ._diagnostics import Context, explain

        ctx = Context("list", api_url=settings.api_url, timeout=settings.timeout, cli=True)
        raise explain(exc, ctx, client.redactor()) from None
    channels = sorted(listing.channels.values(), key=lambda c: (c.type, c.created_at or "", c.id))
    return _Business(channels, dict(listing.malformed), listing.without_id, settings.api_url)


def _unreadable_lines(business: _Business, what: str, ignored: Sequence[str] = ()) -> list[str]:
    lines = [
        f"pingback: channel {cid} is listed in a form this tool cannot read "
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


# ---- channels -------------------------------------------------------------------------------


def _row(channel: Any) -> dict[str, Any]:
    return {
        "id": channel.id,
        "type": channel.type,
        "identity": channel.identity,
        "is_active": channel.is_active,
        "created_at": channel.created_at,
        "business_id": channel.business_id,
    }


def _channels(args: argparse.Namespace, out: TextIO, err: TextIO, log: _LogHandler) -> int:
    business = _list(args.api_url, err, log)
    rows = [_row(c) for c in business.channels]
    if args.json:
        json.dump(rows, out, indent=2)
        out.write("\n")
    else:
        table = [["ID", "TYPE", "IDENTITY", "ACTIVE", "CREATED"]] + [
            [
                r["id"],
                r["type"],
                r["identity"] or "-",
                "yes" if r["is_active"] else "no",
                r["created_at"] or "-",
            ]
            for r in rows
        ]
        widths = [max(len(str(line[i])) for line in table) for i in range(5)]
        for line in table:
            out.write(
                "  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
                + "\n"
            )
        out.write(f"{len(rows)} channel{'s' if len(rows) != 1 else ''}\n")
    for line in _unreadable_lines(business, "skipped"):
        print(line, file=err)
    return 0 if business.complete else 1


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """The `pingback` command. Returns the exit code (the console script exits with it)."""
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace, TextIO, TextIO, _LogHandler], int] = _channels
    if args.command == "export":
        from ._export import export  # which imports this module's listing and errors

        run = export
    try:
        with _logging(err) as log:
            return run(args, out, err, log)
    except _Usage as exc:
        print(f"pingback: error: {exc}", file=err)
        return 2
    except _Refused as exc:
        print(f"pingback: error: {exc}", file=err)
        return 1
    except PingBackError as exc:
        print(f"pingback: error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        return 130


def console() -> None:
    sys.exit(main())


if __name__ == "__main__":
    # `python -m pulumi_pingback.cli`: run this module under its own name, the one _export
    # imports; as __main__, the errors _export raises would be another module's classes.
    from pulumi_pingback import cli

    cli.console()
