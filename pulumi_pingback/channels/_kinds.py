"""One row per channel type — everything else is derived from this table.

A row says: the config keys PingBack documents for the type (all required), whether it
accepts keys beyond them, which keys are credentials, the key a channel's *identity*
comes from (the external thing it is bound to) and how to read it, the formats some
keys must have, and whether PingBack adds Meta setup instructions. From the rows come
the validation (``_check``), the identity and the replace policy (``_diff``), the
sealing of secrets (``_results``), the outputs, the typed config classes (checked
against the rows by ``tests/test_kinds.py``), ``pingback export`` and the schema of the
native provider. Adding a channel type is adding a row (and its typed config class).

Light on purpose (no pydantic, no httpx): a Pulumi program imports it on every preview.
The simulator keeps its own, independent copy of PingBack's rules, on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .._untrusted import inert

__all__ = [
    "CHANNEL_TYPES",
    "KINDS",
    "ChannelType",
    "KeyFormat",
    "Kind",
    "a_channel",
    "channel_identity",
    "describe_identity",
    "kind_of",
    "kind_of_identity",
]


class ChannelType(str, Enum):
    """The channel types PingBack documents."""

    WEBCHAT = "webchat"
    WIDGET = "widget"
    EMAIL = "email"
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    INSTAGRAM = "instagram"
    X = "x"
    SMS = "sms"

    def __str__(self) -> str:
        return self.value


CHANNEL_TYPES: tuple[str, ...] = tuple(t.value for t in ChannelType)


@dataclass(frozen=True)
class KeyFormat:
    """A shape a config value must have; ``hint`` says it without quoting the value."""

    pattern: str
    hint: str

    def matches(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None


@dataclass(frozen=True)
class Kind:
    """A channel type as PingBack documents it."""

    type: str
    keys: tuple[str, ...] = ()
    """Documented config keys, all required, in order."""
    free_keys: bool = False
    """Accepts keys beyond ``keys`` (the type's config is not, or not fully, documented);
    any such key may hold a credential, so each is kept secret (and the whole config of a
    type that documents no key: :func:`._results.sealed_config_keys`)."""
    credentials: tuple[str, ...] = ()
    """Keys whose values are credentials."""
    identity_key: str | None = None
    """The key a channel's identity comes from, if any."""
    identity_pattern: str = r"(.+)"
    """A regex over that key's value; its first group is the identity (no match: none)."""
    identity_label: str = ""
    """``telegram:bot`` — identities read ``telegram:bot/<id>``."""
    identity_words: str = ""
    """``Telegram bot`` — for messages: ``Telegram bot 7123456789``."""
    one_channel_per_identity: str = ""
    """Why two channels on one identity silence one another (for messages)."""
    formats: Mapping[str, KeyFormat] = field(default_factory=dict)
    meta_setup: bool = False
    """PingBack adds ``_meta_setup_instructions`` (a callback URL and verify token)."""
    summary: str = ""
    config_name: str = ""
    """The name of the type's typed config (the Python class, the native schema's object
    type); empty for the undocumented types, whose config is free."""
    key_docs: Mapping[str, str] = field(default_factory=dict)
    """What each documented key is, as PingBack's documentation says (descriptions)."""

    def credential(self, key: str) -> bool:
        """Whether a key's value may be a credential, kept secret in the state: a
        documented credential, or any key the docs do not describe. Every other key
        (``phone_number_id``, ``widget_id``) is shown in plain text (state, previews)."""
        return key in self.credentials or key not in self.keys

    def identity(self, config: Mapping[str, Any]) -> str | None:
        if self.identity_key is None:
            return None
        value = config.get(self.identity_key)
        if not isinstance(value, str) or not value:
            return None
        match = re.match(self.identity_pattern, value)
        return f"{self.identity_label}/{match.group(1)}" if match else None


_META = ("phone_number_id", "access_token", "verify_token")
_META_DOCS = {
    "phone_number_id": "The phone number ID from your Meta app: the channel's identity "
    "(readable in previews).",
    "access_token": "Your Meta permanent or long-lived access token.",
    "verify_token": "A token you choose, with which Meta verifies the webhook.",
}
_X = ("api_key", "api_secret", "access_token", "access_token_secret", "bearer_token")

KINDS: dict[str, Kind] = {
    k.type: k
    for k in (
        Kind(
            ChannelType.TELEGRAM.value,
            keys=("bot_token",),
            credentials=("bot_token",),
            identity_key="bot_token",
            identity_pattern=r"(\d+):",
            identity_label="telegram:bot",
            identity_words="Telegram bot",
            one_channel_per_identity="Telegram keeps one webhook per bot",
            formats={
                "bot_token": KeyFormat(
                    r"\d+:[A-Za-z0-9_-]+",
                    "a Telegram bot token looks like '<bot id>:<secret>' (digits, a colon, then "
                    "letters, digits, '_' or '-'), as issued by @BotFather; the value given "
                    "does not",
                )
            },
            summary="A Telegram bot (PingBack registers its webhook).",
            config_name="TelegramConfig",
            key_docs={
                "bot_token": "The bot's token from @BotFather, `<bot id>:<secret>`; PingBack "
                "registers the bot's webhook with it. The bot id is the channel's identity."
            },
        ),
        Kind(
            ChannelType.WHATSAPP.value,
            keys=_META,
            credentials=("access_token", "verify_token"),
            identity_key="phone_number_id",
            identity_label="whatsapp:phone",
            identity_words="WhatsApp phone_number_id",
            one_channel_per_identity="Meta delivers a number's messages to one callback",
            meta_setup=True,
            summary="A WhatsApp Business number (Meta Cloud API).",
            config_name="WhatsAppConfig",
            key_docs=_META_DOCS,
        ),
        Kind(
            ChannelType.INSTAGRAM.value,
            keys=_META,
            credentials=("access_token", "verify_token"),
            identity_key="phone_number_id",
            identity_label="instagram:phone",
            identity_words="Instagram phone_number_id",
            one_channel_per_identity="Meta delivers a number's messages to one callback",
            meta_setup=True,
            summary="An Instagram account (Meta; the same config as WhatsApp).",
            config_name="InstagramConfig",
            key_docs=_META_DOCS,
        ),
        Kind(
            ChannelType.X.value,
            keys=_X,
            credentials=_X,
            identity_key="access_token",
            identity_pattern=r"(\d+)-",
            identity_label="x:account",
            identity_words="X account",
            one_channel_per_identity="X delivers an account's events to one webhook",
            summary="An X (Twitter) account (OAuth 1.0a keys and a bearer token).",
            config_name="XConfig",
            key_docs={
                "api_key": "X (Twitter) API key.",
                "api_secret": "X API secret.",
                "access_token": "The OAuth 1.0a access token of the account, `<account id>-…`; "
                "the account id is the channel's identity.",
                "access_token_secret": "The access token's secret.",
                "bearer_token": "Bearer token for read-only API access.",
            },
        ),
        Kind(
            ChannelType.WIDGET.value,
            keys=("widget_id",),
            free_keys=True,
            summary="The web widget (made with POST /api/v1/widget/create); more keys allowed.",
            config_name="WidgetConfig",
            key_docs={
                "widget_id": "The widget's id, from `POST /api/v1/widget/create` (one widget "
                "per domain)."
            },
        ),
        Kind(
            ChannelType.WEBCHAT.value,
            free_keys=True,
            summary="Web chat (configured in the dashboard).",
        ),
        Kind(ChannelType.EMAIL.value, free_keys=True, summary="Email (undocumented config)."),
        Kind(ChannelType.SMS.value, free_keys=True, summary="SMS (undocumented config)."),
    )
}


def a_channel(channel_type: str) -> str:
    """``a telegram channel``, ``an sms channel``, ``an x channel`` (for messages)."""
    article = "an" if channel_type[:1] in "aeiosx" and channel_type != "" else "a"
    return f"{article} {channel_type} channel"


def kind_of(channel_type: object) -> Kind | None:
    return KINDS.get(channel_type) if isinstance(channel_type, str) else None


def channel_identity(channel_type: object, config: Any) -> str | None:
    """What makes a channel the same external thing, or None when nothing does.

    ``telegram:bot/<bot id>``, ``whatsapp:phone/<phone_number_id>``,
    ``instagram:phone/<phone_number_id>``, ``x:account/<account id>``. Never a secret
    part: the bot id and the X account id are the public prefixes of their tokens.
    """
    kind = kind_of(channel_type)
    if kind is None or not isinstance(config, Mapping):
        return None
    return kind.identity(config)


def kind_of_identity(identity: str) -> Kind | None:
    label = identity.partition("/")[0]
    return next((k for k in KINDS.values() if k.identity_label == label), None)


def describe_identity(identity: str) -> str:
    """``telegram:bot/712`` -> ``Telegram bot 712`` (for messages: inert, since a
    phone_number_id is whatever PingBack stores)."""
    kind = kind_of_identity(identity)
    return inert(f"{kind.identity_words} {identity.partition('/')[2]}" if kind else identity)
