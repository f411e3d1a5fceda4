"""The native plugin ``pingback``, driven as the engine drives it.

The engine paths both fronts share run in test_engine_paths.py against both; here: the
plugin's launch forms and schema, and what only a native provider can do — import,
detailed diffs (``replace_on_changes``, ``preview --diff``), previews answered by the
provider, secrets the provider marks itself, plain error messages, parallel writes
beyond the dynamic server's 4 threads.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime import proto

from pulumi_pingback import __version__
from pulumi_pingback.channels._kinds import CHANNEL_TYPES, KINDS
from pulumi_pingback.channels._schema import CHANNEL_TOKEN, CONFIG_KEYS, package_schema
from pulumi_pingback.native._server import TESTED_SDK
from pulumi_pingback.simulator import Simulator

from .conftest import TG, TG_OTHER_BOT, TG_ROTATED, TOKEN, bot, wa_config, writes, x_config
from .engine import (
    ENGINE_ADDRESS,
    NATIVE,
    ROOT,
    UNKNOWN,
    CheckFailed,
    Engine,
    EngineError,
    ProviderProcess,
    Run,
    Secret,
    Snapshot,
    StepError,
    channel,
    to_struct,
)

KIND = proto.PropertyDiff
MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture
def native(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine(target=NATIVE)


def api(sim: Simulator, method: str, path: str, **kw: Any) -> Any:
    response = httpx.request(
        method, f"{sim.url}/api/v1{path}", headers={"Authorization": f"Bearer {TOKEN}"}, **kw
    )
    response.raise_for_status()
    return response.json() if response.content else None


def detailed(run: Run, name: str) -> dict[str, int]:
    """The kinds of the detailed diff the plugin answered for ``name`` in ``run``."""
    return {k: v.kind for k, v in run.diffs[name].detailedDiff.items()}


# ---- 1. the plugin starts in each of its launch forms and answers GetSchema ----------------

BIN = Path(sys.executable).parent
LAUNCH_FORMS = {
    # PulumiPlugin.yaml (runtime python): the CLI runs `python <plugin dir> <engine>`.
    "plugin-directory": [sys.executable, str(ROOT), ENGINE_ADDRESS],
    # An installed package's command, as the CLI runs a plugin binary (with its flags).
    "console-script": [str(BIN / "pulumi-resource-pingback"), ENGINE_ADDRESS, "--logtostderr"],
    "module": [sys.executable, "-m", "pulumi_pingback.native._server", ENGINE_ADDRESS, "-v=9"],
    # With tracing on, the CLI passes `--tracing <endpoint>` before the address.
    "tracing": [
        sys.executable,
        str(ROOT),
        "--logtostderr",
        "--tracing",
        "http://127.0.0.1:9",
        ENGINE_ADDRESS,
    ],
    # Started by hand for PULUMI_DEBUG_PROVIDERS: no address; the CLI sends Attach.
    "by-hand": [sys.executable, str(ROOT)],
}


@pytest.fixture
def started(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The plugin started as the CLI starts it in each launch form (the harness's process
    helper, given the whole command line), in the program's directory."""
    plugin = ProviderProcess(
        None,
        secret_keys=(),
        cwd=tmp_path,
        env=dict(os.environ),
        command=LAUNCH_FORMS[request.param],
    )
    try:
        yield plugin.stub
    finally:
        printed = plugin.close()
        assert "tested with" not in printed, printed  # this environment has the tested SDK


@pytest.mark.parametrize("started", sorted(LAUNCH_FORMS), indirect=True)
def test_the_plugin_starts_in_each_launch_form_and_serves_its_schema(started: Any) -> None:
    schema = json.loads(started.GetSchema(proto.GetSchemaRequest(), timeout=30).schema)
    assert schema == package_schema()
    assert schema["name"] == "pingback" and schema["version"] == __version__
    assert started.GetPluginInfo(empty_pb2.Empty(), timeout=30).version == __version__
    # The engine's first call; UNIMPLEMENTED is its "old protocol" fallback, any other
    # error would fail the plugin's load (the harness sends it to every process too).
    with pytest.raises(grpc.RpcError) as info:
        started.Handshake(proto.ProviderHandshakeRequest(engine_address=ENGINE_ADDRESS))
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    # Attach (PULUMI_DEBUG_PROVIDERS) is served; Parameterize says it is not.
    started.Attach(proto.PluginAttach(address=ENGINE_ADDRESS), timeout=30)
    with pytest.raises(grpc.RpcError) as info:
        started.Parameterize(
            proto.ParameterizeRequest(args=proto.ParameterizeRequest.ParametersArgs(args=["x"]))
        )
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_the_plugin_starts_whatever_pingback_log_level_says(tmp_path: Path) -> None:
    """A PINGBACK_LOG_LEVEL that is not a level is ignored: the plugin still starts (the
    engine's log gets its warnings) instead of dying before it prints its port."""
    plugin = ProviderProcess(
        None,
        secret_keys=(),
        cwd=tmp_path,
        env={**os.environ, "PINGBACK_LOG_LEVEL": "VERBOSE"},
        command=LAUNCH_FORMS["module"],
    )
    try:
        schema = json.loads(plugin.stub.GetSchema(proto.GetSchemaRequest(), timeout=30).schema)
        assert schema["name"] == "pingback"
    finally:
        plugin.close()


