"""``PingBackChannelProvider``: the dynamic-provider front of :mod:`.._operations`.

Holds nothing at construction (it is pickled into the state by reference: 74 bytes);
``configure()`` builds the operations once per provider process. One instance serves
every channel of a deployment on up to 4 threads, so no per-resource state lives on
``self``. This module only translates: secrets to the wire's secret objects, problems to
CheckFailures the CLI can print without a credential in them.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from .._exceptions import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    PermissionDeniedError,
    PingBackError,
)
from ..channels._schema import TIME_LIMITS

if TYPE_CHECKING:
    from .._operations import Channels
    from ..channels._results import Outputs

# A Pulumi program only needs this class to exist (it is pickled by reference); the
# client, models and policy (httpx, pydantic, tenacity) load in the provider process on
# first use. That keeps `import pulumi_pingback` cheap for every `pulumi preview`.

__all__ = ["PingBackChannelProvider", "seal_config"]


def _secret(value: Any) -> Any:
    """``value`` as a secret on the wire: the engine keeps it secret in the state."""
    from pulumi.runtime import rpc

    return rpc.wrap_rpc_secret(value)


def seal_config(channel_type: Any, config: Any) -> Any:
    """A config as this front puts it among *inputs* (Check and Read seal their whole
    inputs the same way, :func:`..channels._results.sealed`): the core's secret paths as the wire's
    secret objects."""
    from ..channels._results import sealed_config

    return sealed_config(channel_type, config, _secret)


def _wire(outputs: Outputs) -> dict[str, Any]:
    """Outputs, their secret paths as the wire's secret objects."""
    from ..channels._results import sealed

    return sealed(outputs.values, outputs.secret_paths, _secret)


def _engine_address() -> str | None:
    """The engine's address, which the CLI passes the dynamic-provider server as its
    argument (`pulumi-resource-pulumi-python <address>`), or None."""
    import re
    import sys

    given = sys.argv[1] if len(sys.argv) > 1 else ""
    return given if re.fullmatch(r"[\w.\-]+:\d+", given) else None


