"""Correct uses of the typed API: mypy --strict reports nothing here."""

import pulumi

from pulumi_pingback import (
    ChannelType,
    EmailConfig,
    InstagramConfig,
    PingBackChannel,
    SmsConfig,
    TelegramConfig,
    WebchatConfig,
    WhatsAppConfig,
    WidgetConfig,
    XConfig,
)

config = pulumi.Config()
token = config.require_secret("botToken")

PingBackChannel("a", type="telegram", config=TelegramConfig(bot_token=token))
PingBackChannel("b", type=ChannelType.TELEGRAM, config={"bot_token": token})
PingBackChannel(
    "c",
    type="whatsapp",
    config=WhatsAppConfig(phone_number_id="1", access_token=token, verify_token="v"),
)
PingBackChannel(
    "d",
    type="instagram",
    config={"phone_number_id": "1", "access_token": token, "verify_token": "v"},
)
PingBackChannel(
    "e",
    type="instagram",
    config=InstagramConfig(phone_number_id="1", access_token="a", verify_token="v"),
)
PingBackChannel(
    "f",
    type="x",
    config=XConfig(
        api_key="k", api_secret="s", access_token="1-t", access_token_secret="t", bearer_token="b"
    ),
)
PingBackChannel("g", type="widget", config=WidgetConfig(widget_id="w", theme="dark"))
PingBackChannel("h", type="widget", config={"widget_id": "w"})
PingBackChannel("i", type="webchat")
PingBackChannel("j", type="email", config=EmailConfig(address="help@example.com"))
PingBackChannel("k", type="sms", config=SmsConfig(), is_active=False)
PingBackChannel("l", type=ChannelType.WEBCHAT, config=WebchatConfig())
PingBackChannel("m", type=config.require_secret("type"), config={"anything": "goes"})
