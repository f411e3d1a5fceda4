"""Who owns a channel: the one registry, for one process (one deployment's provider), in
memory, with the create journal (:mod:`._journal`) as its store on disk.

It alone answers three questions:

1. **May this resource bind this channel?** A create, or an identity-changing update,
   binds a Telegram bot, a Meta number, an X account: one identity, one channel. The check
   and the record of what the write made are one step under one lock
   (:meth:`Ownership.binding`), so no second write passes between them. An adoption
   (:meth:`Ownership.may_adopt`) takes an existing channel only if it is the declared
   kind of thing and no other resource of this deployment has it.
2. **Is this create a retry of a lost one?** (:meth:`Create.recover`) A create whose
   answer never reached its caller — a CLI killed while the POST was in flight, or after
   the answer but before it saved the step — is taken, never made again. Lost creates
   are judged by *time*, not by who is alive: one stays unresolved until its POST has
   landed (a list shows it: taken) or its ``until`` has passed and a list begun after
   that shows nothing (failed). A new create of the same channel waits for it, bounded
   and saying so, and never posts a second.
3. **May this delete go ahead?** (:meth:`Ownership.may_delete`) Never for a channel a
   resource of this deployment declares with ``adopt_id`` (a replacement re-adopts it),
   in this process or another one of the deployment, nor one a create of this deployment
   took back from a lost create.

What it knows: the first list of the process (what existed before: a settle never picks
it), which channel holds which identity (the newest list, kept current with this
process's writes), the identities being bound right now, the channels handed to a
resource here (created, adopted, taken), and what the engine's calls said (declared
``adopt_id``, channels kept by their Diff, resources new to the state). One message per
condition; no other module decides any of it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .._exceptions import AdoptionError, AmbiguousCreateError, IdentityConflictError
from ..channels._kinds import a_channel, channel_identity, describe_identity
from ..channels._models import Channel, DesiredChannel
from ._journal import Journal, canonical, listening
from ._listing import Listing

__all__ = ["Bound", "Create", "Ownership", "differing_keys"]

log = logging.getLogger("pulumi_pingback")

WAIT_PAUSE = 0.25
"""The first pause between lists while a lost create may still land (doubling to 2 s)."""


def _canonical(desired: DesiredChannel) -> str:
    """ "The same channel", as the journal writes it (:func:`._journal.canonical`)."""
    return canonical(desired.type, dict(desired.config), desired.is_active)


@dataclass(frozen=True)
class _Declared:
    type: str
    identity: str | None


def _describe(kind: _Declared) -> str:
    return describe_identity(kind.identity) if kind.identity else a_channel(kind.type)


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- the refusals: one message per condition ---------------------------------------------------


def _taken(channel_id: str) -> AdoptionError:
    return AdoptionError(
        f"channel {channel_id} is already managed by another resource of this deployment",
        channel_id=channel_id,
        reason="taken",
    )


def _bound_elsewhere(
    identity: str, holder: str, *, resource: str | None, unknown: bool
) -> IdentityConflictError:
    return IdentityConflictError(
        f"the {describe_identity(identity)} is already bound to channel {holder} of this "
        "PingBack business",
        identity=identity,
        other_id=holder,
        resource=resource,
        unknown_here=unknown,
    )


def differing_keys(existing: Channel, desired: DesiredChannel) -> list[str]:
    """The config keys (and ``is_active``) whose values PingBack holds otherwise than
    declared, present on one side only included; compared, never shown."""
    have, want = existing.user_config, dict(desired.config)
    absent = object()
    keys = sorted(k for k in set(have) | set(want) if have.get(k, absent) != want.get(k, absent))
    if existing.is_active != desired.is_active:
        keys.append("is_active")
    return keys


def _differs(channel_id: str, existing: Channel, desired: DesiredChannel) -> AdoptionError:
    keys = differing_keys(existing, desired)
    named = ", ".join(("" if k == "is_active" else "config.") + k for k in keys)
    values = f"{'a value' if len(keys) == 1 else 'values'} ({named})"
    return AdoptionError(
        f"channel {channel_id} holds {values} that PingBack keeps otherwise than declared "
        f"(values not shown); adopting it would overwrite {'it' if len(keys) == 1 else 'them'} "
        "in PingBack",
        channel_id=channel_id,
        reason="differs",
        keys=keys,
    )


class Bound:
    """An identity held for one write: :meth:`made` records the channel the write made
    before the identity is let go, in the same step as the check."""

    def __init__(self, owners: Ownership) -> None:
        self._owners = owners

    def made(self, channel: Channel) -> None:
        self._owners.wrote(channel)


class Ownership:
    """The registry of one process (thread-safe). ``journal``: its store on disk (None:
    this process only, as for a client used without one)."""

    def __init__(self, journal: Journal | None = None) -> None:
        self.journal = journal
        self._lock = threading.Lock()
        self.baseline: frozenset[str] | None = None
        self._identities: dict[str, str] = {}  # channel id -> identity
        self._own: dict[str, str | None] = {}  # ids this process wrote -> identity
        self._gone: set[str] = set()  # ids this process deleted
        self._binding: set[str] = set()  # identities a write holds right now
        self._body_locks: dict[str, threading.Lock] = {}
        self._claimed: set[str] = set()  # handed to a resource here: created, adopted, taken
        self._taken: set[str] = set()  # taken back from a lost create
        self._declared: dict[str, _Declared] = {}  # Check: adopt_id
        self._held: set[str] = set()  # Diff: kept by its resource
        self._adopted: set[str] = set()
        self._existing: set[str] = set()  # resources whose Check carried old inputs
        self._new: set[str] = set()  # resources whose Check carried none

    def fingerprint(self, desired: DesiredChannel) -> str:
        """The one fingerprint of "the same channel" (type, config, ``is_active``): the
        journal's HMAC, or, without a journal, a digest of the same."""
        if self.journal is not None:
            return self.journal.fingerprint(desired.type, dict(desired.config), desired.is_active)
        return hashlib.sha256(_canonical(desired).encode()).hexdigest()

    # ---- what lists say -------------------------------------------------------------------

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

    def candidates(self, listing: Listing, desired: DesiredChannel) -> list[Channel]:
        """New, unclaimed channels that match what an ambiguous create sent: not one this
        process had seen before, claims, or that a create of this machine's journal was
        answered with or took (another deployment's resource holds it)."""
        with self._lock:
            old = self.baseline or frozenset()
            claimed = set(self._claimed)
        if self.journal is not None:
            claimed |= self.journal.held(self.fingerprint(desired))
        found = [
            c
            for cid, c in listing.channels.items()
            if cid not in old and cid not in claimed and desired.matches(c)
        ]
        return sorted(found, key=lambda c: (c.created_at or "", c.id))

    # ---- this process's writes ------------------------------------------------------------

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

    def is_claimed(self, channel_id: str) -> bool:
        with self._lock:
            return channel_id in self._claimed

    # ---- 1. may this resource bind this channel --------------------------------------------

    @contextmanager
    def binding(
        self, identity: str | None, *, exclude: Iterable[str] = (), resource: str | None = None
    ) -> Iterator[Bound]:
        """Hold ``identity`` for one write: IdentityConflictError if another channel has it
        or another write of this process is binding it. The write records what it made
        with :meth:`Bound.made` before the identity is let go."""
        bound = Bound(self)
        if identity is None:
            yield bound
            return
        excluded = set(exclude)
        with self._lock:
            holders = sorted(
                cid
                for cid, held in self._identities.items()
                if held == identity and cid not in excluded
            )
            busy = identity in self._binding
            if not holders and not busy:
                self._binding.add(identity)
        if holders:
            known = self.journal is not None and self.journal.knows(holders[0])
            raise _bound_elsewhere(identity, holders[0], resource=resource, unknown=not known)
        if busy:
            raise IdentityConflictError(
                f"another create in this deployment is binding the {describe_identity(identity)}",
                identity=identity,
                other_id=None,
            )
        try:
            yield bound
        finally:
            with self._lock:
                self._binding.discard(identity)

    @staticmethod
    def yielded(identity: str, mine: str, other: str, *, left: str = "") -> IdentityConflictError:
        """The refusal of a create that lost a race for ``identity`` to another process's
        channel ``other``: its own channel ``mine`` was deleted again (``left``: why it
        could not be, and it is for the user to delete)."""
        fate = (
            f"could not be deleted ({left}): delete it in PingBack" if left else "was deleted again"
        )
        return IdentityConflictError(
            f"the {describe_identity(identity)} was bound at the same time by channel {other}, "
            f"made by another run; channel {mine}, made by this create, {fate}",
            identity=identity,
            other_id=other,
        )

    def may_adopt(self, channel_id: str, existing: Channel | None, desired: DesiredChannel) -> None:
        """Whether ``existing`` may be adopted as ``desired`` at all; AdoptionError naming
        why not (missing, another resource of this deployment has it, another type or
        identity). Its values are a separate question (:meth:`adoption_differs`)."""
        if existing is None:
            raise AdoptionError(
                f"PingBack has no channel {channel_id} in this business",
                channel_id=channel_id,
                reason="missing",
            )
        with self._lock:
            taken = channel_id in self._claimed or channel_id in self._held
        if taken:
            raise _taken(channel_id)
        if existing.type != desired.type:
            raise AdoptionError(
                f"channel {channel_id} is {a_channel(existing.type)}, not {desired.type}",
                channel_id=channel_id,
                reason="mismatch",
            )
        have, want = existing.identity, desired.identity
        if have is not None and want is not None and have != want:
            raise AdoptionError(
                f"channel {channel_id} is bound to the {describe_identity(have)}, not the "
                f"{describe_identity(want)} declared",
                channel_id=channel_id,
                reason="mismatch",
            )

    @staticmethod
    def adoption_differs(
        channel_id: str, existing: Channel, desired: DesiredChannel
    ) -> AdoptionError:
        """The refusal of an adoption that would overwrite what PingBack holds (without
        ``adopt_overwrite``): the keys, never their values."""
        return _differs(channel_id, existing, desired)

    def adopted(self, channel_id: str) -> None:
        """A resource of this deployment adopted ``channel_id`` (recorded on disk too, for
        the deployment's other provider processes)."""
        with self._lock:
            self._claimed.add(channel_id)
            self._adopted.add(channel_id)
        if self.journal is not None:
            self.journal.claim("adopted", channel_id)

    def claim(self, channel_id: str) -> None:
        """A create handed ``channel_id`` to its resource."""
        with self._lock:
            self._claimed.add(channel_id)

    def took(self, channel_id: str) -> None:
        """A create took ``channel_id`` back from a lost one: its resource's, and kept by
        any delete of this deployment (:meth:`may_delete`)."""
        with self._lock:
            self._claimed.add(channel_id)
            self._taken.add(channel_id)

    # ---- what the engine's calls said --------------------------------------------------------

    def checked(self, inputs: Mapping[str, Any], *, resource: str | None, old: bool) -> None:
        """Check saw these inputs for ``resource`` (``old``: with the inputs the state holds):
        a declared ``adopt_id`` is remembered, here and on disk."""
        if resource:
            with self._lock:
                (self._existing if old else self._new).add(resource)
        adopt_id, ctype, config = inputs.get("adopt_id"), inputs.get("type"), inputs.get("config")
        if not isinstance(adopt_id, str) or not isinstance(ctype, str):
            return
        identity = channel_identity(ctype, config) if isinstance(config, Mapping) else None
        with self._lock:
            self._declared[adopt_id] = _Declared(ctype, identity)
        if self.journal is not None:
            self.journal.claim("declared", adopt_id)

    def is_new(self, resource: str | None) -> bool:
        """Whether every Check of ``resource`` in this deployment came without old inputs:
        it is not in the state (a replacement's first Check carries them)."""
        with self._lock:
            return resource is not None and resource in self._new and resource not in self._existing

    def kept(self, channel_id: str, *, adopt_id: Any, replaced: bool) -> None:
        """Diff of the resource holding ``channel_id``: it keeps it unless replaced; a
        resource whose channel another one just adopted fails."""
        with self._lock:
            if not replaced:
                self._held.add(channel_id)
            stolen = channel_id in self._adopted and adopt_id != channel_id
        if stolen:
            raise AdoptionError(
                f"channel {channel_id} is managed by this resource, and another resource of "
                "this deployment has just adopted it",
                channel_id=channel_id,
                reason="taken",
            )

    # ---- 3. may this delete go ahead ---------------------------------------------------------

    def may_delete(self, channel_id: str, old_type: Any, old_identity: Any) -> bool:
        """False when the channel must stay in PingBack: a resource of this deployment
        declares it with ``adopt_id`` (here, or in another of its provider processes) or
        took it back from a lost create. AdoptionError when the resource declaring it now
        declares another kind of channel (a replacement would need another one)."""
        with self._lock:
            declared = self._declared.get(channel_id)
            taken = channel_id in self._taken
        if taken:
            log.info("channel %s is kept: a create of this deployment took it", channel_id)
            return False
        if declared is not None:
            identity = old_identity if isinstance(old_identity, str) else None
            if declared.type == old_type and (
                declared.identity is None or identity is None or declared.identity == identity
            ):
                log.info("channel %s is kept: a resource of this deployment manages it", channel_id)
                return False
            was = _Declared(str(old_type), identity)
            raise AdoptionError(
                f"channel {channel_id} is adopted by a resource that now declares "
                f"{_describe(declared)}, but the channel is {_describe(was)}; adoption keeps "
                "the channel, so it cannot be replaced by another",
                channel_id=channel_id,
                reason="replace",
            )
        if self.journal is not None and self.journal.claimed_elsewhere(channel_id):
            log.info(
                "channel %s is kept: a resource of this deployment adopts it (through "
                "another provider process)",
                channel_id,
            )
            return False
        return True

    # ---- 2. is this create a retry of a lost one ---------------------------------------------

    @contextmanager
    def creating(self, desired: DesiredChannel, *, resource: str | None = None) -> Iterator[Create]:
        """One create of ``desired`` for ``resource``: identical channels are created one at
        a time in this process (so a settle never races a sibling); yields its record."""
        fp = self.fingerprint(desired)
        with self._lock:
            lock = self._body_locks.setdefault(fp, threading.Lock())
        with lock:
            yield Create(self, desired, fp, resource)


