"""Correct uses of the typed API: mypy --strict reports nothing here."""

import pulumi

from pulumi_pingback import (
    ChannelConfig,
    ChannelType,
    ChannelTypeName,
    EmailConfig,
    InstagramConfig,
    PingBackChannel,
    SmsConfig,
    TelegramConfig,
    TelegramConfigDict,
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


# What is known only when the program runs is accepted (the provider checks it at preview):
def make(name: str, kind: ChannelTypeName, cfg: ChannelConfig) -> PingBackChannel:
    return PingBackChannel(name, type=kind, config=cfg)


def from_stack_config(cfg: ChannelConfig) -> None:
    PingBackChannel("n", type=config.require("type"), config=cfg)
    PingBackChannel("o", type=ChannelType(config.require("type")), config=cfg)
    PingBackChannel("p", type="telegram", config=cfg)


make("q", "telegram", TelegramConfig(bot_token=token))
make("r", "widget", WidgetConfig(widget_id="w"))
PingBackChannel("s", type=config.require("type"), config=config.require_object("channel"))
# A dict with a str type: ChannelConfig(...) says its keys are checked at preview.
PingBackChannel("s2", type=config.require("type"), config=ChannelConfig({"bot_token": token}))
PingBackChannel("s3", type=config.require("type"), config=ChannelConfig(widget_id="w"))
PingBackChannel("t", type=config.require("type"), config=config.require_secret_object("c"))
kind = ChannelType(config.require("type"))
PingBackChannel("u", type=kind, config=pulumi.Output.from_input({"bot_token": token}))
PingBackChannel("v", type="telegram", config=pulumi.Output.from_input({"bot_token": token}))
# A dict built before the call: annotated, its keys are checked.
built: TelegramConfigDict = {"bot_token": token}
PingBackChannel("w", type="telegram", config=built)
