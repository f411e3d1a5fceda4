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

from ._exceptions import ChannelValidationError, ConfigurationError, PingBackError

if TYPE_CHECKING:
    from ._client import PingBackClient
    from ._diagnostics import Context
    from ._models import Channel, DesiredChannel
    from ._ownership import Ownership

log = logging.getLogger("pulumi_pingback")

# A Pulumi program only needs this class to exist (it is pickled by reference); the
# client, models and policy (httpx, pydantic, tenacity) load in the provider process on
# first use. That keeps `import pulumi_pingback` cheap for every `pulumi preview`.

__all__ = ["PingBackChannelProvider", "channel_outputs"]

_SETTINGS = {
    # stack config key: environment variable
    "pingback:token": "PINGBACK_TOKEN",
    "pingback:apiUrl": "PINGBACK_API_URL",
    "pingback:timeout": "PINGBACK_TIMEOUT",
    "pingback:maxRetries": "PINGBACK_MAX_RETRIES",
}


def _setting(config: Mapping[str, Any], key: str) -> str | None:
    """Stack config first, then the environment variable."""
    value = config.get(key)
    if value is None or value == "":
        value = os.environ.get(_SETTINGS[key])
    return None if value is None or value == "" else str(value)


def build_client(config: Mapping[str, Any]) -> PingBackClient:
    """A client from stack config (``pingback:*``), else PINGBACK_* environment variables."""
    from ._client import DEFAULT_API_URL, PingBackClient
    from ._diagnostics import AUTH_HELP

    token = _setting(config, "pingback:token")
    if token is None:
        raise ConfigurationError(f"no PingBack API token: {AUTH_HELP}")
    url = _setting(config, "pingback:apiUrl") or DEFAULT_API_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(
            "pingback:apiUrl (or PINGBACK_API_URL) must start with http:// or https://, "
            f"e.g. {DEFAULT_API_URL}"
        )
    raw_timeout = _setting(config, "pingback:timeout")
    raw_retries = _setting(config, "pingback:maxRetries")
    try:
        timeout = float(raw_timeout) if raw_timeout is not None else 30.0
        if not timeout > 0:
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            "pingback:timeout (or PINGBACK_TIMEOUT) must be a positive number of seconds, e.g. 30"
        ) from None
    try:
        retries = int(raw_retries) if raw_retries is not None else 3
        if retries < 0:
            raise ValueError
    except ValueError:
        raise ConfigurationError(
            "pingback:maxRetries (or PINGBACK_MAX_RETRIES) must be a whole number, 0 or more, "
            "e.g. 3"
        ) from None
    return PingBackClient(
        token,
        base_url=url,
        timeout=timeout,
        connect_timeout=min(10.0, timeout),
        max_retries=retries,
    )


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
    if channel.type in ("whatsapp", "instagram"):
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
    if not isinstance(config, Mapping) or kind is None or kind.free_form:
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
_PRINTABLE_PROPERTIES = ("type", "is_active", "adopt_id")


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
        config = {key: req.config.get(key) for key in _SETTINGS}
        _enable_logging(os.environ.get("PINGBACK_LOG_LEVEL"))
        self._install(config)

    def _install(self, config: Mapping[str, Any]) -> None:
        from ._ownership import Ownership

        try:
            client: PingBackClient | ConfigurationError = build_client(config)
        except ConfigurationError as exc:
            client = exc  # raised on the first call, where the engine shows it
        self.__dict__["_client_or_error"] = client
        self.__dict__["_ownership"] = Ownership()  # a fresh deployment: nothing recorded

    def _client(self) -> PingBackClient:
        current = self.__dict__.get("_client_or_error")
        if current is None:
            with self._lock:
                if self.__dict__.get("_client_or_error") is None:
                    self._install({})  # configure() was not called: environment only
            current = self.__dict__["_client_or_error"]
        if isinstance(current, ConfigurationError):
            raise ConfigurationError(current.message)
        return current  # type: ignore[no-any-return]

    def _owners(self) -> Ownership:
        from ._ownership import Ownership

        with self._lock:
            owners = self.__dict__.setdefault("_ownership", Ownership())
        return owners  # type: ignore[no-any-return]

    def _context(self, op: str, props: Mapping[str, Any], channel_id: str | None = None) -> Context:
        from ._diagnostics import Context

        client = self.__dict__.get("_client_or_error")
        api_url, timeout = "", 30.0
        if client is not None and not isinstance(client, Exception):
            api_url, timeout = client.base_url, float(client.transport.timeout.read or 30.0)
        ctype = props.get("type")
        return Context(
            op,
            api_url=api_url,
            timeout=timeout,
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
        client = self.__dict__.get("_client_or_error")
        if client is not None and not isinstance(client, Exception):
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
            return ReadResult(None, {})  # gone: refresh drops it from the stack
        outs = channel_outputs(channel)
        inputs = _declared_inputs(outs)
        return ReadResult(id_, sealed_outputs(channel), inputs)
