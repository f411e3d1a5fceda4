"""``pingback``: a business's channels, and a Pulumi program that adopts them.

    pingback channels [--json]           the channels, a table (or JSON for scripts)
    pingback export [-o FILE]            a Python Pulumi program declaring every channel

The API token comes from PINGBACK_TOKEN (never a flag: it would land in shell
history), the URL from ``--api-url`` or PINGBACK_API_URL (default
https://api.pingback.live). Exit codes: 0 done, 1 PingBack could not answer as asked,
2 a usage or setting problem (nothing was sent).

``export`` writes no credential anywhere: the program reads each one with
``pulumi.Config().require_secret(...)``, and the ``pulumi config set --secret`` commands
to run are printed on stderr with placeholders. Readable values (a
``phone_number_id``, a ``widget_id``) are written as they are.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TextIO, TypeVar

from ._exceptions import ConfigurationError, PingBackError
from ._kinds import kind_of

__all__ = ["main"]

T = TypeVar("T")
PROGRESS_AFTER = 0.4  # seconds: a progress line for anything slower than a moment


class _Usage(Exception):
    """A problem with what was asked (exit 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pingback",
        description="Your PingBack business's channels, and a Pulumi program that adopts them.",
        epilog="The API token is read from PINGBACK_TOKEN; the URL from --api-url or "
        "PINGBACK_API_URL.",
    )
    parser.add_argument(
        "--api-url", default=None, help="PingBack's API (default: $PINGBACK_API_URL or the service)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    channels = commands.add_parser("channels", help="list the business's channels")
    channels.add_argument("--json", action="store_true", help="JSON for scripts")
    export = commands.add_parser(
        "export", help="print a Pulumi program (Python) that adopts every channel"
    )
    export.add_argument("-o", "--output", default=None, help="write the program to a file")
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


def _list(api_url: str | None, err: TextIO) -> tuple[list[Any], list[str], str]:
    """The readable channels, the ids of unreadable ones, and the API URL."""
    from ._client import PingBackClient
    from ._settings import load_settings

    try:
        settings = load_settings({"pingback:apiUrl": api_url} if api_url else {}, cli=True)
    except ConfigurationError as exc:
        raise _Usage(exc.message) from None
    client = PingBackClient(
        settings.token,
        base_url=settings.api_url,
        timeout=settings.timeout,
        connect_timeout=min(10.0, settings.timeout),
        max_retries=settings.max_retries,
    )
    try:
        with _progress(f"listing the channels at {settings.api_url}", err):
            listing = client.listing()
    except PingBackError as exc:
        from ._diagnostics import Context, explain

        ctx = Context("list", api_url=settings.api_url, timeout=settings.timeout, cli=True)
        raise explain(exc, ctx, client.redactor()) from None
    channels = sorted(listing.channels.values(), key=lambda c: (c.type, c.created_at or "", c.id))
    return channels, sorted(listing.malformed), settings.api_url


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


def _channels(args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    channels, unreadable, _ = _list(args.api_url, err)
    rows = [_row(c) for c in channels]
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
    for cid in unreadable:
        print(
            f"pingback: channel {cid} is listed in a form this tool cannot read; skipped", file=err
        )


# ---- export -----------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")[:60] or "channel"


def _base_name(channel: Any) -> str:
    identity = channel.identity
    if identity:
        return _slug(identity.replace(":", "-").replace("/", "-"))
    widget_id = channel.config.get("widget_id")
    if channel.type == "widget" and isinstance(widget_id, str) and widget_id:
        return _slug(f"widget-{widget_id[:24]}")
    return _slug(f"{channel.type}-{channel.id[:8]}")


def _camel(*parts: str) -> str:
    words = [w for p in parts for w in re.split(r"[^A-Za-z0-9]+", p) if w]
    return (words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])) if words else "x"


@dataclass
class _Secret:
    key: str  # the stack config key
    what: str  # what to put there, for the placeholder
    is_object: bool


