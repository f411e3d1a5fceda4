"""The native provider ``pingback``: the one module that touches ``pulumi.provider.experimental``.

The CLI starts this plugin (``pulumi-resource-pingback``, or the repository's root
``__main__.py`` through ``PulumiPlugin.yaml``) once per provider of a deployment, and
drives it over gRPC: ``CheckConfig`` → ``Configure`` → per resource ``Check`` →
``Diff`` → ``Create``/``Update`` (also at preview, with ``preview`` set) …, ``Read`` for
refresh and import, ``Delete``. The work is :mod:`._operations`, shared with the dynamic
provider; this module translates the wire (camelCase names, ``PropertyValue``, secrets
the provider marks itself, detailed diffs) and runs the blocking client on a thread pool,
so parallel steps are bounded by the engine's ``--parallel``, not by a server's threads.

Written against the experimental API of the Pulumi Python SDK 3.272 (see
:data:`TESTED_SDK`); its rough edges, handled here: unknowns arrive as the wire's
sentinel string, numbers must be floats, ``diff_config`` is left alone, the type of a
resource under a component is ``parent$child``, and a Read that finds nothing on import
must raise (an empty answer would import a phantom).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import grpc
import grpc.aio
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from ._diff import ignoring
from ._enginelog import current_urn, watch_engine
from ._enginelog import install as install_engine_log
from ._exceptions import (
    AdoptionError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChannelNotFoundError,
    ChannelValidationError,
    ConfigurationError,
    IdentityConflictError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PingBackError,
    PlanLimitError,
    RateLimitError,
)
from ._kinds import kind_of
from ._native_wire import (
    TO_WIRE,
    core_path,
    detailed_diff,
    sealed_inputs,
    sealed_outputs,
    unwire,
    wire,
    wire_value,
)
from ._operations import (
    Channels,
    channel_outputs,
    declared_inputs,
    enable_logging,
    reported,
)
from ._schema import (
    CHANNEL_TOKEN,
    COMPUTED,
    PACKAGE,
    PRINTABLE,
    PROVIDER_PROPERTIES,
    READ_BACK,
    schema_json,
)
from ._settings import load_settings
from ._transport import parallel_writes
from ._unknown import UNKNOWN, is_unknown
from ._version import __version__

__all__ = ["TESTED_SDK", "PingBackProvider", "main"]

TESTED_SDK = "3.272"
"""The Pulumi SDK releases (3.272.x) this module was tested with; the ``native`` extra
pins them, and the plugin warns on stderr when it runs with another."""

Path_ = tuple[str, ...]
T = TypeVar("T")

_SETTINGS = {p.name: p.core for p in PROVIDER_PROPERTIES}  # token -> pingback:token
_ENGINE_KEYS = ("version", "pluginDownloadURL")  # the engine's own provider inputs


# ---- the provider --------------------------------------------------------------------------


def _channel_type(urn: str) -> str:
    """The type token of ``urn:pulumi:<stack>::<project>::<type>::<name>``: the name may
    hold ``::`` itself; under a component the type is ``parent$child``."""
    parts = urn.split("::", 3)
    return parts[2].rsplit("$", 1)[-1] if len(parts) == 4 else ""


def _failures(problems: Iterable[tuple[str, str]]) -> list[CheckFailure]:
    """Problems as CheckFailures the CLI prints without a credential (see
    :func:`._operations.reported`), in the schema's names."""
    return [CheckFailure(p, r) for p, r in reported(problems, PRINTABLE, TO_WIRE)]


