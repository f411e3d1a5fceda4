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
    AmbiguousCreateError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChannelNotFoundError,
    ChannelValidationError,
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
    ResponseTooLargeError,
    TimeLimitError,
)
from ._version import __version__
from .channels._configs import (
    ChannelConfig,
    ChannelTypeName,
    EmailConfig,
    InstagramConfig,
    InstagramConfigDict,
    SmsConfig,
    TelegramConfig,
    TelegramConfigDict,
    WebchatConfig,
    WhatsAppConfig,
    WhatsAppConfigDict,
    WidgetConfig,
    XConfig,
    XConfigDict,
)
from .channels._kinds import ChannelType
from .dynamic._functions import ChannelInfo, get_channel, get_channels
from .dynamic._provider import PingBackChannelProvider
from .dynamic._resource import PingBackChannel

if TYPE_CHECKING:
    from .channels._models import Channel, DesiredChannel
    from .client._client import DEFAULT_API_URL, PingBackClient

_LAZY = {
    "PingBackClient": "client._client",
    "DEFAULT_API_URL": "client._client",
    "Channel": "channels._models",
    "DesiredChannel": "channels._models",
}


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
    "AmbiguousCreateError",
    "AuthenticationError",
    "BadRequestError",
    "Channel",
    "ChannelConfig",
    "ChannelInfo",
    "ChannelNotFoundError",
    "ChannelType",
    "ChannelTypeName",
    "ChannelValidationError",
    "ConfigurationError",
    "DesiredChannel",
    "EmailConfig",
    "IdentityConflictError",
    "InstagramConfig",
    "InstagramConfigDict",
    "InternalServerError",
    "InvalidResponseError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PingBackChannel",
    "PingBackChannelProvider",
    "PingBackClient",
    "PingBackError",
    "PlanLimitError",
    "RateLimitError",
    "RedirectError",
    "ResponseTooLargeError",
    "SmsConfig",
    "TelegramConfig",
    "TelegramConfigDict",
    "TimeLimitError",
    "WebchatConfig",
    "WhatsAppConfig",
    "WhatsAppConfigDict",
    "WidgetConfig",
    "XConfig",
    "XConfigDict",
    "__version__",
    "get_channel",
    "get_channels",
]