def test_the_source_plugin_is_what_the_cli_needs() -> None:
    plugin = yaml.safe_load((ROOT / "PulumiPlugin.yaml").read_text())
    assert plugin["runtime"]["name"] == "python"  # its name is the schema's: pingback
    assert plugin["runtime"]["options"]["virtualenv"] == "venv"
    requirements = (ROOT / "requirements.txt").read_text().split()
    assert requirements[-1] == ".[native]"  # installed by the CLI: the project and its pin
    assert "pulumi_pingback.native import main" in (ROOT / "__main__.py").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'native = ["pulumi>={TESTED_SDK}.0,<3.273"]' in pyproject
    assert 'pulumi-resource-pingback = "pulumi_pingback.native:main"' in pyproject


# ---- 2. the schema -----------------------------------------------------------------------

NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9_]*$")
TOKEN_RE = re.compile(r"^[a-zA-Z][-a-zA-Z0-9_]*:([^0-9][a-zA-Z0-9._/-]*)?:[^0-9][a-zA-Z0-9._/]*$")
TYPES = {"string", "number", "integer", "boolean", "array", "object"}


def _properties(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for key in ("variables",):
        for name, spec in schema["config"][key].items():
            yield f"config.{name}", spec
    for name, spec in schema["provider"]["inputProperties"].items():
        yield f"provider.{name}", spec
    for token, resource in schema["resources"].items():
        for section in ("properties", "inputProperties"):
            for name, spec in resource[section].items():
                yield f"{token}.{section}.{name}", spec
    for token, function in schema["functions"].items():
        for section in ("inputs", "outputs"):
            for name, spec in function[section]["properties"].items():
                yield f"{token}.{section}.{name}", spec
    for token, type_ in schema["types"].items():
        for name, spec in type_.get("properties", {}).items():
            yield f"{token}.properties.{name}", spec


def _type_spec(schema: dict[str, Any], where: str, spec: dict[str, Any]) -> None:
    """A type reference: a primitive, array or map ``type``, a ``$ref`` to Any or to a
    type of the schema, or a union (``oneOf`` of two or more such references)."""
    kinds = [k for k in ("type", "$ref", "oneOf") if k in spec]
    assert len(kinds) == 1, where
    if "type" in spec:
        assert spec["type"] in TYPES, where
    elif "$ref" in spec:
        ref = spec["$ref"]
        assert ref == "pulumi.json#/Any" or ref.removeprefix("#/types/") in schema["types"], where
    else:
        assert len(spec["oneOf"]) >= 2, where
        for i, member in enumerate(spec["oneOf"]):
            _type_spec(schema, f"{where}.oneOf[{i}]", member)


def test_the_schema_keeps_the_metaschema_rules_and_describes_everything() -> None:
    """The rules of Pulumi's package metaschema (pkg/codegen/schema/pulumi.json) that this
    schema touches; the whole schema was validated against it with jsonschema (see the
    README), which cannot be vendored here."""
    schema = package_schema()
    assert NAME.match(schema["name"])
    assert re.match(r"^\d+\.\d+\.\d+", schema["version"])
    assert set(schema) <= {
        "name",
        "displayName",
        "version",
        "description",
        "keywords",
        "homepage",
        "license",
        "publisher",
        "repository",
        "meta",
        "config",
        "provider",
        "resources",
        "functions",
        "types",
        "language",
    }
    for token in [*schema["resources"], *schema["functions"], *schema["types"]]:
        assert TOKEN_RE.match(token), token
    for where, spec in _properties(schema):
        assert spec.get("description"), f"{where} has no description"
        _type_spec(schema, where, spec)
        assert set(spec) <= {
            "type",
            "$ref",
            "oneOf",
            "description",
            "secret",
            "default",
            "defaultInfo",
            "additionalProperties",
            "items",
        }, where
    for function in schema["functions"].values():
        outputs = function["outputs"]
        assert set(outputs.get("required", [])) <= set(outputs["properties"])
    for resource in schema["resources"].values():
        assert set(resource["required"]) <= set(resource["properties"])
        assert set(resource["requiredInputs"]) <= set(resource["inputProperties"])
    # The generated Python SDK must not shadow this package (the dynamic provider).
    assert schema["language"]["python"]["packageName"] == "pulumi_pingback_native"
    enum = schema["types"]["pingback:index:ChannelType"]
    assert sorted(e["value"] for e in enum["enum"]) == sorted(CHANNEL_TYPES) == sorted(KINDS)
    assert all(e["description"] and NAME.match(e["name"]) for e in enum["enum"])


def test_credentials_are_secret_in_the_schema() -> None:
    schema = package_schema()
    channel_ = schema["resources"][CHANNEL_TOKEN]
    secret = {where for where, spec in _properties(schema) if spec.get("secret") is True}
    credentials = {
        f"pingback:index:ChannelConfig.properties.{CONFIG_KEYS[key]}"
        for kind in KINDS.values()
        for key in kind.credentials
    }
    assert secret == {
        "config.token",
        "provider.token",
        f"{CHANNEL_TOKEN}.properties.metaVerifyToken",
        "pingback:index:ChannelConfig.properties.extra",
        *credentials,
    }  # nothing of the functions' answers: they hold no credential
    # `config` is not secret as a whole, input or output (a generated SDK or a YAML program
    # would then send it as one secret, or ask the engine to seal the output whole: a
    # widget would carry a ciphertext, phoneNumberId print as [secret]): it is one typed
    # object, every documented key camelCase and optional, each credential secret, and
    # `extra` (the keys PingBack does not document) secret; the provider seals the
    # output's credentials by the same rule.
    ref = {"$ref": "#/types/pingback:index:ChannelConfig"}
    assert channel_["inputProperties"]["config"]["$ref"] == ref["$ref"]
    assert channel_["properties"]["config"]["$ref"] == ref["$ref"]
    assert "secret" not in channel_["inputProperties"]["config"]
    spec = schema["types"]["pingback:index:ChannelConfig"]
    assert "required" not in spec
    documented = {key for kind in KINDS.values() for key in kind.keys}
    assert set(spec["properties"]) == {CONFIG_KEYS[k] for k in documented} | {"extra"}
    for key in documented:
        prop = spec["properties"][CONFIG_KEYS[key]]
        credential = any(k.credential(key) for k in KINDS.values() if key in k.keys)
        assert prop["description"] and prop.get("secret", False) is credential, key
        assert prop["type"] == "string"
    assert spec["properties"]["extra"]["secret"] is True
    assert channel_["requiredInputs"] == ["type"]
    assert schema["config"]["variables"]["token"]["defaultInfo"] == {
        "environment": ["PINGBACK_TOKEN"]
    }
    # every key of every documented type is named in the config type's description
    for kind in KINDS.values():
        for key in kind.keys:
            assert f"`{CONFIG_KEYS[key]}`" in spec["description"]


# ---- 3. detailed diffs: preview --diff names the key; replace_on_changes works ------------


def test_a_new_bot_is_a_replace_its_token_rotation_an_update_key_by_key(
    sim: Simulator, native: Engine
) -> None:
    native.up([bot()])
    plan = native.preview([bot(TG_OTHER_BOT)])
    assert plan.steps == {"bot": "replace:identity,config.botToken"}
    assert detailed(plan, "bot") == {
        "identity": KIND.UPDATE_REPLACE,
        "config.botToken": KIND.UPDATE_REPLACE,
    }
    assert list(plan.diffs["bot"].replaces) == ["identity"]
    plan = native.preview([bot(TG_ROTATED)])
    assert plan.steps == {"bot": "update"}
    assert detailed(plan, "bot") == {"config.botToken": KIND.UPDATE}
    sim.clear_log()
    run = native.up([bot(TG_ROTATED, is_active=False)])
    assert run.steps == {"bot": "update"}
    assert detailed(run, "bot") == {"config.botToken": KIND.UPDATE, "isActive": KIND.UPDATE}
    assert list(run.diffs["bot"].diffs) == ["config", "isActive"]
    assert writes(sim) == ["PATCH"]


def test_added_and_removed_config_keys_and_odd_key_names(sim: Simulator, native: Engine) -> None:
    native.up([channel("w", "widget", {"widget_id": "w1", "a.b": "1", "old": "x"})])
    plan = native.preview([channel("w", "widget", {"widget_id": "w1", "a.b": "2", "new": "y"})])
    assert detailed(plan, "w") == {
        'config.extra["a.b"]': KIND.UPDATE,
        "config.extra.new": KIND.ADD,
        "config.extra.old": KIND.DELETE,
    }


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ((), "update"),
        (("config.verifyToken",), "replace"),
        (('config["verifyToken"]',), "replace"),
        (("config",), "replace"),
        (("*",), "replace"),
        (("config.accessToken",), "update"),  # another key: not this change
        (("isActive",), "update"),
    ],
)
def test_replace_on_changes_is_applied_by_the_engine(
    sim: Simulator, native: Engine, paths: tuple[str, ...], expected: str
) -> None:
    native.up([channel("wa", "whatsapp", wa_config())])
    first = native.state["wa"].id
    changed = channel(
        "wa",
        "whatsapp",
        wa_config(verify="verify-2"),
        replace_on_changes=paths,
        delete_before_replace=True,
    )
    assert native.up([changed]).steps == {"wa": expected}
    assert (native.state["wa"].id != first) == (expected == "replace")
    assert len(sim.channels()) == 1


