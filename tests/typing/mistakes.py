"""Deliberate mistakes: mypy --strict must report an error on every marked line.

(tests/test_kinds.py runs it and checks what mypy says for each; the project's own mypy
run skips this folder.) The last ones are the limits of accepting what is known only when
the program runs: a checker cannot tell `type="telegramm"` from a ``str`` variable, nor a
dict literal from a dict variable, so a TelegramConfig needs a literal "telegram", a dict
with a ``str`` type needs ``ChannelConfig({...})`` (tests/typing/correct.py), and a dict
built before the call needs its TypedDict annotation (``TelegramConfigDict``).
"""

import pulumi

from pulumi_pingback import (
    ChannelType,
    ChannelTypeName,
    PingBackChannel,
    TelegramConfig,
    WhatsAppConfig,
    XConfig,
)

token = pulumi.Config().require_secret("botToken")
meta = WhatsAppConfig(phone_number_id="1", access_token="a", verify_token="v")
tg = TelegramConfig(bot_token=token)
stack_type = pulumi.Config().require("type")
x = XConfig(
    api_key="k", api_secret="s", access_token="1-t", access_token_secret="t", bearer_token="b"
)

PingBackChannel("a", type="telegramm", config=tg)  # mistake: the type
PingBackChannel("b", type="telegram", config={"bot_tokn": token})  # mistake: a key
PingBackChannel("c", type="telegram", config=x)  # mistake: x's config
PingBackChannel("d", type="whatsapp", config=tg)  # mistake: telegram's config
PingBackChannel("e", type="instagram", config=meta)  # mistake: whatsapp's config
PingBackChannel("f", type="whatsapp", config={"phone_number_id": "1"})  # mistake: missing
PingBackChannel("g", type="telegram")  # mistake: no config
TelegramConfig(bot_tokn=token)  # mistake: an unknown field
TelegramConfig(token)  # mistake: positional
PingBackChannel("h", type="webchat", is_active="yes")  # mistake: not a bool
PingBackChannel("i", type=ChannelType.TELEGRAM, config={"bot_tokn": token})  # mistake: a key (enum)
PingBackChannel("j", type=stack_type, config=tg)  # mistake: a str type, TelegramConfig
PingBackChannel("l", type=stack_type, config={"bot_token": token})  # mistake: a str type, a dict


def make(name: str, kind: ChannelTypeName) -> PingBackChannel:
    return PingBackChannel(name, type=kind, config=tg)  # mistake: kind may be another type


built = {"bot_token": token}
PingBackChannel("k", type="telegram", config=built)  # mistake: a dict variable
