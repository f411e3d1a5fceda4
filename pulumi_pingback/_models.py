"""Channel models: one pydantic model per channel type, a discriminated union on ``type``.

The models validate what a user declares (before any API call) and compute a channel's
*identity* — the external thing it is bound to (a Telegram bot, a WhatsApp number, an X
account). Identity is not secret; credentials are. No message produced here ever contains
a config value: only key names, types and fixes.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    TypeAdapter,
    ValidationError,
)

from ._redact import strings_in
from ._types import CHANNEL_TYPES, ChannelType

__all__ = [
    "Channel",
    "ChannelSpec",
    "ChannelType",
    "DesiredChannel",
    "InstagramChannel",
    "Problem",
    "TelegramChannel",
    "WhatsAppChannel",
    "XChannel",
    "channel_identity",
    "describe_identity",
    "split_config",
    "validate_channel",
]

Problem = tuple[str, str]
"""(property path, reason) — the shape of a Pulumi CheckFailure."""


TELEGRAM_TOKEN_RE = re.compile(r"^(\d+):[A-Za-z0-9_-]+$")
X_ACCOUNT_RE = re.compile(r"^(\d+)-")

# Config keys per documented type; email, sms, webchat and widget are free-form.
CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    "telegram": ("bot_token",),
    "whatsapp": ("phone_number_id", "access_token", "verify_token"),
    "instagram": ("phone_number_id", "access_token", "verify_token"),
    "x": ("api_key", "api_secret", "access_token", "access_token_secret", "bearer_token"),
}

NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TelegramConfigModel(_Config):
    bot_token: Annotated[NonEmptyStr, Field(pattern=TELEGRAM_TOKEN_RE.pattern)]


class MetaConfigModel(_Config):
    phone_number_id: NonEmptyStr
    access_token: NonEmptyStr
    verify_token: NonEmptyStr


class XConfigModel(_Config):
    api_key: NonEmptyStr
    api_secret: NonEmptyStr
    access_token: NonEmptyStr
    access_token_secret: NonEmptyStr
    bearer_token: NonEmptyStr


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    is_active: StrictBool = True


class TelegramChannel(_Spec):
    type: Literal["telegram"]
    config: TelegramConfigModel


class WhatsAppChannel(_Spec):
    type: Literal["whatsapp"]
    config: MetaConfigModel


class InstagramChannel(_Spec):
    type: Literal["instagram"]
    config: MetaConfigModel


class XChannel(_Spec):
    type: Literal["x"]
    config: XConfigModel


class FreeFormChannel(_Spec):
    type: Literal["email", "sms", "webchat", "widget"]
    config: dict[str, Any] = Field(default_factory=dict)


ChannelSpec = Annotated[
    Union[TelegramChannel, WhatsAppChannel, InstagramChannel, XChannel, FreeFormChannel],  # noqa: UP007
    Field(discriminator="type"),
]
_SPEC_ADAPTER: TypeAdapter[ChannelSpec] = TypeAdapter(ChannelSpec)


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? " if close else ""


def _safe_key(key: object) -> str:
    """A key name fit for a message: printable and short (keys are names, not secrets)."""
    text = str(key)
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 40 else text[:37] + "..."


def check_config_keys(channel_type: str | None, config: Mapping[Any, Any]) -> list[Problem]:
    """Reserved, unknown and empty keys; messages name keys, never values."""
    problems: list[Problem] = []
    allowed = CONFIG_KEYS.get(channel_type or "")
    for key, value in config.items():
        name = _safe_key(key)
        if not isinstance(key, str) or not key:
            problems.append(("config", "config keys must be non-empty strings"))
            continue
        if key.startswith("_"):
            problems.append(
                (
                    f"config.{name}",
                    f"keys starting with '_' are reserved for PingBack "
                    f"(it adds e.g. _meta_setup_instructions); remove '{name}' from config",
                )
            )
            continue
        if allowed is not None and key not in allowed:
            problems.append(
                (
                    f"config.{name}",
                    f"unknown key '{name}' for a {channel_type} channel; "
                    f"{_did_you_mean(key, allowed)}allowed keys: {', '.join(allowed)}",
                )
            )
            continue
        problems.extend(_check_value(f"config.{name}", value))
    if allowed is not None:
        for key in allowed:
            if key not in config:
                problems.append(
                    (f"config.{key}", f"missing: a {channel_type} channel needs config.{key}")
                )
    return problems


def _check_value(path: str, value: object) -> list[Problem]:
    if isinstance(value, str) and not value.strip():
        return [(path, "must not be empty; give the value or remove the key")]
    if isinstance(value, Mapping):
        out: list[Problem] = []
        for k, v in value.items():
            out.extend(_check_value(f"{path}.{_safe_key(k)}", v))
        return out
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            out.extend(_check_value(f"{path}[{i}]", v))
        return out
    return []


def _translate(err: Mapping[str, Any], channel_type: str) -> Problem | None:
    loc = [str(p) for p in err["loc"]]
    # The discriminated union puts the tag first: ('telegram', 'config', 'bot_token').
    if loc and loc[0] == channel_type:
        loc = loc[1:]
    path = ".".join(loc) or "config"
    kind = err["type"]
    if path.startswith("config.") and kind in ("missing", "extra_forbidden"):
        return None  # already reported by check_config_keys, with a better message
    if path == "config.bot_token" and kind == "string_pattern_mismatch":
        return (
            path,
            "a Telegram bot token looks like '<bot id>:<secret>' (digits, a colon, then "
            "letters, digits, '_' or '-'), as issued by @BotFather; the value given does not",
        )
    if kind == "string_too_short":
        return None  # empty strings are reported by check_config_keys
    if kind in ("string_type",):
        return (path, "must be a string")
    if kind in ("bool_type", "bool_parsing"):
        return (path, "must be true or false (a boolean, not a string)")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return (path, "must be an object (a dict of config keys)")
    if kind == "extra_forbidden":
        allowed = ("type", "config", "is_active")
        return (
            path,
            f"unknown property; {_did_you_mean(loc[-1], allowed)}allowed: type, config, is_active",
        )
    if kind == "missing":
        return (path, "missing")
    # Fallback: pydantic's own message, which never quotes the input value.
    return (path, str(err["msg"]))


def validate_channel(data: Mapping[str, Any]) -> tuple[ChannelSpec | None, list[Problem]]:
    """Validate declared channel inputs (``type``, ``config``, ``is_active``).

    Returns the parsed spec, or ``None`` and every problem found (property path, reason).
    """
    problems: list[Problem] = []
    raw_type = data.get("type")
    channel_type: str | None = None
    if not isinstance(raw_type, str):
        problems.append(("type", f"must be one of: {', '.join(CHANNEL_TYPES)}"))
    elif raw_type not in CHANNEL_TYPES:
        problems.append(
            (
                "type",
                f"unknown channel type '{_safe_key(raw_type)}'; {_did_you_mean(raw_type, CHANNEL_TYPES)}"
                f"must be one of: {', '.join(CHANNEL_TYPES)}",
            )
        )
    else:
        channel_type = raw_type

    config = data.get("config", {})
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        problems.append(("config", "must be an object (a dict of config keys)"))
    else:
        problems.extend(check_config_keys(channel_type, config))

    if "is_active" in data and not isinstance(data["is_active"], bool):
        problems.append(("is_active", "must be true or false (a boolean, not a string)"))

    if problems or channel_type is None:
        return None, problems

    payload = {"type": channel_type, "config": dict(config)}
    if "is_active" in data:
        payload["is_active"] = data["is_active"]
    try:
        spec = _SPEC_ADAPTER.validate_python(payload)
    except ValidationError as exc:
        for err in exc.errors(include_input=False, include_url=False):
            translated = _translate(err, channel_type)
            if translated is not None and translated not in problems:
                problems.append(translated)
        if not problems:  # pragma: no cover - every pydantic error type is translated
            problems.append(("config", "invalid"))
        return None, problems
    return spec, []


def channel_identity(channel_type: str, config: Mapping[str, Any]) -> str | None:
    """What makes a channel the same external thing, or None when nothing does.

    ``telegram:bot/<bot id>``, ``whatsapp:phone/<phone_number_id>``,
    ``instagram:phone/<phone_number_id>``, ``x:account/<account id>``.
    """
    if channel_type == "telegram":
        token = config.get("bot_token")
        if isinstance(token, str):
            m = TELEGRAM_TOKEN_RE.match(token)
            if m:
                return f"telegram:bot/{m.group(1)}"
    elif channel_type in ("whatsapp", "instagram"):
        phone = config.get("phone_number_id")
        if isinstance(phone, str) and phone:
            return f"{channel_type}:phone/{phone}"
    elif channel_type == "x":
        token = config.get("access_token")
        if isinstance(token, str):
            m = X_ACCOUNT_RE.match(token)
            if m:
                return f"x:account/{m.group(1)}"
    return None


_IDENTITY_WORDS = {
    "telegram:bot/": "Telegram bot",
    "whatsapp:phone/": "WhatsApp phone_number_id",
    "instagram:phone/": "Instagram phone_number_id",
    "x:account/": "X account",
}


def describe_identity(identity: str) -> str:
    """``telegram:bot/712`` -> ``Telegram bot 712`` (for messages)."""
    for prefix, words in _IDENTITY_WORDS.items():
        if identity.startswith(prefix):
            return f"{words} {identity[len(prefix) :]}"
    return identity


def split_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the user's keys, the server-added ``_…`` keys)."""
    user = {k: v for k, v in config.items() if not k.startswith("_")}
    server = {k: v for k, v in config.items() if k.startswith("_")}
    return user, server


