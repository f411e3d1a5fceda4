"""``PingBackChannelProvider``: the glue between the dynamic-provider server and PingBack.

Holds nothing at construction (it is pickled into the state, by reference, as ~60 bytes);
``configure()`` builds the client once per provider process. One instance serves every
channel of a deployment on up to 4 threads, so no per-resource state lives on ``self``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

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

from ._exceptions import (
    ChannelNotFoundError,
    ChannelValidationError,
    ConfigurationError,
    PingBackError,
)

if TYPE_CHECKING:
    from ._client import PingBackClient
    from ._diagnostics import Context
    from ._models import Channel, DesiredChannel
    from ._ownership import Ownership
    from ._settings import Settings

log = logging.getLogger("pulumi_pingback")

# A Pulumi program only needs this class to exist (it is pickled by reference); the
# client, models and policy (httpx, pydantic, tenacity) load in the provider process on
# first use. That keeps `import pulumi_pingback` cheap for every `pulumi preview`.

__all__ = ["PingBackChannelProvider", "channel_outputs"]


def _enable_logging(level: str | None) -> None:
    """PINGBACK_LOG_LEVEL=DEBUG|INFO: the provider's log lines on stderr (shown by the CLI).

    Lines carry methods, paths, statuses and retry decisions, never a token or a body.
    """
    if not level:
        return
    logger = logging.getLogger("pulumi_pingback")
    if not any(getattr(h, "_pingback", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler._pingback = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter("pulumi-pingback %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level.upper())


def channel_outputs(channel: Channel) -> dict[str, Any]:
    """A channel's Pulumi outputs. ``config`` holds the user's keys only."""
    from ._kinds import kind_of

    outs: dict[str, Any] = {
        "type": channel.type,
        "config": channel.user_config,
        "is_active": channel.is_active,
    }
    identity = channel.identity  # parses the config: once
    if identity is not None:
        outs["identity"] = identity
    if channel.business_id is not None:
        outs["business_id"] = channel.business_id
    if channel.created_at is not None:
        outs["created_at"] = channel.created_at
    kind = kind_of(channel.type)
    if kind is not None and kind.meta_setup:
        meta = channel.meta_setup
        if isinstance(meta.get("callback_url"), str):
            outs["meta_callback_url"] = meta["callback_url"]
        if isinstance(meta.get("verify_token"), str):
            outs["meta_verify_token"] = meta["verify_token"]
    return outs


def _declared_inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs a program declaring this channel would have (for refresh), sealed."""
    inputs = {k: outs[k] for k in ("type", "config", "is_active", "identity") if k in outs}
    if "config" in inputs:
        inputs["config"] = seal_config(inputs.get("type"), inputs["config"])
    return inputs


def _secret(value: Any) -> Any:
    """``value`` as a secret on the wire: the engine keeps it secret in the state."""
    from pulumi.runtime import rpc

    return rpc.wrap_rpc_secret(value)


def seal_config(channel_type: Any, config: Any) -> Any:
    """A config as the provider returns it among *inputs* (Check, Read).

    Every credential is a secret whatever the program gave (a plain string included);
    so is every key PingBack does not document as readable (a key added in the
    dashboard), and the whole config of the undocumented types. Only readable keys
    (``phone_number_id``) stay plain, so a preview still shows why a channel is replaced.
    """
    from ._kinds import kind_of

    kind = kind_of(channel_type)
    if not isinstance(config, Mapping) or kind is None or kind.sealed_whole:
        return _secret(config)
    return {k: v if kind.readable(k) else _secret(v) for k, v in config.items()}


def sealed_outputs(channel: Channel) -> dict[str, Any]:
    """A channel's outputs with ``config`` and ``meta_verify_token`` secret on the wire."""
    outs = channel_outputs(channel)
    for key in ("config", "meta_verify_token"):
        if key in outs:
            outs[key] = _secret(outs[key])
    return outs


def _strings(value: Any) -> list[str]:
    from ._redact import strings_in

    return list(strings_in(value))


