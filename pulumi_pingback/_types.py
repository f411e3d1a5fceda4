"""Light types a Pulumi program needs (no pydantic, no httpx: cheap to import)."""

from __future__ import annotations

from enum import Enum

__all__ = ["CHANNEL_TYPES", "ChannelType"]


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
