"""Typed configs, one per channel type: what an editor and mypy check before any preview.

Each documented type has a class (keyword-only, every key required) and a TypedDict
for dict literals; the undocumented types (``webchat``, ``email``, ``sms``, and
``widget`` beyond its ``widget_id``) take any extra keys. ``tests/test_kinds.py``
checks that these classes match the rows of :mod:`._kinds`. ``ChannelConfig({...})``
is a config of no known type, for a type known only at run time (checked at preview).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict, TypeVar

import pulumi

from ._kinds import ChannelType

__all__ = [
    "ChannelConfig",
    "ChannelTypeName",
    "ConfigFor",
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


class ChannelConfig:
    """The base of every typed config (``TelegramConfig``, ``WidgetConfig``, …), and the
    config of a type known only when the program runs.

    A value typed ``ChannelConfig`` is *some* channel's config, which one not known
    statically (a helper's parameter, say): ``PingBackChannel`` takes it with any
    ``type``, and the provider checks the pair at preview. A ``TelegramConfig`` is known
    to be Telegram's, and only ``type="telegram"`` takes it.

    ``ChannelConfig({...})`` (or ``ChannelConfig(key=value, …)``) is such a config made
    from a dict, for a type from stack config::

        PingBackChannel(
            "bot",
            type=cfg.require("type"),
            config=ChannelConfig({"bot_token": cfg.require_secret("botToken")}),
        )

    A dict literal itself is refused with a ``str`` type: a checker cannot tell
    ``type="telegramm"`` from a ``str`` variable, so taking it would let a misspelt type
    or key through unseen. ``ChannelConfig(...)`` says in the program that the keys are
    checked at preview (unknown keys refused with a did-you-mean). With a literal type,
    prefer the type's own config (``TelegramConfig``, a ``TelegramConfigDict`` literal):
    mypy checks its keys.
    """

    def __init__(
        self, keys: Mapping[str, pulumi.Input[Any]] | None = None, /, **more: pulumi.Input[Any]
    ) -> None:
        self._keys: dict[str, pulumi.Input[Any]] = {**(keys or {}), **more}

    def to_dict(self) -> dict[str, pulumi.Input[Any]]:
        """The config as the provider receives it: a dict of its keys."""
        return dict(self._keys)

    def __repr__(self) -> str:  # values may be credentials
        return f"{type(self).__name__}(keys={sorted(self.to_dict())})"

    if TYPE_CHECKING:
        # What pairs a config with its type for a type checker (no runtime existence):
        # each typed config narrows the parameter to its own type's literal (see
        # ConfigFor); here, any type.
        def _for_channel_type(self, channel_type: Any, /) -> None: ...


_T_contra = TypeVar("_T_contra", contravariant=True)


class ConfigFor(Protocol[_T_contra]):
    """A config the channel type ``_T_contra`` takes, as far as a type checker knows.

    Its parameter is contravariant: ``TelegramConfig``'s ``_for_channel_type`` takes
    ``Literal["telegram"]`` only, so it is a ``ConfigFor[Literal["telegram"]]`` and not a
    ``ConfigFor[str]``; a value typed ``ChannelConfig`` (``Any``) is a ``ConfigFor`` of
    every type. ``PingBackChannel``'s overload for what is known only at run time takes
    ``type: T, config: ConfigFor[T]``: a config with the type it is for, or one of no
    known type with any."""

    def _for_channel_type(self, channel_type: _T_contra, /) -> None: ...


class _Fields(ChannelConfig):
    """A config with fixed fields (a dataclass: its own ``__init__``)."""

    def to_dict(self) -> dict[str, pulumi.Input[Any]]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]


class _Open(ChannelConfig):
    """A config that takes any keys (the type's config is not documented)."""

    def __init__(self, **keys: pulumi.Input[Any]) -> None:
        super().__init__(keys)


@dataclass(frozen=True, kw_only=True, repr=False)
class TelegramConfig(_Fields):
    """Config of a ``telegram`` channel."""

    bot_token: pulumi.Input[str]
    """The token from @BotFather, ``<bot id>:<secret>`` (stored as a secret)."""

    if TYPE_CHECKING:

        def _for_channel_type(self, channel_type: Literal["telegram"], /) -> None: ...


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

    if TYPE_CHECKING:

        def _for_channel_type(self, channel_type: Literal["whatsapp"], /) -> None: ...


@dataclass(frozen=True, kw_only=True, repr=False)
class InstagramConfig(_MetaFields):
    """Config of an ``instagram`` channel (the same keys as WhatsApp)."""

    if TYPE_CHECKING:

        def _for_channel_type(self, channel_type: Literal["instagram"], /) -> None: ...


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

    if TYPE_CHECKING:

        def _for_channel_type(self, channel_type: Literal["x"], /) -> None: ...


class WidgetConfig(_Open):
    """Config of a ``widget`` channel: its ``widget_id``, and any other keys."""

    def __init__(self, *, widget_id: pulumi.Input[str], **extra: pulumi.Input[Any]) -> None:
        super().__init__(widget_id=widget_id, **extra)

    if TYPE_CHECKING:

        def _for_channel_type(self, channel_type: Literal["widget"], /) -> None: ...


class WebchatConfig(_Open):
    """Config of a ``webchat`` channel (undocumented: any keys, usually none)."""

    if TYPE_CHECKING:

        def _for_channel_type(self, channel_type: Literal["webchat"], /) -> None: ...


class EmailConfig(_Open):
    """Config of an ``email`` channel (undocumented: any keys)."""

    if TYPE_CHECKING:

        def _for_channel_type(self, channel_type: Literal["email"], /) -> None: ...


class SmsConfig(_Open):
    """Config of an ``sms`` channel (undocumented: any keys)."""

    if TYPE_CHECKING:

        def _for_channel_type(self, channel_type: Literal["sms"], /) -> None: ...


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