def _kept(props: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the ``ignore_changes`` and ``custom_timeouts`` of ``props``: kept
    among the outputs, so that a refresh (which reads from the outputs) writes them back
    among the inputs, where the next refresh's Diff finds them, and a delete (given the
    outputs) knows its limit."""
    for key in ("ignore_changes", TIME_LIMITS):
        if key in props:
            values[key] = props[key]
    return values


def _time_limit(props: dict[str, Any], op: str) -> float | None:
    """The seconds of ``custom_timeouts[op]`` among ``props`` (a Go duration, as the
    engine took it), or None."""
    from ..client._limit import parse_duration

    given = props.get(TIME_LIMITS)
    value = given.get(op) if isinstance(given, dict) else None
    try:
        return parse_duration(value) if isinstance(value, str) else None
    except ValueError:
        return None  # the engine refuses a malformed one at registration


_F = TypeVar("_F", bound=Callable[..., Any])


_said: set[str] = set()
"""Every error text this provider process has raised in full (one process per command)."""
_said_lock = threading.Lock()


def _whole_process(exc: PingBackError) -> bool:
    """An error every call of this process meets alike: its settings, its token, an API
    it cannot reach (nothing sent). Never one about a channel, or a write that may have
    landed: each resource keeps those whole."""
    if exc.maybe_applied:
        return False
    if isinstance(exc, ConfigurationError | AuthenticationError | PermissionDeniedError):
        return True
    return isinstance(exc, APIConnectionError) and not exc.sent


def _once(exc: PingBackError) -> PingBackError:
    """``exc`` the first time this process raises its text; after that, one line saying
    it is the same, for the errors of the whole process (:func:`_whole_process`). A wrong
    token or an unreachable API fails every resource of a command alike (a refresh reads
    each), and the CLI prints each error with the dynamic server's traceback: the full
    error once is enough."""
    if not _whole_process(exc):
        return exc
    text = str(exc)
    with _said_lock:
        first = text not in _said
        _said.add(text)
    if first:
        return exc
    headline = exc.message.splitlines()[0] if exc.message else type(exc).__name__
    return exc.evolve(
        message=f"the same error as another resource of this command, in full there: {headline}",
        advice="",
    )


def _boundary(method: _F) -> _F:
    """The CLI prints the whole traceback of an error (the dynamic server sends
    ``traceback.format_exc()``): ours leave from here, explained already, with three
    frames and no chain, and in full once per command (:func:`_once`)."""

    @functools.wraps(method)
    def boundary(*args: Any) -> Any:
        try:
            return method(*args)
        except PingBackError as exc:
            raise _once(exc).with_traceback(None) from None

    return boundary  # type: ignore[return-value]


class PingBackChannelProvider(
    ResourceProvider
):  # pickled as pulumi_pingback.PingBackChannelProvider
    """The dynamic provider behind :class:`PingBackChannel`.

    Configuration (stack config first, then environment): ``pingback:token`` /
    PINGBACK_TOKEN (secret), ``pingback:apiUrl`` / PINGBACK_API_URL (default
    https://api.pingback.live), ``pingback:timeout`` / PINGBACK_TIMEOUT (seconds, 30),
    ``pingback:maxRetries`` / PINGBACK_MAX_RETRIES (3).

    Every method is a boundary: a PingBackError leaves it with its advice added
    (:mod:`.._advice`), a short traceback and no chain.
    """

    _lock = threading.Lock()

    serialize_as_secret_always = False
    """The pickled provider in each resource's state (``__provider``) is no secret: it holds
    the class's name and nothing else (``__getstate__``), so sealing it would only cost a
    ciphertext among the inputs and one among the outputs of every channel. Were a secret
    ever captured in it, the SDK would still seal it."""

    def __init__(self) -> None:
        super().__init__()

    # Nothing on the instance is ever pickled: not the client, not the token.
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        pass

    def __repr__(self) -> str:
        return "PingBackChannelProvider()"

    def configure(self, req: ConfigureRequest) -> None:
        """Check the settings, once per provider process, on its first call (at preview:
        the first Check): a malformed one fails that call before anything is sent, and a
        token PingBack refuses or an API it cannot reach fails it after one list."""
        from .._enginelog import attach
        from .._operations import Channels
        from .._settings import SETTINGS

        attach(_engine_address())
        config = {key: req.config.get(key) for key in SETTINGS}
        every_key = getattr(req.config, "_props", {})  # the whole stack config
        project = getattr(req.config, "_project_name", None)
        try:
            ops = Channels.from_config(
                config, keys=list(every_key), project=project, caller=_engine_address()
            )
            with self._lock:
                self.__dict__["_channels"] = ops  # a fresh deployment
            ops.verify()
        except PingBackError as exc:
            raise _once(exc).with_traceback(None) from None

    def _ops(self) -> Channels:
        """This process's operations (from the PINGBACK_* environment if configure() was
        never called, as with an old SDK)."""
        from .._operations import Channels

        with self._lock:
            ops = self.__dict__.setdefault("_channels", Channels())
        return ops  # type: ignore[no-any-return]

    # ---- check / diff -----------------------------------------------------------------

    @_boundary
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        from ..channels._results import sealed

        checked = self._ops().check(news, _olds)
        inputs = sealed(checked.inputs, checked.secret_paths, _secret)
        return CheckResult(inputs, [CheckFailure(p, r) for p, r in checked.failures])

    @_boundary
    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        decision = self._ops().diff(_id, _olds, _news)
        return DiffResult(changes=decision.changes, replaces=list(decision.replaces))

    # ---- CRUD ---------------------------------------------------------------------------

    @_boundary
    def create(self, props: dict[str, Any]) -> CreateResult:
        from ..channels._models import Declaration

        outputs = self._ops().create(Declaration.of(props), time_limit=_time_limit(props, "create"))
        assert outputs.id is not None  # a created channel's
        return CreateResult(outputs.id, _kept(props, _wire(outputs)))

    @_boundary
    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        from ..channels._models import Declaration

        outputs = self._ops().update(
            _id, _olds, Declaration.of(_news), time_limit=_time_limit(_news, "update")
        )
        return UpdateResult(_kept(_news, _wire(outputs)))

    @_boundary
    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        self._ops().delete(_id, _props, time_limit=_time_limit(_props, "delete"))

    @_boundary
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from ..channels._results import sealed

        outputs = self._ops().read_or_lookup(id_, props)
        if outputs is None:
            return ReadResult(None, {})  # gone: refresh drops it from the stack
        declared, paths = outputs.declared()
        inputs = _kept(props, sealed(declared, paths, _secret))
        return ReadResult(id_, _kept(props, _wire(outputs)), inputs)


# Pickled by reference into every resource's state: under the package's public name, a
# path that survives any move inside it (states of 0.3 and earlier: ``.._provider``).
PingBackChannelProvider.__module__ = "pulumi_pingback"
