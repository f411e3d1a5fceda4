"""The business's channels as one list returns them (:func:`list_business`, shared by
both commands), the lines naming what could not be read, and ``pingback channels``: a
table (every cell inert) or JSON for scripts."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .._exceptions import ConfigurationError, PingBackError
from .._untrusted import inert
from ._terminal import LogHandler, Usage, progress

__all__ = ["Business", "channels", "list_business", "unreadable_lines"]


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
    from .._settings import load_settings
    from ..client._client import PingBackClient

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
        from .._advice import Context, explain

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


# ---- pingback channels ------------------------------------------------------------------------


def _row(channel: Any) -> dict[str, Any]:
    """A channel as `pingback channels` lists it: what the functions say of it
    (:func:`..channels._results.channel_info`) but its config, and its business."""
    from ..channels._results import channel_info

    row = channel_info(channel)
    del row["config"]
    row["business_id"] = channel.business_id
    return row


def channels(args: argparse.Namespace, out: TextIO, err: TextIO, log: LogHandler) -> int:
    business = list_business(args.api_url, err, log)
    rows = [_row(c) for c in business.channels]
    if args.json:
        # ASCII JSON escapes every control character but DEL, which is escaped too.
        out.write(json.dumps(rows, indent=2).replace("\x7f", "\\u007f") + "\n")
    else:
        table = [["ID", "TYPE", "IDENTITY", "ACTIVE", "CREATED"]] + [
            [
                inert(r["id"]),
                inert(r["type"]),
                inert(r["identity"] or "-"),
                "yes" if r["is_active"] else "no",
                inert(r["created_at"] or "-"),
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
    for warning in unreadable_lines(business, "skipped"):
        print(warning, file=err)
    return 0 if business.complete else 1