class PingBackProvider(Provider):
    """The ``pingback`` provider: ``pingback:index:Channel`` over :mod:`._operations`."""

    def __init__(self, threads: int | None = None, *, engine: str | None = None) -> None:
        size = threads or parallel_writes()  # at least the engine's --parallel
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="pingback")
        self._ops: Channels | None = None
        self._engine = engine

    @property
    def engine(self) -> str | None:
        """The engine's address: given at launch, or by ``Attach``."""
        return self._engine

    def attach(self, address: str) -> None:
        self._engine = address or None
        install_engine_log(self._engine, os.environ.get("PINGBACK_LOG_LEVEL"))
        watch_engine(self._engine)

    def ops(self) -> Channels:
        if self._ops is None:  # configure() was not called: the environment's settings
            self._ops = Channels(native=True, caller=self._engine)
        return self._ops

    async def _run(self, urn: str, fn: Callable[..., T], *args: Any) -> T:
        """A blocking call of the core about resource ``urn``, on the pool (the event loop
        keeps serving); what it logs goes to the engine under that resource."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        context.run(current_urn.set, urn)
        return await loop.run_in_executor(self._pool, functools.partial(context.run, fn, *args))

    @staticmethod
    def _resource(urn: str) -> None:
        token = _channel_type(urn)
        if token != CHANNEL_TOKEN:
            raise ConfigurationError(
                f"the {PACKAGE} provider has no resource type {token!r}; it has {CHANNEL_TOKEN}"
            )

    # ---- provider configuration ---------------------------------------------------------------

    def _settings_from(self, props: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """{pingback:key: value} of the known settings, and every key given."""
        config = {_SETTINGS[k]: v for k, v in props.items() if k in _SETTINGS}
        keys = [f"{PACKAGE}:{k}" for k in props if k not in _ENGINE_KEYS]
        return config, keys

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=schema_json())

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        """The provider's settings, checked at preview: unknown keys (did you mean?), a
        token from the config or PINGBACK_TOKEN, a base URL, numbers in range. Stack
        config arrives as strings; numbers go back as numbers."""
        news, secrets = unwire(request.new_inputs)
        known = {k: v for k, v in news.items() if not is_unknown(v)}
        config, keys = self._settings_from(news)
        for name, core in _SETTINGS.items():  # computed at preview: judged when known
            if is_unknown(news.get(name)):
                config[core] = "https://unknown.invalid" if name == "apiUrl" else "1"
        try:
            settings = load_settings(config, keys=keys)
        except ConfigurationError as exc:
            return CheckResponse(inputs=request.new_inputs, failures=[CheckFailure("", str(exc))])
        checked = dict(news)
        if "timeout" in known:
            checked["timeout"] = settings.timeout
        if "maxRetries" in known:
            checked["maxRetries"] = settings.max_retries
        secrets |= {("token",)} if "token" in checked else set()
        return CheckResponse(
            inputs={k: wire_value(v, (k,), secrets) for k, v in checked.items()}, failures=[]
        )

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        """Settings from the provider's inputs (``args``), then the deprecated
        ``variables`` (``pingback:config:<key>``), then PINGBACK_*. Secrets are accepted:
        the provider marks its own (the engine stops copying them from inputs)."""
        enable_logging(os.environ.get("PINGBACK_LOG_LEVEL"))
        install_engine_log(self._engine, os.environ.get("PINGBACK_LOG_LEVEL"))
        args, _ = unwire(request.args)
        config, keys = self._settings_from(args)
        for name, core in _SETTINGS.items():
            variable = request.variables.get(f"{PACKAGE}:config:{name}")
            if config.get(core) in (None, "") and variable:
                config[core] = variable
        settings = load_settings(config, keys=keys)
        self._ops = Channels(settings, native=True, caller=self._engine)
        await self._run("", self._ops.verify)  # a wrong token fails the preview, here
        return ConfigureResponse(accept_secrets=True, supports_preview=True)

    # ---- resources ----------------------------------------------------------------------------

    async def check(self, request: CheckRequest) -> CheckResponse:
        self._resource(request.urn)
        try:
            news, carried = unwire(request.new_inputs)
            olds, _ = unwire(request.old_inputs)
        except ChannelValidationError as exc:
            return CheckResponse(inputs=request.new_inputs, failures=_failures(exc.problems))
        inputs, problems = self.ops().check(news, olds, TO_WIRE)
        if problems:
            return CheckResponse(inputs=request.new_inputs, failures=_failures(problems))
        return CheckResponse(inputs=wire(inputs, sealed_inputs(inputs, carried)), failures=[])

    async def diff(self, request: DiffRequest) -> DiffResponse:
        """The engine sends ``ignoreChanges`` with every Diff, and applies it to nothing
        itself here: on a refresh, news are the old inputs and olds what was read, so a
        dashboard change of an ignored path would show as drift unless ignored here."""
        self._resource(request.urn)
        olds, _ = unwire(request.old_state)
        news, _ = unwire(request.new_inputs)
        if request.ignore_changes:
            news = ignoring(news, olds, [core_path(p) for p in request.ignore_changes])
        decision = self.ops().diff(request.resource_id, olds, news)
        return DiffResponse(
            changes=decision.changes,
            replaces=[TO_WIRE.get(k, k) for k in decision.replaces],
            diffs=[TO_WIRE.get(k, k) for k in decision.changed],
            detailed_diff=detailed_diff(decision),
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        self._resource(request.urn)
        props, carried = unwire(request.properties)
        if request.preview:  # what PingBack will say is not known yet
            outs = _planned(props, {})
            return CreateResponse(None, wire(outs, sealed_outputs(outs, carried)))
        channel = await self._run(request.urn, self.ops().create, props)
        outs = channel_outputs(channel)
        return CreateResponse(channel.id, wire(outs, sealed_outputs(outs, carried)))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        self._resource(request.urn)
        olds, old_secrets = unwire(request.olds)
        news, carried = unwire(request.news)
        if request.preview:
            outs = _planned(news, olds)
            return UpdateResponse(wire(outs, sealed_outputs(outs, carried)))
        channel = await self._run(request.urn, self.ops().update, request.resource_id, olds, news)
        outs = channel_outputs(channel)
        return UpdateResponse(wire(outs, sealed_outputs(outs, carried | old_secrets)))

    async def delete(self, request: DeleteRequest) -> None:
        self._resource(request.urn)
        props, _ = unwire(request.properties)
        await self._run(request.urn, self.ops().delete, request.resource_id, props)

    async def read(self, request: ReadRequest) -> ReadResponse:
        """Refresh (the outputs a create wrote): the channel, or an empty id when it is
        gone. Import and lookups (nothing, or a state given as both inputs and outputs):
        the channel, or an error naming the id."""
        self._resource(request.urn)
        olds, old_secrets = unwire(request.properties)
        old_inputs, input_secrets = unwire(request.inputs)
        op = "get" if old_inputs else "import"
        channel = await self._run(
            request.urn, self.ops().read_or_lookup, request.resource_id, olds, op
        )
        if channel is None:
            return ReadResponse(None, {}, {})  # gone: refresh drops it from the stack
        outs = channel_outputs(channel)
        inputs = declared_inputs(outs)
        return ReadResponse(
            channel.id,
            wire(outs, sealed_outputs(outs, old_secrets)),
            wire(inputs, sealed_inputs(inputs, input_secrets)),
        )


def _planned(news: Mapping[str, Any], olds: Mapping[str, Any]) -> dict[str, Any]:
    """Preview outputs: the checked inputs, what PingBack keeps from before, and unknowns
    for what it will say (``businessId``, ``createdAt``, the Meta setup)."""
    outs = {k: v for k, v in news.items() if k in READ_BACK}
    for key in COMPUTED:
        if key in outs:
            continue
        kind = kind_of(news.get("type"))
        if key.startswith("meta_") and kind is not None and not kind.meta_setup:
            continue
        if key == "identity" and kind is not None and kind.identity_key is None:
            continue
        same_type = olds.get("type") == news.get("type")
        keep = key in ("business_id", "created_at") or (same_type and key.startswith("meta_"))
        outs[key] = olds[key] if keep and key in olds else UNKNOWN
    return outs


# ---- the gRPC server -------------------------------------------------------------------------


# The engine reads UNKNOWN, INTERNAL and DATA_LOSS as "the resource's state is unknown"
# (provider_plugin.go, resourceStateAndError) and says the stack may be out of step; any
# other code means the call changed nothing it did not report. So UNKNOWN only when a
# write may have landed.
_CODES: tuple[tuple[type[PingBackError], grpc.StatusCode], ...] = (
    (ChannelValidationError, grpc.StatusCode.INVALID_ARGUMENT),
    (ConfigurationError, grpc.StatusCode.INVALID_ARGUMENT),
    (BadRequestError, grpc.StatusCode.INVALID_ARGUMENT),
    (AuthenticationError, grpc.StatusCode.UNAUTHENTICATED),
    (PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
    (PlanLimitError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (RateLimitError, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (ChannelNotFoundError, grpc.StatusCode.NOT_FOUND),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (IdentityConflictError, grpc.StatusCode.FAILED_PRECONDITION),
    (AdoptionError, grpc.StatusCode.FAILED_PRECONDITION),
    (APITimeoutError, grpc.StatusCode.DEADLINE_EXCEEDED),
    (APIConnectionError, grpc.StatusCode.UNAVAILABLE),
)


def grpc_code(exc: PingBackError) -> grpc.StatusCode:
    """The status a failed call goes back with: UNKNOWN when its outcome is unknown (a
    create or write that may have landed), else the class's code (FAILED_PRECONDITION
    for what has none: a redirect, an unreadable answer, a server error)."""
    if exc.maybe_applied or isinstance(exc, OutcomeUnknownError):
        return grpc.StatusCode.UNKNOWN
    for cls, code in _CODES:
        if isinstance(exc, cls):
            return code
    return grpc.StatusCode.FAILED_PRECONDITION


def _plain_errors(name: str) -> Callable[..., Any]:
    """The servicer's ``name``, an error of ours sent as its own message: no
    ``Unexpected <class 'Exception'>`` and no traceback in the CLI's output."""
    inner = getattr(ProviderServicer, name)

    async def handler(self: ProviderServicer, request: Any, context: Any) -> Any:
        try:
            return await inner(self, request, context)
        except Exception as exc:
            ours = exc if isinstance(exc, PingBackError) else exc.__context__
            if isinstance(ours, PingBackError):
                await context.abort(grpc_code(ours), str(ours))
            raise

    handler.__name__ = name
    return handler


