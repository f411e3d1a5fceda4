"""Every error this package raises, in one place.

    PingBackError                       base class; catch this to catch everything
    ├── ConfigurationError              no token, bad apiUrl/timeout/maxRetries (nothing was sent)
    ├── ChannelValidationError          declared inputs refused locally (nothing was sent)
    ├── AdoptionError                   `adopt_id` cannot be honoured (nothing was written)
    ├── ChannelNotFoundError            a looked-up channel id is not in the business
    ├── IdentityConflictError           the bot / number / account is another channel's
    ├── OutcomeUnknownError             a create was sent and whether it landed is unknown
    │   └── AmbiguousCreateError        several new channels could be the one it made
    ├── APIConnectionError              PingBack could not be reached (transport failure)
    │   └── APITimeoutError             it did not answer in time (or not within the deadline)
    │       └── TimeLimitError          the operation's customTimeouts ran out (never retried)
    ├── InvalidResponseError            a 2xx answer this client cannot read
    │   └── ResponseTooLargeError       an answer over the size cap
    └── APIStatusError                  PingBack answered with a non-2xx status
        ├── RedirectError               3xx (never followed)
        ├── BadRequestError             400
        ├── AuthenticationError         401
        ├── PlanLimitError              402 (limit_exceeded / feature_locked)
        ├── PermissionDeniedError       403
        ├── NotFoundError               404
        ├── RateLimitError              429
        └── InternalServerError         5xx

The client raises *facts*: what was asked, what came back; an error is never edited
once made. Advice on what to run next is added where the error meets its audience — the
provider's boundary, or the `pingback` command — by :func:`._advice.explain`, which
makes a new error carrying it in :attr:`PingBackError.advice`. Which class a status
gets, and its message from an answer: :mod:`.client._status`. No message ever carries a token, a channel credential or
a request body; server text is quoted only after redaction, and no control character of
it survives (:func:`._untrusted.inert`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from ._untrusted import inert

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AdoptionError",
    "AmbiguousCreateError",
    "AuthenticationError",
    "BadRequestError",
    "ChannelNotFoundError",
    "ChannelValidationError",
    "ConfigurationError",
    "IdentityConflictError",
    "InternalServerError",
    "InvalidResponseError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PingBackError",
    "PlanLimitError",
    "RateLimitError",
    "RedirectError",
    "ResponseTooLargeError",
    "TimeLimitError",
]

Redactor = Callable[[str], str]


_E = TypeVar("_E", bound="PingBackError")


class PingBackError(Exception):
    """Base class of every error raised by pulumi_pingback.

    An error is a fact, built once: its fields are never edited after it is made, so one
    raised to several threads (a list they shared) says to each the same thing. What
    another layer adds (a write that may have landed, the advice for a reader, a list
    made since) makes a new error with :meth:`evolve`.
    """

    maybe_applied: bool = False
    """True when a write may have taken effect although it failed (an attempt's answer was
    lost or unreadable). Set by the client on the error it finally raises."""

    advice: str = ""
    """What to do next; added by the provider, never by the client."""

    def __init__(self, message: str) -> None:
        # Any text PingBack sent that a message quotes is inert here, whatever path it
        # took: no control character of its reaches a terminal (:mod:`._untrusted`).
        message = inert(message, keep_newlines=True)
        super().__init__(message)
        self.message = message
        self._fact = True  # from here on, fields are read only

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_fact") and not name.startswith("__"):
            raise AttributeError(
                f"{type(self).__name__} is a fact, never edited: make a new one with evolve()"
            )
        super().__setattr__(name, value)

    def evolve(self: _E, **changes: Any) -> _E:
        """A new error of this class: this one's facts, with ``changes`` (``message``,
        ``advice``, ``maybe_applied``, a class's own fields). This one is unchanged."""
        if "message" in changes:
            changes["message"] = inert(changes["message"], keep_newlines=True)
        new = type(self).__new__(type(self))
        new.__dict__.update({**self.__dict__, **changes})
        Exception.__init__(new, new.message)
        return new

    def __str__(self) -> str:
        text = f"{self.message}\n{self.advice}" if self.advice else self.message
        return inert(text, keep_newlines=True)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(PingBackError):
    """The provider is not configured well enough to call PingBack; nothing was sent."""