# ---- 4. previews: the provider plans, the program sees what it will know ------------------


def test_a_preview_shows_the_provider_s_plan_with_unknowns_for_what_pingback_will_say(
    sim: Simulator, native: Engine
) -> None:
    with native.deployment(preview=True) as deploy:
        planned = deploy.register(channel("wa", "whatsapp", wa_config()))
    assert deploy.run.methods == ["Check", "Create"] and writes(sim) == []  # the start's list
    assert planned.outputs["identity"] == "whatsapp:phone/109876543210"
    for key in ("business_id", "created_at", "meta_callback_url", "meta_verify_token"):
        assert planned.outputs[key] == UNKNOWN, key
    assert {("config", "access_token"), ("meta_verify_token",)} <= planned.secrets
    assert ("config",) not in planned.secrets and (
        "config",
        "phone_number_id",
    ) not in planned.secrets
    native.up([channel("wa", "whatsapp", wa_config())])
    created = native.state["wa"].outputs
    sim.clear_log()
    with native.deployment(preview=True) as deploy:
        planned = deploy.register(channel("wa", "whatsapp", wa_config(access="EAAG-2")))
    assert deploy.run.methods == ["Check", "Diff", "Update"] and writes(sim) == []
    for key in ("business_id", "created_at", "meta_callback_url", "meta_verify_token"):
        assert planned.outputs[key] == created[key], key  # kept: known at preview


