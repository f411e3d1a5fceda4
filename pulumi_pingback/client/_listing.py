"""The business's channels as one list call returns them: indexed by id, tolerant of odd items.

PingBack documents no GET of one channel, so every read is a list. :class:`Listing` is
one answer, parsed once and indexed by id (a read is a dict lookup, so a refresh of N
channels costs one list and O(N) work). An item this provider cannot read (``config:
null``, a numeric ``created_at``…) is kept aside: it never breaks the reading of the
others, and reading *that* channel says what is wrong with it.

:class:`SharedList` makes concurrent readers share one request, and reuses an answer for
``window`` seconds unless a write completed after that list began.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from .._defaults import CHANNELS_PATH
from .._exceptions import InvalidResponseError, PingBackError
from ..channels._kinds import channel_identity
from ..channels._models import Channel, DesiredChannel
from ._retry import RetryPolicy, Tally, attempts
from ._transport import Answer, Transport

__all__ = ["Listing", "SharedList", "list_channels"]

log = logging.getLogger("pulumi_pingback")


@dataclass(frozen=True)
class Listing:
    channels: Mapping[str, Channel]
    """Every readable channel, by id."""
    malformed: Mapping[str, str] = field(default_factory=dict)
    """id -> the fields that could not be read, for items that are not readable."""
    identities: Mapping[str, str] = field(default_factory=dict)
    """id -> identity (``telegram:bot/…``), for every item whose type and config allow one,
    readable or not."""
    without_id: int = 0
    """How many items had no string ``id`` (not a channel anything can name: skipped)."""
    began: float = 0.0
    """When the list that answered this began (monotonic): a miss in it says nothing of a
    channel made later (:class:`SharedList` sets it)."""

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(self.channels) | frozenset(self.malformed)

    def matching(self, desired: DesiredChannel) -> list[Channel]:
        """The channels that hold exactly what ``desired`` declares
        (:meth:`DesiredChannel.matches`), in list order: looked up in an index of the
        list by content, built once (each create of an ``up`` asks, and a scan of every
        channel per create would grow with the business)."""
        try:
            key = _content_key(desired.type, desired.config, desired.is_active)
        except _Unindexed:
            return [c for c in self.channels.values() if desired.matches(c)]
        index, unindexed = self._by_content
        found = index.get(key, ())
        if unindexed:
            order = {cid: i for i, cid in enumerate(self.channels)}
            found = sorted([*found, *unindexed], key=lambda c: order[c.id])
        return [c for c in found if desired.matches(c)]

    @functools.cached_property
    def _by_content(self) -> tuple[dict[Hashable, list[Channel]], list[Channel]]:
        index: dict[Hashable, list[Channel]] = {}
        unindexed: list[Channel] = []
        for channel in self.channels.values():
            try:
                key = _content_key(channel.type, channel.user_config, channel.is_active)
            except _Unindexed:
                unindexed.append(channel)
                continue
            index.setdefault(key, []).append(channel)
        return index, unindexed

    @classmethod
    def parse(cls, answer: Answer) -> Listing:
        data = answer.json()
        if not isinstance(data, list):
            hint = " (a paginated or wrapped list?)" if isinstance(data, dict) else ""
            raise answer.invalid(f"{answer.describe()}{hint}, not the JSON array of channels")
        channels: dict[str, Channel] = {}
        malformed: dict[str, str] = {}
        identities: dict[str, str] = {}
        without_id = 0
        for index, item in enumerate(data):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                log.debug("channel list item %d has no id; skipped", index)
                without_id += 1
                continue
            cid = item["id"]
            ctype, config = item.get("type"), item.get("config")
            if isinstance(ctype, str) and isinstance(config, dict):
                identity = channel_identity(ctype, config)
                if identity is not None:
                    identities[cid] = identity
            try:
                channels[cid] = Channel.model_validate(item)
            except ValidationError as exc:
                malformed[cid] = unreadable_fields(exc)
                log.debug("channel %s skipped: cannot read %s", cid, malformed[cid])
        return cls(channels, malformed, identities, without_id, began=answer.sent)


class _Unindexed(Exception):
    """A value that is not JSON's: its channel is compared with each create, not indexed."""


