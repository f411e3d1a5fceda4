"""Redaction of secrets from text that came back from a server."""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["Redactor", "redactor"]

Redactor = Callable[[str], str]

MIN_SECRET = 4  # shorter strings are too common to be worth hiding (and too costly)


def redactor(secrets: Iterable[str]) -> Redactor:
    """A function replacing every occurrence of every secret in a text with ``[secret]``."""
    ordered = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    def redact(text: str) -> str:
        for secret in ordered:
            text = text.replace(secret, "[secret]")
        return text

    return redact
