"""From a non-2xx answer to its error: one status, one class (each class carries its
``status`` and words its own message, :mod:`.._exceptions`), server text redacted before
it is cut or quoted."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .._exceptions import (
    Answered,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    PlanLimitError,
    RateLimitError,
    Redactor,
    RedirectError,
)
from .._untrusted import inert

__all__ = ["make_status_error", "parse_retry_after", "status_class"]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


_BY_STATUS: dict[int, type[APIStatusError]] = {
    cls.status: cls
    for cls in (
        BadRequestError,
        AuthenticationError,
        PlanLimitError,
        PermissionDeniedError,
        NotFoundError,
        RateLimitError,
    )
    if cls.status is not None
}
"""One status, one class: from the classes' own ``status``."""


def status_class(status: int) -> type[APIStatusError]:
    """The error class of a non-2xx status."""
    if 300 <= status < 400:
        return RedirectError
    if status >= 500:
        return InternalServerError
    return _BY_STATUS.get(status, APIStatusError)


def _server_message(body: Any) -> str:
    if isinstance(body, Mapping):
        for key in ("message", "detail", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
        return ""
    return body if isinstance(body, str) else ""


_REDACT_SPAN = 65536
"""Server text is redacted over its first 64 KiB; only the first 300 characters are quoted."""


def _clip(text: str, limit: int = 300) -> str:
    """``text`` on one line, inert (:func:`.._untrusted.inert`), at most ``limit``
    characters; never half a ``[secret]``."""
    text = inert(" ".join(text.split()))
    if len(text) <= limit:
        return text
    cut = text[: limit - 3]
    marker = cut.rfind("[")
    if marker >= 0 and "[secret]".startswith(cut[marker:]):
        cut = cut[:marker]
    return cut + "..."


def make_status_error(
    status: int,
    *,
    method: str,
    path: str,
    body: Any,
    retry_after: float | None,
    location: str | None,
    redact: Redactor,
) -> APIStatusError:
    """The one error class and factual message for a non-2xx answer.

    ``body`` is the parsed response body (or its text); ``redact`` removes every secret
    the caller knows of, in any encoding, *before* anything is cut or quoted.
    """
    # Redact first, cut after: a cut must never leave a piece of a secret behind.
    said = _clip(redact(_server_message(body)[:_REDACT_SPAN]))
    fields: dict[str, Any] = {}
    if isinstance(body, Mapping):
        fields = {
            str(k): (_clip(redact(v[:_REDACT_SPAN]), 200) if isinstance(v, str) else v)
            for k, v in body.items()
            if isinstance(v, str | int | float | bool) or v is None
        }
    target = _clip(redact((location or "")[:_REDACT_SPAN]), 200) if 300 <= status < 400 else ""
    answer = Answered(status, f"{method} {path}", said, fields, retry_after, target)
    cls = status_class(status)
    error = cls(
        cls.describe(answer),
        status_code=status,
        method=method,
        path=path,
        body=fields,
        server_message=said,
        retry_after=retry_after,
        location=target,
    )
    return error