def _content(value: Any) -> Hashable:
    """``value`` as a key that equal JSON values share, whatever their Python types
    (``1 == 1.0 == True`` hash alike, dicts in any order, lists and tuples alike): two
    values that compare equal always have the same key (values with the same key are
    compared whole before a match)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return ("d", frozenset((_content(k), _content(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("l", tuple(_content(v) for v in value))
    raise _Unindexed


def _content_key(channel_type: str, config: Mapping[str, Any], is_active: bool) -> Hashable:
    return (channel_type, _content(config), _content(is_active))


def unreadable_fields(exc: ValidationError) -> str:
    """The field names a validation error is about; never their values."""
    names = sorted({".".join(str(p) for p in e["loc"]) or "?" for e in exc.errors()})
    return ", ".join(names) or "?"


class _Flight:
    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.started = time.monotonic()
        self.done = threading.Event()
        self.result: Listing | None = None
        self.error: BaseException | None = None


def list_channels(transport: Transport, policy: RetryPolicy, tally: Tally | None = None) -> Listing:
    """One list of the business, under the retry policy."""
    return attempts(
        policy, "GET", lambda _: Listing.parse(transport.send("GET", CHANNELS_PATH)), tally=tally
    )


class SharedList:
    """One list request shared by concurrent readers; reused for ``window`` seconds.
    ``observe`` sees each new list (the ledger: what existed before)."""

    def __init__(
        self,
        fetch: Callable[[], Listing],
        *,
        window: float,
        observe: Callable[[Listing], None] = lambda listing: None,
    ) -> None:
        self._fetch = fetch
        self._observe = observe
        self.window = window
        self._lock = threading.Lock()
        self._generation = 0
        self._flight: _Flight | None = None
        self.latest: Listing | None = None
        self.stats = {"lists": 0, "list_shared": 0}

    def wrote(self) -> None:
        """A write completed: later reads must list again (a read ``since`` a time may
        still share a list begun after it)."""
        with self._lock:
            self._generation += 1

    def get(self, *, fresh: bool = False, since: float | None = None) -> Listing:
        """The business's channels: the current list, shared, if it is usable — no write
        completed since it began, it is younger than the window, and (``since``, a
        monotonic time) it began at or after ``since`` — else a new one. ``fresh``: a new
        one, always."""
        with self._lock:
            flight = self._flight
            usable = (
                not fresh
                and flight is not None
                and flight.error is None
                and (
                    flight.started >= since
                    if since is not None
                    else flight.generation == self._generation
                    and (
                        not flight.done.is_set() or time.monotonic() - flight.started < self.window
                    )
                )
            )
            if usable:
                assert flight is not None
                self.stats["list_shared"] += 1
                leader = False
            else:
                flight = _Flight(self._generation)
                self._flight = flight
                self.stats["lists"] += 1
                leader = True
        if leader:
            try:
                listing = self._fetch()
                # An answer sent before this flight began (the first list, sent early:
                # _transport.send_early) is of its own time. The provider takes it in
                # configure, before any step: no reader asks `since` meanwhile.
                if 0 < listing.began < flight.started:
                    flight.started = listing.began
                flight.result = dataclasses.replace(listing, began=flight.started)
                self._observe(flight.result)
                with self._lock:
                    self.latest = flight.result
            except BaseException as exc:
                flight.error = exc
                raise
            finally:
                flight.done.set()
        else:
            flight.done.wait()
            if flight.error is not None:
                # Each waiter its own error: one raised to several threads is never
                # shared (each adds its own reader's advice, in a new error anyway).
                error = flight.error
                if isinstance(error, PingBackError):
                    raise error.evolve() from None
                raise error
        assert flight.result is not None
        return flight.result


def describe_unreadable(channel_id: str, listing: Listing) -> InvalidResponseError | None:
    """The error for reading a channel PingBack lists but this provider cannot read."""
    fields = listing.malformed.get(channel_id)
    if fields is None:
        return None
    return InvalidResponseError(
        f"PingBack lists channel {channel_id} with fields this provider cannot read ({fields})",
        status_code=200,
        method="GET",
        path=CHANNELS_PATH,
    )
