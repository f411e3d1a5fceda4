"""The replace-vs-update policy: a table of cases for the pure ``decide``."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_pingback.channels._check import check_inputs
from pulumi_pingback.channels._diff import decide
from pulumi_pingback.channels._unknowns import UNKNOWN

from .conftest import TG, TG_OTHER_BOT, TG_ROTATED, wa_config, x_config


def outputs(channel_type: str, config: dict[str, Any], is_active: bool = True) -> dict[str, Any]:
    """Old outputs as the provider writes them (with server-added extras)."""
    inputs, problems = check_inputs(
        {"type": channel_type, "config": config, "is_active": is_active}
    )
    assert problems == []
    outs = dict(inputs, business_id="b", created_at="2024-01-15T10:30:00Z", __provider="blob")
    if channel_type in ("whatsapp", "instagram"):
        outs["meta_callback_url"] = "https://cb"
        outs["meta_verify_token"] = config["verify_token"]
    return outs


def news(channel_type: Any, config: Any, is_active: Any = True, **extra: Any) -> dict[str, Any]:
    inputs, _ = check_inputs(
        {"type": channel_type, "config": config, "is_active": is_active, **extra}
    )
    inputs["__provider"] = "another-blob"  # provider code changes never diff
    return inputs


CASES = [
    # (case, old outputs, new inputs, kind, replaces)
    (
        "nothing changed",
        outputs("telegram", {"bot_token": TG}),
        news("telegram", {"bot_token": TG}),
        "none",
        (),
    ),
    (
        "server-added keys in old config are ignored",
        {
            **outputs("whatsapp", wa_config()),
            "config": {**wa_config(), "_meta_setup_instructions": {"callback_url": "x"}},
        },
        news("whatsapp", wa_config()),
        "none",
        (),
    ),
    ("type changed", outputs("sms", {}), news("webchat", {}), "replace", ("type",)),
    (
        "another telegram bot",
        outputs("telegram", {"bot_token": TG}),
        news("telegram", {"bot_token": TG_OTHER_BOT}),
        "replace",
        ("identity",),
    ),
    (
        "telegram token rotated for the same bot",
        outputs("telegram", {"bot_token": TG}),
        news("telegram", {"bot_token": TG_ROTATED}),
        "update",
        (),
    ),
    (
        "another whatsapp number",
        outputs("whatsapp", wa_config()),
        news("whatsapp", wa_config(phone="999")),
        "replace",
        ("identity",),
    ),
    (
        "meta access token rotated",
        outputs("whatsapp", wa_config()),
        news("whatsapp", wa_config(access="EAAG-new")),
        "update",
        (),
    ),
    (
        "meta verify token changed",
        outputs("instagram", wa_config()),
        news("instagram", wa_config(verify="v2")),
        "update",
        (),
    ),
    (
        "another instagram number",
        outputs("instagram", wa_config()),
        news("instagram", wa_config(phone="77")),
        "replace",
        ("identity",),
    ),
    (
        "x keys rotated for the same account",
        outputs("x", x_config(n=1)),
        news("x", x_config(n=2)),
        "update",
        (),
    ),
    (
        "another x account",
        outputs("x", x_config(account="1")),
        news("x", x_config(account="2")),
        "replace",
        ("identity",),
    ),
    (
        "x token without an account id cannot prove another account",
        outputs("x", x_config()),
        news("x", {**x_config(), "access_token": "opaque"}),
        "update",
        (),
    ),
    ("is_active toggled", outputs("sms", {}), news("sms", {}, False), "update", ()),
    (
        "free-form config changed",
        outputs("email", {"a": "1"}),
        news("email", {"a": "2"}),
        "update",
        (),
    ),
    (
        "type and identity both changed",
        outputs("whatsapp", wa_config()),
        news("instagram", wa_config(phone="5")),
        "replace",
        ("type", "identity"),
    ),
    (
        "adopt_id added later does nothing",
        outputs("sms", {}),
        news("sms", {}, adopt_id="3fa85f64-5717-4562-b3fc-2c963f66afa6"),
        "none",
        (),
    ),
    (
        "type unknown at preview",
        outputs("sms", {}),
        news(UNKNOWN, {}),
        "replace",
        ("type", "identity"),
    ),
    (
        "telegram token unknown at preview",
        outputs("telegram", {"bot_token": TG}),
        news("telegram", {"bot_token": UNKNOWN}),
        "replace",
        ("identity",),
    ),
    (
        "whatsapp access token unknown: identity known",
        outputs("whatsapp", wa_config()),
        news("whatsapp", {**wa_config(), "access_token": UNKNOWN}),
        "update",
        (),
    ),
    ("widget config unknown", outputs("sms", {}), news("sms", UNKNOWN), "update", ()),
    ("is_active unknown", outputs("sms", {}), news("sms", {}, UNKNOWN), "update", ()),
    (
        "replace_on_changes: a listed key changed",
        outputs("whatsapp", wa_config()),
        news("whatsapp", wa_config(verify="v2"), replace_on_changes=["config.verify_token"]),
        "replace",
        ("config",),
    ),
    (
        "replace_on_changes: another key changed",
        outputs("whatsapp", wa_config()),
        news("whatsapp", wa_config(access="a2"), replace_on_changes=["config.verify_token"]),
        "update",
        (),
    ),
    (
        "replace_on_changes: bracket syntax",
        outputs("whatsapp", wa_config()),
        news("whatsapp", wa_config(verify="v2"), replace_on_changes=['config["verify_token"]']),
        "replace",
        ("config",),
    ),
    (
        "replace_on_changes: the whole config",
        outputs("email", {"a": "1"}),
        news("email", {"a": "2"}, replace_on_changes=["config"]),
        "replace",
        ("config",),
    ),
    (
        "replace_on_changes: * covers is_active",
        outputs("sms", {}),
        news("sms", {}, False, replace_on_changes=["*"]),
        "replace",
        ("is_active",),
    ),
    (
        "replace_on_changes: a key added",
        outputs("email", {"a": "1"}),
        news("email", {"a": "1", "b": "2"}, replace_on_changes=["config.b"]),
        "replace",
        ("config",),
    ),
    (
        "replace_on_changes: config unknown at preview",
        outputs("sms", {}),
        news("sms", UNKNOWN, replace_on_changes=["config.widget_id"]),
        "replace",
        ("config",),
    ),
    (
        "replace_on_changes: nothing changed",
        outputs("whatsapp", wa_config()),
        news("whatsapp", wa_config(), replace_on_changes=["*"]),
        "none",
        (),
    ),
    (
        "old state without identity (older provider) still compares",
        {k: v for k, v in outputs("telegram", {"bot_token": TG}).items() if k != "identity"},
        news("telegram", {"bot_token": TG_OTHER_BOT}),
        "replace",
        ("identity",),
    ),
]


@pytest.mark.parametrize(
    ("olds", "new", "kind", "replaces"),
    [pytest.param(o, n, k, r, id=case) for case, o, n, k, r in CASES],
)
def test_decide(
    olds: dict[str, Any], new: dict[str, Any], kind: str, replaces: tuple[str, ...]
) -> None:
    decision = decide(olds, new)
    assert decision.kind == kind
    assert decision.replaces == replaces


def test_replace_on_changes_paths_are_checked() -> None:
    _, problems = check_inputs(
        {"type": "sms", "config": {}, "replace_on_changes": ["confg.x", "config.ok", "*"]}
    )
    assert problems == [
        (
            "replace_on_changes",
            "'confg.x' names no input of a channel; did you mean 'config'? paths start with "
            "type, config or is_active (e.g. ['config.bot_token']); identity changes always "
            "replace",
        )
    ]
    _, problems = check_inputs({"type": "sms", "config": {}, "replace_on_changes": "config"})
    assert problems == [
        ("replace_on_changes", "must be a list of property paths, e.g. ['config.bot_token']")
    ]


@pytest.mark.parametrize(
    ("case", "olds", "new", "detail"),
    [
        (
            "a token rotated: the key updates in place",
            outputs("telegram", {"bot_token": TG}),
            news("telegram", {"bot_token": TG_ROTATED}),
            [(("config", "bot_token"), "update", False)],
        ),
        (
            "another bot: its key and the identity replace",
            outputs("telegram", {"bot_token": TG}),
            news("telegram", {"bot_token": TG_OTHER_BOT}),
            [(("identity",), "update", True), (("config", "bot_token"), "update", True)],
        ),
        (
            "another type: every change replaces",
            outputs("telegram", {"bot_token": TG}),
            news("widget", {"widget_id": "w"}),
            [
                (("type",), "update", True),
                (("config", "bot_token"), "delete", True),
                (("config", "widget_id"), "add", True),
            ],
        ),
        (
            "a config unknown at preview: the whole config, in place",
            outputs("telegram", {"bot_token": TG}, is_active=True),
            {**news("telegram", {"bot_token": TG}), "config": UNKNOWN, "is_active": False},
            [(("config",), "update", False), (("is_active",), "update", False)],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_decision_says_per_path_what_changes_and_what_replaces(
    case: str, olds: dict[str, Any], new: dict[str, Any], detail: list[Any]
) -> None:
    """The native provider's detailed diff is this list renamed (tests/test_native.py
    shows it through the plugin); "an identity change replaces" is decided here once."""
    decision = decide(olds, new)
    assert [(c.path, c.op, c.replace) for c in decision.detail] == detail
