"""What to do next: the advice the provider adds to an error, written once, here.

The client's errors state facts (what was asked, what came back). At the provider
boundary :func:`explain` adds one piece of advice per error, naming the Pulumi setting
or option that fixes it, and the error is re-raised with a short traceback and no chain,
so the CLI shows a few lines with the advice in them.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from ._exceptions import (
    AdoptionError,
    AmbiguousCreateError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChannelNotFoundError,
    ConfigurationError,
    IdentityConflictError,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PingBackError,
    PlanLimitError,
    RateLimitError,
    RedirectError,
)

__all__ = ["Context", "explain", "native_words"]

from ._kinds import a_channel, kind_of_identity
from ._settings import AUTH_HELP

SAVED_CONFIG_HELP = (
    "`pulumi refresh` and `pulumi destroy` use the pingback: settings saved by the last "
    "`pulumi up`: after changing them, run `pulumi up` first (or `pulumi refresh --run-program`)"
)


@dataclass(frozen=True)
class Context:
    """Where the error happened."""

    op: str  # check | create | adopt | update | delete | read | get | list
    api_url: str = ""
    timeout: float = 30.0
    channel_type: str | None = None
    channel_id: str | None = None
    cli: bool = False  # the `pingback` command: settings are PINGBACK_* and --api-url
    native: bool = False  # the native provider: properties and options in camelCase


_NAMES = {
    False: {
        "token": "pingback:token",
        "apiUrl": "pingback:apiUrl",
        "timeout": "pingback:timeout",
        "maxRetries": "pingback:maxRetries",
        "set_url": "set pingback:apiUrl",
        "rerun": "run the command again",
    },
    True: {
        "token": "PINGBACK_TOKEN",
        "apiUrl": "the API URL (--api-url or PINGBACK_API_URL)",
        "timeout": "PINGBACK_TIMEOUT",
        "maxRetries": "PINGBACK_MAX_RETRIES",
        "set_url": "pass --api-url (or set PINGBACK_API_URL)",
        "rerun": "run the command again",
    },
}
CLI_AUTH_HELP = "export PINGBACK_TOKEN=<the business owner's API token>"

# The messages name properties and options as a Python program writes them; through the
# native provider, programs in every language read them as its schema names them.
NATIVE_WORDS = (
    (
        "`delete_before_replace=True` in the replaced resource's ResourceOptions",
        "the `deleteBeforeReplace` resource option on the replaced resource "
        "(`delete_before_replace=True` in Python)",
    ),
    (
        "`delete_before_replace=True` in its ResourceOptions",
        "its `deleteBeforeReplace` resource option (`delete_before_replace=True` in Python)",
    ),
    ("replacement_trigger, replace_on_changes", "replacementTrigger, replaceOnChanges"),
    ("adopt_overwrite=True", "adoptOverwrite: true"),
    ("adopt_id=", "adoptId: "),
    ("adopt_id", "adoptId"),
    ("is_active", "isActive"),
)


def native_words(text: str) -> str:
    """``text`` with the native provider's names (``adoptId``, ``isActive``…)."""
    for python_words, native in NATIVE_WORDS:
        text = text.replace(python_words, native)
    return text


def explain(
    exc: PingBackError, ctx: Context, redact: Callable[[str], str] = lambda t: t
) -> PingBackError:
    """``exc`` with its advice set and every secret of the call redacted, ready to raise
    (``raise explain(e, ctx, redact) from None``)."""
    ctx = dataclasses.replace(ctx, api_url=_without_userinfo(ctx.api_url))
    ours = not isinstance(exc, APIStatusError)  # an API error quotes the server: as it said
    exc.message = redact(native_words(exc.message) if ctx.native and ours else exc.message)
    exc.args = (exc.message,)
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        exc.body = {k: redact(v) if isinstance(v, str) else v for k, v in body.items()}  # type: ignore[attr-defined]
    for attr in ("server_message", "location"):
        value = getattr(exc, attr, None)
        if isinstance(value, str) and value:
            setattr(exc, attr, redact(value))
    exc.advice = redact(_advice(exc, ctx))
    return exc.with_traceback(None)


def _say(ctx: Context, text: str) -> str:
    """``text`` with the setting names of where the error is shown (provider or CLI)."""
    if ctx.cli:  # "{apiUrl} (<url>)": the URL, then where it came from (one pair of parentheses)
        text = re.sub(
            r"\{apiUrl\} \(([^()\s]+)\)",
            lambda m: f"the API URL {m.group(1)} (--api-url or PINGBACK_API_URL)",
            text,
        )
    for key, name in _NAMES[ctx.cli].items():
        text = text.replace("{" + key + "}", name)
    return text


