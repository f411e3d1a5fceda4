"""The provider's settings: one table (:data:`TABLE`), stack config ``pingback:*`` first,
then ``PINGBACK_*``.

Each row is one setting: its stack config name, its environment variable, its schema
type and description (the native provider's config, :mod:`.channels._schema`), how the `pingback`
command names it, and the function that checks and converts it. Everything else —
:data:`SETTINGS`, the words each audience's messages use, the schema's provider inputs,
the native plugin's CheckConfig — derives from the rows; :class:`Settings` has one field
per row (a test fails until they agree). A new setting is one row, one field.

Checked whole when the provider is configured — at preview, on its first call — so a
typo or a missing token fails before anything is sent, never halfway through an ``up``.
"""

from __future__ import annotations

import difflib
import os
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import _defaults
from ._exceptions import ConfigurationError

__all__ = ["SETTINGS", "TABLE", "Setting", "Settings", "Words", "api_url_problem", "load_settings"]

AUTH_HELP = (
    "set the business owner's API token with `pulumi config set --secret pingback:token "
    "<token>` (or export PINGBACK_TOKEN)"
)
CLI_AUTH_HELP = "export PINGBACK_TOKEN=<the business owner's API token>"


@dataclass(frozen=True)
class Words:
    """How an audience names the settings, for the messages made for it."""

    names: Mapping[str, str]
    """setting (``pingback:timeout``) -> its name here"""
    auth_help: str
    """how to give the token"""


# ---- the checks, one per setting: (raw value or None, its name for the reader, words) ------


def _token(raw: str | None, name: str, words: Words) -> str:
    if not raw:
        raise ConfigurationError(f"no PingBack API token: {words.auth_help}")
    return raw


def api_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be PingBack's base URL (the words after the setting's name), or
    None. The token goes to this URL and nowhere else, so it is checked at the door:
    http(s), a host, an optional port, and nothing else — no ``user:password@`` (httpx
    would send it instead of the token), no path, query or fragment (each would
    re-route the channels' paths). Never quotes the URL: it may hold a password."""
    example = f"e.g. {_defaults.API_URL}"
    if url == "":
        return f"must not be empty: leave it unset for {_defaults.API_URL}"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return f"must not hold spaces or control characters, {example}"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"must be an http:// or https:// URL with a host, {example}"
    if "@" in parts.netloc:
        return (
            "must not hold a user name or password (user:password@): the API token is "
            f"the one credential sent, {example}"
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not one
    except ValueError:
        return f"has a port that is not a number from 0 to 65535, {example}"
    if not parts.hostname:
        return f"must be an http:// or https:// URL with a host, {example}"
    if "?" in url:
        return f"must not hold a query (?...), {example}"
    if "#" in url:
        return f"must not hold a fragment (#...), {example}"
    if parts.path.rstrip("/").endswith(("/api/v1", "/api/v1/channels")):
        return (
            "must be the API's base URL, without the /api/v1 path the provider adds, "
            f"{example} (not {_defaults.API_URL}/api/v1)"
        )
    if parts.path not in ("", "/"):
        return f"must be the API's base URL, without a path, {example}"
    return None


def _api_url(raw: str | None, name: str, words: Words) -> str:
    url = _defaults.API_URL if raw is None else raw
    problem = api_url_problem(url)
    if problem is not None:
        raise ConfigurationError(f"{name} {problem}")
    return url.rstrip("/")


def _timeout(raw: str | None, name: str, words: Words) -> float:
    try:
        timeout = float(raw) if raw else _defaults.TIMEOUT
        if not 0 < timeout <= _defaults.TIMEOUT_MAX:
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            f"{name} must be a positive number of seconds "
            f"(at most {_defaults.TIMEOUT_MAX:g}), e.g. {_defaults.TIMEOUT:g}"
        ) from None
    return timeout


def _max_retries(raw: str | None, name: str, words: Words) -> int:
    try:
        retries = int(raw) if raw else _defaults.MAX_RETRIES
        if not 0 <= retries <= _defaults.MAX_RETRIES_MAX:
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            f"{name} must be a whole number from 0 to "
            f"{_defaults.MAX_RETRIES_MAX}, e.g. {_defaults.MAX_RETRIES}"
        ) from None
    return retries


@dataclass(frozen=True)
class Setting:
    """One setting of the provider."""

    name: str
    """Its name in the stack config (``pingback:<name>``) and the native schema."""
    field: str
    """The :class:`Settings` attribute it fills."""
    env: str
    """The environment variable it falls back to."""
    spec: dict[str, Any]
    """Its schema type."""
    description: str
    parse: Callable[[str | None, str, Words], Any]
    """Checks and converts the raw value (None: not given), raising ConfigurationError."""
    secret: bool = False
    cli: str | None = None
    """How the `pingback` command names it (default: its environment variable)."""
    stand_in: str = "1"
    """A value that checks clean, judged in place of one computed at preview."""

    @property
    def key(self) -> str:
        return f"pingback:{self.name}"

    @property
    def numeric(self) -> bool:
        """Stack config gives strings; a number goes back to the engine as a number."""
        return self.spec.get("type") in ("number", "integer")


