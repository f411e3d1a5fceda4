"""The provider's work, whatever the front: check, diff, create, update, delete, read.

Both fronts — the dynamic provider (:mod:`._provider`, for Python programs) and the
native plugin (:mod:`._native`, for every language) — translate their wire format into
these calls and back. Properties here use the Python names (``is_active``,
``adopt_id``, ``meta_verify_token``) and plain values: each front adds its own secret
marking from :func:`sealed_config_keys` and :data:`SECRET_OUTPUTS`.

One :class:`Channels` serves every resource of one deployment (one provider process) on
many threads, so it holds the settings, one client and the deployment's ownership
records, and nothing per resource. Every method is a boundary: a PingBackError leaves it
with its advice added (:mod:`._diagnostics`), every secret of the call redacted, a short
traceback and no chain.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import _defaults
from ._exceptions import ChannelNotFoundError, ChannelValidationError, PingBackError
from ._schema import READ_BACK, REFRESH_MARKS, SECRET_OUTPUTS

if TYPE_CHECKING:
    from ._client import PingBackClient
    from ._diagnostics import Context
    from ._diff import DiffDecision
    from ._journal import Journal
    from ._models import Channel, DesiredChannel
    from ._ownership import Ownership
    from ._settings import Settings

log = logging.getLogger("pulumi_pingback")

__all__ = [
    "SECRET_OUTPUTS",
    "Channels",
    "channel_outputs",
    "declared_inputs",
    "enable_logging",
    "input_secret_paths",
    "is_refresh",
    "output_secret_paths",
    "sealed",
    "sealed_config_keys",
]


def enable_logging(level: str | None) -> None:
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


def sealed_config_keys(channel_type: Any, config: Any) -> set[str] | None:
    """The config keys a front marks secret; None: the whole config.

    Every credential is a secret whatever the program gave (a plain string included);
    so is every key PingBack does not document as readable (a key added in the
    dashboard), and the whole config of the undocumented types. Only readable keys
    (``phone_number_id``) stay plain, so a preview still shows why a channel is replaced.
    """
    from ._kinds import kind_of

    kind = kind_of(channel_type)
    if not isinstance(config, Mapping) or kind is None or kind.free_keys:
        return None
    return {k for k in config if not kind.readable(k)}


Path = tuple[str, ...]


def input_secret_paths(inputs: Mapping[str, Any]) -> set[Path]:
    """The paths of a channel's inputs a front marks secret: each credential key of its
    config (:func:`sealed_config_keys`), or the whole config."""
    if "config" not in inputs:
        return set()
    keys = sealed_config_keys(inputs.get("type"), inputs["config"])
    return {("config",)} if keys is None else {("config", k) for k in keys}


def output_secret_paths(outputs: Mapping[str, Any]) -> set[Path]:
    """The paths of a channel's outputs kept secret (:data:`._schema.SECRET_OUTPUTS`)."""
    return {(k,) for k in SECRET_OUTPUTS if k in outputs}


def sealed(
    props: Mapping[str, Any], paths: set[Path], seal: Callable[[Any], Any]
) -> dict[str, Any]:
    """``props`` with ``seal`` applied at each of ``paths`` (a top-level key, or a key of a
    map under one): how a front puts the core's secret paths onto its own wire."""
    out = dict(props)
    for path in sorted(paths, key=len):
        head, rest = path[0], path[1:]
        if head not in out:
            continue
        if not rest:
            out[head] = seal(out[head])
        elif isinstance(out[head], Mapping) and rest[0] in out[head]:
            out[head] = {**out[head], rest[0]: seal(out[head][rest[0]])}
    return out


def channel_outputs(channel: Channel) -> dict[str, Any]:
    """A channel's outputs (plain). ``config`` holds the user's keys only."""
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


def is_refresh(props: Mapping[str, Any]) -> bool:
    """Whether a Read refreshes a resource of the stack, from what it carries: a refresh
    carries the outputs a create wrote; a lookup (``get``, ``pulumi import``, the
    ``import`` option) carries nothing, or the state the program gave as both inputs and
    outputs. A refresh of a channel that is gone drops it; a lookup of one is an error."""
    return any(isinstance(props.get(k), str) for k in REFRESH_MARKS)