def test_a_value_unknown_at_preview_is_planned_not_judged(sim: Simulator, native: Engine) -> None:
    native.up([bot()])
    sim.clear_log()
    with native.deployment(preview=True) as deploy:
        planned = deploy.register(channel("bot", "telegram", {"bot_token": UNKNOWN}))
    assert deploy.run.steps == {"bot": "replace:identity,config.botToken"}
    assert planned.outputs["identity"] == UNKNOWN and writes(sim) == []


# ---- 5. import ----------------------------------------------------------------------------


def test_pulumi_import_reads_the_channel_and_its_inputs_diff_clean_afterwards(
    sim: Simulator, native: Engine
) -> None:
    made = api(sim, "POST", "/channels/", json={"type": "whatsapp", "config": wa_config()})
    with native.driver() as drv:  # `pulumi import pingback:index:Channel wa <id>`
        imported = drv.import_(channel("wa", "whatsapp", {}), made["id"])
    assert imported.id == made["id"]
    assert imported.inputs == {
        "type": "whatsapp",
        "config": wa_config(),
        "is_active": True,
        "identity": "whatsapp:phone/109876543210",
    }
    assert ("config", "access_token") in imported.input_secrets
    assert ("config", "phone_number_id") not in imported.input_secrets
    # The program `pulumi import` writes, then `pulumi up`: nothing to do.
    native.stack_import(Snapshot({**native.state, "wa": imported}))
    sim.clear_log()
    generated = {k: v for k, v in imported.inputs.items() if k != "identity"}
    assert native.up([channel("wa", **generated)]).steps == {"wa": "same"}
    assert writes(sim) == [] and native.refresh().steps == {"wa": "same"}


def test_the_import_option_adopts_then_diffs_against_the_program(
    sim: Simulator, native: Engine
) -> None:
    made = api(sim, "POST", "/channels/", json={"type": "sms", "config": {"n": "1"}})
    sim.clear_log()
    declared = channel("s", "sms", {"n": "1"}, import_id=made["id"])
    run = native.up([declared])
    assert run.steps == {"s": "same"}
    assert run.methods == ["Read", "Check", "Diff"] and writes(sim) == []
    assert native.state["s"].id == made["id"]
    run = native.up([channel("s", "sms", {"n": "2"}, import_id=made["id"])])
    assert run.steps == {"s": "update"}
    assert run.methods == ["Check", "Diff", "Update"]  # imported already: no Read
    native.destroy()
    assert sim.channels() == []


def test_the_import_option_blocks_a_replace_and_a_new_id_replaces_the_old_channel(
    sim: Simulator, native: Engine
) -> None:
    """What the engine does with an `import` id left in the program (SG), as
    tests/cli/test_native_plugin.py shows under the real CLI: a change that needs a
    replace is refused; another id import-replaces, deleting the old channel."""
    first = api(sim, "POST", "/channels/", json={"type": "telegram", "config": {"bot_token": TG}})
    native.up([bot(import_id=first["id"])])
    with pytest.raises(EngineError, match="previously-imported resources that still specify"):
        native.up([bot(TG_OTHER_BOT, import_id=first["id"])])
    assert [c["id"] for c in sim.channels()] == [first["id"]]  # nothing was replaced

    second = api(sim, "POST", "/channels/", json={"type": "sms", "config": {"n": "1"}})
    native.up([channel("bot", "sms", {"n": "1"}, import_id=second["id"])])
    assert native.state["bot"].id == second["id"]
    assert [c["id"] for c in sim.channels()] == [second["id"]]  # the first one deleted


