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

``export`` writes no credential anywhere: the program reads each one with
``pulumi.Config().require_secret(...)``, and the ``pulumi config set --secret`` commands
to run are printed on stderr with placeholders (and, for a project, written to its
STACK-CONFIG.md). Readable values (a ``phone_number_id``, a ``widget_id``) are written as
they are. Every channel is protected (``--no-protect``: not), and no existing file is
overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shlex
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from . import _defaults
from ._exceptions import ConfigurationError, PingBackError
from ._kinds import describe_identity, kind_of_identity
from ._program import NOTE, Secret, render_program
from ._version import __version__

__all__ = ["main", "render_program"]

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


# ---- export -----------------------------------------------------------------------------------


def project_name(folder: Path) -> str:
    """A Pulumi project name from a folder's name: letters, digits, ``-``, ``_``, ``.``;
    never ``pingback`` or ``pulumi``, whose config namespaces are taken."""
    name = re.sub(r"[^a-z0-9_.-]+", "-", folder.resolve().name.lower()).strip("-._")[:100]
    if name in ("", "pingback", "pulumi"):
        name = f"{name or 'pingback'}-channels"
    return name


def _conflicts(business: _Business) -> list[str]:
    """One error per identity held by two channels or more (after --exclude)."""
    holders: dict[str, list[str]] = {}
    for channel in business.channels:
        if channel.identity:
            holders.setdefault(channel.identity, []).append(channel.id)
    problems = []
    for identity, ids in sorted(holders.items()):
        if len(ids) < 2:
            continue
        kind = kind_of_identity(identity)
        why = kind.one_channel_per_identity if kind else "one identity, one channel"
        problems.append(
            f"channels {_and(ids)} are all bound to the {describe_identity(identity)} "
            f"({identity}); {why}, and one program cannot adopt {len(ids)} channels on one "
            "identity (its first change would be refused).\nTo fix: delete all but one of them "
            "in the PingBack dashboard, or export and adopt one only: "
            + " ".join(f"--exclude {cid}" for cid in ids[1:])
            + " (an excluded channel stays in PingBack, unmanaged)."
        )
    return problems


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _write(path: Path, text: str, force: bool) -> None:
    try:
        with open(path, "w" if force else "x") as file:
            file.write(text)
    except FileExistsError:
        raise _Usage(f"{path} exists; pass --force to overwrite it") from None
    except OSError as exc:
        raise _Usage(f"cannot write {path}: {exc.strerror}") from None


def _requirements() -> str:
    """This release, pinned; from its git tag, since it is not on PyPI."""
    from ._schema import REPOSITORY

    return (
        f"# pulumi-pingback {__version__}, the release that wrote this project. It is not on\n"
        f"# PyPI: pip installs it from its tag (once published: pulumi-pingback=={__version__}).\n"
        f"pulumi-pingback @ git+{REPOSITORY}@v{__version__}\n"
    )


def _commands(business: _Business, secrets: Sequence[Secret]) -> list[str]:
    lines = ["pulumi config set --secret pingback:token '<the business owner API token>'"]
    if business.api_url.rstrip("/") != _defaults.API_URL:
        lines.append(f"pulumi config set pingback:apiUrl {business.api_url}")
    return lines + [s.command() for s in secrets]


def _note(
    name: str, business: _Business, commands: Sequence[str], stack: str, protect: bool
) -> str:
    ids = business.channels
    owner = next((c.business_id for c in ids if c.business_id), "?")
    body = "\n".join([f"pulumi stack init {stack}", *commands, "pulumi up"])
    return (
        f"# Stack config for {name}\n\n"
        f"`pingback export` wrote this project from {business.api_url}: the {len(ids)} "
        f"channel{'s' if len(ids) != 1 else ''} of business {owner}, each declared with "
        "`adopt_id`. The program reads every credential from secret stack config; no "
        "secret is in these files.\n\n"
        "Set each to the value PingBack holds now (the dashboard shows them; or pipe it in: "
        "`pulumi config set --secret KEY` reads the value from stdin, out of shell "
        "history). The first `pulumi up` then adopts every channel without writing "
        "anything to PingBack. A key left unset stops it before anything is sent; a value "
        "that differs from PingBack's is refused, naming the key, and nothing is changed "
        "(to replace the live value on purpose, add `adopt_overwrite=True` to that "
        "channel).\n\n"
        f"In this folder:\n\n```bash\n{body}\n```\n\n"
        "## Destroy deletes\n\n"
        "`pulumi destroy`, or a channel removed from the program, deletes the channel in "
        "PingBack, and PingBack's delete cannot be undone. "
        + (
            "Every channel here is protected (`protect=True`): `pulumi destroy` refuses "
            "while it is. "
            if protect
            else ""
        )
        + "To let go of a channel and keep it in PingBack, set "
        "`retain_on_delete=True` in its `pulumi.ResourceOptions`"
        + (" (and drop `protect=True`)" if protect else "")
        + ", `pulumi up`, then remove it from the program and `pulumi up` again; or take it "
        "out of the stack alone with `pulumi state delete <its URN>`"
        + (" after `pulumi state unprotect <its URN>`" if protect else "")
        + ".\n"
    )