# Check failures: the engine prints `property P value <inputs[P]>` with the program's value
# of a top-level P, secrets in plain text. Only these top-level properties never hold a
# credential; a failure about anything else goes to a nested path or to the resource ("").
_PRINTABLE_PROPERTIES = ("type", "is_active", "adopt_id", "replace_on_changes")


def _failure(prop: str, reason: str) -> CheckFailure:
    if prop in _PRINTABLE_PROPERTIES or (prop.startswith("config.") and len(prop) > 7):
        return CheckFailure(prop, reason)
    return CheckFailure("", f"{prop}: {reason}" if prop else reason)


def _desired(props: Mapping[str, Any]) -> DesiredChannel:
    """The declared channel from inputs the engine already passed through check()."""
    from ._models import DesiredChannel

    channel_type, config = props.get("type"), props.get("config", {})
    is_active = props.get("is_active", True)
    if (
        isinstance(channel_type, str)
        and isinstance(config, Mapping)
        and isinstance(is_active, bool)
    ):
        return DesiredChannel(channel_type, dict(config), is_active)
    from ._check import check_inputs  # not checked (never from the engine): say why

    problems = check_inputs(props)[1] or [("type", "missing")]
    raise ChannelValidationError(problems)


class PingBackChannelProvider(ResourceProvider):
    """The dynamic provider behind :class:`PingBackChannel`.

    Configuration (stack config first, then environment): ``pingback:token`` /
    PINGBACK_TOKEN (secret), ``pingback:apiUrl`` / PINGBACK_API_URL (default
    https://api.pingback.live), ``pingback:timeout`` / PINGBACK_TIMEOUT (seconds, 30),
    ``pingback:maxRetries`` / PINGBACK_MAX_RETRIES (3).

    Every method is a boundary: a PingBackError leaves it with its advice added
    (:mod:`._diagnostics`), a short traceback and no chain.
    """

    _lock = threading.Lock()

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
        the first Check). A bad setting fails that call, before anything is sent."""
        from ._settings import SETTINGS, load_settings

        _enable_logging(os.environ.get("PINGBACK_LOG_LEVEL"))
        config = {key: req.config.get(key) for key in SETTINGS}
        every_key = getattr(req.config, "_props", {})  # the whole stack config
        project = getattr(req.config, "_project_name", None)
        try:
            settings = load_settings(config, keys=list(every_key), project=project)
        except ConfigurationError as exc:
            raise exc.with_traceback(None) from None
        self._install(settings)

    def _install(self, settings: Settings) -> None:
        from ._ownership import Ownership

        with self._lock:
            self.__dict__["_settings"] = settings
            self.__dict__.pop("_api_client", None)
            self.__dict__["_ownership"] = Ownership()  # a fresh deployment: nothing recorded

    def _client(self) -> PingBackClient:
        """The client, built on first use (httpx and pydantic load only then)."""
        current: PingBackClient | None = self.__dict__.get("_api_client")
        if current is not None:
            return current
        from ._client import PingBackClient
        from ._settings import load_settings

        with self._lock:
            current = self.__dict__.get("_api_client")
            if current is None:
                settings = self.__dict__.get("_settings") or load_settings({})  # env only
                self.__dict__["_settings"] = settings
                current = PingBackClient(
                    settings.token,
                    base_url=settings.api_url,
                    timeout=settings.timeout,
                    connect_timeout=min(10.0, settings.timeout),
                    max_retries=settings.max_retries,
                )
                self.__dict__["_api_client"] = current
        return current

    def _owners(self) -> Ownership:
        from ._ownership import Ownership

        with self._lock:
            owners = self.__dict__.setdefault("_ownership", Ownership())
        return owners  # type: ignore[no-any-return]

    def _context(self, op: str, props: Mapping[str, Any], channel_id: str | None = None) -> Context:
        from ._diagnostics import Context

        settings = self.__dict__.get("_settings")
        ctype = props.get("type")
        return Context(
            op,
            api_url=settings.api_url if settings is not None else "",
            timeout=settings.timeout if settings is not None else 30.0,
            channel_type=ctype if isinstance(ctype, str) else None,
            channel_id=channel_id,
        )

    def _explained(self, exc: PingBackError, ctx: Context, *props: Any) -> PingBackError:
        """``exc`` with advice, redacted of every secret this call knows (token, configs)."""
        from ._diagnostics import explain
        from ._redact import redactor

        # Server text was redacted by the client, fragments included, before any cut;
        # this last pass removes whole secrets from everything, our own words included.
        secrets = [s for p in props for s in _strings(p.get("config"))]
        client = self.__dict__.get("_api_client")
        if client is not None:
            return explain(exc, ctx, client.redactor(secrets, fragments=False))
        return explain(exc, ctx, redactor(secrets, fragments=False))

    def _api(self, *props: Mapping[str, Any]) -> PingBackClient:
        """The client, told every secret of this call (stored configs included), so that
        any answer quoting one of them, in any form, is redacted before it is cut."""
        client = self._client()
        client.remember(s for p in props for s in _strings(p.get("config")))
        return client

    # ---- check / diff -----------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        from ._check import check_inputs

        inputs, problems = check_inputs(news)
        if not problems:
            self._owners().checked(inputs)
        if "config" in inputs:
            inputs["config"] = seal_config(inputs.get("type"), inputs["config"])
        return CheckResult(inputs, [_failure(prop, reason) for prop, reason in problems])

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        from ._diff import decide

        decision = decide(_olds, _news)
        try:
            self._owners().diffed(_id, _news, replaced=bool(decision.replaces))
        except PingBackError as exc:
            raise self._explained(exc, self._context("diff", _news, _id), _news) from None
        return DiffResult(changes=decision.changes, replaces=list(decision.replaces))

    # ---- CRUD ---------------------------------------------------------------------------

    def create(self, props: dict[str, Any]) -> CreateResult:
        try:
            desired = _desired(props)
            client = self._api(props)
            adopt_id = props.get("adopt_id")
            if adopt_id:
                self._owners().before_adopt(str(adopt_id))
                channel = client.adopt(str(adopt_id), desired)
                self._owners().adopted(channel.id)
            else:
                channel = client.create(desired)
        except PingBackError as exc:
            ctx = self._context("adopt" if props.get("adopt_id") else "create", props)
            raise self._explained(exc, ctx, props) from None
        return CreateResult(channel.id, sealed_outputs(channel))

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        try:
            desired = _desired(_news)
            old_identity = _olds.get("identity")
            channel = self._api(_news, _olds).update(
                _id,
                desired,
                old_identity=old_identity if isinstance(old_identity, str) else None,
            )
        except PingBackError as exc:
            raise self._explained(exc, self._context("update", _news, _id), _news, _olds) from None
        return UpdateResult(sealed_outputs(channel))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        try:
            if self._owners().keep_on_delete(_id, _props):
                log.info("channel %s is kept: a resource of this deployment manages it", _id)
                return
            self._api(_props).delete(_id)
        except PingBackError as exc:
            raise self._explained(exc, self._context("delete", _props, _id), _props) from None

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        try:
            channel = self._api(props).get(id_)
        except PingBackError as exc:
            raise self._explained(exc, self._context("read", props, id_), props) from None
        if channel is None:
            if not isinstance(props.get("type"), str):
                # A lookup (PingBackChannel.get): an empty answer would give the program a
                # resource with no outputs, so say which id is missing.
                missing = ChannelNotFoundError(
                    f"PingBack has no channel {id_} in this business", channel_id=id_
                )
                raise self._explained(missing, self._context("get", props, id_)) from None
            return ReadResult(None, {})  # gone: refresh drops it from the stack
        outs = channel_outputs(channel)
        inputs = _declared_inputs(outs)
        return ReadResult(id_, sealed_outputs(channel), inputs)
