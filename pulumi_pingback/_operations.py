"""The provider's work, whatever the front: check, diff, create, update, delete, read.

Both fronts — the dynamic provider (:mod:`.dynamic._provider`, for Python programs) and the
native plugin (:mod:`.native._provider`, for every language) — translate their wire format into
these calls and back. Properties here use the Python names (``is_active``,
``adopt_id``, ``meta_verify_token``) and plain values; what a call gives back
(:class:`.channels._results.Checked`, :class:`.channels._results.Outputs`) carries its
secret paths, which each front only puts on its wire. Create and update take the checked inputs typed
(:class:`.channels._models.Declaration`): checked once, by Check.

One :class:`Channels` serves every resource of one deployment (one provider process) on
many threads, so it holds the settings, one client and the deployment's ownership
registry (:mod:`.client._ownership`: what Check, Diff, Create and Delete tell it, and
the only place that decides who owns a channel), and nothing per resource. Every method
is a boundary: a PingBackError leaves it as a new error with its advice
(:mod:`._advice`), every secret of the call redacted, a short traceback and no chain.
Every call that may write (create, update, delete) is marked in flight here
(:func:`._enginelog.busy`), whichever front made it, so a provider whose engine is gone
finishes it, and its journal records it, before the process ends.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import _defaults
from ._enginelog import busy
from ._exceptions import ChannelNotFoundError, PingBackError
from .channels._results import Checked, Outputs, input_secret_paths, is_refresh, reported
from .client._limit import limited

if TYPE_CHECKING:
    from ._advice import Context
    from ._settings import Settings
    from .channels._diff import DiffDecision
    from .channels._models import Channel, Declaration
    from .client._client import PingBackClient
    from .client._journal import Journal
    from .client._ownership import Ownership

log = logging.getLogger("pulumi_pingback")

__all__ = ["Channels"]


def _strings(props: Iterable[Mapping[str, Any]]) -> list[str]:
    from .channels._models import strings_in

    return [s for p in props for s in strings_in(p.get("config"))]


class Channels:
    """One deployment's channel operations (thread-safe). ``native``: errors name the
    native provider's properties and options (``adoptId``, ``deleteBeforeReplace``).
    ``caller``: the Pulumi engine's address, which the create journal probes to tell a
    create whose answer reached the engine from one whose CLI was killed (:mod:`.client._journal`).
    """

    def __init__(
        self, settings: Settings | None = None, *, native: bool = False, caller: str | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._client: PingBackClient | None = None
        self._owners: Ownership | None = None  # a fresh deployment: nothing recorded
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

    @property
    def owners(self) -> Ownership:
        """The deployment's ownership registry, with this token's journal as its store."""
        current = self._owners
        if current is not None:
            return current
        from .client._ownership import Ownership

        journal = self.journal()
        with self._lock:
            if self._owners is None:
                self._owners = Ownership(journal)
            return self._owners

    def client(self) -> PingBackClient:
        """The client, built on first use (httpx and pydantic load only then)."""
        current = self._client
        if current is not None:
            return current
        from .client._client import PingBackClient

        settings = self.settings
        owners = self.owners
        with self._lock:
            if self._client is None:
                self._client = PingBackClient.from_settings(settings, owners=owners)
            return self._client

    # ---- errors ---------------------------------------------------------------------------

    def context(self, op: str, ctype: Any = None, channel_id: str | None = None) -> Context:
        from ._advice import Context

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
        from ._advice import explain
        from .client._redact import redactor

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
        *,
        key_names: Callable[[object, str], str] | None = None,
        resource: str | None = None,
    ) -> Checked:
        """The checked inputs, their secret paths and every problem found, said safely
        for the CLI to print (:func:`.channels._results.reported`); ``olds``, the previous
        inputs (what PingBack stores is accepted as it is); ``names``, the properties as
        the program's language names them (None: the dynamic front's, whose inputs carry
        its resource options too), and ``key_names`` its config keys (None: PingBack's);
        ``resource``, its URN when the front knows it."""
        from .channels._check import PYTHON_NAMES, as_given, check_inputs

        options = names is None
        names = names or PYTHON_NAMES
        inputs, problems = check_inputs(news, olds, names=names, key_names=key_names or as_given)
        if not problems:
            self.owners.checked(inputs, resource=resource, old=bool(olds))
        failures = reported(problems, names, options=options)
        return Checked(inputs, frozenset(input_secret_paths(inputs)), failures)

    def journal(self) -> Journal | None:
        """The create journal of this token and API URL (None without a token)."""
        from .client._journal import Journal

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
        from .channels._diff import decide

        decision = decide(olds, news)
        try:
            self.owners.kept(
                channel_id, adopt_id=news.get("adopt_id"), replaced=bool(decision.replaces)
            )
        except PingBackError as exc:
            raise self.explained(
                exc, self.context("diff", news.get("type"), channel_id), news
            ) from None
        return decision

    # ---- CRUD -----------------------------------------------------------------------------

    def create(
        self,
        declared: Declaration,
        *,
        resource: str | None = None,
        time_limit: float | None = None,
    ) -> Outputs:
        """A create or, with ``adopt_id``, an adoption, for ``resource`` (its URN, when the
        front knows it: the native plugin's engine sends it with every create), within
        ``time_limit`` seconds (``customTimeouts.create``), retries and settling included."""
        adopt_id, wanted = declared.adopt_id, declared.channel
        secrets = {"config": wanted.config}
        try:
            with busy(), limited(time_limit, "customTimeouts.create"):
                client = self._api(secrets)
                if adopt_id:
                    channel = client.adopt(adopt_id, wanted, overwrite=declared.adopt_overwrite)
                else:
                    channel = client.create(wanted, resource=resource)
        except PingBackError as exc:
            ctx = self.context("adopt" if adopt_id else "create", wanted.type)
            raise self.explained(exc, ctx, secrets) from None
        return Outputs.of(channel)

    def update(
        self,
        channel_id: str,
        olds: Mapping[str, Any],
        declared: Declaration,
        *,
        time_limit: float | None = None,
    ) -> Outputs:
        """An update in place, within ``time_limit`` seconds (``customTimeouts.update``)."""
        wanted = declared.channel
        secrets = {"config": wanted.config}
        try:
            old_identity = olds.get("identity")
            with busy(), limited(time_limit, "customTimeouts.update"):
                channel = self._api(secrets, olds).update(
                    channel_id,
                    wanted,
                    old_identity=old_identity if isinstance(old_identity, str) else None,
                )
        except PingBackError as exc:
            ctx = self.context("update", wanted.type, channel_id)
            raise self.explained(exc, ctx, secrets, olds) from None
        return Outputs.of(channel)

    def delete(
        self, channel_id: str, props: Mapping[str, Any], *, time_limit: float | None = None
    ) -> None:
        """A delete, within ``time_limit`` seconds (``customTimeouts.delete``)."""
        try:
            with busy(), limited(time_limit, "customTimeouts.delete"):
                if self.owners.may_delete(channel_id, props.get("type"), props.get("identity")):
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

        journal = self.journal()
        if journal is not None:
            journal.warm()  # the first create's question, answered ahead
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

    # ---- the functions: getChannels, getChannel -----------------------------------------

    def check_lookup(
        self, function: str, args: Mapping[str, Any], names: Mapping[str, str] | None = None
    ) -> list[tuple[str, str]]:
        """A function's arguments, checked before anything is sent: (argument, reason)
        in the front's ``names`` (:func:`.channels._check.check_lookup`)."""
        from .channels._check import PYTHON_NAMES, check_lookup

        names = names or PYTHON_NAMES
        return [
            (names.get(arg, arg), reason)
            for arg, reason in check_lookup(function, args, names=names)
        ]

    def channels_of(self, channel_type: str | None = None) -> list[dict[str, Any]]:
        """``getChannels``: every channel of the business, or of one type, as a lookup
        says it (:func:`.channels._results.channel_info`: no credential), oldest first."""
        from .channels._results import channel_info

        try:
            with busy():
                channels = self._api().list()
        except PingBackError as exc:
            raise self.explained(exc, self.context("get", channel_type)) from None
        chosen = [c for c in channels if channel_type is None or c.type == channel_type]
        chosen.sort(key=lambda c: (c.created_at or "", c.id))
        return [channel_info(c) for c in chosen]

    def channel_by(
        self, channel_id: str | None = None, identity: str | None = None
    ) -> dict[str, Any]:
        """``getChannel``: the channel with this id, or bound to this identity; an error
        naming what was asked when none is (or, for an identity, when several are)."""
        from .channels._kinds import describe_identity
        from .channels._results import channel_info

        if channel_id is not None:
            with busy():
                return channel_info(self.lookup(channel_id))
        try:
            with busy():
                bound = [c for c in self._api().list() if c.identity == identity]
        except PingBackError as exc:
            raise self.explained(exc, self.context("get")) from None
        if len(bound) == 1:
            return channel_info(bound[0])
        what = describe_identity(identity or "")
        if not bound:
            missing = ChannelNotFoundError(
                f"no channel of this PingBack business is bound to the {what}", channel_id=""
            )
            raise self.explained(missing, self.context("get")) from None
        ids = ", ".join(sorted(c.id for c in bound))
        several = ChannelNotFoundError(
            f"{len(bound)} channels of this PingBack business are bound to the {what} "
            f"({ids}); look one up by its id",
            channel_id="",
        )
        raise self.explained(several, self.context("get")) from None

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