def _without_userinfo(url: str) -> str:
    """An API URL fit for a message: no ``user:password@``."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _advice(exc: PingBackError, ctx: Context) -> str:
    advice = _say(ctx, _advice_in(exc, ctx))
    return native_words(advice) if ctx.native else advice


def _advice_in(exc: PingBackError, ctx: Context) -> str:
    url = ctx.api_url or "the default"
    if isinstance(exc, ConfigurationError):
        return ""  # the settings layer writes these whole
    if isinstance(exc, AuthenticationError):
        if ctx.cli:
            return f"To fix: {CLI_AUTH_HELP}."
        tail = f" Note: {SAVED_CONFIG_HELP}." if ctx.op in ("read", "delete", "configure") else ""
        return f"To fix: {AUTH_HELP}.{tail}"
    if isinstance(exc, PermissionDeniedError):
        return "To fix: use an API token of the business owner as {token} (agents and admins cannot manage channels)."
    if isinstance(exc, PlanLimitError):
        if exc.error == "feature_locked":
            return "To fix: upgrade to the Mini or Pro plan; the Free plan allows only `widget` channels."
        fix = "To fix: delete a channel, or upgrade the plan."
        if ctx.op == "create":
            fix += (
                " A replacement creates the new channel before deleting the old one: set "
                "`delete_before_replace=True` in the replaced resource's ResourceOptions. An old "
                "channel a failed `pulumi up` replaced counts until a run succeeds: "
                "`pulumi up --target <its URN>` deletes it first."
            )
        return fix
    if isinstance(exc, BadRequestError):
        return "To fix: correct the channel's inputs (the config keys each type needs are in the README)."
    if isinstance(exc, RedirectError):
        return (
            f"{{apiUrl}} ({url}) is answered by a redirect; the API token is never sent "
            "elsewhere. To fix: {set_url} to the address PingBack answers on."
        )
    if isinstance(exc, NotFoundError):
        if exc.path.rstrip("/").endswith("/channels"):
            return (
                f"{{apiUrl}} ({url}) does not serve PingBack's channels API. To fix: set "
                "it to the API's base URL, without a path (e.g. https://api.pingback.live)."
            )
        if exc.listed:
            return (
                f"PingBack still lists channel {ctx.channel_id}: the 404 came from the route, not "
                f"the channel. Check {{apiUrl}} ({url}) and any proxy in front of PingBack."
            )
        return (
            "The channel was deleted outside Pulumi. To fix: run `pulumi refresh` (it leaves "
            "the stack), then `pulumi up` (it is created again)."
        )
    if isinstance(exc, RateLimitError):
        return "To fix: wait, then run the command again (or raise {maxRetries})."
    if isinstance(exc, AmbiguousCreateError):
        first = exc.candidates[0]
        return (
            f"To fix: keep one of them by adding adopt_id='{first}' (or another of the ids) to "
            "this resource, delete the others in PingBack, then run `pulumi up` again."
        )
    if isinstance(exc, OutcomeUnknownError):
        return (
            f"Before running `pulumi up` again, look in PingBack for {a_channel(exc.channel_type)} "
            f"created at about {exc.sent_at}: adopt it with adopt_id='<its id>' on this resource, "
            "or delete it."
        )
    if isinstance(exc, IdentityConflictError):
        kind = kind_of_identity(exc.identity)
        owner = kind.one_channel_per_identity if kind else "One bot, number or account, one channel"
        if exc.other_id is None:
            return f"{owner}: declare it in one resource only."
        return (
            f"{owner}, so a second channel would silence one of the two. If {exc.other_id} is "
            "the channel this resource replaces (a forced replace: --target-replace, "
            "replacement_trigger, replace_on_changes), set "
            "`delete_before_replace=True` in its ResourceOptions; otherwise delete that channel "
            "(or adopt it with adopt_id) or use another one."
        )
    if isinstance(exc, AdoptionError):
        return _adoption_advice(exc)
    if isinstance(exc, ChannelNotFoundError):
        return "To fix: check the id (`pingback channels` lists the business's channels)."
    if isinstance(exc, InvalidResponseError):
        return (
            f"Nothing this provider can read came back: check that {{apiUrl}} ({url}) "
            "points at PingBack's API and not at a proxy's page."
        )
    if isinstance(exc, InternalServerError):
        if ctx.op == "create" and not exc.maybe_applied:
            return "Nothing was created. Try again later; re-running `pulumi up` is safe."
        return "Try again later; re-running the command is safe."
    if isinstance(exc, APITimeoutError):
        return f"To fix: raise {{timeout}} (now {ctx.timeout:g} s) or try again later; re-running is safe."
    if isinstance(exc, APIConnectionError):
        if not exc.sent:
            return f"Check {{apiUrl}} ({url}) and the network, then run the command again."
        return "Try again; re-running the command is safe."
    return ""


def _adoption_advice(exc: AdoptionError) -> str:
    if exc.reason == "missing":
        return (
            "To fix: copy the id from the PingBack dashboard (`pingback channels` lists them), "
            "or remove adopt_id to create a new channel."
        )
    if exc.reason == "taken":
        return "To fix: keep adopt_id on one resource only; one channel, one resource."
    if exc.reason == "differs":
        return (
            "To fix: declare what PingBack holds (`pingback export` writes it, with each "
            "credential read from secret config: set those to the live values), or, to "
            "replace the live values with the declared ones on purpose, add "
            "adopt_overwrite=True to this resource. Nothing was changed."
        )
    if exc.reason == "replace":
        return (
            "To fix: declare the channel as it is, or remove adopt_id: the resource is then "
            "replaced by a new channel and the adopted one is deleted."
        )
    return "To fix: declare the channel as it is, or remove adopt_id to create a new channel."