class ChannelValidationError(PingBackError):
    """The declared channel inputs were refused before any API call."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {prop}: {reason}" for prop, reason in problems)
        super().__init__(f"invalid PingBack channel inputs:\n{lines}")


class AdoptionError(PingBackError):
    """`adopt_id` cannot be honoured; nothing was written.

    ``reason``: ``missing`` (no such channel), ``mismatch`` (another type or identity),
    ``taken`` (another resource manages it), ``replace`` (a replacement would need another
    channel), ``differs`` (it holds another config or ``is_active`` than declared:
    ``keys``).
    """

    def __init__(
        self, message: str, *, channel_id: str, reason: str, keys: Sequence[str] = ()
    ) -> None:
        self.channel_id = channel_id
        self.reason = reason
        self.keys = list(keys)
        super().__init__(message)


class ChannelNotFoundError(PingBackError):
    """A channel looked up by id (``PingBackChannel.get``) is not in the business."""

    def __init__(self, message: str, *, channel_id: str) -> None:
        self.channel_id = channel_id
        super().__init__(message)


class IdentityConflictError(PingBackError):
    """Another channel of the business is bound to the same bot, number or account."""

    def __init__(
        self,
        message: str,
        *,
        identity: str,
        other_id: str | None,
        resource: str | None = None,
        unknown_here: bool = False,
    ) -> None:
        self.identity = identity
        self.other_id = other_id  # None: another create in this process holds it
        self.resource = resource  # the resource (URN) whose create was refused, if known
        # No create journal here knows other_id: it may be a killed run's on another machine
        self.unknown_here = unknown_here
        super().__init__(message)


class OutcomeUnknownError(PingBackError):
    """A create was sent, and whether PingBack made the channel could not be established."""

    maybe_applied = True

    def __init__(self, message: str, *, channel_type: str, sent_at: str) -> None:
        self.channel_type = channel_type
        self.sent_at = sent_at
        super().__init__(message)


class AmbiguousCreateError(OutcomeUnknownError):
    """After an ambiguous create, more than one new channel matches what was sent."""

    def __init__(
        self, message: str, *, channel_type: str, sent_at: str, candidates: Sequence[str]
    ) -> None:
        self.candidates = list(candidates)
        super().__init__(message, channel_type=channel_type, sent_at=sent_at)


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
    """PingBack did not answer within the timeout, or did not finish within the deadline."""


class TimeLimitError(APITimeoutError):
    """The operation's time limit (a resource's ``customTimeouts``) ran out: before a
    request was sent (``sent`` false), or while one waited for its answer. Never retried."""


class InvalidResponseError(PingBackError):
    """PingBack answered 2xx with something this client cannot read (HTML, no id, ...)."""

    def __init__(self, message: str, *, status_code: int, method: str, path: str) -> None:
        self.status_code = status_code
        self.method = method
        self.path = path
        super().__init__(message)


class ResponseTooLargeError(InvalidResponseError):
    """An answer larger than the client's cap; reading stopped there."""


@dataclass(frozen=True)
class Answered:
    """What a non-2xx answer said, redacted and cut: what a status class words."""

    status: int
    where: str  # "POST /api/v1/channels/"
    said: str  # the server's own message ("" when none)
    fields: Mapping[str, Any]  # the body's scalar fields
    retry_after: float | None
    location: str = ""  # a redirect's target

    @property
    def quoted(self) -> str:
        return f": {self.said.rstrip('.')}" if self.said else ""