def reported(
    problems: Iterable[tuple[str, str]], printable: Iterable[str], names: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Problems as (property, reason) pairs a front turns into CheckFailures, in its own
    ``names``. The CLI prints the program's value of a named top-level property, secrets
    in plain text: so only ``printable`` properties (and nested config paths) are named,
    and anything else is said in the reason of a failure about the resource ("")."""
    shown = set(printable)
    out = []
    for prop, reason in problems:
        head, dot, rest = prop.partition(".")
        named = names.get(head, head) + dot + rest
        if head in shown or (head == "config" and rest):
            out.append((named, reason))
        else:
            out.append(("", f"{named}: {reason}" if named else reason))
    return out


def declared_inputs(outs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs a program declaring this channel has (for refresh and import)."""
    return {k: outs[k] for k in READ_BACK if k in outs}


def _strings(props: Iterable[Mapping[str, Any]]) -> list[str]:
    from ._redact import strings_in

    return [s for p in props for s in strings_in(p.get("config"))]


def desired(props: Mapping[str, Any]) -> DesiredChannel:
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


class Channels:
    """One deployment's channel operations (thread-safe). ``native``: errors name the
    native provider's properties and options (``adoptId``, ``deleteBeforeReplace``).
    ``caller``: the Pulumi engine's address, which the create journal probes to tell a
    create whose answer reached the engine from one whose CLI was killed (:mod:`._journal`).
    """

    def __init__(
        self, settings: Settings | None = None, *, native: bool = False, caller: str | None = None
    ) -> None:
        from ._ownership import Ownership

        self._lock = threading.Lock()
        self._settings = settings
        self._client: PingBackClient | None = None
        self.ownership: Ownership = Ownership()  # a fresh deployment: nothing recorded
        self.native = native
        self.caller = caller
        self._journal: Journal | None = None

    @property
    def settings(self) -> Settings:
        """The settings given, or else the PINGBACK_* environment's."""
        if self._settings is None:
            from ._settings import load_settings

            with self._lock:
                if self._settings is None:
                    self._settings = load_settings({})
        return self._settings

    def client(self) -> PingBackClient:
        """The client, built on first use (httpx and pydantic load only then)."""
        current = self._client
        if current is not None:
            return current
        from ._client import PingBackClient

        settings = self.settings
        journal = self.journal()
        with self._lock:
            if self._client is None:
                self._client = PingBackClient.from_settings(settings, journal=journal)
            return self._client

    # ---- errors ---------------------------------------------------------------------------

    def context(self, op: str, props: Mapping[str, Any], channel_id: str | None = None) -> Context:
        from ._diagnostics import Context

        settings = self._settings
        ctype = props.get("type")
        return Context(
            op,
            api_url=settings.api_url if settings is not None else "",
            timeout=settings.timeout if settings is not None else _defaults.TIMEOUT,
            channel_type=ctype if isinstance(ctype, str) else None,
            channel_id=channel_id,
            native=self.native,
        )

    def explained(
        self, exc: PingBackError, ctx: Context, *props: Mapping[str, Any]
    ) -> PingBackError:
        """``exc`` with advice, redacted of every secret this call knows (token, configs)."""
        from ._diagnostics import explain
        from ._redact import redactor

        # Server text was redacted by the client, fragments included, before any cut;
        # this last pass removes whole secrets from everything, our own words included.
        secrets = _strings(props)
        client = self._client
        if client is not None:
            return explain(exc, ctx, client.redactor(secrets, fragments=False))
        return explain(exc, ctx, redactor(secrets, fragments=False))

    def _api(self, *props: Mapping[str, Any]) -> PingBackClient:
        """The client, told every secret of this call (stored configs included), so that
        any answer quoting one of them, in any form, is redacted before it is cut."""
        client = self.client()
        client.remember(_strings(props))
        return client

    # ---- check / diff ---------------------------------------------------------------------

    def check(
        self,
        news: Mapping[str, Any],
        olds: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Checked inputs (plain; unknowns as the sentinel) and every problem found;
        ``olds``, the previous inputs (what PingBack stores is accepted as it is);
        ``names``, the properties as the program's language names them."""
        from ._check import PYTHON_NAMES, check_inputs

        inputs, problems = check_inputs(news, olds, names=names or PYTHON_NAMES)
        if not problems:
            self.ownership.checked(inputs)
            adopt_id = inputs.get("adopt_id")
            journal = self.journal()
            if isinstance(adopt_id, str) and journal is not None:
                journal.claim("declared", adopt_id)
        return inputs, problems

    def journal(self) -> Journal | None:
        """The create journal of this token and API URL (None without a token)."""
        from ._journal import Journal

        settings = self._settings
        if settings is None or not settings.token:
            return None
        with self._lock:
            if self._journal is None:
                self._journal = Journal(settings.token, settings.api_url, caller=self.caller)
            return self._journal

    def diff(
        self, channel_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> DiffDecision:
        from ._diff import decide

        decision = decide(olds, news)
        try:
            self.ownership.diffed(channel_id, news, replaced=bool(decision.replaces))
        except PingBackError as exc:
            raise self.explained(exc, self.context("diff", news, channel_id), news) from None
        return decision

    # ---- CRUD -----------------------------------------------------------------------------

    def create(self, props: Mapping[str, Any]) -> Channel:
        adopt_id = props.get("adopt_id")
        try:
            wanted = desired(props)
            client = self._api(props)
            if adopt_id:
                self.ownership.before_adopt(str(adopt_id))
                channel = client.adopt(
                    str(adopt_id), wanted, overwrite=props.get("adopt_overwrite") is True
                )
                self.ownership.adopted(channel.id)
                if client.journal is not None:
                    client.journal.claim("adopted", channel.id)
            else:
                channel = client.create(wanted)
        except PingBackError as exc:
            ctx = self.context("adopt" if adopt_id else "create", props)
            raise self.explained(exc, ctx, props) from None
        return channel

    def update(self, channel_id: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> Channel:
        try:
            wanted = desired(news)
            old_identity = olds.get("identity")
            return self._api(news, olds).update(
                channel_id,
                wanted,
                old_identity=old_identity if isinstance(old_identity, str) else None,
            )
        except PingBackError as exc:
            ctx = self.context("update", news, channel_id)
            raise self.explained(exc, ctx, news, olds) from None

    def delete(self, channel_id: str, props: Mapping[str, Any]) -> None:
        try:
            if self.ownership.keep_on_delete(channel_id, props):
                log.info("channel %s is kept: a resource of this deployment manages it", channel_id)
                return
            journal = self.journal()
            if journal is not None and journal.claimed_elsewhere(channel_id):
                log.info(
                    "channel %s is kept: a resource of this deployment adopts it (through "
                    "another provider process)",
                    channel_id,
                )
                return
            self._api(props).delete(channel_id)
        except PingBackError as exc:
            ctx = self.context("delete", props, channel_id)
            raise self.explained(exc, ctx, props) from None

    def read(self, channel_id: str, props: Mapping[str, Any]) -> Channel | None:
        """The channel as PingBack holds it; None when it is gone (refresh drops it)."""
        try:
            return self._api(props).get(channel_id)
        except PingBackError as exc:
            ctx = self.context("read", props, channel_id)
            raise self.explained(exc, ctx, props) from None

    def verify(self) -> None:
        """The settings work: one list of the business, when the provider starts (as the
        AWS provider checks its credentials at configure). A wrong token or an
        unreachable ``pingback:apiUrl`` then fails the preview, before any step, with its
        advice; the list is the one the first reads and creates use (nothing extra)."""
        from ._exceptions import (
            APIConnectionError,
            AuthenticationError,
            InvalidResponseError,
            NotFoundError,
            PermissionDeniedError,
            RedirectError,
        )

        try:
            self._api().listing()
        except (
            AuthenticationError,
            PermissionDeniedError,
            APIConnectionError,
            NotFoundError,
            RedirectError,
            InvalidResponseError,
        ) as exc:
            # What is wrong with the settings (token, apiUrl, the network): said now.
            raise self.explained(exc, self.context("configure", {})) from None
        except PingBackError:
            # Anything else (a 5xx, a rate limit) is PingBack's, not the settings': the
            # step that needs the list asks again, knowing the configs to redact from
            # whatever the server answers then.
            log.info("the provider's first list failed; the first step lists again")

    def read_or_lookup(
        self, channel_id: str, props: Mapping[str, Any], op: str = "get"
    ) -> Channel | None:
        """A Read, whichever front: a refresh (``props`` carry what a create wrote) gives
        the channel or None when it is gone (the refresh drops it); a lookup (``get``,
        ``pulumi import``, the ``import`` option) gives the channel or an error naming the
        id."""
        if is_refresh(props):
            return self.read(channel_id, props)
        return self.lookup(channel_id, op)

    def lookup(self, channel_id: str, op: str = "get") -> Channel:
        """A channel that must exist (a static get, an import): not found is an error,
        never an empty answer (that would give a resource with no outputs)."""
        channel = self.read(channel_id, {})
        if channel is None:
            missing = ChannelNotFoundError(
                f"PingBack has no channel {channel_id} in this business", channel_id=channel_id
            )
            raise self.explained(missing, self.context(op, {}, channel_id)) from None
        return channel
