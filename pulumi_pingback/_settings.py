"""The provider's settings: stack config ``pingback:*`` first, then ``PINGBACK_*``.

Checked whole when the provider is configured — at preview, on its first call — so a
typo or a missing token fails before anything is sent, never halfway through an ``up``.
"""

from __future__ import annotations

import difflib
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import _defaults
from ._exceptions import ConfigurationError

__all__ = ["SETTINGS", "Settings", "load_settings"]


SETTINGS = {
    # stack config key: environment variable
    "pingback:token": "PINGBACK_TOKEN",
    "pingback:apiUrl": "PINGBACK_API_URL",
    "pingback:timeout": "PINGBACK_TIMEOUT",
    "pingback:maxRetries": "PINGBACK_MAX_RETRIES",
}

AUTH_HELP = (
    "set the business owner's API token with `pulumi config set --secret pingback:token "
    "<token>` (or export PINGBACK_TOKEN)"
)
CLI_AUTH_HELP = "export PINGBACK_TOKEN=<the business owner's API token>"


@dataclass(frozen=True)
class Words:
    """How an audience names the settings, for the messages made for it."""

    names: Mapping[str, str]
    """setting -> its name here"""
    auth_help: str
    """how to give the token"""


PROVIDER_WORDS = Words({key: f"{key} (or {env})" for key, env in SETTINGS.items()}, AUTH_HELP)
"""A Pulumi program's, and the native plugin's: stack config first, then PINGBACK_*."""
CLI_WORDS = Words(
    {
        "pingback:token": "PINGBACK_TOKEN",
        "pingback:apiUrl": "--api-url (or PINGBACK_API_URL)",
        "pingback:timeout": "PINGBACK_TIMEOUT",
        "pingback:maxRetries": "PINGBACK_MAX_RETRIES",
    },
    CLI_AUTH_HELP,
)
"""The `pingback` command's: PINGBACK_* and ``--api-url``."""


@dataclass(frozen=True)
class Settings:
    token: str
    api_url: str = _defaults.API_URL
    timeout: float = _defaults.TIMEOUT
    max_retries: int = _defaults.MAX_RETRIES

    def __repr__(self) -> str:  # never the token
        return f"Settings(api_url={self.api_url!r}, timeout={self.timeout}, max_retries={self.max_retries})"


def _value(config: Mapping[str, Any], key: str, environ: Mapping[str, str]) -> str | None:
    value = config.get(key)
    if value is None or value == "":
        value = environ.get(SETTINGS[key])
    return None if value is None or value == "" else str(value)


def _unknown_keys(keys: Iterable[str], project: str | None) -> None:
    if project == "pingback":  # the project's own config shares the namespace
        return
    names = [k.split(":", 1)[1] for k in SETTINGS]
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


def _api_url(raw: str | None, words: Words) -> str:
    url = (raw or _defaults.API_URL).rstrip("/")
    parts = urllib.parse.urlsplit(url)
    where = words.names["pingback:apiUrl"]
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{where} must be an http:// or https:// URL with a host, e.g. {_defaults.API_URL}"
        )
    if parts.path.rstrip("/").endswith(("/api/v1", "/api/v1/channels")):
        raise ConfigurationError(
            f"{where} must be the API's base URL, without the /api/v1 path the provider "
            f"adds, e.g. {_defaults.API_URL} (not {_defaults.API_URL}/api/v1)"
        )
    return url


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
    token = _value(config, "pingback:token", env)
    if token is None:
        raise ConfigurationError(f"no PingBack API token: {words.auth_help}")
    url = _api_url(_value(config, "pingback:apiUrl", env), words)
    raw_timeout = _value(config, "pingback:timeout", env)
    try:
        timeout = float(raw_timeout) if raw_timeout is not None else _defaults.TIMEOUT
        if not 0 < timeout <= _defaults.TIMEOUT_MAX:
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            f"{words.names['pingback:timeout']} must be a positive number of seconds "
            f"(at most {_defaults.TIMEOUT_MAX:g}), e.g. {_defaults.TIMEOUT:g}"
        ) from None
    raw_retries = _value(config, "pingback:maxRetries", env)
    try:
        retries = int(raw_retries) if raw_retries is not None else _defaults.MAX_RETRIES
        if not 0 <= retries <= _defaults.MAX_RETRIES_MAX:
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            f"{words.names['pingback:maxRetries']} must be a whole number from 0 to "
            f"{_defaults.MAX_RETRIES_MAX}, e.g. {_defaults.MAX_RETRIES}"
        ) from None
    return Settings(token, url, timeout, retries)
