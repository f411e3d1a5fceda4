"""The PingBack channels of one business, as code.

Made by `pingback export` on 2026-12-02. Every channel is declared with adopt_id:
the first `pulumi up` adopts it, with no write when PingBack holds what is
declared (a difference is refused, naming the keys), and the next one changes
nothing. Set the credentials to the live values first: STACK-CONFIG.md lists the
`pulumi config set --secret` commands to run.

Each is protected (protect=True): PingBack's delete cannot be undone, so
`pulumi destroy` refuses until `pulumi state unprotect`.
"""

import pulumi
from pulumi_pingback import PingBackChannel, TelegramConfig, WhatsAppConfig

config = pulumi.Config()

telegram_bot_7000000042 = PingBackChannel(
    "telegram-bot-7000000042",
    type="telegram",
    config=TelegramConfig(
        bot_token=config.require_secret("telegramBot7000000042BotToken"),
    ),
    adopt_id="0b6f0c1e-4a21-4c57-9a0e-1f2d3c4b5a61",
    opts=pulumi.ResourceOptions(protect=True),
)

whatsapp_phone_109876543210 = PingBackChannel(
    "whatsapp-phone-109876543210",
    type="whatsapp",
    config=WhatsAppConfig(
        phone_number_id="109876543210",
        access_token=config.require_secret("whatsappPhone109876543210AccessToken"),
        verify_token=config.require_secret("whatsappPhone109876543210VerifyToken"),
    ),
    adopt_id="6c2d9f3a-8b1e-4f70-a5c4-2e9d8b7a6c52",
    opts=pulumi.ResourceOptions(protect=True),
)

widget_5d4c3b2a_1908_4f7e_8d6c = PingBackChannel(
    "widget-5d4c3b2a-1908-4f7e-8d6c",
    type="widget",
    config={"widget_id": "5d4c3b2a-1908-4f7e-8d6c-5b4a39281706"},
    adopt_id="9e8d7c6b-5a49-4382-b1c0-3f4e5d6c7b83",
    opts=pulumi.ResourceOptions(protect=True),
)
