"""The provider's work, whatever the front: check, diff, create, update, delete, read.

Both fronts — the dynamic provider (:mod:`._provider`, for Python programs) and the
native plugin (:mod:`._native_provider`, for every language) — translate their wire format into
these calls and back. Properties here use the Python names (``is_active``,
``adopt_id``, ``meta_verify_token``) and plain values; what a call gives back
(:class:`._props.Checked`, :class:`._props.Outputs`) carries its secret paths, which each
front only puts on its wire. Create and update take the checked inputs typed
(:class:`._models.Declaration`): checked once, by Check.

One :class:`Channels` serves every resource of one deployment (one provider process) on
many threads, so it holds the settings, one client and the deployment's ownership
records, and nothing per resource. Every method is a boundary: a PingBackError leaves it
with its advice added (:mod:`._diagnostics`), every secret of the call redacted, a short
traceback and no chain.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import _defaults
from ._exceptions import ChannelNotFoundError, PingBackError
from ._props import Checked, Outputs, input_secret_paths, is_refresh, reported

if TYPE_CHECKING:
    from ._client import PingBackClient
    from ._diagnostics import Context
    from ._diff import DiffDecision
    from ._journal import Journal
    from ._models import Channel, Declaration
    from ._ownership import Ownership
    from ._settings import Settings

log = logging.getLogger("pulumi_pingback")

__all__ = ["Channels"]


def _strings(props: Iterable[Mapping[str, Any]]) -> list[str]:
    from ._redact import strings_in

    return [s for p in props for s in strings_in(p.get("config"))]


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

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        keys: Iterable[str] = (),
        project: str | None = None,
        native: bool = False,
        caller: str | None = None,
    ) -> Channels:
        """A provider's configure, whichever front: the settings checked (stack config
        ``config`` then PINGBACK_*; ``keys``, every config key of the stack) and a fresh
        deployment's operations; the front installs them, then calls :meth:`verify`."""
        from ._settings import load_settings

        return cls(load_settings(config, keys=keys, project=project), native=native, caller=caller)

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

    def context(self, op: str, ctype: Any = None, channel_id: str | None = None) -> Context:
        from ._diagnostics import Context

        settings = self._settings
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
    ) -> Checked:
        """The checked inputs, their secret paths and every problem found, said safely
        for the CLI to print (:func:`._props.reported`); ``olds``, the previous inputs
        (what PingBack stores is accepted as it is); ``names``, the properties as the
        program's language names them (None: the dynamic front's, whose inputs carry
        its resource options too)."""
        from ._check import PYTHON_NAMES, check_inputs

        options = names is None
        names = names or PYTHON_NAMES
        inputs, problems = check_inputs(news, olds, names=names)
        if not problems:
            self.ownership.checked(inputs)
            adopt_id = inputs.get("adopt_id")
            journal = self.journal()
            if isinstance(adopt_id, str) and journal is not None:
                journal.claim("declared", adopt_id)
        failures = reported(problems, names, options=options)
        return Checked(inputs, frozenset(input_secret_paths(inputs)), failures)

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
            raise self.explained(
                exc, self.context("diff", news.get("type"), channel_id), news
            ) from None
        return decision

    # ---- CRUD -----------------------------------------------------------------------------

    def create(self, declared: Declaration) -> Outputs:
        adopt_id, wanted = declared.adopt_id, declared.channel
        secrets = {"config": wanted.config}
        try:
            client = self._api(secrets)
            if adopt_id:
                self.ownership.before_adopt(adopt_id)
                channel = client.adopt(adopt_id, wanted, overwrite=declared.adopt_overwrite)
                self.ownership.adopted(channel.id)
                if client.journal is not None:
                    client.journal.claim("adopted", channel.id)
            else:
                channel = client.create(wanted)
        except PingBackError as exc:
            ctx = self.context("adopt" if adopt_id else "create", wanted.type)
            raise self.explained(exc, ctx, secrets) from None
        return Outputs.of(channel)

    def update(self, channel_id: str, olds: Mapping[str, Any], declared: Declaration) -> Outputs:
        wanted = declared.channel
        secrets = {"config": wanted.config}
        try:
            old_identity = olds.get("identity")
            channel = self._api(secrets, olds).update(
                channel_id,
                wanted,
                old_identity=old_identity if isinstance(old_identity, str) else None,
            )
        except PingBackError as exc:
            ctx = self.context("update", wanted.type, channel_id)
            raise self.explained(exc, ctx, secrets, olds) from None
        return Outputs.of(channel)

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
            ctx = self.context("delete", props.get("type"), channel_id)
            raise self.explained(exc, ctx, props) from None

    def read(self, channel_id: str, props: Mapping[str, Any]) -> Channel | None:
        """The channel as PingBack holds it; None when it is gone (refresh drops it)."""
        try:
            return self._api(props).get(channel_id)
        except PingBackError as exc:
            ctx = self.context("read", props.get("type"), channel_id)
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
            raise self.explained(exc, self.context("configure")) from None
        except PingBackError:
            # Anything else (a 5xx, a rate limit) is PingBack's, not the settings': the
            # step that needs the list asks again, knowing the configs to redact from
            # whatever the server answers then.
            log.info("the provider's first list failed; the first step lists again")

    def read_or_lookup(
        self, channel_id: str, props: Mapping[str, Any], op: str = "get"
    ) -> Outputs | None:
        """A Read, whichever front: a refresh (``props`` carry what a create wrote) gives
        the channel's outputs or None when it is gone (the refresh drops it); a lookup
        (``get``, ``pulumi import``, the ``import`` option) gives them or an error naming
        the id."""
        channel = self.read(channel_id, props) if is_refresh(props) else self.lookup(channel_id, op)
        return None if channel is None else Outputs.of(channel)

    def lookup(self, channel_id: str, op: str = "get") -> Channel:
        """A channel that must exist (a static get, an import): not found is an error,
        never an empty answer (that would give a resource with no outputs)."""
        channel = self.read(channel_id, {})
        if channel is None:
            missing = ChannelNotFoundError(
                f"PingBack has no channel {channel_id} in this business", channel_id=channel_id
            )
            raise self.explained(missing, self.context(op, None, channel_id)) from None
        return channel
