"""Deliberate mistakes: mypy --strict must report an error on every marked line.

(tests/test_kinds.py runs it; the project's own mypy run skips this folder.)
"""

import pulumi

from pulumi_pingback import PingBackChannel, TelegramConfig, WhatsAppConfig, XConfig

token = pulumi.Config().require_secret("botToken")
meta = WhatsAppConfig(phone_number_id="1", access_token="a", verify_token="v")
tg = TelegramConfig(bot_token=token)
x = XConfig(
    api_key="k", api_secret="s", access_token="1-t", access_token_secret="t", bearer_token="b"
)

PingBackChannel("a", type="telegramm", config=tg)  # mistake: the type
PingBackChannel("b", type="telegram", config={"bot_tokn": token})  # mistake: a key
PingBackChannel("c", type="telegram", config=x)  # mistake: another type's config
PingBackChannel("d", type="whatsapp", config=tg)  # mistake: another type's config
PingBackChannel("e", type="instagram", config=meta)  # mistake: whatsapp's config
PingBackChannel("f", type="whatsapp", config={"phone_number_id": "1"})  # mistake: missing
PingBackChannel("g", type="telegram")  # mistake: no config
TelegramConfig(bot_tokn=token)  # mistake: an unknown field
TelegramConfig(token)  # mistake: positional
PingBackChannel("h", type="webchat", is_active="yes")  # mistake: not a bool
