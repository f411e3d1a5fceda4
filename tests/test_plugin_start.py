"""The native plugin starts like a bare SDK plugin: the CLI starts it several times per
command, some only to ask GetPluginInfo and GetSchema, so what answers those loads none
of the client stack (httpx, pydantic, the core) until a call needs it.

The plugin runs as the CLI starts it, in its own process, with an import hook that makes
every import of the client stack fail: what it answers before its first CheckConfig must
not change, and that CheckConfig must be the call that fails. (The time a start takes
is measured by ``python -m benchmarks.start``, not asserted here.)
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime import proto

from pulumi_pingback import __version__
from pulumi_pingback.channels._schema import package_schema
from pulumi_pingback.simulator import Simulator

from .conftest import TOKEN
from .engine import ENGINE_ADDRESS, ROOT, ProviderProcess, to_struct

PROVIDER_URN = "urn:pulumi:dev::p::pulumi:providers:pingback::default"

CLIENT_STACK = (
    "httpx",
    "httpcore",
    "pydantic",
    "pydantic_core",
    "pulumi_pingback._operations",
    "pulumi_pingback.client._client",
    "pulumi_pingback.client._transport",
    "pulumi_pingback.channels._models",
)
"""What the plugin's start must do without (their packages' modules with them)."""

# `python -c BLOCKING <modules> <launch> <plugin args>`: the plugin, started as `launch`
# says, in a process where importing one of <modules> raises.
BLOCKING = """
import runpy, sys
from importlib.metadata import entry_points

blocked = set(sys.argv[1].split(","))

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name in blocked:
            raise ImportError(f"{name} imported before the plugin needs it")
        return None

sys.meta_path.insert(0, Blocked())
launch, sys.argv = sys.argv[2], sys.argv[3:]
if launch == "plugin-directory":  # `python <plugin dir> <engine>` (PulumiPlugin.yaml)
    runpy.run_path(sys.argv[0], run_name="__main__")
else:  # the installed command, `pulumi-resource-pingback <engine>`, by its entry point
    (script,) = entry_points(group="console_scripts", name="pulumi-resource-pingback")
    script.load()()
"""

LAUNCHES = {
    "plugin-directory": [str(ROOT), ENGINE_ADDRESS],
    "console-script": ["pulumi-resource-pingback", ENGINE_ADDRESS, "--logtostderr"],
}


@pytest.fixture(params=sorted(LAUNCHES))
def plugin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProviderProcess]:
    """The plugin as the CLI starts it (Handshake and GetPluginInfo already answered),
    the client stack unimportable."""
    launch = request.param
    command = [sys.executable, "-c", BLOCKING, ",".join(CLIENT_STACK), launch]
    process = ProviderProcess(
        None, secret_keys=(), cwd=tmp_path, env=dict(os.environ), command=command + LAUNCHES[launch]
    )
    try:
        yield process
    finally:
        process.close()


def test_the_plugin_answers_its_schema_without_the_client_stack(plugin: ProviderProcess) -> None:
    stub: Any = plugin.stub
    assert plugin.handshake is None  # Handshake: UNIMPLEMENTED, the engine's old protocol
    assert plugin.version == __version__  # GetPluginInfo
    schema = stub.GetSchema(proto.GetSchemaRequest(), timeout=30).schema
    assert json.loads(schema) == package_schema()
    stub.Attach(proto.PluginAttach(address=ENGINE_ADDRESS), timeout=30)
    with pytest.raises(grpc.RpcError) as info:
        stub.Parameterize(
            proto.ParameterizeRequest(args=proto.ParameterizeRequest.ParametersArgs(args=["x"]))
        )
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    stub.Cancel(empty_pb2.Empty(), timeout=30)
    # The first call that needs the provider loads the client stack: here it cannot.
    news = to_struct({"token": "t", "apiUrl": "http://127.0.0.1:9"})
    with pytest.raises(grpc.RpcError) as info:
        stub.CheckConfig(proto.CheckRequest(urn="urn", olds=to_struct({}), news=news), timeout=30)
    assert "imported before the plugin needs it" in str(info.value.details())


@contextlib.contextmanager
def _plugin(cwd: Path) -> Iterator[Any]:
    """The plugin as the CLI starts it from its directory, everything importable: its stub."""
    command = [sys.executable, *LAUNCHES["plugin-directory"]]
    process = ProviderProcess(None, secret_keys=(), cwd=cwd, env=dict(os.environ), command=command)
    try:
        yield process.stub
    finally:
        process.close()


def test_the_first_list_is_in_flight_before_configure_which_takes_its_answer(
    sim: Simulator, tmp_path: Path
) -> None:
    """CheckConfig gives the settings: the plugin sends its first list then, while it
    loads the rest of its client, and Configure (which checks the settings with a list)
    takes that answer instead of sending another."""
    sim.set_latency(0.3)
    with _plugin(tmp_path) as stub:
        news = to_struct({"token": TOKEN, "apiUrl": sim.url})
        stub.CheckConfig(
            proto.CheckRequest(urn=PROVIDER_URN, olds=to_struct({}), news=news), timeout=30
        )
        assert [(r["method"], r["status"]) for r in sim.requests()] == [("GET", None)]  # in flight
        stub.Configure(proto.ConfigureRequest(args=news, acceptSecrets=True), timeout=30)
        assert [(r["method"], r["status"]) for r in sim.requests()] == [("GET", 200)]


def test_a_wrong_token_sent_early_fails_configure_as_before(sim: Simulator, tmp_path: Path) -> None:
    with _plugin(tmp_path) as stub:
        news = to_struct({"token": "not-the-token", "apiUrl": sim.url})
        stub.CheckConfig(
            proto.CheckRequest(urn=PROVIDER_URN, olds=to_struct({}), news=news), timeout=30
        )
        with pytest.raises(grpc.RpcError) as info:
            stub.Configure(proto.ConfigureRequest(args=news, acceptSecrets=True), timeout=30)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "401" in str(info.value.details()) and "not-the-token" not in str(
            info.value.details()
        )
        assert [(r["method"], r["status"]) for r in sim.requests()] == [("GET", 401)]