def _export(args: argparse.Namespace, out: TextIO, err: TextIO, log: _LogHandler) -> int:
    if args.dir and args.output:
        raise _Usage("give DIR (a project) or -o FILE (the program alone), not both")
    folder = Path(args.dir) if args.dir else None
    names = ("Pulumi.yaml", "__main__.py", "requirements.txt", NOTE)
    if folder is not None:
        if folder.exists() and not folder.is_dir():
            raise _Usage(f"{folder} is not a folder")
        taken = [str(folder / n) for n in names if (folder / n).exists()]
        if taken and not args.force:
            them = "it" if len(taken) == 1 else "them"
            raise _Usage(
                f"{_and(taken)} exist{'s' if len(taken) == 1 else ''}; "
                f"pass --force to overwrite {them}"
            )
    elif args.output:
        target = Path(args.output)
        if not target.parent.is_dir():
            raise _Usage(f"cannot write {target}: the folder {target.parent} does not exist")
        if target.exists() and not args.force:
            raise _Usage(f"{target} exists; pass --force to overwrite it")
    business = _list(args.api_url, err, log)
    known = {c.id for c in business.channels} | set(business.unreadable)
    unknown = [cid for cid in args.exclude if cid not in known]
    if unknown:
        raise _Usage(f"--exclude {unknown[0]}: the business has no channel with that id")
    business.channels = [c for c in business.channels if c.id not in args.exclude]
    problems = _conflicts(business)
    if problems:
        raise _Refused("\n".join(problems) + "\nNothing was written.")
    program, secrets = render_program(
        business.channels, protect=args.protect, project=folder is not None
    )
    commands = _commands(business, secrets)
    skipped = _unreadable_lines(
        business, "not exported (--exclude ID to leave it out)", args.exclude
    )
    n = len(business.channels)
    counted = f"{n} channel{'s' if n != 1 else ''}"
    if folder is not None:
        name = project_name(folder)
        folder.mkdir(parents=True, exist_ok=True)
        owner = next((c.business_id for c in business.channels if c.business_id), "?")
        files = {
            "Pulumi.yaml": (
                f"name: {name}\n"
                f"description: {json.dumps(f'The PingBack channels of business {owner}, adopted by pingback export.')}\n"
                "runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n"
            ),
            "__main__.py": program,
            "requirements.txt": _requirements(),
            NOTE: _note(name, business, commands, args.stack, args.protect),
        }
        for file_name, text in files.items():
            _write(folder / file_name, text, args.force)
        print(f"pingback: exported {counted} into {folder}/ ({', '.join(names)}). Next:", file=err)
        print(f"cd {shlex.quote(str(folder))}", file=err)
        print(f"pulumi stack init {args.stack}", file=err)
        for line in commands:
            print(line, file=err)
        print("pulumi up", file=err)
    else:
        if args.output:
            _write(Path(args.output), program, args.force)
        else:
            out.write(program)
        where = f"into {args.output}" if args.output else "above"
        print(f"# pingback: {counted} exported {where}. Before `pulumi up`, set:", file=err)
        for line in commands:
            print(line, file=err)
    for line in skipped:
        print(line, file=err)
    return 0 if not skipped else 1


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """The `pingback` command. Returns the exit code (the console script exits with it)."""
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace, TextIO, TextIO, _LogHandler], int] = (
        _channels if args.command == "channels" else _export
    )
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
    console()
