"""The provider's settings: stack config ``pingback:*`` first, then ``PINGBACK_*``.

Checked whole when the provider is configured — at preview, on its first call — so a
typo or a missing token fails before anything is sent, never halfway through an ``up``.
"""

from __future__ import annotations

import difflib
import os
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._exceptions import ConfigurationError

__all__ = ["SETTINGS", "Settings", "load_settings"]

DEFAULT_API_URL = "https://api.pingback.live"

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


@dataclass(frozen=True)
class Settings:
    token: str
    api_url: str = DEFAULT_API_URL
    timeout: float = 30.0
    max_retries: int = 3

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


def _api_url(raw: str | None) -> str:
    url = (raw or DEFAULT_API_URL).rstrip("/")
    parts = urllib.parse.urlsplit(url)
    where = "pingback:apiUrl (or PINGBACK_API_URL)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{where} must be an http:// or https:// URL with a host, e.g. {DEFAULT_API_URL}"
        )
    if parts.path.rstrip("/").endswith(("/api/v1", "/api/v1/channels")):
        raise ConfigurationError(
            f"{where} must be the API's base URL, without the /api/v1 path the provider "
            f"adds, e.g. {DEFAULT_API_URL} (not {DEFAULT_API_URL}/api/v1)"
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
    try:
        return _load(config, keys, project, os.environ if environ is None else environ)
    except ConfigurationError as exc:
        if not cli:
            raise
        message = exc.message.replace(f"no PingBack API token: {AUTH_HELP}", CLI_NO_TOKEN)
        message = message.replace(
            "pingback:apiUrl (or PINGBACK_API_URL)", "--api-url (or PINGBACK_API_URL)"
        )
        message = re.sub(r"pingback:\w+ \((or PINGBACK_\w+)\)", lambda m: m.group(1)[3:], message)
        raise ConfigurationError(message) from None


CLI_NO_TOKEN = "no PingBack API token: export PINGBACK_TOKEN=<the business owner's API token>"  # noqa: S105


def _load(
    config: Mapping[str, Any], keys: Iterable[str], project: str | None, env: Mapping[str, str]
) -> Settings:
    _unknown_keys(keys, project)
    token = _value(config, "pingback:token", env)
    if token is None:
        raise ConfigurationError(f"no PingBack API token: {AUTH_HELP}")
    url = _api_url(_value(config, "pingback:apiUrl", env))
    raw_timeout = _value(config, "pingback:timeout", env)
    try:
        timeout = float(raw_timeout) if raw_timeout is not None else 30.0
        if not 0 < timeout <= 3600:
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            "pingback:timeout (or PINGBACK_TIMEOUT) must be a positive number of seconds "
            "(at most 3600), e.g. 30"
        ) from None
    raw_retries = _value(config, "pingback:maxRetries", env)
    try:
        retries = int(raw_retries) if raw_retries is not None else 3
        if not 0 <= retries <= 20:
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            "pingback:maxRetries (or PINGBACK_MAX_RETRIES) must be a whole number from 0 to "
            "20, e.g. 3"
        ) from None
    return Settings(token, url, timeout, retries)