def _plan_names(channels: Sequence[Any]) -> list[str]:
    """Resource names: from type and identity, unique (``-2``…), stable for a business."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for channel in channels:
        base = _base_name(channel)
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def _q(value: str) -> str:
    """A Python string literal, double-quoted (JSON's escapes mean the same in Python)."""
    return json.dumps(value)


def _call(opening: str, args: list[str], indent: str, closing: str = ")") -> str:
    """``Name(a, b)`` (or ``{a, b}``) on one line when it fits in 100 columns, else one
    argument a line, as ruff formats it."""
    one_line = f"{opening}{', '.join(args)}{closing}"
    if len(indent) + len(one_line) + 9 <= 100:  # 9: "config=" and ","
        return one_line
    inner = indent + "    "
    return f"{opening}\n" + "".join(f"{inner}{a},\n" for a in args) + f"{indent}{closing}"


def render_program(channels: Sequence[Any]) -> tuple[str, list[_Secret]]:
    """The program declaring ``channels`` with adopt_id, and the secrets it reads."""
    from ._configs import CONFIG_CLASSES

    ordered = sorted(channels, key=lambda c: (c.type, _base_name(c), c.created_at or "", c.id))
    names = _plan_names(ordered)
    secrets: list[_Secret] = []
    used_classes: set[str] = set()
    blocks: list[str] = []
    for name, channel in zip(names, ordered, strict=True):
        kind = kind_of(channel.type)
        typed = kind is not None and not kind.open
        entries: list[str] = []
        for key, value in channel.user_config.items():
            if kind is not None and not kind.credential(key) and isinstance(value, str):
                source = _q(value)  # readable: written as it is
            else:
                what = f"{key} of {channel.type} channel {channel.id}"
                secret = _Secret(_camel(name, key), what, not isinstance(value, str))
                secrets.append(secret)
                reader = "require_secret_object" if secret.is_object else "require_secret"
                source = f"config.{reader}({_q(secret.key)})"
            entries.append(f"{key}={source}" if typed else f"{_q(key)}: {source}")
        if typed:
            cls = CONFIG_CLASSES[channel.type].__name__
            used_classes.add(cls)
            config_src = _call(f"{cls}(", entries, "    ")
        else:
            config_src = _call("{", entries, "    ", "}")
        lines = [
            f"{_identifier(name)} = PingBackChannel(",
            f"    {_q(name)},",
            f"    type={_q(channel.type)},",
            f"    config={config_src},",
        ]
        if not channel.is_active:
            lines.append("    is_active=False,")
        lines += [f"    adopt_id={_q(channel.id)},", ")"]
        blocks.append("\n".join(lines))
    business = next((c.business_id for c in ordered if c.business_id), "?")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    names_imported = sorted({"PingBackChannel", *used_classes})
    imports = ", ".join(names_imported)
    if len("from pulumi_pingback import ") + len(imports) > 100:
        imports = "(\n" + "".join(f"    {n},\n" for n in names_imported) + ")"
    header = (
        f'"""The PingBack channels of business {business}, as code.\n\n'
        f"Made by `pingback export` on {stamp}. Every channel is declared with adopt_id: the\n"
        "first `pulumi up` adopts it (one PATCH each) instead of creating it, and the next one\n"
        "changes nothing. Set the credentials first: `pingback export` printed the\n"
        '`pulumi config set --secret` commands to run on stderr.\n"""\n\n'
        f"import pulumi\n\nfrom pulumi_pingback import {imports}\n\nconfig = pulumi.Config()\n"
    )
    program = header + "".join(f"\n{block}\n" for block in blocks)
    return program, secrets


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident if ident[:1].isalpha() else f"channel_{ident}"


def _export(args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    channels, unreadable, api_url = _list(args.api_url, err)
    program, secrets = render_program(channels)
    if args.output:
        with open(args.output, "w") as file:
            file.write(program)
    else:
        out.write(program)
    where = f"into {args.output}" if args.output else "above"
    print(
        f"# pingback: {len(channels)} channels exported {where}. Before `pulumi up`, set:", file=err
    )
    print("pulumi config set --secret pingback:token '<the business owner API token>'", file=err)
    if api_url.rstrip("/") != "https://api.pingback.live":
        print(f"pulumi config set pingback:apiUrl {api_url}", file=err)
    for secret in secrets:
        value = (
            "<JSON: the " + secret.what + ">" if secret.is_object else "<the " + secret.what + ">"
        )
        print(f"pulumi config set --secret {secret.key} '{value}'", file=err)
    for cid in unreadable:
        print(
            f"# pingback: channel {cid} is listed in a form this tool cannot read; not exported",
            file=err,
        )


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """The `pingback` command. Returns the exit code (the console script exits with it)."""
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace, TextIO, TextIO], None] = (
        _channels if args.command == "channels" else _export
    )
    try:
        run(args, out, err)
    except _Usage as exc:
        print(f"pingback: error: {exc}", file=err)
        return 2
    except PingBackError as exc:
        print(f"pingback: error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def console() -> None:
    sys.exit(main())


if __name__ == "__main__":
    console()