class Channel(BaseModel):
    """A channel as PingBack returns it; tolerates fields the docs do not list."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str
    business_id: str | None = None
    type: str
    config: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = True
    created_at: str | None = None

    @property
    def user_config(self) -> dict[str, Any]:
        """The config keys the user declared (server-added ``_…`` keys removed)."""
        return split_config(self.config)[0]

    @property
    def server_config(self) -> dict[str, Any]:
        """The ``_…`` keys PingBack added (e.g. ``_meta_setup_instructions``)."""
        return split_config(self.config)[1]

    @property
    def identity(self) -> str | None:
        return channel_identity(self.type, self.config)

    @property
    def meta_setup(self) -> dict[str, Any]:
        value = self.config.get("_meta_setup_instructions")
        return value if isinstance(value, dict) else {}

    def __repr__(self) -> str:  # config holds credentials: never in a repr
        return f"Channel(id={self.id!r}, type={self.type!r}, is_active={self.is_active!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class DesiredChannel:
    """A channel as declared: the body of a create or update, and the test of a match."""

    type: str
    config: Mapping[str, Any] = field(default_factory=dict)
    is_active: bool = True

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "config": dict(self.config), "is_active": self.is_active}

    def matches(self, channel: Channel) -> bool:
        """PingBack holds exactly this (its own ``_…`` keys aside)."""
        return (
            channel.type == self.type
            and channel.user_config == dict(self.config)
            and channel.is_active == self.is_active
        )

    @property
    def identity(self) -> str | None:
        return channel_identity(self.type, self.config)

    def secrets(self) -> list[str]:
        """Every string in the config: each may be a credential."""
        return list(strings_in(self.config))

    def fingerprint(self) -> str:
        """A digest of type and config (identical channels share it); holds no secret."""
        canonical = json.dumps([self.type, self.config], sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def __repr__(self) -> str:  # config holds credentials: never in a repr
        return f"DesiredChannel(type={self.type!r}, is_active={self.is_active!r})"
