"""Run a real Pulumi program (its `__main__.py`) with the engine harness as its engine.

The program runs under `pulumi.runtime.set_mocks` with a monitor that hands each
PingBackChannel registration — inputs with their secrets and every resource option
(`additional_secret_outputs`, `delete_before_replace`, `ignore_changes`,
`replace_on_changes`, `protect`, `retain_on_delete`, `import_`, `replacement_trigger`)
— to an engine `Deployment`, which drives the real provider server and the simulator;
a `get` (or `opts.id`) arrives as ReadResource and becomes a read step. The outputs
returned to the program are the provider's real outputs, secrets wrapped as the engine
would; at preview, the checked inputs, every other output unknown.
"""

from __future__ import annotations

import asyncio
import runpy
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks, rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from .engine import (
    TYPE_TOKEN,
    Declared,
    Deployment,
    Engine,
    Registered,
    Run,
    StepError,
    is_secret_path,
)


class _NoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        raise AssertionError(f"unexpected resource {args.typ}")

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        raise AssertionError(f"unexpected call {args.token}")


def _declared(request: Any, inputs: dict[str, Any], **extra: Any) -> Declared:
    return Declared(
        request.name,
        inputs,
        additional_secret_outputs=tuple(request.additionalSecretOutputs),
        **extra,
    )


class EngineMonitor(mocks.MockMonitor):
    def __init__(self, deploy: Deployment) -> None:
        super().__init__(_NoMocks())
        self.deploy = deploy
        self.registrations: list[Any] = []

    def _answer(self, registered: Registered) -> tuple[Any, str]:
        outs = {
            k: (rpc.wrap_rpc_secret(v) if is_secret_path((k,), registered.secrets) else v)
            for k, v in registered.outputs.items()
            if k != "__provider"
        }
        return _sync_await(rpc.serialize_properties(outs, {})), registered.id

    def _received(self, request: Any, props: Any) -> tuple[str, dict[str, Any]]:
        """A registration or read of a channel: its URN and its inputs (without the
        pickled provider), recorded."""
        urn = self.make_urn(request.parent, request.type, request.name)
        mocks._ensure_event_loop()  # type: ignore[attr-defined, no-untyped-call]
        inputs = rpc.deserialize_properties(props)
        inputs.pop("__provider", None)
        self.registrations.append(request)
        return urn, inputs

    def RegisterResource(self, request: Any) -> Any:
        if request.type != TYPE_TOKEN:
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]
        urn, inputs = self._received(request, request.object)
        trigger = (
            json_format.MessageToDict(request.replacement_trigger)
            if request.HasField("replacement_trigger")
            else None
        )
        declared = _declared(
            request,
            inputs,
            delete_before_replace=(
                request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None
            ),
            ignore_changes=tuple(request.ignoreChanges),
            replace_on_changes=tuple(request.replaceOnChanges),
            protect=request.protect,
            retain_on_delete=request.retainOnDelete,
            import_id=request.importId or None,
            replacement_trigger=trigger,
        )
        obj, id_ = self._answer(self.deploy.register(declared))
        self.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn, id_, {})
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)

    def ReadResource(self, request: Any) -> Any:
        if request.type != TYPE_TOKEN:
            return super().ReadResource(request)  # type: ignore[no-untyped-call]
        urn, inputs = self._received(request, request.properties)
        obj, _ = self._answer(self.deploy.register(_declared(request, inputs, read_id=request.id)))
        return resource_pb2.ReadResourceResponse(urn=urn, properties=obj)


def _quiet_about_step_errors(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A failed step reaches the test as the program's error; its other futures need not
    be logged as 'never retrieved'."""
    if not isinstance(context.get("exception"), StepError):
        loop.default_exception_handler(context)


def run_program(
    engine: Engine,
    program_dir: Path,
    *,
    config: dict[str, str],
    secret_keys: list[str],
    preview: bool = False,
) -> tuple[Run, dict[str, Any], EngineMonitor]:
    """`pulumi up --skip-preview` (or `pulumi preview`) of the program in ``program_dir``.

    Returns the command's run (its ``steps``: the step results), the stack exports
    (resolved: (value, is_secret), value None when unknown) and the monitor.
    """
    exports: dict[str, Any] = {}
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_about_step_errors)
    asyncio.set_event_loop(loop)
    SETTINGS.outputs.clear()  # set_mocks does not reset what a failed program left
    with engine.deployment(preview=preview) as deploy:
        monitor = EngineMonitor(deploy)
        mocks.set_mocks(
            _NoMocks(),
            project=engine.project,
            stack=engine.stack,
            preview=preview,
            monitor=monitor,
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
            for task in list(SETTINGS.outputs):  # a failed program's: retrieved, not logged
                if task.done() and not task.cancelled():
                    task.exception()
            SETTINGS.outputs.clear()
    return deploy.run, resolved, monitor
