"""The native provider's resource and config methods over :mod:`.._operations`: the
wire (camelCase names, ``PropertyValue``, secrets the provider marks itself, detailed
diffs, :mod:`._wire`) in and out, the blocking core on a thread pool. Served by
:mod:`._server`, which imports this module (and with it the client stack: httpx,
pydantic) on the first call that needs it, not to answer GetSchema.

The experimental API's rough edges (SDK 3.272), handled here and in the wire module:
unknowns arrive as the wire's sentinel string, numbers must be floats, ``diff_config`` is
left alone, the type of a resource under a component is ``parent$child``, and a Read that
finds nothing on import must raise (an empty answer would import a phantom).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pulumi.provider.experimental.property_value import PropertyValue
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
    InvokeRequest,
    InvokeResponse,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from .._enginelog import attach, current_urn
from .._exceptions import (
    ChannelValidationError,
    ConfigurationError,
)
from .._operations import Channels
from .._settings import TABLE as SETTINGS_TABLE
from .._settings import from_inputs, load_settings
from ..channels._diff import ignoring
from ..channels._models import Declaration
from ..channels._results import Outputs, reported
from ..channels._schema import (
    CHANNEL_TOKEN,
    FUNCTIONS,
    PACKAGE,
)
from ..channels._unknowns import is_unknown
from ..client._transport import parallel_writes
from ._wire import TO_WIRE, config_key_name, core_path, detailed_diff, unwire, wire, wire_value

__all__ = ["PingBackProvider"]

T = TypeVar("T")

# ---- the provider --------------------------------------------------------------------------


def _channel_type(urn: str) -> str:
    """The type token of ``urn:pulumi:<stack>::<project>::<type>::<name>``: the name may
    hold ``::`` itself; under a component the type is ``parent$child``."""
    parts = urn.split("::", 3)
    return parts[2].rsplit("$", 1)[-1] if len(parts) == 4 else ""


def _failures(failures: Iterable[tuple[str, str]]) -> list[CheckFailure]:
    return [CheckFailure(p, r) for p, r in failures]


class PingBackProvider(Provider):
    """The ``pingback`` provider: ``pingback:index:Channel`` over :mod:`.._operations`."""

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
        attach(self._engine)

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

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        """The provider's settings, checked at preview: unknown keys (did you mean?), a
        token from the config or PINGBACK_TOKEN, a base URL, numbers in range. Stack
        config arrives as strings; numbers go back as numbers."""
        news, secrets = unwire(request.new_inputs)
        known = {k: v for k, v in news.items() if not is_unknown(v)}
        config, keys = from_inputs(news)
        for setting in SETTINGS_TABLE:  # computed at preview: judged when known
            if is_unknown(news.get(setting.name)):
                config[setting.key] = setting.stand_in
        try:
            settings = load_settings(config, keys=keys)
        except ConfigurationError as exc:
            return CheckResponse(inputs=request.new_inputs, failures=[CheckFailure("", str(exc))])
        checked = dict(news)
        for setting in SETTINGS_TABLE:  # stack config gives strings: numbers go back
            if setting.numeric and setting.name in known:
                checked[setting.name] = getattr(settings, setting.field)
            if setting.secret and setting.name in checked:
                secrets.add((setting.name,))
        return CheckResponse(
            inputs={k: wire_value(v, (k,), secrets) for k, v in checked.items()}, failures=[]
        )

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        """Settings from the provider's inputs (``args``), then the deprecated
        ``variables`` (``pingback:config:<key>``), then PINGBACK_*. Secrets are accepted:
        the provider marks its own (the engine stops copying them from inputs)."""
        attach(self._engine)
        args, _ = unwire(request.args)
        config, keys = from_inputs(args)
        for setting in SETTINGS_TABLE:
            variable = request.variables.get(f"{PACKAGE}:config:{setting.name}")
            if config.get(setting.key) in (None, "") and variable:
                config[setting.key] = variable
        self._ops = Channels.from_config(config, keys=keys, native=True, caller=self._engine)
        await self._run("", self._ops.verify)  # a wrong token fails the preview, here
        return ConfigureResponse(accept_secrets=True, supports_preview=True)

    # ---- resources ----------------------------------------------------------------------------

    async def check(self, request: CheckRequest) -> CheckResponse:
        self._resource(request.urn)
        try:
            news, carried = unwire(request.new_inputs, strict=True)
            olds, _ = unwire(request.old_inputs)
        except ChannelValidationError as exc:
            failures = _failures(reported(exc.problems, TO_WIRE))
            return CheckResponse(inputs=request.new_inputs, failures=failures)
        checked = self.ops().check(
            news, olds, TO_WIRE, key_names=config_key_name, resource=request.urn
        )
        if checked.failures:
            return CheckResponse(inputs=request.new_inputs, failures=_failures(checked.failures))
        inputs = wire(checked.inputs, carried | checked.secret_paths)
        return CheckResponse(inputs=inputs, failures=[])

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
            detailed_diff=detailed_diff(decision, news.get("type")),
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        self._resource(request.urn)
        props, carried = unwire(request.properties)
        if request.preview:  # what PingBack will say is not known yet
            outputs = Outputs.planned(props, {})
        else:
            outputs = await self._run(
                request.urn,
                functools.partial(
                    self.ops().create, resource=request.urn, time_limit=request.timeout
                ),
                Declaration.of(props),
            )
        return CreateResponse(outputs.id, wire(outputs.values, carried | outputs.secret_paths))

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        self._resource(request.urn)
        olds, _ = unwire(request.olds)
        news, carried = unwire(request.news)
        if request.preview:
            outputs = Outputs.planned(news, olds)
            return UpdateResponse(wire(outputs.values, carried | outputs.secret_paths))
        outputs = await self._run(
            request.urn,
            functools.partial(self.ops().update, time_limit=request.timeout),
            request.resource_id,
            olds,
            Declaration.of(news),
        )
        # What the program marks now and the core's rule: not the old outputs' marks, so a
        # state sealed whole by an older version is sealed key by key after an update.
        return UpdateResponse(wire(outputs.values, carried | outputs.secret_paths))

    async def delete(self, request: DeleteRequest) -> None:
        self._resource(request.urn)
        props, _ = unwire(request.properties)
        await self._run(
            request.urn,
            functools.partial(self.ops().delete, time_limit=request.timeout),
            request.resource_id,
            props,
        )

    async def invoke(self, request: InvokeRequest) -> InvokeResponse:
        """``getChannels`` / ``getChannel``: arguments checked before anything is sent
        (failures the CLI prints by argument), then one list (the provider's, shared)."""
        function = FUNCTIONS.get(request.tok)
        if function is None:
            raise ConfigurationError(
                f"the {PACKAGE} provider has no function {request.tok!r}; it has "
                f"{', '.join(FUNCTIONS)}"
            )
        args, _ = unwire(request.args)
        failures = self.ops().check_lookup(function, args, TO_WIRE)
        if failures:
            return InvokeResponse(failures=_failures(failures))
        if function == "get_channels":
            infos = await self._run("", self.ops().channels_of, args.get("type"))
            listed = [PropertyValue(wire(info, set())) for info in infos]
            return InvokeResponse({"channels": PropertyValue(listed)})
        info = await self._run("", self.ops().channel_by, args.get("id"), args.get("identity"))
        return InvokeResponse(wire(info, set()))

    async def read(self, request: ReadRequest) -> ReadResponse:
        """Refresh (the outputs a create wrote): the channel, or an empty id when it is
        gone. Import and lookups (nothing, or a state given as both inputs and outputs):
        the channel, or an error naming the id."""
        self._resource(request.urn)
        olds, old_secrets = unwire(request.properties)
        old_inputs, input_secrets = unwire(request.inputs)
        op = "get" if old_inputs else "import"
        outputs = await self._run(
            request.urn, self.ops().read_or_lookup, request.resource_id, olds, op
        )
        if outputs is None:
            return ReadResponse(None, {}, {})  # gone: refresh drops it from the stack
        inputs, paths = outputs.declared()
        return ReadResponse(
            outputs.id,
            wire(outputs.values, old_secrets | outputs.secret_paths),
            wire(inputs, input_secrets | paths),
        )