TABLE: tuple[Setting, ...] = (
    Setting(
        "token",
        "token",
        "PINGBACK_TOKEN",
        {"type": "string"},
        "The business owner's PingBack API token (`pulumi config set --secret "
        "pingback:token <token>`).",
        _token,
        secret=True,
    ),
    Setting(
        "apiUrl",
        "api_url",
        "PINGBACK_API_URL",
        {"type": "string"},
        f"The API's base URL, without a path (default {_defaults.API_URL}).",
        _api_url,
        cli="--api-url (or PINGBACK_API_URL)",
        stand_in="https://unknown.invalid",
    ),
    Setting(
        "timeout",
        "timeout",
        "PINGBACK_TIMEOUT",
        {"type": "number"},
        f"Seconds to wait for each API answer (default {_defaults.TIMEOUT:g}).",
        _timeout,
    ),
    Setting(
        "maxRetries",
        "max_retries",
        "PINGBACK_MAX_RETRIES",
        {"type": "integer"},
        f"How many times a failed call is retried (default {_defaults.MAX_RETRIES}; 429 and "
        "5xx answers, lost connections).",
        _max_retries,
    ),
)

# ---- derived from the table ------------------------------------------------------------------

SETTINGS: dict[str, str] = {s.key: s.env for s in TABLE}
"""stack config key -> environment variable."""
BY_NAME: dict[str, Setting] = {s.name: s for s in TABLE}
"""schema name (``maxRetries``) -> its row."""

PROVIDER_WORDS = Words({s.key: f"{s.key} (or {s.env})" for s in TABLE}, AUTH_HELP)
"""A Pulumi program's, and the native plugin's: stack config first, then PINGBACK_*."""
CLI_WORDS = Words({s.key: s.cli or s.env for s in TABLE}, CLI_AUTH_HELP)
"""The `pingback` command's: PINGBACK_* and ``--api-url``."""


@dataclass(frozen=True)
class Settings:
    """One field per row of :data:`TABLE`, in its order."""

    token: str
    api_url: str = _defaults.API_URL
    timeout: float = _defaults.TIMEOUT
    max_retries: int = _defaults.MAX_RETRIES

    def __repr__(self) -> str:  # never the token
        return f"Settings(api_url={self.api_url!r}, timeout={self.timeout}, max_retries={self.max_retries})"

    @property
    def connect_timeout(self) -> float:
        """How long a connection may take: the default's, or less if the timeout is."""
        return min(_defaults.CONNECT_TIMEOUT, self.timeout)


ENGINE_KEYS = ("version", "pluginDownloadURL")
"""The engine's own inputs of a provider resource: not settings, and not unknown ones."""


def from_inputs(props: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A native provider's inputs (schema names: ``maxRetries``) as :func:`load_settings`
    takes them: {``pingback:key``: value} of the settings, and every key given (the
    unknown ones are refused by name)."""
    config = {BY_NAME[k].key: v for k, v in props.items() if k in BY_NAME}
    keys = [f"pingback:{k}" for k in props if k not in ENGINE_KEYS]
    return config, keys


def _value(config: Mapping[str, Any], key: str, environ: Mapping[str, str]) -> str | None:
    """The value of the first source that gives one (stack config, then the
    environment), empty or not: an explicit ``""`` is what was asked (an empty token or
    API URL is an error, not a fallback to the default); None when neither does."""
    value = config.get(key)
    if value is None:
        value = environ.get(SETTINGS[key])
    return None if value is None else str(value)


def _unknown_keys(keys: Iterable[str], project: str | None) -> None:
    if project == "pingback":  # the project's own config shares the namespace
        return
    names = [s.name for s in TABLE]
    for key in sorted(keys):
        if not key.startswith("pingback:") or key in SETTINGS:
            continue
        name = key.split(":", 1)[1]
        by_case = [n for n in names if n.lower() == name.lower()]
        close = by_case or difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        hint = f"did you mean pingback:{close[0]}? " if close else ""
        raise ConfigurationError(
            f"unknown setting {key!s}: {hint}the pingback: settings are "
            f"{', '.join(SETTINGS)} (remove it with `pulumi config rm {key}`)"
        )


def load_settings(
    config: Mapping[str, Any],
    *,
    keys: Iterable[str] = (),
    project: str | None = None,
    environ: Mapping[str, str] | None = None,
    cli: bool = False,
) -> Settings:
    """Settings from stack config (``config``), then the environment; every problem is
    a ConfigurationError that names the setting and the fix. ``keys``: every config key
    of the stack (to catch typos in the pingback: namespace). ``cli``: for the `pingback`
    command, whose settings are PINGBACK_* and ``--api-url``."""
    words = CLI_WORDS if cli else PROVIDER_WORDS
    env = os.environ if environ is None else environ
    _unknown_keys(keys, project)
    values = {
        s.field: s.parse(_value(config, s.key, env), words.names[s.key], words) for s in TABLE
    }
    return Settings(**values)
