"""Typed configs, one per channel type: what an editor and mypy check before any preview.

Each documented type has a class (keyword-only, every key required) and a TypedDict
for dict literals; the undocumented types (``webchat``, ``email``, ``sms``, and
``widget`` beyond its ``widget_id``) take any extra keys. ``tests/test_kinds.py``
checks that these classes match the rows of :mod:`._kinds`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal, TypedDict, Union

import pulumi

from ._types import ChannelType

__all__ = [
    "ChannelConfig",
    "ChannelTypeName",
    "EmailConfig",
    "InstagramConfig",
    "InstagramConfigDict",
    "SmsConfig",
    "TelegramConfig",
    "TelegramConfigDict",
    "WebchatConfig",
    "WhatsAppConfig",
    "WhatsAppConfigDict",
    "WidgetConfig",
    "XConfig",
    "XConfigDict",
]

ChannelTypeName = Literal[
    "webchat", "widget", "email", "whatsapp", "telegram", "instagram", "x", "sms"
]
"""The channel types, as strings (``ChannelType`` members are accepted too)."""


class _Fields:
    """A config with fixed fields (a dataclass)."""

    def to_dict(self) -> dict[str, pulumi.Input[Any]]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


class _Open:
    """A config that takes any keys (the type's config is not documented)."""

    def __init__(self, **keys: pulumi.Input[Any]) -> None:
        self._keys = dict(keys)

    def to_dict(self) -> dict[str, pulumi.Input[Any]]:
        return dict(self._keys)

    def __repr__(self) -> str:  # values may be credentials
        return f"{type(self).__name__}(keys={sorted(self._keys)})"


@dataclass(frozen=True, kw_only=True, repr=False)
class TelegramConfig(_Fields):
    """Config of a ``telegram`` channel."""

    bot_token: pulumi.Input[str]
    """The token from @BotFather, ``<bot id>:<secret>`` (stored as a secret)."""


@dataclass(frozen=True, kw_only=True, repr=False)
class _MetaFields(_Fields):
    phone_number_id: pulumi.Input[str]
    """The phone number ID from your Meta app (the channel's identity; readable)."""
    access_token: pulumi.Input[str]
    """A Meta permanent or long-lived access token (stored as a secret)."""
    verify_token: pulumi.Input[str]
    """A token you choose, used by Meta to verify the webhook (stored as a secret)."""


@dataclass(frozen=True, kw_only=True, repr=False)
class WhatsAppConfig(_MetaFields):
    """Config of a ``whatsapp`` channel."""


@dataclass(frozen=True, kw_only=True, repr=False)
class InstagramConfig(_MetaFields):
    """Config of an ``instagram`` channel (the same keys as WhatsApp)."""


@dataclass(frozen=True, kw_only=True, repr=False)
class XConfig(_Fields):
    """Config of an ``x`` channel (every key stored as a secret)."""

    api_key: pulumi.Input[str]
    """X API key."""
    api_secret: pulumi.Input[str]
    """X API secret."""
    access_token: pulumi.Input[str]
    """OAuth 1.0a access token, ``<account id>-…`` (the account id is the identity)."""
    access_token_secret: pulumi.Input[str]
    """Access token secret."""
    bearer_token: pulumi.Input[str]
    """Bearer token for read-only API access."""


class WidgetConfig(_Open):
    """Config of a ``widget`` channel: its ``widget_id``, and any other keys."""

    def __init__(self, *, widget_id: pulumi.Input[str], **extra: pulumi.Input[Any]) -> None:
        super().__init__(widget_id=widget_id, **extra)


class WebchatConfig(_Open):
    """Config of a ``webchat`` channel (undocumented: any keys, usually none)."""


class EmailConfig(_Open):
    """Config of an ``email`` channel (undocumented: any keys)."""


class SmsConfig(_Open):
    """Config of an ``sms`` channel (undocumented: any keys)."""


class TelegramConfigDict(TypedDict):
    """A ``telegram`` config as a dict literal."""

    bot_token: pulumi.Input[str]


class WhatsAppConfigDict(TypedDict):
    """A ``whatsapp`` config as a dict literal."""

    phone_number_id: pulumi.Input[str]
    access_token: pulumi.Input[str]
    verify_token: pulumi.Input[str]


class InstagramConfigDict(TypedDict):
    """An ``instagram`` config as a dict literal."""

    phone_number_id: pulumi.Input[str]
    access_token: pulumi.Input[str]
    verify_token: pulumi.Input[str]


class XConfigDict(TypedDict):
    """An ``x`` config as a dict literal."""

    api_key: pulumi.Input[str]
    api_secret: pulumi.Input[str]
    access_token: pulumi.Input[str]
    access_token_secret: pulumi.Input[str]
    bearer_token: pulumi.Input[str]


ChannelConfig = Union[  # noqa: UP007 - a runtime alias users may isinstance-check
    TelegramConfig,
    WhatsAppConfig,
    InstagramConfig,
    XConfig,
    WidgetConfig,
    WebchatConfig,
    EmailConfig,
    SmsConfig,
]
"""Any typed channel config."""

CONFIG_CLASSES: dict[str, type[_Fields] | type[_Open]] = {
    ChannelType.TELEGRAM.value: TelegramConfig,
    ChannelType.WHATSAPP.value: WhatsAppConfig,
    ChannelType.INSTAGRAM.value: InstagramConfig,
    ChannelType.X.value: XConfig,
    ChannelType.WIDGET.value: WidgetConfig,
    ChannelType.WEBCHAT.value: WebchatConfig,
    ChannelType.EMAIL.value: EmailConfig,
    ChannelType.SMS.value: SmsConfig,
}
"""The typed config class of each type (for the tests and ``pingback export``)."""