class Create:
    """One create: its journal entry, and whether an earlier one of the same channel was
    lost (:meth:`recover`)."""

    def __init__(
        self, owners: Ownership, desired: DesiredChannel, fp: str, resource: str | None
    ) -> None:
        self.owners = owners
        self.desired = desired
        self.fp = fp
        self.resource = resource
        self.entry: str | None = None
        self.recovered = False

    # ---- the journal entry ---------------------------------------------------------------

    def sending(self, until: float, before: Iterable[str]) -> None:
        """A POST is about to go; it has landed, or never will, by ``until`` (epoch)."""
        journal = self.owners.journal
        if journal is None:
            return
        if self.entry is None:
            self.entry = journal.sent(self.fp, before, resource=self.resource, until=until)
        else:
            journal.attempt(self.entry, until)

    def made(self, channel: Channel) -> None:
        """The POST made ``channel`` and it goes to its resource."""
        self.owners.claim(channel.id)
        if self.owners.journal is not None and self.entry is not None:
            self.owners.journal.answered(self.entry, channel.id)

    def nothing_made(self) -> None:
        """Every attempt was answered without creating anything."""
        if self.owners.journal is not None and self.entry is not None:
            self.owners.journal.failed([self.entry])

    # ---- recovery -------------------------------------------------------------------------

    def recover(self, listed: Callable[[float], Listing]) -> Channel | None:
        """The channel an earlier create of this very channel made, if that create's answer
        never reached its caller; None when there is none (a POST may go). ``listed``: a
        list begun at or after a (monotonic) time. AmbiguousCreateError when more new
        channels match than creates were lost."""
        journal = self.owners.journal
        if journal is None:
            return None
        channel = self._same_resource(journal, listed)
        if channel is not None:
            return channel
        return self._lost(journal, lambda: listed(time.monotonic()))

    def _took(self, channel: Channel, why: str) -> Channel:
        self.owners.took(channel.id)
        self.recovered = True
        log.info("channel %s, %s, is taken instead of creating another", channel.id, why)
        return channel

    def _same_resource(
        self, journal: Journal, listed: Callable[[float], Listing]
    ) -> Channel | None:
        """This resource's own channel, made by a run whose CLI stopped after the answer but
        before it saved the step: the engine sends the resource's URN with every create,
        and a resource new to the state (its Check carried no old inputs) whose earlier
        create was answered to a caller that is gone is the same resource.

        Whether that channel still exists, a list begun after it was made tells (a channel
        once gone never comes back): the list this process already has, when it began
        after the newest of them was made (and, the caller's rule, within its read window)
        — so the creates of a stack brought up again after a destroy share one list
        instead of one each."""
        if not self.owners.is_new(self.resource):
            return None
        assert self.resource is not None
        earlier = [
            e
            for e in journal.of_resource(self.resource, self.fp)
            if e.caller != journal.caller and not listening(e.caller)
        ]
        if not earlier:
            return None
        now = time.monotonic()
        made = [e.made for e in earlier]
        since = now  # a line without its time: a list begun now
        if None not in made:
            newest = max(m for m in made if m is not None)
            since = min(now, now - (time.time() - newest))
        listing = listed(since)
        for entry in earlier:
            assert entry.channel is not None
            channel = listing.channels.get(entry.channel)
            if (
                channel is not None
                and self.desired.matches(channel)
                and not self.owners.is_claimed(channel.id)
                and journal.take(entry.id, channel.id)
            ):
                return self._took(channel, "made for this resource by a run that stopped first")
        return None

    def _lost(self, journal: Journal, fresh: Callable[[], Listing]) -> Channel | None:
        warned = False
        pause = WAIT_PAUSE
        while True:
            entries = journal.unresolved(self.fp)
            live = [
                e for e in entries if e.state == "sent" and e.writer_alive() and listening(e.caller)
            ]
            lost = [e for e in entries if e not in live]
            if not lost:
                return None  # only other deployments' creates in flight: theirs
            began = time.time()
            listing = fresh()
            held = journal.held(self.fp)
            before = frozenset.intersection(*(e.before for e in lost))
            known = {e.channel for e in lost if e.channel}
            found = sorted(
                (
                    c
                    for c in listing.channels.values()
                    if self.desired.matches(c)
                    and c.id not in before
                    and c.id not in held
                    and not self.owners.is_claimed(c.id)
                ),
                key=lambda c: (c.id not in known, c.created_at or "", c.id),
            )
            # Not resolved yet: a POST that may still land (its `until` had not passed when
            # this list began), lost or another deployment's.
            pending = [e for e in entries if e.state == "sent" and began < e.until]
            live_pending = [e for e in pending if e in live]
            if found and not live_pending:
                if len(found) > len(lost):
                    ids = [c.id for c in found]
                    raise AmbiguousCreateError(
                        f"a create of {a_channel(self.desired.type)} was cut short by an earlier "
                        f"run (its caller stopped before the answer); {len(ids)} new channels "
                        f"match it: {', '.join(ids)}",
                        channel_type=self.desired.type,
                        sent_at="an earlier run",
                        candidates=ids,
                    )
                entry = next((e for e in lost if e.channel == found[0].id), lost[0])
                if journal.take(entry.id, found[0].id):
                    return self._took(found[0], "made by an earlier run whose caller had stopped")
                continue  # another process took it first: look again
            if not pending:
                # Every lost POST's time to land had passed when this list began, and it
                # shows none of them: nothing was made.
                journal.failed(e.id for e in lost)
                return None
            last = max(e.until for e in pending)
            if not warned:
                warned = True
                log.warning(
                    "an earlier run's create of %s (sent at %s) may still land: waiting up to "
                    "%.0f s for it before sending another",
                    a_channel(self.desired.type),
                    _stamp(min(e.sent for e in pending)),
                    max(0.0, last - time.time()),
                )
            time.sleep(max(0.0, min(pause, last - time.time())))
            pause = min(pause * 2, 2.0)
