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

Here: the parser and :func:`main` (its exit codes). How the command talks to its user
(one inert stream, progress and log lines, the errors that set the exit code):
:mod:`._terminal`; the listing and ``channels``: :mod:`._channels`; ``export``:
:mod:`._export` (which writes no credential anywhere), its program :mod:`._codegen`.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO, cast

from .._exceptions import PingBackError
from .._version import __version__
from ._channels import channels
from ._codegen import NOTE
from ._export import export
from ._terminal import LogHandler, Refused, Terminal, Usage, command_logging

__all__ = ["console", "main"]


_STACK = re.compile(r"(?:[A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+")


def _stack_name(value: str) -> str:
    """A stack name as ``pulumi stack init`` takes it (``[org/[project/]]name``, each
    part letters, digits, ``-``, ``_`` or ``.``)."""
    if _STACK.fullmatch(value) is None:
        raise argparse.ArgumentTypeError(
            "a stack name holds letters, digits, '-', '_' and '.' only (org/project/name at most)"
        )
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, its usage errors one line of the command's (exit 2), on its stderr."""

    def error(self, message: str) -> NoReturn:
        # argparse (before 3.12) suggests nothing for a misspelt command or choice
        wrong = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        if wrong is not None:
            choices = re.findall(r"'([^']*)'", wrong.group(2))
            close = difflib.get_close_matches(wrong.group(1), choices, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean '{close[0]}'?"
        raise Usage(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
        "--stack",
        default="prod",
        type=_stack_name,
        help="the stack name in the commands it prints (default: prod)",
    )
    for sub in (channels, export):  # also after the command: `pingback channels --api-url X`
        sub.add_argument("--api-url", default=argparse.SUPPRESS, help=url_help)
    return parser


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """The `pingback` command. Returns the exit code (the console script exits with it)."""
    out = cast(TextIO, Terminal(out or sys.stdout))
    err = cast(TextIO, Terminal(err or sys.stderr))
    try:
        args = _parser().parse_args(argv)
    except Usage as exc:
        print(f"pingback: error: {exc} (pingback --help says more)", file=err)
        return 2
    run: Callable[[argparse.Namespace, TextIO, TextIO, LogHandler], int] = (
        export if args.command == "export" else channels
    )
    try:
        with command_logging(err) as log:
            return run(args, out, err, log)
    except Usage as exc:
        print(f"pingback: error: {exc}", file=err)
        return 2
    except Refused as exc:
        print(f"pingback: error: {exc}", file=err)
        return 1
    except PingBackError as exc:
        print(f"pingback: error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        return 130


def console() -> None:
    sys.exit(main())
