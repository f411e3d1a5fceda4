"""Run a real Pulumi program (its `__main__.py`) with the engine harness as its engine.

The program runs under `pulumi.runtime.set_mocks` with a monitor whose RegisterResource
hands each PingBackChannel — inputs with their secrets, `additionalSecretOutputs`,
`deleteBeforeReplace` — to an engine `Deployment`, which drives the real provider server
and the simulator. The outputs returned to the program are the provider's real outputs,
secrets wrapped as the engine would.
"""

from __future__ import annotations

import asyncio
import runpy
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks, rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from .engine import TYPE_TOKEN, Declared, Deployment, Engine, is_secret_path


class _NoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        raise AssertionError(f"unexpected resource {args.typ}")

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        raise AssertionError(f"unexpected call {args.token}")


class EngineMonitor(mocks.MockMonitor):
    def __init__(self, deploy: Deployment) -> None:
        super().__init__(_NoMocks())
        self.deploy = deploy
        self.registrations: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:
        if request.type != TYPE_TOKEN:
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]
        urn = self.make_urn(request.parent, request.type, request.name)
        mocks._ensure_event_loop()  # type: ignore[attr-defined, no-untyped-call]
        inputs = rpc.deserialize_properties(request.object)
        inputs.pop("__provider", None)
        self.registrations.append(request)
        declared = Declared(
            request.name,
            inputs,
            delete_before_replace=request.deleteBeforeReplace,
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
        )
        state = self.deploy.register(declared)
        outs = {
            k: (rpc.wrap_rpc_secret(v) if is_secret_path((k,), state.output_secrets) else v)
            for k, v in state.outputs.items()
            if k != "__provider"
        }
        obj = _sync_await(rpc.serialize_properties(outs, {}))
        self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, state.id, outs)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=state.id, object=obj)


def run_program(
    engine: Engine,
    program_dir: Path,
    *,
    config: dict[str, str],
    secret_keys: list[str],
) -> tuple[dict[str, str], dict[str, Any], EngineMonitor]:
    """`pulumi up` of the program in ``program_dir`` for ``engine.stack``.

    Returns the step results, the stack exports (resolved) and the monitor.
    """
    exports: dict[str, Any] = {}
    asyncio.set_event_loop(asyncio.new_event_loop())
    with engine.deployment() as deploy:
        monitor = EngineMonitor(deploy)
        mocks.set_mocks(
            _NoMocks(), project=engine.project, stack=engine.stack, preview=False, monitor=monitor
        )
        pulumi.runtime.set_all_config(config, secret_keys)
        original_export = pulumi.export

        def capture(name: str, value: Any) -> None:
            exports[name] = value

        pulumi.export = capture
        try:
            runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__")
            # As the language host does: every registration finishes before the program ends.
            _sync_await(wait_for_rpcs())
            resolved = {}
            for name, value in exports.items():
                out = pulumi.Output.from_input(value)
                resolved[name] = (
                    _sync_await(out.future()),
                    _sync_await(out.is_secret()),
                )
        finally:
            pulumi.export = original_export
    return deploy.result, resolved, monitor
