"""What one process knows of the business, so that no create guesses and no identity is shared.

- **Baseline**: the ids of the first list this process made, before its first create.
  A channel in it existed before any create of this process was sent, so reconciling
  an ambiguous create never picks it.
- **Claims**: every channel id this process handed to a caller (created or adopted).
  Reconciliation never picks a claimed channel, and a channel is never adopted twice.
- **Identical bodies** are created one at a time in a process, so when a create is
  ambiguous no other create of this process can be making the same channel.
- **Identities**: which channel holds which Telegram bot / Meta number / X account,
  from the newest list, kept current with this process's own writes, plus the identities
  that creates of this process are binding right now.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from ._exceptions import IdentityConflictError
from ._kinds import describe_identity
from ._listing import Listing
from ._models import Channel, DesiredChannel

__all__ = ["Ledger"]


class Ledger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.baseline: frozenset[str] | None = None
        self.claimed: set[str] = set()
        self._identities: dict[str, str] = {}  # channel id -> identity
        self._own: dict[str, str | None] = {}  # ids this process created/updated -> identity
        self._gone: set[str] = set()  # ids this process deleted
        self._binding: dict[str, int] = {}  # identities being created right now
        self._body_locks: dict[str, threading.Lock] = {}

    # ---- what lists say -----------------------------------------------------------------

    def observe(self, listing: Listing) -> None:
        """Every list answer passes here: the first is the baseline; all refresh identities."""
        with self._lock:
            if self.baseline is None:
                self.baseline = listing.ids
            identities = {k: v for k, v in listing.identities.items() if k not in self._gone}
            for cid, identity in self._own.items():
                identities.pop(cid, None)
                if identity is not None:
                    identities[cid] = identity
            self._identities = identities

    @property
    def has_baseline(self) -> bool:
        return self.baseline is not None

    # ---- this process's writes ----------------------------------------------------------

    def wrote(self, channel: Channel) -> None:
        with self._lock:
            self._own[channel.id] = channel.identity
            self._gone.discard(channel.id)
            self._identities.pop(channel.id, None)
            if channel.identity is not None:
                self._identities[channel.id] = channel.identity

    def deleted(self, channel_id: str) -> None:
        with self._lock:
            self._gone.add(channel_id)
            self._own.pop(channel_id, None)
            self._identities.pop(channel_id, None)

    def claim(self, channel_id: str) -> None:
        with self._lock:
            self.claimed.add(channel_id)

    def is_claimed(self, channel_id: str) -> bool:
        with self._lock:
            return channel_id in self.claimed

    # ---- reconciliation -----------------------------------------------------------------

    def candidates(self, listing: Listing, desired: DesiredChannel) -> list[Channel]:
        """New, unclaimed channels that match what an ambiguous create sent."""
        with self._lock:
            old = self.baseline or frozenset()
            claimed = set(self.claimed)
        found = [
            c
            for cid, c in listing.channels.items()
            if cid not in old and cid not in claimed and desired.matches(c)
        ]
        return sorted(found, key=lambda c: (c.created_at or "", c.id))

    @contextmanager
    def one_at_a_time(self, desired: DesiredChannel) -> Iterator[None]:
        """Creates of identical channels run one after another in this process."""
        key = desired.fingerprint()
        with self._lock:
            lock = self._body_locks.setdefault(key, threading.Lock())
        with lock:
            yield

    # ---- the identity guard ---------------------------------------------------------------

    @contextmanager
    def binding(self, identity: str | None, *, exclude: Iterable[str] = ()) -> Iterator[None]:
        """Hold ``identity`` for a write; IdentityConflictError if another channel has it."""
        if identity is None:
            yield
            return
        excluded = set(exclude)
        with self._lock:
            holders = sorted(
                cid
                for cid, held in self._identities.items()
                if held == identity and cid not in excluded
            )
            if holders:
                raise IdentityConflictError(
                    f"the {describe_identity(identity)} is already bound to channel "
                    f"{holders[0]} of this PingBack business",
                    identity=identity,
                    other_id=holders[0],
                )
            if self._binding.get(identity):
                raise IdentityConflictError(
                    f"another create in this deployment is binding the {describe_identity(identity)}",
                    identity=identity,
                    other_id=None,
                )
            self._binding[identity] = 1
        try:
            yield
        finally:
            with self._lock:
                self._binding.pop(identity, None)
