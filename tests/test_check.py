"""The one validator (_check), identities (_kinds), and the response model (_models)."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_pingback import Channel, ChannelType
from pulumi_pingback.channels._check import check_inputs
from pulumi_pingback.channels._kinds import channel_identity

from .conftest import TG, wa_config, x_config
from .hostile import BUSINESS, uid

SECRET = "SUPERSECRETVALUE123"

VALID = [
    {"type": "telegram", "config": {"bot_token": TG}},
    {"type": "whatsapp", "config": wa_config()},
    {"type": "instagram", "config": wa_config()},
    {"type": "x", "config": x_config()},
    {"type": "widget", "config": {"widget_id": "a5b5c5"}},
    {"type": "widget", "config": {"widget_id": "a5b5c5", "theme": "dark"}},
    {"type": "webchat", "config": {}},
    {"type": "email", "config": {"address": "help@example.com", "nested": {"a": 1}}},
    {"type": "sms", "config": {}, "is_active": False},
    {"type": "webchat"},
]


@pytest.mark.parametrize("data", VALID)
def test_valid_channels(data: dict[str, Any]) -> None:
    inputs, problems = check_inputs(data)
    assert problems == []
    assert inputs["type"] == data["type"] and inputs["config"] == data.get("config", {})


INVALID: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
    (
        {"type": "telegarm", "config": {}},
        [
            (
                "type",
                "unknown channel type 'telegarm'; did you mean 'telegram'? must be one of: "
                "webchat, widget, email, whatsapp, telegram, instagram, x, sms",
            )
        ],
    ),
    (
        {"type": 3, "config": {}},
        [("type", "must be one of: webchat, widget, email, whatsapp, telegram, instagram, x, sms")],
    ),
    (
        {"type": "telegram", "config": {"bot_tokn": SECRET}},
        [
            (
                "config.bot_tokn",
                "unknown key 'bot_tokn' for a telegram channel; did you mean "
                "'bot_token'? allowed keys: bot_token",
            ),
            ("config.bot_token", "missing: a telegram channel needs config.bot_token"),
        ],
    ),
    (
        {"type": "telegram", "config": {"bot_token": SECRET}},
        [
            (
                "config.bot_token",
                "a Telegram bot token looks like '<bot id>:<secret>' (digits, a "
                "colon, then letters, digits, '_' or '-'), as issued by @BotFather; "
                "the value given does not",
            )
        ],
    ),
    (
        {"type": "whatsapp", "config": {**wa_config(), "access_token": "  "}},
        [("config.access_token", "must not be empty; give the value or remove the key")],
    ),
    (
        {"type": "whatsapp", "config": {**wa_config(), "_meta_setup_instructions": {}}},
        [
            (
                "config._meta_setup_instructions",
                "keys starting with '_' are reserved for PingBack "
                "(it adds e.g. _meta_setup_instructions); remove '_meta_setup_instructions' from config",
            )
        ],
    ),
    (
        {"type": "widget", "config": {"widget_id": "w", "_private": "x"}},
        [
            (
                "config._private",
                "keys starting with '_' are reserved for PingBack (it adds e.g. "
                "_meta_setup_instructions); remove '_private' from config",
            )
        ],
    ),
    (
        {"type": "widget", "config": {"theme": "dark"}},
        [("config.widget_id", "missing: a widget channel needs config.widget_id")],
    ),
    (  # a type that takes more keys takes the misspelt one: its missing key says so
        {"type": "widget", "config": {"widgetid": "w-1"}},
        [
            (
                "config.widget_id",
                "missing: a widget channel needs config.widget_id (did you mean 'widgetid'? "
                "write it as 'widget_id')",
            )
        ],
    ),
    (
        {"type": "widget", "config": {"widget_id": 7}},
        [("config.widget_id", "must be a string")],
    ),
    (
        {"type": "sms", "config": {"": "x"}},
        [("config", "config keys must be non-empty strings")],
    ),
    (
        {"type": "email", "config": {"inbox": {"address": ""}}},
        [("config.inbox.address", "must not be empty; give the value or remove the key")],
    ),
    (
        {"type": "x", "config": {**x_config(), "api_key": 5}},
        [("config.api_key", "must be a string")],
    ),
    (
        {"type": "sms", "config": [], "is_active": "yes"},
        [
            ("config", "must be an object (a dict of config keys)"),
            ("is_active", "must be true or false (a boolean, not a string)"),
        ],
    ),
]


@pytest.mark.parametrize(("data", "expected"), INVALID)
def test_invalid_channels_name_the_field_and_the_fix(
    data: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    _, problems = check_inputs(data)
    assert problems == expected
    assert all(SECRET not in reason for _, reason in problems)


def test_every_problem_is_reported_at_once() -> None:
    _, problems = check_inputs({"type": "x", "config": {"api_key": "", "extra": "1"}})
    paths = [p for p, _ in problems]
    assert paths == [
        "config.api_key",
        "config.extra",
        "config.api_secret",
        "config.access_token",
        "config.access_token_secret",
        "config.bearer_token",
    ]


@pytest.mark.parametrize(
    ("channel_type", "config", "identity"),
    [
        ("telegram", {"bot_token": TG}, "telegram:bot/7123456789"),
        ("telegram", {"bot_token": "garbage"}, None),
        ("whatsapp", wa_config(phone="1098"), "whatsapp:phone/1098"),
        ("instagram", wa_config(phone="55"), "instagram:phone/55"),
        ("x", x_config(account="42"), "x:account/42"),
        ("x", {**x_config(), "access_token": "no-leading-id"}, None),
        ("widget", {"widget_id": "w"}, None),
        ("sms", {}, None),
    ],
)
def test_identity(channel_type: str, config: dict[str, Any], identity: str | None) -> None:
    assert channel_identity(channel_type, config) == identity


def test_identity_never_contains_the_secret_part() -> None:
    identity = channel_identity("telegram", {"bot_token": "123:" + SECRET})
    assert identity == "telegram:bot/123"
    identity = channel_identity("x", {"access_token": "77-" + SECRET})
    assert identity == "x:account/77"


def test_channel_response_separates_server_keys_and_tolerates_extras() -> None:
    channel = Channel.model_validate(
        {
            "id": uid(1),
            "business_id": BUSINESS,
            "type": "whatsapp",
            "config": {
                **wa_config(access=SECRET),
                "_meta_setup_instructions": {"callback_url": "https://cb", "verify_token": "v"},
            },
            "is_active": True,
            "created_at": "2024-01-15T10:30:00Z",
            "some_new_field": 1,
        }
    )
    assert channel.user_config == wa_config(access=SECRET)
    assert channel.server_config == {
        "_meta_setup_instructions": {"callback_url": "https://cb", "verify_token": "v"}
    }
    assert channel.meta_setup["callback_url"] == "https://cb"
    assert channel.identity == "whatsapp:phone/109876543210"
    assert SECRET not in repr(channel) and SECRET not in str(channel)


def test_channel_type_enum() -> None:
    assert [t.value for t in ChannelType] == [
        "webchat",
        "widget",
        "email",
        "whatsapp",
        "telegram",
        "instagram",
        "x",
        "sms",
    ]
    assert str(ChannelType.TELEGRAM) == "telegram"
