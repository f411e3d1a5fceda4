"""PingBack channels per environment: `pulumi up` in this folder, one stack per environment.

- dev: the web widget, against the bundled simulator.
- staging: adds a Telegram bot and a WhatsApp number.
- prod: every documented type: the widget, Telegram, WhatsApp, Instagram and X.

Each stack has its own bot, numbers and accounts, and its own secrets (set with
`pulumi config set --secret …` in that stack; see its Pulumi.<stack>.yaml).
"""

import pulumi

from pulumi_pingback import (
    ChannelType,
    InstagramConfig,
    PingBackChannel,
    TelegramConfig,
    WhatsAppConfig,
    WidgetConfig,
    XConfig,
)

config = pulumi.Config()
# The channel types this stack has (its Pulumi.<stack>.yaml lists them).
enabled = set(config.get_object("channels") or ["widget"])
# A stack's channels cannot be deleted by accident when its file says `protect: true`
# (`pulumi destroy` refuses until `pulumi state unprotect`); prod's does.
guard = pulumi.ResourceOptions(protect=config.get_bool("protect") or False)

if "widget" in enabled:
    widget = PingBackChannel(
        "support-widget",
        type=ChannelType.WIDGET,
        config=WidgetConfig(widget_id=config.require("widgetId")),
        opts=guard,
    )
    pulumi.export("widget_channel_id", widget.id)

if "telegram" in enabled:
    bot = PingBackChannel(
        "support-bot",
        type=ChannelType.TELEGRAM,
        config=TelegramConfig(bot_token=config.require_secret("telegramBotToken")),
        opts=guard,
    )
    pulumi.export("telegram_bot", bot.identity)

if "whatsapp" in enabled:
    whatsapp = PingBackChannel(
        "support-whatsapp",
        type=ChannelType.WHATSAPP,
        config=WhatsAppConfig(
            phone_number_id=config.require("whatsappPhoneNumberId"),
            access_token=config.require_secret("whatsappAccessToken"),
            verify_token=config.require_secret("whatsappVerifyToken"),
        ),
        opts=guard,
    )
    # Register this URL (and the verify token) in the Meta app dashboard.
    pulumi.export("meta_callback_url", whatsapp.meta_callback_url)
    pulumi.export("meta_verify_token", whatsapp.meta_verify_token)

if "instagram" in enabled:
    instagram = PingBackChannel(
        "support-instagram",
        type=ChannelType.INSTAGRAM,
        config=InstagramConfig(
            phone_number_id=config.require("instagramPhoneNumberId"),
            access_token=config.require_secret("instagramAccessToken"),
            verify_token=config.require_secret("instagramVerifyToken"),
        ),
        opts=guard,
    )
    # Register this URL (and the verify token) in the Meta app dashboard, as for WhatsApp.
    pulumi.export("instagram_callback_url", instagram.meta_callback_url)
    pulumi.export("instagram_verify_token", instagram.meta_verify_token)

if "x" in enabled:
    x = PingBackChannel(
        "support-x",
        type=ChannelType.X,
        config=XConfig(
            api_key=config.require_secret("xApiKey"),
            api_secret=config.require_secret("xApiSecret"),
            access_token=config.require_secret("xAccessToken"),
            access_token_secret=config.require_secret("xAccessTokenSecret"),
            bearer_token=config.require_secret("xBearerToken"),
        ),
        opts=guard,
    )
    pulumi.export("x_account", x.identity)
