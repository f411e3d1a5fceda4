"""Declare PingBack messaging channels as code with Pulumi.

import pulumi
from pulumi_pingback import PingBackChannel, TelegramConfig

bot = PingBackChannel(
    "support-bot",
    type="telegram",
    config=TelegramConfig(bot_token=pulumi.Config().require_secret("botToken")),
)
"""

from typing import TYPE_CHECKING, Any

from ._exceptions import (
    AdoptionError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChannelValidationError,
    ConfigurationError,
    InternalServerError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PingBackError,
    PlanLimitError,
    RateLimitError,
)
from ._provider import PingBackChannelProvider
from ._resource import (
    InstagramConfig,
    PingBackChannel,
    TelegramConfig,
    WhatsAppConfig,
    XConfig,
)
from ._types import ChannelType
from ._version import __version__

if TYPE_CHECKING:
    from ._client import DEFAULT_API_URL, PingBackClient
    from ._models import Channel

_LAZY = {"PingBackClient": "_client", "DEFAULT_API_URL": "_client", "Channel": "_models"}


def __getattr__(name: str) -> Any:
    """The client and response model load on first use (httpx and pydantic cost ~100 ms)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_pingback' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"pulumi_pingback.{module}"), name)


__all__ = [
    "DEFAULT_API_URL",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AdoptionError",
    "AuthenticationError",
    "BadRequestError",
    "Channel",
    "ChannelType",
    "ChannelValidationError",
    "ConfigurationError",
    "InstagramConfig",
    "InternalServerError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PingBackChannel",
    "PingBackChannelProvider",
    "PingBackClient",
    "PingBackError",
    "PlanLimitError",
    "RateLimitError",
    "TelegramConfig",
    "WhatsAppConfig",
    "XConfig",
    "__version__",
]