class _Servicer(ProviderServicer):
    """The SDK's servicer, with our errors sent as plain messages, ``Attach`` (the CLI's
    ``PULUMI_DEBUG_PROVIDERS=pingback:<port>``, to a plugin started by hand) and an
    honest UNIMPLEMENTED for ``Parameterize``."""

    def __init__(self, args: list[str], version: str, provider: PingBackProvider) -> None:
        super().__init__(args, version, provider, engine_address=provider.engine or "")
        self.pingback = provider

    async def Attach(self, request: Any, context: Any) -> Any:
        from google.protobuf import empty_pb2

        self.pingback.attach(request.address)
        return empty_pb2.Empty()

    async def Parameterize(self, request: Any, context: Any) -> Any:
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED, f"the {PACKAGE} provider takes no parameters"
        )


for _name in ("CheckConfig", "Configure", "Check", "Diff", "Create", "Update", "Delete", "Read"):
    setattr(_Servicer, _name, _plain_errors(_name))


async def _serve(args: Sequence[str], engine: str | None) -> None:
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
    servicer = _Servicer(list(args), __version__, PingBackProvider(engine=engine))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(f"{port}\n")  # the CLI reads the port from the first line
    sys.stdout.flush()
    await server.wait_for_termination()


def _check_sdk() -> None:
    """A warning the CLI prints (through the engine's log) when the plugin runs with a
    Pulumi SDK it was not tested with."""
    from importlib.metadata import version

    installed = version("pulumi")
    if not installed.startswith(f"{TESTED_SDK}."):
        logging.getLogger("pulumi_pingback").warning(
            "pulumi-resource-%s: tested with the Pulumi Python SDK %s.x; this environment "
            "has %s. `pip install 'pulumi-pingback[native]'` installs the tested one.",
            PACKAGE,
            TESTED_SDK,
            installed,
        )


def main(argv: Sequence[str] | None = None) -> None:
    """``pulumi-resource-pingback [flags] <engine address>``: serve until the CLI stops it.
    Without an address (started by hand, for ``PULUMI_DEBUG_PROVIDERS``), the CLI gives
    it in ``Attach``."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog=f"pulumi-resource-{PACKAGE}",
        description="The PingBack native Pulumi provider: a gRPC server the Pulumi CLI "
        "starts (it prints its port, then serves until stopped).",
    )
    parser.add_argument(
        "engine", nargs="?", help="the Pulumi engine's address (the CLI gives it, last)"
    )
    parser.add_argument("--tracing", help="a tracing endpoint (accepted, unused)")
    parser.add_argument("--version", action="version", version=__version__)
    # The CLI may add --logtostderr, --logflow, -v=N before the address.
    known, _ = parser.parse_known_args(args)
    if known.engine:
        install_engine_log(known.engine, os.environ.get("PINGBACK_LOG_LEVEL"))
        watch_engine(known.engine)
    _check_sdk()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, known.engine))


if __name__ == "__main__":
    main()