class APIStatusError(PingBackError):
    """PingBack answered with a non-2xx status."""

    status: ClassVar[int | None] = None
    """The status this class is the error of (None: a range, or any other)."""
    status_code: int = 0

    @classmethod
    def describe(cls, answer: Answered) -> str:
        """The factual message for ``answer``."""
        return f"PingBack answered {answer.where} with {answer.status}{answer.quoted}"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str = "",
        path: str = "",
        body: Any = None,
        server_message: str = "",
        retry_after: float | None = None,
        location: str = "",
    ) -> None:
        self.status_code = status_code
        self.method = method
        self.path = path
        # The *response* body's scalar fields, redacted; never the request body.
        self.body = body
        self.server_message = server_message
        self.retry_after = retry_after
        self.location = location  # a redirect's target (redacted, inert)
        super().__init__(message)


class RedirectError(APIStatusError):
    """3xx: PingBack (or a proxy) redirected; the client never follows redirects."""

    @classmethod
    def describe(cls, answer: Answered) -> str:
        return (
            f"PingBack answered {answer.where} with a redirect ({answer.status}) to "
            f"{answer.location or 'no Location'}; redirects are never followed"
        )


class BadRequestError(APIStatusError):
    """400: PingBack refused the channel (missing config fields, invalid type)."""

    status = 400

    @classmethod
    def describe(cls, answer: Answered) -> str:
        return f"PingBack refused the channel (400 on {answer.where}){answer.quoted}"


class AuthenticationError(APIStatusError):
    """401: the token is missing or invalid."""

    status = 401

    @classmethod
    def describe(cls, answer: Answered) -> str:
        return f"PingBack rejected the API token (401 on {answer.where}){answer.quoted}"


class PlanLimitError(APIStatusError):
    """402: the plan's channel limit is reached, or the channel type needs a higher plan."""

    status = 402

    @classmethod
    def describe(cls, answer: Answered) -> str:
        fields = answer.fields
        plan, feature = fields.get("plan", "?"), fields.get("feature", "?")
        if fields.get("error") == "limit_exceeded" or "current" in fields:
            detail = (
                f"the {plan} plan is at its limit for {feature} "
                f"({fields.get('current', '?')}/{fields.get('limit', '?')})"
            )
        elif fields.get("error") == "feature_locked":
            detail = f"the {plan} plan does not include {feature}"
        else:
            detail = answer.said or "upgrade required"
        return f"PingBack plan limit (402 on {answer.where}): {detail}"

    @property
    def error(self) -> str:
        return str(self.body.get("error", "")) if isinstance(self.body, dict) else ""


class PermissionDeniedError(APIStatusError):
    """403: the token is not the business owner's."""

    status = 403

    @classmethod
    def describe(cls, answer: Answered) -> str:
        return f"PingBack refused {answer.where} (403){answer.quoted}"


class NotFoundError(APIStatusError):
    """404: no such channel, or no such route (see :attr:`listed`)."""

    status = 404
    listed: bool | None = None
    """For a channel 404: whether a list made afterwards still shows the channel (True:
    the route is wrong, not the channel), or None when no list was made."""

    @classmethod
    def describe(cls, answer: Answered) -> str:
        return f"PingBack answered 404 Not Found to {answer.where}{answer.quoted}"


class RateLimitError(APIStatusError):
    """429: too many requests; retried while Retry-After is reasonable."""

    status = 429

    @classmethod
    def describe(cls, answer: Answered) -> str:
        wait = answer.retry_after
        asked = f"; it asked to wait {wait:g} s" if wait is not None else ""
        return f"PingBack is rate limiting requests (429 on {answer.where}){asked}{answer.quoted}"


class InternalServerError(APIStatusError):
    """5xx: PingBack (or a proxy in front of it) failed."""

    @classmethod
    def describe(cls, answer: Answered) -> str:
        return f"PingBack failed on {answer.where} ({answer.status}){answer.quoted}"


# Public classes print as `pulumi_pingback.<Name>` in tracebacks (as httpx does).
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type):
        _obj.__module__ = "pulumi_pingback"
