"""PingBack channels API client (sync, httpx). Raises facts, in PingBack's terms: no
Pulumi import, no setting or option named in a message (the audience's advice is added
by :mod:`.._advice`). Who owns which channel is the registry's (:mod:`._ownership`, with
the create journal as its store on disk): the client asks it before every write.

    client = PingBackClient(token, base_url="https://api.pingback.live")
    channel = client.create(DesiredChannel("telegram", {"bot_token": "…"}))

- Transport, bounds and the pool: :mod:`._transport`. Retry policy and the one attempt
  loop every request goes through: :mod:`._retry`. Status -> error:
  :func:`._status.make_status_error`. Reads: :mod:`._listing`.
- **Creates never guess** (:mod:`._creates`): a POST whose outcome is unknown is settled
  by listing before anything is sent again.
- **Every write is settled**: a PATCH or DELETE whose retries ran out after an attempt
  that may have landed is read back.
- **404 is checked**: a DELETE's 404 means "already gone" only once a list shows the
  channel absent; a PATCH's 404 says whether the list still shows the channel.
- **One identity, one channel**: a create, identity-changing update or adoption that would
  bind a bot / number / account another channel holds fails before any write.
- **A miss is confirmed**: a channel is "not in this business" only once a list that
  began after the question says so.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import ValidationError

from .. import _defaults
from .._defaults import CHANNELS_PATH, NOTICE_LOGGER
from .._exceptions import (
    ChannelNotFoundError,
    ConfigurationError,
    NotFoundError,
    PingBackError,
)
from .._settings import Settings, api_url_problem
from .._untrusted import is_channel_id
from ..channels._models import Channel, DesiredChannel, strings_in
from ._creates import Creator
from ._journal import Journal
from ._listing import Listing, SharedList, describe_unreadable, list_channels
from ._ownership import Ownership
from ._redact import Redactor
from ._retry import RetryPolicy, Tally, attempts
from ._transport import Answer, Transport

__all__ = ["DEFAULT_API_URL", "PingBackClient"]

DEFAULT_API_URL = _defaults.API_URL
log = logging.getLogger("pulumi_pingback")
_notice = logging.getLogger(NOTICE_LOGGER)


def _named(channel: Channel) -> str:
    """A channel as a notice names it: type, id and, when it has one, its identity."""
    identity = channel.identity
    return f"{channel.type} channel {channel.id}" + (f" ({identity})" if identity else "")


T = TypeVar("T")


def _channel_path(channel_id: str) -> str:
    """The path of one channel: built from a UUID only (:mod:`.._untrusted`), so that no
    id, whoever sent it, addresses anything but a channel."""
    if not is_channel_id(channel_id):
        raise ChannelNotFoundError(
            f"PingBack has no channel {channel_id!r}: channel ids are UUIDs (nothing was sent)",
            channel_id=channel_id,
        )
    return f"{CHANNELS_PATH}{channel_id}"


class PingBackClient:
    """A client for PingBack's channels endpoints. Thread-safe; one per provider process."""

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str = DEFAULT_API_URL,
        timeout: float = _defaults.TIMEOUT,
        connect_timeout: float = _defaults.CONNECT_TIMEOUT,
        max_retries: int = _defaults.MAX_RETRIES,
        max_retry_after: float = _defaults.MAX_RETRY_AFTER,
        backoff_initial: float = _defaults.BACKOFF_INITIAL,
        backoff_max: float = _defaults.BACKOFF_CAP,
        read_window: float = _defaults.READ_WINDOW,
        settle_window: float | None = None,
        deadline: float | None = None,
        max_answer_bytes: int = _defaults.MAX_ANSWER_BYTES,
        journal: Journal | None = None,
        owners: Ownership | None = None,
    ) -> None:
        problem = api_url_problem(base_url)
        if problem is not None:
            raise ConfigurationError(f"the API URL {problem}")
        if timeout <= 0 or connect_timeout <= 0:
            raise ConfigurationError("the timeout must be a positive number of seconds")
        if max_retries < 0:
            raise ConfigurationError("max_retries must be 0 or more")
        self.transport = Transport(
            token,
            base_url=base_url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            deadline=deadline,
            max_bytes=max_answer_bytes,
        )
        self.policy = RetryPolicy(max_retries, max_retry_after, backoff_initial, backoff_max)
        self.owners = owners if owners is not None else Ownership(journal)
        self.tally = Tally()
        self.reads = SharedList(
            functools.partial(list_channels, self.transport, self.policy, self.tally),
            window=read_window,
            observe=self.owners.observe,
        )
        self.creates = Creator(
            self.transport,
            self.policy,
            self.reads,
            self.owners,
            settle_window=settle_window if settle_window is not None else timeout,
            tally=self.tally,
            remove=self.delete,
        )

    @property
    def journal(self) -> Journal | None:
        """The create journal this client's registry keeps (None: none)."""
        return self.owners.journal

    @classmethod
    def from_settings(
        cls, settings: Settings, *, owners: Ownership | None = None
    ) -> PingBackClient:
        """The client of a provider or of the `pingback` command: one way from settings;
        ``owners``: the deployment's registry (a provider's, with its journal)."""
        return cls(
            settings.token,
            base_url=settings.api_url,
            timeout=settings.timeout,
            connect_timeout=settings.connect_timeout,
            max_retries=settings.max_retries,
            owners=owners,
        )

    def __repr__(self) -> str:
        return f"PingBackClient(base_url={self.base_url!r})"

    def __reduce__(self) -> Any:
        raise TypeError("PingBackClient holds a token and is never pickled")

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    @property
    def counters(self) -> dict[str, int]:
        """Requests, retries, lists and reconciliations so far (for tests and benchmarks)."""
        return {**self.tally.counts(), **self.reads.stats, "requests": self.transport.requests}

    def remember(self, secrets: Iterable[str]) -> None:
        """Secrets this client must redact from every later error (stored configs)."""
        self.transport.remember(secrets)

    def redactor(self, secrets: Iterable[str] = (), *, fragments: bool = True) -> Redactor:
        """Removes the token, remembered secrets and ``secrets`` from a text, in every form."""
        return self.transport.redactor(secrets, fragments=fragments)

    def _attempts(self, method: str, attempt: Callable[[bool], T]) -> T:
        """``attempt`` under the retry policy (:func:`._retry.attempts`)."""
        return attempts(self.policy, method, attempt, tally=self.tally)

    # ---- reads ------------------------------------------------------------------------------

    def listing(self, *, fresh: bool = False) -> Listing:
        """Every channel of the business, indexed by id (shared; see :class:`SharedList`)."""
        return self.reads.get(fresh=fresh)

    def list(self, *, fresh: bool = False) -> list[Channel]:
        """Every readable channel of the business."""
        return list(self.listing(fresh=fresh).channels.values())

    def get(self, channel_id: str, *, fresh: bool = False) -> Channel | None:
        """One channel by id (by listing: the API has no GET of one channel), or None —
        said only by a list that began after the question (one shared list may be older:
        a miss in it is listed again, once).

        Raises InvalidResponseError when PingBack lists it in a form that cannot be read.
        """
        asked = time.monotonic()
        listing = self.reads.get(since=asked if fresh else None)
        if channel_id not in listing.ids and listing.began < asked:
            listing = self.reads.get(since=asked)  # a channel made since that list
        channel = listing.channels.get(channel_id)
        if channel is None:
            unreadable = describe_unreadable(channel_id, listing)
            if unreadable is not None:
                raise unreadable
        return channel

    # ---- create -----------------------------------------------------------------------------

    def create(
        self, desired: DesiredChannel, *, guard: bool = True, resource: str | None = None
    ) -> Channel:
        """POST a channel. Never creates a duplicate and never returns another's channel
        (:mod:`._creates`). ``guard``: refuse an identity another channel holds.
        ``resource``: what the channel is for (a URN), when the caller knows it."""
        return self.creates.create(desired, guard=guard, resource=resource)

    # ---- adopt, update, delete ----------------------------------------------------------------

    def adopt(
        self, channel_id: str, desired: DesiredChannel, *, overwrite: bool = False
    ) -> Channel:
        """Take an existing channel: check it is the declared kind of thing and holds the
        declared state. When it holds exactly that, nothing is sent; when it differs, the
        adoption is refused naming the keys (``overwrite``: PATCH it to the declared
        state) — a live channel is never changed by an adoption nobody saw."""
        existing = self.get(channel_id)
        self.owners.may_adopt(channel_id, existing, desired)
        assert existing is not None  # a missing channel is refused
        if desired.matches(existing):
            self.owners.adopted(channel_id)
            _notice.info("adopted %s: nothing was written to PingBack", _named(existing))
            return existing
        if not overwrite:
            raise self.owners.adoption_differs(channel_id, existing, desired)
        with self.owners.binding(desired.identity, exclude=[channel_id]) as bound:
            self.remember(strings_in(existing.config))  # the stored config, quoted back?
            channel = self._patch(channel_id, desired)
            bound.made(channel)
        self.owners.adopted(channel_id)
        _notice.info(
            "adopted %s: its config and is_active overwritten with the declared ones "
            "(one PATCH; adopt_overwrite)",
            _named(existing),
        )
        return channel

    def update(
        self, channel_id: str, desired: DesiredChannel, *, old_identity: str | None = None
    ) -> Channel:
        """PATCH a channel with its full declared state.

        When the declared identity differs from ``old_identity`` the identity guard runs
        first (it needs the process's one list).
        """
        new_identity = desired.identity
        if new_identity is not None and new_identity != old_identity:
            self.creates.ensure_baseline()
            with self.owners.binding(new_identity, exclude=[channel_id]) as bound:
                channel = self._patch(channel_id, desired)
                bound.made(channel)
                return channel
        channel = self._patch(channel_id, desired)
        self.owners.wrote(channel)
        return channel

    def _patch(self, channel_id: str, desired: DesiredChannel) -> Channel:
        """The PATCH, settled; the caller records what it wrote with the registry."""
        path = _channel_path(channel_id)
        body, secrets = desired.body(), desired.secrets()
        try:
            answer = self._attempts(
                "PATCH",
                lambda _: self.transport.send("PATCH", path, json_body=body, secrets=secrets),
            )
        except NotFoundError as exc:
            self.reads.wrote()
            raise exc.evolve(listed=channel_id in self.listing(fresh=True).ids) from None
        except PingBackError as exc:
            self.reads.wrote()
            current = self._settle(exc, channel_id)
            if current is not None and desired.matches(current):
                return current  # the PATCH landed; only its answer was lost
            raise
        self.reads.wrote()
        channel = _patched(answer, channel_id)
        if channel is None:  # no readable channel in the answer: read it back
            channel = self.get(channel_id, fresh=True)
            if channel is None or not desired.matches(channel):
                state = "is gone" if channel is None else "does not hold the declared state"
                raise answer.invalid(f"{answer.describe()}, and the channel {state}")
        return channel

    def delete(self, channel_id: str) -> bool:
        """DELETE a channel. False when a list confirms it was already gone."""
        path = _channel_path(channel_id)
        try:
            self._attempts("DELETE", lambda _: self.transport.send("DELETE", path))
        except NotFoundError as exc:
            self.reads.wrote()
            listing = self.listing(fresh=True)  # a 404 on the list itself says: wrong URL
            if channel_id in listing.ids:
                raise exc.evolve(listed=True) from None
            self.owners.deleted(channel_id)
            return False
        except PingBackError as exc:
            self.reads.wrote()
            if self._settle(exc, channel_id) is None:
                self.owners.deleted(channel_id)
                return True  # the DELETE landed; only its answer was lost
            raise
        self.reads.wrote()
        self.owners.deleted(channel_id)
        return True

    def _settle(self, exc: PingBackError, channel_id: str) -> Channel | None:
        """After a write failed with its outcome unknown: the channel as it is now.

        Re-raises ``exc`` when no attempt can have landed, or when it cannot be read back.
        """
        if not exc.maybe_applied:
            raise exc
        try:
            listing = self.listing(fresh=True)
        except PingBackError:
            raise exc from None
        if channel_id in listing.malformed:
            raise exc
        self.tally.add("reconciled")
        return listing.channels.get(channel_id)


def _patched(answer: Answer, channel_id: str) -> Channel | None:
    """The channel in a PATCH answer, or None when the answer holds none (read it back)."""
    try:
        data = answer.json()
    except PingBackError:
        return None
    if not isinstance(data, dict) or data.get("id") != channel_id:
        return None
    try:
        return Channel.model_validate(data)
    except ValidationError:
        return None
