"""What PingBack answers is data: the one check of an id it sends, and the one quoting of
its text for a terminal.

- :func:`is_channel_id`: PingBack documents channel ids (and business ids) as UUIDs. An
  id that is not one is an unreadable answer wherever it enters (a create's answer, a
  list's item), and no request path is ever built from one (:mod:`.client._client`): an id
  ``../../auth/x`` can never address anything but a channel.
- :func:`inert`: text from PingBack (an id, a timestamp, a server message, a config key)
  with every control character escaped — C0, DEL, C1, and the Unicode marks that
  reorder or break a line (bidi overrides, line and paragraph separators) — so that
  printing it can neither restyle nor retitle a terminal, move its cursor, nor forge a
  line of output. The `pingback` command writes everything through it, and so does every
  message and log line of this package (:class:`._exceptions.PingBackError`).

Light (``re`` only): a Pulumi program's preview imports it.
"""

from __future__ import annotations

import re

__all__ = ["CHANNEL_ID", "inert", "is_channel_id"]

CHANNEL_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
"""A UUID in its canonical, hyphenated form: what PingBack documents for every id."""

_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
"""C0, DEL, C1, and the bidi marks and separators that reorder or break a line."""


def is_channel_id(value: object) -> bool:
    """Whether ``value`` is an id PingBack may have sent: a canonical UUID, nothing else
    (no braces, no ``urn:uuid:``, no trailing newline)."""
    return isinstance(value, str) and CHANNEL_ID.fullmatch(value) is not None


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character written as its escape (``\\x1b``,
    ``\\u202e``). ``keep_newlines``: ``\\n`` stays (for a message of ours whose lines
    are ours; text from PingBack goes through without it first)."""
    if keep_newlines:
        return "\n".join(_CONTROL.sub(_escaped, line) for line in text.split("\n"))
    return _CONTROL.sub(_escaped, text)
