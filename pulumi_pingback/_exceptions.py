"""Every error this package raises, in one place.

    PingBackError                     base class; catch this to catch everything
    ├── ConfigurationError            no token, bad apiUrl/timeout/maxRetries (nothing was sent)
    ├── ChannelValidationError        declared inputs refused locally (nothing was sent)
    ├── AdoptionError                 `adopt_id` names no channel, or one of another type
    ├── APIConnectionError            PingBack could not be reached (transport failure)
    │   └── APITimeoutError           it did not answer in time
    │       └── OutcomeUnknownError   a create may or may not have happened
    └── APIStatusError                PingBack answered with an error status
        ├── BadRequestError           400
        ├── AuthenticationError       401
        ├── PlanLimitError            402 (limit_exceeded / feature_locked)
        ├── PermissionDeniedError     403
        ├── NotFoundError             404
        ├── RateLimitError            429
        └── InternalServerError       5xx

Rule for every message: say what happened and what to do next, and never carry a
token, a channel credential or the request body. Server messages are passed through
:func:`redact` with every secret of the request before they are quoted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AdoptionError",
    "AuthenticationError",
    "BadRequestError",
    "ChannelValidationError",
    "ConfigurationError",
    "InternalServerError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PingBackError",
    "PlanLimitError",
    "RateLimitError",
    "redact",
]

AUTH_HELP = (
    "set the API token as a secret with `pulumi config set --secret pingback:token <token>` "
    "or export PINGBACK_TOKEN"
)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of every secret (4+ characters) in ``text`` with ``[secret]``."""
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "[secret]")
    return text


class PingBackError(Exception):
    """Base class of every error raised by pulumi_pingback."""

    maybe_applied: bool = False
    """True when a write may have taken effect although it failed (some attempt's answer
    was lost). Set by the client on the error it finally raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(PingBackError):
    """The provider is not configured well enough to call PingBack; nothing was sent."""


class ChannelValidationError(PingBackError):
    """The declared channel inputs were refused before any API call."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {prop}: {reason}" for prop, reason in problems)
        super().__init__(f"invalid PingBack channel inputs:\n{lines}")


class AdoptionError(PingBackError):
    """`adopt_id` could not be honoured."""


class APIConnectionError(PingBackError):
    """PingBack could not be reached or the connection broke."""

    def __init__(
        self, message: str, *, method: str = "", path: str = "", sent: bool = True
    ) -> None:
        self.method = method
        self.path = path
        # False only when the request provably never reached PingBack (connect failure).
        self.sent = sent
        super().__init__(message)


class APITimeoutError(APIConnectionError):
    """PingBack did not answer within the configured timeout."""


class OutcomeUnknownError(APITimeoutError):
    """A create was sent, its answer never came, and reconciling by listing failed too."""


class APIStatusError(PingBackError):
    """PingBack answered with an error status."""

    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str = "",
        path: str = "",
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.method = method
        self.path = path
        # The *response* body (already redacted by the client), never the request body.
        self.body = body
        self.retry_after = retry_after
        super().__init__(message)


class BadRequestError(APIStatusError):
    """400: PingBack refused the channel (missing config fields, invalid type)."""


class AuthenticationError(APIStatusError):
    """401: the token is missing or invalid."""


class PlanLimitError(APIStatusError):
    """402: the plan's channel limit is reached, or the channel type needs a higher plan."""

    @property
    def error(self) -> str:
        return str(self.body.get("error", "")) if isinstance(self.body, dict) else ""


class PermissionDeniedError(APIStatusError):
    """403: the token is not the business owner's."""


class NotFoundError(APIStatusError):
    """404: no such channel."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried automatically while Retry-After is reasonable."""


class InternalServerError(APIStatusError):
    """5xx: PingBack failed; retried automatically (502/503/504)."""
