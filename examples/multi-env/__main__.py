"""PingBack channels per environment: `pulumi up` in this folder, one stack per environment."""

import pulumi

from pulumi_pingback import ChannelType, PingBackChannel, TelegramConfig, WhatsAppConfig

config = pulumi.Config()
production = pulumi.get_stack() == "prod"
# Production channels cannot be deleted by accident (`pulumi destroy` refuses).
guard = pulumi.ResourceOptions(protect=production)

widget = PingBackChannel(
    "support-widget",
    type=ChannelType.WIDGET,
    config={"widget_id": config.require("widgetId")},
    opts=guard,
)
pulumi.export("widget_channel_id", widget.id)

if config.get_bool("enableMessaging"):
    bot = PingBackChannel(
        "support-bot",
        type=ChannelType.TELEGRAM,
        config=TelegramConfig(bot_token=config.require_secret("telegramBotToken")),
        opts=guard,
    )
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
    pulumi.export("telegram_bot", bot.identity)
    # Register this URL (and the verify token) in the Meta app dashboard.
    pulumi.export("meta_callback_url", whatsapp.meta_callback_url)
    pulumi.export("meta_verify_token", whatsapp.meta_verify_token)