def test_a_dynamic_stack_moves_to_the_plugin_without_a_create_or_a_delete(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    """The README's migration. In the one `pulumi up` that swaps the types, the engine
    runs the new resources' imports before the old ones' deletes (at the end of the run);
    here the two halves of that stack are two engines on one PingBack."""
    dynamic = make_engine()
    dynamic.up([bot(), channel("web", "widget", {"widget_id": "w1"})])
    ids = {name: r.id for name, r in dynamic.state.items()}
    retained = [
        bot(retain_on_delete=True),
        channel("web", "widget", {"widget_id": "w1"}, retain_on_delete=True),
    ]
    assert dynamic.up(retained).steps == {"bot": "same", "web": "same"}  # 1. only the state changes
    sim.clear_log()
    native = make_engine(target=NATIVE)
    program = [  # 2. the same channels as pingback:index:Channel, with import_
        bot(import_id=ids["bot"]),
        channel("web", "widget", {"widget_id": "w1"}, import_id=ids["web"]),
    ]
    assert native.up(program).steps == {"bot": "same", "web": "same"}
    assert dynamic.up([]).steps == {"bot": "delete", "web": "delete"}  # retained: no Delete
    assert writes(sim) == []
    assert {name: r.id for name, r in native.state.items()} == ids
    assert sorted(c["id"] for c in sim.channels()) == sorted(ids.values())
    assert ("config", "bot_token") in native.state["bot"].input_secrets
    assert ("config", "bot_token") in native.state["bot"].output_secrets
    web = native.state["web"]  # a widget: no secret (nor any output but the Meta token's)
    assert web.input_secrets == set() and web.output_secrets <= {("meta_verify_token",)}
    # 3. without import_: nothing to do, nothing drifted, and destroy now deletes.
    assert native.up([bot(), channel("web", "widget", {"widget_id": "w1"})]).steps == {
        "bot": "same",
        "web": "same",
    }
    assert native.refresh().steps == {"bot": "same", "web": "same"} and writes(sim) == []
    native.destroy()
    assert sim.channels() == []


def test_importing_an_unknown_id_is_an_error_not_a_phantom(sim: Simulator, native: Engine) -> None:
    with pytest.raises(StepError) as info:
        native.up([channel("s", "sms", {}, import_id=MISSING)])
    assert info.value.method == "Read"
    assert info.value.message == (
        f"PingBack has no channel {MISSING} in this business\n"
        "To fix: check the id (`pingback channels` lists the business's channels)."
    )
    assert native.state == {} and writes(sim) == []


def test_a_lookup_finds_a_channel_and_a_missing_id_is_an_error(
    sim: Simulator, native: Engine
) -> None:
    made = api(sim, "POST", "/channels/", json={"type": "sms", "config": {"n": "1"}})
    got = channel("found", "sms", None, read_id=made["id"])
    got.inputs = {}  # Channel.get(name, id): no state given
    assert native.up([got]).steps == {"found": "read"}
    assert native.state["found"].outputs["config"] == {"n": "1"}
    gone = channel("gone", "sms", None, read_id=MISSING)
    gone.inputs = {}
    with pytest.raises(StepError, match=f"PingBack has no channel {MISSING}"):
        native.up([gone])


# ---- 6. secrets: the provider marks its own ----------------------------------------------

CREDENTIALS = [TG, "EAAG-access-1", "verify-1", *x_config().values(), TOKEN]


def test_credentials_are_secret_in_state_even_when_given_in_plain_text(
    sim: Simulator, native: Engine
) -> None:
    program = [
        channel("bot", "telegram", {"bot_token": TG}),  # plain text in the program
        channel("wa", "whatsapp", wa_config()),
        channel("x", "x", x_config()),
        channel("w", "widget", {"widget_id": "w1", "extra": "dashboard-key-123"}),
    ]
    runs = [
        native.preview(program),
        native.up(program),
        native.refresh(),
        native.up([*program[:3], channel("w", "widget", {"widget_id": "w1", "extra": "k-456789"})]),
    ]
    plain = [(name, path, value) for name, path, value in native.non_secret_values()]
    leaked = [p for p in plain if any(c in str(p[2]) for c in CREDENTIALS)]
    assert leaked == []
    assert "dashboard-key-123" not in str(plain) and "k-456789" not in str(plain)
    wa = native.state["wa"]
    assert wa.output_secrets == {
        ("meta_verify_token",),
        ("config", "access_token"),
        ("config", "verify_token"),
    }
    assert ("config", "phone_number_id") not in wa.input_secrets  # readable: shown in previews
    w = native.state["w"]  # the widget's extra key, not widget_id
    assert w.input_secrets == {("config", "extra")}
    assert w.output_secrets - {("meta_verify_token",)} == {("config", "extra")}  # none held
    assert native.saved_provider is not None and ("token",) in native.saved_provider[1]
    output = "".join(printed for run in runs for printed in run.process_output)
    assert not [c for c in CREDENTIALS if c in output]


def test_a_value_the_program_marked_secret_stays_secret(sim: Simulator, native: Engine) -> None:
    config = {**wa_config(), "phone_number_id": Secret("109876543210")}
    native.up([channel("wa", "whatsapp", config)])
    wa = native.state["wa"]
    assert ("config", "phone_number_id") in wa.input_secrets
    assert ("config", "phone_number_id") in wa.output_secrets
    native.refresh()
    assert ("config", "phone_number_id") in native.state["wa"].input_secrets
    assert ("config", "phone_number_id") in native.state["wa"].output_secrets


def test_preview_diff_lines_show_secrets_as_secret(sim: Simulator, native: Engine) -> None:
    native.up([channel("wa", "whatsapp", wa_config())])
    plan = native.preview([channel("wa", "whatsapp", wa_config(phone="2", access="EAAG-2"))])
    assert plan.diff_lines == (
        "wa: config.access_token: [secret] => [secret]",
        "wa: config.phone_number_id: '109876543210' => '2'",
        "wa: identity: 'whatsapp:phone/109876543210' => 'whatsapp:phone/2'",
    )


# ---- 7. errors as the CLI prints them -----------------------------------------------------


def test_an_error_is_its_message_and_advice_only(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    native = make_engine(target=NATIVE)
    native.config["pingback:token"] = "wrong-token-0123456789"
    with pytest.raises(StepError) as info:
        native.up([bot()])
    # At the provider's start (its Configure lists once), before any resource's step.
    assert info.value.printed == (
        "  pulumi:providers:pingback (default):\n"
        "    error: PingBack rejected the API token (401 on GET /api/v1/channels/): Could "
        "not validate credentials\n"
        "    To fix: set the business owner's API token with `pulumi config set --secret "
        "pingback:token <token>` (or export PINGBACK_TOKEN). Note: `pulumi refresh` and "
        "`pulumi destroy` use the pingback: settings saved by the last `pulumi up`: after "
        "changing them, run `pulumi up` first (or `pulumi refresh --run-program`)."
    )
    assert "wrong-token" not in info.value.printed


def test_advice_names_the_schema_s_properties(sim: Simulator, native: Engine) -> None:
    with pytest.raises(StepError) as info:
        native.up([channel("s", "sms", {}, adopt_id=MISSING)])
    assert "or remove adoptId to create a new channel." in info.value.message
    assert "adopt_id" not in info.value.message


def test_check_failures_name_the_schema_s_properties_and_print_no_credential(
    native: Engine,
) -> None:
    with pytest.raises(CheckFailed) as info:
        native.up([channel("c", "telegram", {"bot_tokn": Secret(TG)}, is_active="yes")])
    assert info.value.rendered == [
        "pingback:index:Channel resource 'c': property config.bot_tokn value {<nil>} has a "
        "problem: unknown key 'bot_tokn' for a telegram channel; did you mean 'botToken'? "
        "allowed keys: botToken",
        "pingback:index:Channel resource 'c': property config.botToken value {<nil>} has a "
        "problem: missing: a telegram channel needs config.botToken",
        "pingback:index:Channel resource 'c': property isActive value {yes} has a problem: "
        "must be true or false (a boolean, not a string)",
    ]


def test_provider_settings_fail_at_check_config_without_printing_the_token(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    native = make_engine(target=NATIVE, config={"pingback:timout": "5"})
    with pytest.raises(CheckFailed) as info:
        native.preview([bot()])
    assert info.value.rendered == [
        "pulumi:providers:pingback resource 'default' has a problem: unknown setting "
        "pingback:timout: did you mean pingback:timeout? the pingback: settings are "
        "pingback:token, pingback:apiUrl, pingback:timeout, pingback:maxRetries (remove it "
        "with `pulumi config rm pingback:timout`)"
    ]
    assert info.value.run is not None and info.value.run.calls == ()
    assert TOKEN not in str(info.value.rendered)


def test_settings_come_from_the_environment_and_numbers_go_back_as_numbers(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    native = make_engine(
        target=NATIVE,
        config={"pingback:timeout": "2"},
        env={"PINGBACK_TOKEN": TOKEN},
    )
    del native.config["pingback:token"]
    first = native.up([bot()])
    assert first.steps == {"bot": "create"}
    assert native.saved_provider is not None
    assert (
        native.saved_provider[0]["timeout"] == 2.0 and native.saved_provider[0]["maxRetries"] == 3
    )
    assert first.provider_calls == ("CheckConfig", "Configure")
    assert native.up([bot()]).provider_calls == ("CheckConfig", "DiffConfig", "Configure")
    # from the state: Configure only
    assert native.destroy().provider_calls == ("Configure",)


# ---- 8. the wire's rough edges -------------------------------------------------------------


def test_a_channel_under_a_component_is_checked_by_its_own_type(native: Engine) -> None:
    urn = "urn:pulumi:dev::pingback-test::my:index:Team$pingback:index:Channel::bot"
    with native.driver() as drv:
        resp = drv.rpc(
            "Check",
            "bot",
            proto.CheckRequest(
                urn=urn, olds=to_struct({}), news=drv.wire({"type": "sms", "config": {}}, set())
            ),
        )
        assert list(resp.failures) == []
        with pytest.raises(StepError, match="has no resource type 'pingback:index:Other'"):
            drv.rpc(
                "Check",
                "x",
                proto.CheckRequest(
                    urn="urn:pulumi:dev::p::pingback:index:Other::x",
                    olds=to_struct({}),
                    news=to_struct({}),
                ),
            )


def test_a_program_in_the_0_3_shape_is_refused_naming_each_key_to_write(native: Engine) -> None:
    """A caller that does not type its inputs by the schema (a YAML program types them)
    sending 0.3.0's config keys: each refused at Check, with the key to write."""
    urn = "urn:pulumi:dev::pingback-test::pingback:index:Channel::c"
    failures = {}
    for name, news in {
        "bot": {"type": "telegram", "config": {"bot_token": TG}},
        "widget": {"type": "widget", "config": {"widgetId": "w1", "theme": "dark"}},
        "typo": {"type": "telegram", "config": {"botTokn": TG}},
        "twice": {"type": "telegram", "config": {"botToken": TG, "bot_token": TG}},
    }.items():
        with native.driver() as drv:
            resp = drv.rpc(
                "Check", "c", proto.CheckRequest(urn=urn, olds=to_struct({}), news=to_struct(news))
            )
        failures[name] = [(f.property, f.reason) for f in resp.failures]
    renamed = "the schema names this key 'botToken' (renamed after 0.3.0); write config.botToken"
    elsewhere = "a key PingBack does not document goes in config.extra (moved there after 0.3.0): "
    assert failures == {
        "bot": [("config.bot_token", renamed)],
        "widget": [("config.theme", f"not a key of the config; {elsewhere}config.extra.theme")],
        "typo": [
            (
                "config.botTokn",
                f"not a key of the config; did you mean 'botToken'? {elsewhere}"
                "config.extra.botTokn",
            )
        ],
        "twice": failures["twice"],
    }
    assert sorted(r for _, r in failures["twice"]) == ["given twice; keep one", renamed]


def test_a_state_in_the_0_3_shape_reads_as_the_new_one() -> None:
    """The wire of a state 0.3.0 wrote (PingBack's keys, a widget's more keys beside its
    id, a config sealed whole) and of the same channel now make the same core values and
    secret paths: the diff of an upgraded stack is empty."""
    from pulumi.provider.experimental.property_value import PropertyValue

    from pulumi_pingback.native._wire import unwire, wire

    def pv(value: Any, secret: bool = False) -> PropertyValue:
        if isinstance(value, PropertyValue):
            return value
        if isinstance(value, dict):
            return PropertyValue({k: pv(v) for k, v in value.items()}, is_secret=secret)
        return PropertyValue(value, is_secret=secret)

    old = {"type": pv("widget"), "config": pv({"widget_id": "w1", "theme": "dark"}, True)}
    extra = pv({"theme": "dark"}, True)
    new = {"type": pv("widget"), "config": pv({"widgetId": "w1", "extra": extra})}
    core_old, secrets_old = unwire(old)
    core_new, secrets_new = unwire(new)
    assert (
        core_old == core_new == {"type": "widget", "config": {"widget_id": "w1", "theme": "dark"}}
    )
    assert secrets_old == {("config",)} and secrets_new == {("config", "theme")}

    def at(value: PropertyValue, key: str) -> PropertyValue:
        assert isinstance(value.value, Mapping)
        return value.value[key]

    back = wire(core_new, secrets_new)["config"]
    assert not back.is_secret and isinstance(back.value, Mapping)
    assert set(back.value) == {"widgetId", "extra"}
    assert at(at(back, "extra"), "theme").is_secret
    assert not at(back, "widgetId").is_secret
    bot_old = {"type": pv("telegram"), "config": pv({"bot_token": pv(TG, True)})}
    bot_new = {"type": pv("telegram"), "config": pv({"botToken": pv(TG, True)})}
    assert (
        unwire(bot_old)
        == unwire(bot_new)
        == (
            {"type": "telegram", "config": {"bot_token": TG}},
            {("config", "bot_token")},
        )
    )


def test_a_value_that_is_not_json_fails_check_by_the_schema_s_printable_names(
    native: Engine,
) -> None:
    """An asset where the schema says JSON (a program can build one) is a check failure
    said like every other: a printable property by its schema name, anything else in the
    reason of a failure about the resource (the CLI prints a named property's value)."""
    import pulumi
    from google.protobuf import struct_pb2
    from pulumi.provider.experimental.property_value import PropertyValue

    asset = PropertyValue(pulumi.StringAsset("x")).marshal()
    urn = "urn:pulumi:dev::pingback-test::pingback:index:Channel::bot"
    failures = {}
    for where in ("isActive", "config"):
        news = struct_pb2.Struct()
        news.update({"type": "telegram", "config": {"botToken": TG}, "isActive": True})
        news.fields[where].CopyFrom(asset)
        with native.driver() as drv:
            resp = drv.rpc(
                "Check", "bot", proto.CheckRequest(urn=urn, olds=to_struct({}), news=news)
            )
        failures[where] = [(f.property, f.reason) for f in resp.failures]
    must = "must be JSON data: a string, number, bool, list or map"
    assert failures == {"isActive": [("isActive", must)], "config": [("", f"config: {must}")]}


def test_check_names_the_resource_options_only_where_they_are_inputs() -> None:
    """The dynamic front's inputs carry its resource options (printable, so named); the
    plugin's never do, and a problem there is said about the resource."""
    from pulumi_pingback._operations import Channels
    from pulumi_pingback.native._wire import TO_WIRE

    news = {"type": "sms", "config": {}, "replace_on_changes": 5}
    dynamic = Channels().check(news).failures
    native = Channels(native=True).check(news, None, TO_WIRE).failures
    assert [p for p, _ in dynamic] == ["replace_on_changes"]
    assert [p for p, _ in native] == [""] and native[0][1].startswith("replace_on_changes: ")


def test_numbers_in_an_open_config_round_trip_as_json_numbers(
    sim: Simulator, native: Engine
) -> None:
    native.up([channel("s", "sms", {"n": 3, "ratio": 0.5, "tags": ["a"], "on": True})])
    assert sim.channels()[0]["config"] == {"n": 3, "ratio": 0.5, "tags": ["a"], "on": True}
    assert native.up(
        [channel("s", "sms", {"n": 3, "ratio": 0.5, "tags": ["a"], "on": True})]
    ).steps == {"s": "same"}


# ---- 9. parallel writes and their safety ---------------------------------------------------


def test_parallel_creates_run_beyond_four_at_once(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    """16 engine callers: the plugin serves them all at once (the dynamic server, 4).
    Identical creates racing under faults get a channel each: the core's, tested once
    (tests/test_write_safety.py)."""
    native = make_engine(target=NATIVE, parallel=16)
    sim.set_latency(0.2)
    start = time.perf_counter()
    native.up([channel(f"s{i}", "sms", {"n": str(i)}) for i in range(16)])
    elapsed = time.perf_counter() - start
    assert sim.max_inflight() > 4, elapsed
    assert len({r.id for r in native.state.values()}) == 16 == len(sim.channels())


def test_pulumi_parallel_beyond_64_is_served_at_once(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    """`PULUMI_PARALLEL=96` (which the CLI's plugins inherit): 96 creates in flight at
    once, on as many threads and connections, each its own channel."""
    native = make_engine(target=NATIVE, parallel=96, env={"PULUMI_PARALLEL": "96"})
    sim.set_latency(1.5)  # long enough that the 96 overlap on a loaded machine too
    native.up([channel(f"s{i}", "sms", {"n": str(i)}) for i in range(96)])
    assert sim.max_inflight() > 64
    assert len({r.id for r in native.state.values()}) == 96 == len(sim.channels())


def test_protect_retain_and_replacement_trigger_through_the_plugin(
    sim: Simulator, native: Engine
) -> None:
    program = [
        channel("kept", "sms", {"n": "1"}, retain_on_delete=True),
        channel("guarded", "sms", {"n": "2"}, protect=True),
        channel("rolled", "sms", {"n": "3"}, replacement_trigger="a"),
    ]
    native.up(program)
    rolled = native.state["rolled"].id
    program[2] = channel("rolled", "sms", {"n": "3"}, replacement_trigger="b")
    assert native.up(program).steps["rolled"] == "replace" and native.state["rolled"].id != rolled
    kept = native.state["kept"].id
    assert native.up(program[1:]).steps["kept"] == "delete"
    assert kept in {c["id"] for c in sim.channels()}
    with pytest.raises(EngineError, match="cannot be deleted because it is protected"):
        native.destroy()


# ---- 9. the functions ---------------------------------------------------------------------------


def test_the_functions_answer_without_a_credential_and_check_their_arguments_first(
    sim: Simulator, native: Engine
) -> None:
    """``getChannels`` and ``getChannel`` through the plugin's Invoke: the schema's names,
    the readable keys only; arguments refused by name before any request."""
    from google.protobuf import json_format

    bot_id = api(sim, "POST", "/channels/", json={"type": "telegram", "config": {"bot_token": TG}})[
        "id"
    ]
    wa = api(sim, "POST", "/channels/", json={"type": "whatsapp", "config": wa_config()})["id"]

    with native.driver() as drv:

        def invoke(tok: str, args: dict[str, Any]) -> Any:
            return drv.rpc("Invoke", "fn", proto.InvokeRequest(tok=tok, args=to_struct(args)))

        answer = invoke("pingback:index:getChannels", {})
        listed = json_format.MessageToDict(answer).get("return", {})
        assert [c["id"] for c in listed["channels"]] == [bot_id, wa]
        assert listed["channels"][1]["config"] == {"phoneNumberId": wa_config()["phone_number_id"]}
        assert listed["channels"][0]["config"] == {}
        assert {"id", "type", "identity", "isActive", "createdAt"} <= set(listed["channels"][0])
        assert TG not in json.dumps(listed) and wa_config()["access_token"] not in json.dumps(
            listed
        )
        one = invoke("pingback:index:getChannel", {"identity": listed["channels"][0]["identity"]})
        assert json_format.MessageToDict(one)["return"]["id"] == bot_id
        sim.clear_log()
        bad = invoke("pingback:index:getChannel", {"id": "nope", "identiy": "x"})
        assert [(f.property, f.reason) for f in bad.failures] == [
            ("identiy", "unknown argument; did you mean 'identity'? allowed: id, identity"),
            ("id", "must be the UUID of a channel (`pingback channels` lists them)"),
        ]
        neither = invoke("pingback:index:getChannel", {})
        assert [(f.property, f.reason) for f in neither.failures] == [
            ("", "give exactly one of id (a channel's id) and identity (what it is bound to)")
        ]
        assert sim.requests() == []
        with pytest.raises(StepError, match="no channel of this PingBack business is bound to"):
            invoke("pingback:index:getChannel", {"identity": "telegram:bot/1"})
