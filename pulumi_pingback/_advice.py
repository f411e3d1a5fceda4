"""What to do next: the advice added to an error, written once, here, for its reader.

The client's errors state facts (what was asked, what came back). Where an error meets
its reader — the dynamic provider's boundary (a Python program), the native plugin's (a
program in any language) or the `pingback` command — :func:`explain` adds one piece of
advice, looked up by the error's class (the most specific registered one, :func:`_advises`)
and written with that reader's :class:`Audience`: its names for the settings, properties
and options (``pingback:token`` or ``PINGBACK_TOKEN``, ``adopt_id`` or ``adoptId``). The
error is a new one (the client's is never edited), raised with a short traceback and
no chain, so the CLI shows a few lines.
"""

from __future__ import annotations

import dataclasses
import shlex
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import _defaults
from ._exceptions import (
    AdoptionError,
    AmbiguousCreateError,
    APIConnectionError,
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

__all__ = ["CLI", "NATIVE", "PYTHON", "Audience", "Context", "audience", "explain"]

from ._settings import AUTH_HELP, CLI_AUTH_HELP
from ._settings import TABLE as SETTINGS_TABLE
from .channels._kinds import a_channel, kind_of_identity

SAVED_CONFIG_HELP = (
    "`pulumi refresh` and `pulumi destroy` use the pingback: settings saved by the last "
    "`pulumi up`: after changing them, run `pulumi up` first (or `pulumi refresh --run-program`)"
)

UNENCRYPTED_OWNER_CREDENTIAL = (
    "pingback:token is in this stack's config in plain text: Pulumi.<stack>.yaml, and the "
    "copy of the settings the state keeps for refresh and destroy, hold it readable. "
    "Encrypt it: pulumi config set --secret pingback:token <the owner token>, then "
    "pulumi up (docs/secrets.md)"
)
"""The dynamic front's warning (``dynamic/_program``); the native plugin seals the token
in the state whatever the config says, and the CLI refuses ``pulumi config set
pingback:token <a value that looks like a secret>`` without ``--secret`` unless told
``--plaintext``."""


@dataclass(frozen=True)
class Context:
    """Where the error happened."""

    op: str  # check | create | adopt | update | delete | read | get | list
    api_url: str = ""
    timeout: float = _defaults.TIMEOUT
    channel_type: str | None = None
    channel_id: str | None = None
    cli: bool = False  # the `pingback` command: settings are PINGBACK_* and --api-url
    native: bool = False  # the native provider: properties and options in camelCase


@dataclass(frozen=True)
class Audience:
    """How the readers of a message name settings, properties and options: each piece of
    advice is written with these, once, for whoever reads it."""

    settings: Mapping[str, str]  # Settings field -> its name here (one per settings row)
    auth_fix: str
    set_url: str
    url_words: str  # the API URL setting and its value: "pingback:apiUrl ({url})"
    adopt_id: str
    adopt_words: str  # the property set to an id: "adopt_id='{id}'"
    adopt_overwrite: str  # the option set to true, as the program writes it
    dbr_on_replaced: str  # delete-before-replace on the replaced resource
    dbr_its: str
    forced: str  # the options that force a replace

    def setting(self, field: str) -> str:
        """A setting (``timeout``), as this reader sets it."""
        return self.settings[field]

    def api_url(self, url: str) -> str:
        """The API URL setting and its value, in one pair of parentheses."""
        return self.url_words.format(url=url)

    def adopt(self, channel_id: str) -> str:
        return self.adopt_words.format(id=channel_id)


PYTHON = Audience(
    settings={s.field: s.key for s in SETTINGS_TABLE},
    auth_fix=AUTH_HELP,
    set_url="set pingback:apiUrl",
    url_words="pingback:apiUrl ({url})",
    adopt_id="adopt_id",
    adopt_words="adopt_id='{id}'",
    adopt_overwrite="adopt_overwrite=True",
    dbr_on_replaced="`delete_before_replace=True` in the replaced resource's ResourceOptions",
    dbr_its="`delete_before_replace=True` in its ResourceOptions",
    forced="replacement_trigger, replace_on_changes",
)
"""A Python program (the dynamic provider)."""
NATIVE = dataclasses.replace(
    PYTHON,
    adopt_id="adoptId",
    adopt_words="adoptId: '{id}'",
    adopt_overwrite="adoptOverwrite: true",
    dbr_on_replaced="the `deleteBeforeReplace` resource option on the replaced resource "
    "(`delete_before_replace=True` in Python)",
    dbr_its="its `deleteBeforeReplace` resource option (`delete_before_replace=True` in Python)",
    forced="replacementTrigger, replaceOnChanges",
)
"""A program in any language, through the native provider's schema names."""
CLI = dataclasses.replace(
    PYTHON,
    settings={s.field: s.cli or s.env for s in SETTINGS_TABLE},
    auth_fix=CLI_AUTH_HELP,
    set_url="pass --api-url (or set PINGBACK_API_URL)",
    url_words="the API URL {url} (--api-url or PINGBACK_API_URL)",
)
"""The `pingback` command: PINGBACK_* and ``--api-url``."""


def audience(ctx: Context) -> Audience:
    return CLI if ctx.cli else NATIVE if ctx.native else PYTHON


def explain(
    exc: PingBackError, ctx: Context, redact: Callable[[str], str] = lambda t: t
) -> PingBackError:
    """A new error: ``exc``'s facts with every secret of the call redacted and the advice
    for ``ctx``'s reader, ready to raise (``raise explain(e, ctx, redact) from None``).
    ``exc`` itself is unchanged: another thread may hold it (a list they shared), and
    its reader's advice is another."""
    ctx = dataclasses.replace(ctx, api_url=_without_userinfo(ctx.api_url))
    changes: dict[str, Any] = {"message": redact(exc.message)}
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        changes["body"] = {k: redact(v) if isinstance(v, str) else v for k, v in body.items()}
    for attr in ("server_message", "location"):
        value = getattr(exc, attr, None)
        if isinstance(value, str) and value:
            changes[attr] = redact(value)
    changes["advice"] = redact(_advice(exc, ctx, audience(ctx)))
    return exc.evolve(**changes)


def _without_userinfo(url: str) -> str:
    """An API URL fit for a message: no ``user:password@``."""
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


Advice = Callable[[Any, "Context", Audience, str], str]
_ADVICE: dict[type[PingBackError], Advice] = {}


def _advises(cls: type[PingBackError]) -> Callable[[Advice], Advice]:
    """Register the advice for ``cls`` (and its subclasses that have none of their own)."""

    def register(fn: Advice) -> Advice:
        _ADVICE[cls] = fn
        return fn

    return register


def _advice(exc: PingBackError, ctx: Context, a: Audience) -> str:
    """The advice of the most specific class ``exc`` is an instance of; ``url``: the API
    URL setting and its value, as ``a`` says them."""
    url = a.api_url(ctx.api_url or "the default")
    for cls in type(exc).__mro__:
        advise = _ADVICE.get(cls)
        if advise is not None:
            return advise(exc, ctx, a, url)
    return ""


@_advises(ConfigurationError)
def _configuration(exc: ConfigurationError, ctx: Context, a: Audience, url: str) -> str:
    return ""  # the settings layer writes these whole


@_advises(AuthenticationError)
def _authentication(exc: AuthenticationError, ctx: Context, a: Audience, url: str) -> str:
    if ctx.cli:
        return f"To fix: {a.auth_fix}."
    tail = f" Note: {SAVED_CONFIG_HELP}." if _saved_settings(ctx) else ""
    return f"To fix: {a.auth_fix}.{tail}"


def _saved_settings(ctx: Context) -> bool:
    """Whether the call may be a refresh's or a destroy's, which use the settings saved
    by the last ``pulumi up`` rather than the stack config."""
    return not ctx.cli and ctx.op in ("read", "delete", "configure")


@_advises(PermissionDeniedError)
def _permission_denied(exc: PermissionDeniedError, ctx: Context, a: Audience, url: str) -> str:
    return f"To fix: use an API token of the business owner as {a.setting('token')} (agents and admins cannot manage channels)."


@_advises(PlanLimitError)
def _plan_limit(exc: PlanLimitError, ctx: Context, a: Audience, url: str) -> str:
    if exc.error == "feature_locked":
        return (
            "To fix: upgrade to the Mini or Pro plan; the Free plan allows only `widget` channels."
        )
    fix = "To fix: delete a channel, or upgrade the plan."
    if ctx.op == "create":
        fix += (
            " A replacement creates the new channel before deleting the old one: set "
            f"{a.dbr_on_replaced}. An old "
            "channel a failed `pulumi up` replaced counts until a run succeeds: "
            "`pulumi up --target <its URN>` deletes it first."
        )
    return fix


@_advises(BadRequestError)
def _bad_request(exc: BadRequestError, ctx: Context, a: Audience, url: str) -> str:
    return "To fix: correct the channel's inputs (docs/reference.md lists the config keys each type needs)."


@_advises(RedirectError)
def _redirect(exc: RedirectError, ctx: Context, a: Audience, url: str) -> str:
    return (
        f"{url} is answered by a redirect; the API token is never sent "
        f"elsewhere. To fix: {a.set_url} to the address PingBack answers on."
    )


@_advises(NotFoundError)
def _not_found(exc: NotFoundError, ctx: Context, a: Audience, url: str) -> str:
    if exc.path.rstrip("/").endswith("/channels"):
        return (
            f"{url} does not serve PingBack's channels API. To fix: set "
            f"it to the API's base URL, without a path (e.g. {_defaults.API_URL})."
        )
    if exc.listed:
        return (
            f"PingBack still lists channel {ctx.channel_id}: the 404 came from the route, not "
            f"the channel. Check {url} and any proxy in front of PingBack."
        )
    return (
        "The channel was deleted outside Pulumi. To fix: run `pulumi refresh` (it leaves "
        "the stack), then `pulumi up` (it is created again)."
    )


@_advises(RateLimitError)
def _rate_limit(exc: RateLimitError, ctx: Context, a: Audience, url: str) -> str:
    return f"To fix: wait, then run the command again (or raise {a.setting('max_retries')})."


@_advises(AmbiguousCreateError)
def _ambiguous_create(exc: AmbiguousCreateError, ctx: Context, a: Audience, url: str) -> str:
    first = exc.candidates[0]
    return (
        f"To fix: keep one of them by adding {a.adopt(first)} (or another of the ids) to "
        "this resource, delete the others in PingBack, then run `pulumi up` again."
    )


@_advises(OutcomeUnknownError)
def _outcome_unknown(exc: OutcomeUnknownError, ctx: Context, a: Audience, url: str) -> str:
    return (
        f"It may exist: the next `pulumi up` on this machine finds {a_channel(exc.channel_type)} "
        "this create made and takes it (its create journal; nothing is made twice). From "
        f"another machine, look in PingBack for one created at about {exc.sent_at} and adopt it "
        f"with {a.adopt('<its id>')} on this resource, or delete it."
    )


@_advises(IdentityConflictError)
def _identity_conflict(exc: IdentityConflictError, ctx: Context, a: Audience, url: str) -> str:
    kind = kind_of_identity(exc.identity)
    owner = kind.one_channel_per_identity if kind else "One bot, number or account, one channel"
    other = exc.other_id
    if other is None:
        return f"{owner}: declare it in one resource only."
    advice = (
        f"{owner}, so a second channel would silence one of the two. If {other} is "
        f"the channel this resource replaces (a forced replace: --target-replace, "
        f"{a.forced}), set {a.dbr_its}; otherwise delete that channel "
        f"(or adopt it with {a.adopt_id}) or use another one."
    )
    if not exc.unknown_here:
        return advice
    # No journal here knows the channel: a killed run elsewhere (a CI runner that is gone)
    # may have made it for this very resource, and left the stack a pending create.
    urn = shlex.quote(exc.resource) if exc.resource else "'<its URN>'"
    return (
        f"No run on this machine made {other}. If an `up` killed on another machine (a CI "
        f"runner) made it for this resource, take it: add {a.adopt(other)} to this "
        "resource and run `pulumi up` (nothing is written to PingBack), then drop the "
        f"interrupted create from the stack: `pulumi refresh --yes --import-pending-creates "
        f"{urn} --import-pending-creates {other}`"
        + ("" if exc.resource else " (the URN `pulumi up` lists as interrupted while creating)")
        + f". Otherwise: {advice}"
    )


@_advises(AdoptionError)
def _adoption(exc: AdoptionError, ctx: Context, a: Audience, url: str) -> str:
    return _adoption_advice(exc, a)


@_advises(ChannelNotFoundError)
def _channel_not_found(exc: ChannelNotFoundError, ctx: Context, a: Audience, url: str) -> str:
    return "To fix: check the id (`pingback channels` lists the business's channels)."


@_advises(InvalidResponseError)
def _invalid_response(exc: InvalidResponseError, ctx: Context, a: Audience, url: str) -> str:
    return (
        f"Nothing this provider can read came back: check that {url} "
        "points at PingBack's API and not at a proxy's page."
    )


@_advises(InternalServerError)
def _internal_server(exc: InternalServerError, ctx: Context, a: Audience, url: str) -> str:
    if ctx.op == "create" and not exc.maybe_applied:
        return "Nothing was created. Try again later; re-running `pulumi up` is safe."
    return "Try again later; re-running the command is safe."


@_advises(APITimeoutError)
def _a_p_i_timeout(exc: APITimeoutError, ctx: Context, a: Audience, url: str) -> str:
    return f"To fix: raise {a.setting('timeout')} (now {ctx.timeout:g} s) or try again later; re-running is safe."


@_advises(APIConnectionError)
def _a_p_i_connection(exc: APIConnectionError, ctx: Context, a: Audience, url: str) -> str:
    if not exc.sent:
        tail = f" Note: {SAVED_CONFIG_HELP}." if _saved_settings(ctx) else ""
        return f"Check {url} and the network, then run the command again.{tail}"
    return "Try again; re-running the command is safe."


def _adoption_advice(exc: AdoptionError, a: Audience) -> str:
    if exc.reason == "missing":
        return (
            "To fix: copy the id from the PingBack dashboard (`pingback channels` lists them), "
            f"or remove {a.adopt_id} to create a new channel."
        )
    if exc.reason == "taken":
        return f"To fix: keep {a.adopt_id} on one resource only; one channel, one resource."
    if exc.reason == "differs":
        return (
            "To fix: declare what PingBack holds (`pingback export` writes it, with each "  # noqa: S608
            "credential read from secret config: set those to the live values), or, to "
            "replace the live values with the declared ones on purpose, add "
            f"{a.adopt_overwrite} to this resource. Nothing was changed."
        )
    if exc.reason == "replace":
        return (
            f"To fix: declare the channel as it is, or remove {a.adopt_id}: the resource is "
            "then replaced by a new channel and the adopted one is deleted."
        )
    return f"To fix: declare the channel as it is, or remove {a.adopt_id} to create a new channel."
