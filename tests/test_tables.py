"""One table per fact, everything derived agrees: a newcomer adds a property or a setting
as one row, and these fail until every place that cannot be derived (a typed field, an
output's source, a documented line) says the same. Channel types: tests/test_kinds.py."""

from __future__ import annotations

import dataclasses
import inspect
import json
from pathlib import Path

import pytest

from pulumi_pingback import PingBackChannel
from pulumi_pingback._advice import SAVED_CONFIG_HELP, Context, explain
from pulumi_pingback._exceptions import APIConnectionError, ConfigurationError, RateLimitError
from pulumi_pingback._settings import TABLE, Setting, Settings, load_settings
from pulumi_pingback.channels._models import Channel
from pulumi_pingback.channels._results import channel_outputs, declared_inputs
from pulumi_pingback.channels._schema import (
    CHANNEL_PROPERTIES,
    CHANNEL_TOKEN,
    READ_BACK,
    package_schema,
)

from .engine import Declared
from .hostile import BUSINESS, uid

DOCS = Path(__file__).resolve().parent.parent / "docs"


# ---- the channel's properties (pulumi_pingback.channels._schema.CHANNEL_PROPERTIES) -----------------


def test_every_output_is_a_typed_property_of_the_class() -> None:
    outputs = {p.core for p in CHANNEL_PROPERTIES if p.output}
    typed = {
        name
        for name, member in vars(PingBackChannel).items()
        if isinstance(member, property) and "Output" in str(inspect.signature(member.fget))  # type: ignore[arg-type]
    }
    assert typed == outputs


def test_every_output_comes_from_what_pingback_holds() -> None:
    """``channel_outputs`` fills each output row from a channel PingBack lists."""
    full = Channel.model_validate(
        {
            "id": uid(1),
            "type": "whatsapp",
            "config": {
                "phone_number_id": "15550001",
                "access_token": "EAAtoken",
                "_meta_setup_instructions": {"callback_url": "https://x/cb", "verify_token": "vt"},
            },
            "is_active": True,
            "business_id": BUSINESS,
            "created_at": "2026-01-01T00:00:00Z",
        }
    )
    outs = channel_outputs(full)
    assert set(outs) == {p.core for p in CHANNEL_PROPERTIES if p.output}
    assert set(declared_inputs(outs)) == set(READ_BACK)


def test_the_schema_serves_every_row_by_its_wire_name() -> None:
    resource = package_schema()["resources"][CHANNEL_TOKEN]
    assert list(resource["properties"]) == [p.name for p in CHANNEL_PROPERTIES if p.output]
    assert list(resource["inputProperties"]) == [p.name for p in CHANNEL_PROPERTIES if p.input]
    secret = {n for n, spec in resource["properties"].items() if spec.get("secret")}
    assert secret == {p.name for p in CHANNEL_PROPERTIES if p.output and p.secret}


def test_the_harness_keeps_secret_what_the_table_says() -> None:
    field = {f.name: f for f in dataclasses.fields(Declared)}["additional_secret_outputs"]
    assert isinstance(field.default, tuple)
    assert set(field.default) == {p.core for p in CHANNEL_PROPERTIES if p.output and p.secret}


# ---- the provider's settings (pulumi_pingback._settings.TABLE) -----------------------------


def test_settings_has_one_field_per_row_in_order_with_the_rows_defaults() -> None:
    assert [f.name for f in dataclasses.fields(Settings)] == [s.field for s in TABLE]
    defaults = load_settings({"pingback:token": "t"}, environ={})
    for f in dataclasses.fields(Settings):
        if f.default is not dataclasses.MISSING:
            assert getattr(defaults, f.name) == f.default, f.name


def test_every_setting_is_in_the_schema_and_the_docs() -> None:
    schema = package_schema()
    variables = schema["config"]["variables"]
    assert schema["provider"]["inputProperties"] == variables
    reference = (DOCS / "reference.md").read_text()
    for s in TABLE:
        spec = variables[s.name]
        assert spec["description"] and spec["defaultInfo"] == {"environment": [s.env]}
        assert f"| `{s.key}`" in reference and f"`{s.env}`" in reference, s.key
    assert variables["token"]["secret"] is True  # the one credential among them


BAD = {"string": "ftp://nowhere", "number": "-1", "integer": "many"}


@pytest.mark.parametrize("setting", [s for s in TABLE if s.field != "token"], ids=lambda s: s.name)
def test_a_bad_setting_is_named_as_each_reader_sets_it(setting: Setting) -> None:
    """The check a row gives words its message with the name it is handed: the stack
    config key and variable for a program, the variable (or flag) for the command."""
    base = {"pingback:token": "t", setting.key: BAD[setting.spec["type"]]}
    for cli, name in (
        (False, f"{setting.key} (or {setting.env})"),
        (True, setting.cli or setting.env),
    ):
        with pytest.raises(ConfigurationError) as info:
            load_settings(base, environ={}, cli=cli)
        assert str(info.value).startswith(f"{name} must be "), str(info.value)


def test_the_advice_names_each_setting_as_its_reader_sets_it() -> None:
    ctx = Context("create", api_url="https://api.pingback.live", timeout=30.0)
    limited = RateLimitError("PingBack is rate limiting requests", status_code=429)
    said = {
        audience: str(explain(limited, dataclasses.replace(ctx, cli=cli, native=native)))
        for audience, cli, native in (
            ("python", False, False),
            ("native", False, True),
            ("cli", True, False),
        )
    }
    assert "pingback:maxRetries" in said["python"] and "pingback:maxRetries" in said["native"]
    assert "PINGBACK_MAX_RETRIES" in said["cli"] and "pingback:" not in said["cli"]


@pytest.mark.parametrize("setting", TABLE, ids=lambda s: s.name)
def test_each_setting_is_read_from_config_then_environment(setting: Setting) -> None:
    value = {"string": "https://example.test", "number": "12", "integer": "5"}[setting.spec["type"]]
    base = {} if setting.field == "token" else {"pingback:token": "t"}
    from_env = load_settings(base, environ={setting.env: value})
    from_config = load_settings({**base, setting.key: value}, environ={setting.env: "junk"})
    default = load_settings({"pingback:token": "t"}, environ={})
    if setting.field != "token":
        assert getattr(from_env, setting.field) != getattr(default, setting.field)
    assert getattr(from_env, setting.field) == getattr(from_config, setting.field)
    assert json.dumps(getattr(from_config, setting.field))  # plain data


def test_an_unreachable_api_at_refresh_or_destroy_says_they_use_the_saved_settings() -> None:
    """A dead apiUrl in a refresh or destroy is the one saved by the last `up` (the stack
    config may already hold the right one); a create or the `pingback` command are not
    told so."""
    dead = APIConnectionError("could not connect to PingBack", sent=False)
    for op in ("read", "delete"):
        assert SAVED_CONFIG_HELP in explain(dead, Context(op=op, api_url="http://x")).advice
    assert SAVED_CONFIG_HELP not in explain(dead, Context(op="create")).advice
    assert SAVED_CONFIG_HELP not in explain(dead, Context(op="delete", cli=True)).advice
