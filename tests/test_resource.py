"""PingBackChannel, the typed front, under pulumi.runtime.set_mocks."""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from pulumi_pingback import ChannelType, PingBackChannel, TelegramConfig, WhatsAppConfig, XConfig

registered: list[pulumi.runtime.MockResourceArgs] = []


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        registered.append(args)
        outs = {k: v for k, v in args.inputs.items() if k != "__provider"}
        outs["identity"] = "telegram:bot/1"
        outs["business_id"] = "biz"
        return f"{args.name}-id", outs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


@pytest.fixture(autouse=True)
def mocks() -> None:
    registered.clear()
    pulumi.runtime.set_mocks(Mocks(), preview=False)


@pulumi.runtime.test
def test_typed_config_enum_type_and_outputs() -> Any:
    token = pulumi.Output.secret("1:abc")
    channel = PingBackChannel(
        "bot", type=ChannelType.TELEGRAM, config=TelegramConfig(bot_token=token)
    )

    def check(values: list[Any]) -> None:
        type_, config, active, identity, business, cid = values
        assert (type_, config, active, identity, business, cid) == (
            "telegram",
            {"bot_token": "1:abc"},
            True,
            "telegram:bot/1",
            "biz",
            "bot-id",
        )
        args = registered[0]
        assert args.typ == "pulumi-python:dynamic/pingback:Channel"
        assert args.inputs["type"] == "telegram"
        assert rpc.is_rpc_secret(args.inputs["config"]) or rpc.is_rpc_secret(
            args.inputs["config"].get("bot_token")
        )
        blob = rpc.unwrap_rpc_secret(args.inputs["__provider"])
        assert len(base64.b64decode(blob)) <= 100

    return pulumi.Output.all(
        channel.type,
        channel.config,
        channel.is_active,
        channel.identity,
        channel.business_id,
        channel.id,
    ).apply(check)


def _value_and_secrecy(output: pulumi.Output[Any]) -> pulumi.Output[tuple[Any, bool]]:
    """An Output's value with whether it is secret, for a test to assert on both inside
    its apply (what ``@pulumi.runtime.test`` awaits: an assertion there fails the test)."""
    secret: pulumi.Output[bool] = pulumi.Output.from_input(
        asyncio.ensure_future(output.is_secret())
    )
    return pulumi.Output.all(output, secret).apply(lambda pair: (pair[0], pair[1]))


@pulumi.runtime.test
def test_config_output_is_secret_even_from_plain_inputs() -> Any:
    """Credentials given as plain text are registered as secrets, so the config that holds
    them is a secret Output (under mocks the outputs echo the registered inputs; the
    provider seals its outputs by the same rule); a widget's config, which holds no
    credential, is none."""
    wa = PingBackChannel(
        "wa",
        type="whatsapp",
        config=WhatsAppConfig(phone_number_id="1", access_token="plain", verify_token="v"),
    )
    widget = PingBackChannel("w", type="widget", config={"widget_id": "w1"})

    def check(values: list[Any]) -> None:
        (wa_config, wa_secret), (widget_config, widget_secret) = values
        assert wa_config == {"phone_number_id": "1", "access_token": "plain", "verify_token": "v"}
        assert wa_secret is True
        assert widget_config == {"widget_id": "w1"}
        assert widget_secret is False
        # Registered: the mocks see a map holding a secret as one secret (the SDK lifts it
        # when it reads the wire; tests/test_secrets.py reads the raw registration).
        sent = {args.name: args.inputs["config"] for args in registered}
        assert rpc.is_rpc_secret(sent["wa"]) and rpc.unwrap_rpc_secret(sent["wa"]) == wa_config
        assert sent["w"] == {"widget_id": "w1"}
        # nor is the pickled provider, which holds none: a widget registers no secret at all
        assert not [a.name for a in registered if rpc.is_rpc_secret(a.inputs["__provider"])]

    return pulumi.Output.all(
        _value_and_secrecy(wa.config), _value_and_secrecy(widget.config)
    ).apply(check)


def test_typed_config_classes_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        TelegramConfig("1:abc")  # type: ignore[call-arg]
    x = XConfig(
        api_key="k", api_secret="s", access_token="1-t", access_token_secret="ts", bearer_token="b"
    )
    assert x.to_dict() == {
        "api_key": "k",
        "api_secret": "s",
        "access_token": "1-t",
        "access_token_secret": "ts",
        "bearer_token": "b",
    }


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pulumi.runtime.test
def test_ignore_changes_on_identity_warns_that_it_does_nothing() -> Any:
    records = _Records()
    logging.getLogger().addHandler(records)
    channel = PingBackChannel(
        "bot",
        type="telegram",
        config=TelegramConfig(bot_token="1:abc"),
        opts=pulumi.ResourceOptions(ignore_changes=["identity"]),
    )

    def check(_: Any) -> None:
        logging.getLogger().removeHandler(records)
        assert any(
            'ignore_changes=["identity"] has no effect' in m and "config.bot_token" in m
            for m in records.messages
        ), records.messages

    return channel.id.apply(check)


@pulumi.runtime.test
def test_replace_on_changes_is_passed_to_the_provider() -> Any:
    channel = PingBackChannel(
        "wa",
        type="whatsapp",
        config=WhatsAppConfig(phone_number_id="1", access_token="a", verify_token="v"),
        opts=pulumi.ResourceOptions(replace_on_changes=["config.verify_token"]),
    )

    def check(_: Any) -> None:
        assert registered[-1].inputs["replace_on_changes"] == ["config.verify_token"]

    return channel.id.apply(check)


def test_the_harness_registers_the_secret_outputs_the_class_asks_for() -> None:
    """The harness writes the program's side in its own words; the class's registration
    options must say the same (both derive nothing from each other)."""
    from pulumi_pingback.dynamic._resource import _with_secret_outputs

    from .engine import Declared

    asked = _with_secret_outputs(None).additional_secret_outputs
    assert asked == ["meta_verify_token"]  # config's credentials: sealed by the provider
    assert tuple(asked) == Declared("c", {}).additional_secret_outputs
