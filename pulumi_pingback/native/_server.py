"""The native provider ``pingback``: its gRPC server and entry point (:func:`main`).

The CLI starts this plugin (``pulumi-resource-pingback``, or the repository's root
``__main__.py`` through ``PulumiPlugin.yaml``) once per provider of a deployment, and
drives it over gRPC: ``CheckConfig`` → ``Configure`` → per resource ``Check`` →
``Diff`` → ``Create``/``Update`` (also at preview, with ``preview`` set) …, ``Read`` for
refresh and import, ``Delete``. The work is :mod:`.._operations`, shared with the dynamic
provider; :mod:`._provider` translates the wire (camelCase names,
``PropertyValue``, secrets the provider marks itself, detailed diffs: :mod:`._wire`)
and runs the blocking client on a thread pool, so parallel steps are bounded by the
engine's ``--parallel``, not by a server's threads. This module serves it, sending our
errors with their gRPC code. The three are the only modules that touch
``pulumi.provider.experimental``, written against the Pulumi Python SDK 3.272 (see
:data:`TESTED_SDK`; its rough edges are listed in :mod:`._provider`).

The CLI starts the plugin several times per command, some of them only to ask
GetPluginInfo and GetSchema: so this module loads nothing of the client stack (httpx,
pydantic, :mod:`.._operations`). It serves :class:`_Front`, which answers the schema from
the tables and builds the real provider on the first call that needs it
(``tests/test_plugin_start.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import grpc
import grpc.aio
from pulumi.provider.experimental.provider import (
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
    InvokeRequest,
    InvokeResponse,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)
from pulumi.provider.experimental.server import ProviderServicer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import provider_pb2_grpc

from .._enginelog import attach
from .._exceptions import (
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
from .._version import __version__
from ..channels._schema import PACKAGE, schema_json

if TYPE_CHECKING:
    from ._provider import PingBackProvider

__all__ = ["TESTED_SDK", "main"]

TESTED_SDK = "3.272"
"""The Pulumi SDK releases (3.272.x) this module was tested with; the ``native`` extra
pins them, and the plugin warns (through the engine's log) when it runs with another,
on its first call that needs the provider."""


_EARLY_HEAD_START = 2.0
"""How long the provider's build waits for the first list's thread to send it (it
signals at once when it has nothing to send)."""


# ---- what the server serves: the schema at once, the provider when first needed ------------


class _Front(Provider):
    """The provider the server serves from its start. GetSchema is the tables' (and
    GetPluginInfo, Handshake, Cancel, DiffConfig the SDK's, as for the provider itself);
    every other call goes to the :class:`~._provider.PingBackProvider` it builds on the
    first of them — importing the client stack then, off the event loop, once."""

    def __init__(self, engine: str | None) -> None:
        self._engine = engine
        self._provider: PingBackProvider | None = None
        self._lock = threading.Lock()
        self._early: threading.Event | None = None

    @property
    def engine(self) -> str | None:
        """The engine's address: given at launch, or by ``Attach``."""
        return self._engine

    def attach(self, address: str) -> None:
        with self._lock:  # a provider being built takes this address
            self._engine = address or None
            if self._provider is None:
                attach(self._engine)
            else:
                self._provider.attach(address)

    def _build(self) -> PingBackProvider:
        if self._early is not None:
            # The first list's thread loads httpx and sends it first: both threads
            # loading at once would share one core's worth of GIL and delay the send.
            self._early.wait(_EARLY_HEAD_START)
        with self._lock:
            if self._provider is None:
                from ._provider import PingBackProvider

                self._provider = PingBackProvider(engine=self._engine)
                _check_sdk()
            return self._provider

    async def provider(self) -> PingBackProvider:
        """The real provider, built (on a thread: the loop keeps serving) when first asked."""
        if self._provider is None:
            return await asyncio.to_thread(self._build)
        return self._provider

    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=schema_json())

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        if self._provider is None and self._early is None:
            self._early = threading.Event()  # set when the first list is on its way
            threading.Thread(
                target=_first_list,
                args=(request.new_inputs, self._early.set),
                name="pingback-first-list",
                daemon=True,
            ).start()
        return await (await self.provider()).check_config(request)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        return await (await self.provider()).configure(request)

    async def check(self, request: CheckRequest) -> CheckResponse:
        return await (await self.provider()).check(request)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        return await (await self.provider()).diff(request)

    async def create(self, request: CreateRequest) -> CreateResponse:
        return await (await self.provider()).create(request)

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        return await (await self.provider()).update(request)

    async def delete(self, request: DeleteRequest) -> None:
        await (await self.provider()).delete(request)

    async def read(self, request: ReadRequest) -> ReadResponse:
        return await (await self.provider()).read(request)

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        return await (await self.provider()).invoke(request)


def _first_list(news: Mapping[str, Any], sending: Callable[[], None]) -> None:
    """The provider's first list, sent as soon as CheckConfig gives the settings
    (:func:`~..client._transport.send_early`), with only what sending it needs loaded
    (httpx): the rest of the client stack loads while it is in flight (``sending``: the
    request is written, or nothing will be sent), and configure, which takes its answer, waits for what is
    left of its round trip instead of all of it. Only settings that are known and valid:
    anything else is CheckConfig's to report, with no request sent."""
    try:
        from pulumi.provider.experimental.property_value import Computed

        from .._settings import from_inputs, load_settings
        from ..client._transport import send_early

        plain = {k: v.value for k, v in news.items()}
        if not any(isinstance(v, Computed) for v in plain.values()):
            config, keys = from_inputs(plain)
            send_early(load_settings(config, keys=keys), sending=sending)
    except Exception:  # noqa: S110 - CheckConfig says what is wrong (the import fails there too)
        pass
    finally:
        sending()  # whatever happened: the client stack may load now


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

    def __init__(self, args: list[str], version: str, front: _Front) -> None:
        super().__init__(args, version, front, engine_address=front.engine or "")
        self.pingback = front

    async def Attach(self, request: Any, context: Any) -> Any:
        from google.protobuf import empty_pb2

        self.pingback.attach(request.address)
        return empty_pb2.Empty()

    async def Parameterize(self, request: Any, context: Any) -> Any:
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED, f"the {PACKAGE} provider takes no parameters"
        )


for _name in (
    "CheckConfig",
    "Configure",
    "Check",
    "Diff",
    "Create",
    "Update",
    "Delete",
    "Read",
    "Invoke",
):
    setattr(_Servicer, _name, _plain_errors(_name))


async def _serve(args: Sequence[str], engine: str | None) -> None:
    server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
    servicer = _Servicer(list(args), __version__, _Front(engine))
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
        attach(known.engine)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args, known.engine))


if __name__ == "__main__":
    main()
