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
    AdoptionError,
    ChannelValidationError,
    ConfigurationError,
    NotFoundError,
)

if TYPE_CHECKING:
    from ._client import PingBackClient
    from ._models import Channel

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

    token = _setting(config, "pingback:token")
    url = _setting(config, "pingback:apiUrl") or DEFAULT_API_URL
    raw_timeout = _setting(config, "pingback:timeout")
    raw_retries = _setting(config, "pingback:maxRetries")
    try:
        timeout = float(raw_timeout) if raw_timeout is not None else 30.0
    except ValueError:
        raise ConfigurationError(
            "pingback:timeout (or PINGBACK_TIMEOUT) must be a number of seconds, e.g. 30"
        ) from None
    try:
        retries = int(raw_retries) if raw_retries is not None else 3
    except ValueError:
        raise ConfigurationError(
            "pingback:maxRetries (or PINGBACK_MAX_RETRIES) must be a whole number, e.g. 3"
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
    """The inputs a program declaring this channel would have (for refresh)."""
    inputs = {k: outs[k] for k in ("type", "config", "is_active", "identity") if k in outs}
    return inputs


class PingBackChannelProvider(ResourceProvider):
    """The dynamic provider behind :class:`PingBackChannel`.

    Configuration (stack config first, then environment): ``pingback:token`` /
    PINGBACK_TOKEN (secret), ``pingback:apiUrl`` / PINGBACK_API_URL (default
    https://api.pingback.live), ``pingback:timeout`` / PINGBACK_TIMEOUT (seconds, 30),
    ``pingback:maxRetries`` / PINGBACK_MAX_RETRIES (3).
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
        try:
            client: PingBackClient | ConfigurationError = build_client(config)
        except ConfigurationError as exc:
            client = exc  # raised on the first call, where the engine shows it
        self.__dict__["_client_or_error"] = client

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

    # ---- check / diff -----------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        from ._check import check_inputs

        inputs, problems = check_inputs(news)
        return CheckResult(inputs, [CheckFailure(prop, reason) for prop, reason in problems])

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        from ._diff import decide

        decision = decide(_olds, _news)
        return DiffResult(changes=decision.changes, replaces=list(decision.replaces))

    # ---- CRUD ---------------------------------------------------------------------------

    @staticmethod
    def _declared(props: Mapping[str, Any]) -> tuple[str, dict[str, Any], bool]:
        """type, config, is_active from inputs the engine already passed through check()."""
        channel_type, config = props.get("type"), props.get("config", {})
        is_active = props.get("is_active", True)
        if (
            isinstance(channel_type, str)
            and isinstance(config, Mapping)
            and isinstance(is_active, bool)
        ):
            return channel_type, dict(config), is_active
        from ._check import check_inputs  # not checked (never from the engine): say why

        problems = check_inputs(props)[1] or [("type", "missing")]
        raise ChannelValidationError(problems)

    def create(self, props: dict[str, Any]) -> CreateResult:
        channel_type, config, is_active = self._declared(props)
        client = self._client()
        adopt_id = props.get("adopt_id")
        if adopt_id:
            channel = self._adopt(client, str(adopt_id), channel_type, config, is_active)
        else:
            channel = client.create(channel_type, config, is_active)
        return CreateResult(channel.id, channel_outputs(channel))

    @staticmethod
    def _adopt(
        client: PingBackClient,
        adopt_id: str,
        channel_type: str,
        config: dict[str, Any],
        is_active: bool,
    ) -> Channel:
        existing = client.get(adopt_id)
        if existing is None:
            raise AdoptionError(
                f"adopt_id '{adopt_id}': PingBack has no channel with this id in this business. "
                "Copy the id from the PingBack dashboard, or remove adopt_id to create a new channel"
            )
        if existing.type != channel_type:
            raise AdoptionError(
                f"adopt_id '{adopt_id}' is a {existing.type} channel, but this resource declares "
                f"type '{channel_type}'. Declare type='{existing.type}', or adopt another channel"
            )
        return client.update(adopt_id, channel_type, config, is_active)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        channel_type, config, is_active = self._declared(_news)
        try:
            channel = self._client().update(_id, channel_type, config, is_active)
        except NotFoundError as exc:
            raise NotFoundError(
                f"the {channel_type} channel {_id} was deleted outside Pulumi: run "
                "`pulumi refresh` (it leaves the stack), then `pulumi up` (it is created again)",
                status_code=404,
                method=exc.method,
                path=exc.path,
            ) from None
        return UpdateResult(channel_outputs(channel))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        self._client().delete(_id)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        channel = self._client().get(id_)
        if channel is None:
            return ReadResult(None, {})  # gone: refresh drops it from the stack
        outs = channel_outputs(channel)
        return ReadResult(id_, outs, _declared_inputs(outs))
