"""Redaction of secrets from text a server sent back: every form, every fragment.

A server may echo what it was sent, and not always verbatim: JSON-escaped (``\\u00e9``,
``\\/``), URL-encoded (either hex case, ``+`` for spaces), HTML-escaped, or cut short.
:func:`redactor` replaces, in a text:

- every occurrence of every secret, in each of those encodings;
- with ``fragments=True`` (for server text), every **fragment** of one of them of 8
  characters or more, so a secret cut short by the server's truncation is gone too (a
  piece under 8 characters may remain; secrets under 8 characters are matched whole).

Redact first, cut after: callers clip texts only once they are redacted, so no cut of
ours ever leaves a piece of a secret behind.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable

__all__ = ["MIN_SECRET", "Redactor", "encodings", "fragment_length", "redactor"]

Redactor = Callable[[str], str]

MIN_SECRET = 4
"""Shorter strings are too common to hide (and a 3-character secret is no secret)."""

MASK = "[secret]"


FRAGMENT = 8


def fragment_length(secret: str) -> int:
    """The shortest piece of ``secret`` redacted on its own (the whole of a short one)."""
    return min(FRAGMENT, len(secret))


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), text)


def encodings(secret: str) -> set[str]:
    """The forms in which a server may echo ``secret``."""
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret, safe=""),
        html.escape(secret, quote=True),
        html.escape(secret, quote=False),
        html.escape(secret, quote=True).replace("&#x27;", "&#39;"),
    }
    forms |= {_lower_hex(f) for f in forms if "%" in f}
    return {f for f in forms if f}


def redactor(secrets: Iterable[str | None], *, fragments: bool = True) -> Redactor:
    """A function removing every secret (4+ characters) from a text, in every form.

    ``fragments=False``: whole occurrences only (for texts this package wrote).
    """
    grams: dict[int, set[str]] = {}
    for secret in {s for s in secrets if s and len(s) >= MIN_SECRET}:
        for form in encodings(secret):
            width = min(fragment_length(secret), len(form)) if fragments else len(form)
            bucket = grams.setdefault(width, set())
            bucket.update(form[i : i + width] for i in range(len(form) - width + 1))
    if not grams:
        return lambda text: text

    def redact(text: str) -> str:
        hidden = bytearray(len(text))
        for width, bucket in grams.items():
            for i in range(len(text) - width + 1):
                if text[i : i + width] in bucket:
                    hidden[i : i + width] = b"\x01" * width
        if not any(hidden):
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            if hidden[i]:
                while i < len(text) and hidden[i]:
                    i += 1
                out.append(MASK)
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    return redact
