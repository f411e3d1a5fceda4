"""Declare PingBack messaging channels as code with Pulumi.

import pulumi
from pulumi_pingback import PingBackChannel, TelegramConfig

bot = PingBackChannel(
    "support-bot",
    type="telegram",
    config=TelegramConfig(bot_token=pulumi.Config().require_secret("botToken")),
)
"""

from ._client import DEFAULT_API_URL, PingBackClient
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
from ._models import Channel, ChannelType
from ._provider import PingBackChannelProvider
from ._resource import (
    InstagramConfig,
    PingBackChannel,
    TelegramConfig,
    WhatsAppConfig,
    XConfig,
)
from ._version import __version__

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
