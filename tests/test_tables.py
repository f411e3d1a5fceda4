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
from pulumi_pingback._diagnostics import CLI, NATIVE, PYTHON
from pulumi_pingback._models import Channel
from pulumi_pingback._props import channel_outputs, declared_inputs
from pulumi_pingback._schema import (
    CHANNEL_PROPERTIES,
    CHANNEL_TOKEN,
    READ_BACK,
    package_schema,
)
from pulumi_pingback._settings import CLI_WORDS, PROVIDER_WORDS, TABLE, Settings, load_settings

from .engine import Declared

DOCS = Path(__file__).resolve().parent.parent / "docs"


# ---- the channel's properties (pulumi_pingback._schema.CHANNEL_PROPERTIES) -----------------


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
            "id": "c1",
            "type": "whatsapp",
            "config": {
                "phone_number_id": "15550001",
                "access_token": "EAAtoken",
                "_meta_setup_instructions": {"callback_url": "https://x/cb", "verify_token": "vt"},
            },
            "is_active": True,
            "business_id": "b1",
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


def test_every_setting_is_in_the_schema_every_audience_and_the_docs() -> None:
    schema = package_schema()
    variables = schema["config"]["variables"]
    assert list(variables) == [s.name for s in TABLE]
    assert schema["provider"]["inputProperties"] == variables
    for s in TABLE:
        spec = variables[s.name]
        assert spec["type"] == s.spec["type"]
        assert spec["defaultInfo"] == {"environment": [s.env]}
        assert spec.get("secret", False) == s.secret
    for words in (PROVIDER_WORDS, CLI_WORDS):
        assert set(words.names) == {s.key for s in TABLE}
    for audience in (PYTHON, NATIVE, CLI):
        assert set(audience.settings) == {s.field for s in TABLE}
    reference = (DOCS / "reference.md").read_text()
    for s in TABLE:
        assert f"| `{s.key}`" in reference and f"`{s.env}`" in reference, s.key


@pytest.mark.parametrize("setting", TABLE, ids=lambda s: s.name)
def test_each_setting_is_read_from_config_then_environment(setting: object) -> None:
    from pulumi_pingback._settings import Setting

    assert isinstance(setting, Setting)
    value = {"string": "https://example.test", "number": "12", "integer": "5"}[setting.spec["type"]]
    base = {} if setting.field == "token" else {"pingback:token": "t"}
    from_env = load_settings(base, environ={setting.env: value})
    from_config = load_settings({**base, setting.key: value}, environ={setting.env: "junk"})
    default = load_settings({"pingback:token": "t"}, environ={})
    if setting.field != "token":
        assert getattr(from_env, setting.field) != getattr(default, setting.field)
    assert getattr(from_env, setting.field) == getattr(from_config, setting.field)
    assert json.dumps(getattr(from_config, setting.field))  # plain data
