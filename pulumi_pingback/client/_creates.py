"""Creates never guess: a POST whose outcome is unknown is settled before anything is
sent again (used by :class:`._client.PingBackClient`; knows nothing of Pulumi). Who may
bind what, and whether a create is a retry of a lost one, is the registry's
(:mod:`._ownership`): this module does the HTTP it asks for.

- **Recover.** Before a POST, the registry is asked whether an earlier create of this very
  channel was lost (its caller killed before or after the answer): its channel is taken
  instead of creating another (:meth:`._ownership.Create.recover`).
- **One identity, one channel.** A create that would bind a bot / number / account
  another channel holds fails before any write (:meth:`._ownership.Ownership.binding`);
  after the POST, a list begun after it shows whether another run bound the same one at
  the same time: of two channels on one identity, the later (``created_at``, then the
  larger id) yields — its creator deletes the channel it made and fails, naming the
  other — so both runs, deciding alike, leave one.
- **Settle.** When a POST's outcome is unknown (5xx, answer lost, an unreadable 2xx),
  the channels are listed over a settle window before the POST is sent again; the
  channel it made is the one new, unclaimed channel that matches what was sent.
  Several matches: :class:`AmbiguousCreateError`, listing them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone

import tenacity
from pydantic import ValidationError

from .._defaults import CHANNELS_PATH
from .._exceptions import (
    AmbiguousCreateError,
    ConfigurationError,
    OutcomeUnknownError,
    PingBackError,
)
from .._untrusted import is_channel_id
from ..channels._kinds import a_channel
from ..channels._models import Channel, DesiredChannel
from . import _limit
from ._listing import Listing, SharedList, unreadable_fields
from ._ownership import Create, Ownership
from ._retry import RetryPolicy, Tally, attempts, outcome_unknown
from ._transport import Answer, Transport

__all__ = ["Creator"]
log = logging.getLogger("pulumi_pingback")


class Creator:
    """The creates of one client: given the client's transport, retry policy, shared
    list and registry (the parts it works with, not the client), and ``remove``, the
    client's delete (for a channel that lost a race for its identity)."""

    def __init__(
        self,
        transport: Transport,
        policy: RetryPolicy,
        reads: SharedList,
        owners: Ownership,
        *,
        settle_window: float,
        tally: Tally,
        remove: Callable[[str], bool],
    ) -> None:
        self.transport = transport
        self.policy = policy
        self.reads = reads
        self.owners = owners
        self.settle_window = settle_window
        self.tally = tally
        self.remove = remove

    def create(
        self, desired: DesiredChannel, *, guard: bool = True, resource: str | None = None
    ) -> Channel:
        """POST a channel. Never creates a duplicate and never returns another's channel."""
        with self.owners.creating(desired, resource=resource) as create:
            self.ensure_baseline()
            channel = create.recover(self._listed_since)
            if channel is not None:
                self.tally.add("recovered")
                return channel
            identity = desired.identity if guard else None
            with self.owners.binding(identity, resource=resource) as bound:
                channel = self._post(desired, create)
                if identity is not None:
                    self._alone_on(identity, channel, create, answered=time.monotonic())
                bound.made(channel)
            create.made(channel)
            return channel

    def _listed_since(self, since: float) -> Listing:
        """A list begun at or after ``since`` (monotonic) and within the read window."""
        return self.reads.get(since=max(since, time.monotonic() - self.reads.window))

    def ensure_baseline(self) -> None:
        """One list per process, before its first create or identity-changing update:
        "what existed before", which the identity guard and settling compare against."""
        if not self.owners.has_baseline:
            self.reads.get()

    def _alone_on(self, identity: str, channel: Channel, create: Create, answered: float) -> None:
        """After the POST: another run may have bound ``identity`` at the same time (its
        list, like ours, made before either commit showed it free). A list made after
        this commit tells: the settle's, when it found the channel (no round trip of its
        own), else one begun after the answer (shared by the creates that ask at once).
        Both runs order the channels on the identity alike — ``created_at``, then the id
        — and the later yields: its creator deletes the channel it made and fails,
        naming the other."""
        latest = self.reads.latest
        if latest is not None and channel.id in latest.ids:
            listing = latest
        else:
            listing = self.reads.get(since=answered)
        rivals = [
            c for c in listing.channels.values() if c.identity == identity and c.id != channel.id
        ]
        unreadable = sorted(
            cid
            for cid, held in listing.identities.items()
            if held == identity and cid != channel.id and cid not in listing.channels
        )
        if not rivals and not unreadable:
            return
        first = min([channel, *rivals], key=lambda c: (c.created_at or "", c.id))
        if first.id == channel.id and not unreadable:
            log.info(
                "channel %s and %s share the %s: made first, %s stays (the other run yields)",
                channel.id,
                ", ".join(c.id for c in rivals),
                identity,
                channel.id,
            )
            return
        other = first.id if first.id != channel.id else unreadable[0]
        log.warning(
            "another run bound the %s at the same time (channel %s): deleting channel %s, "
            "made by this create",
            identity,
            other,
            channel.id,
        )
        try:
            self.remove(channel.id)
        except PingBackError as exc:
            raise Ownership.yielded(identity, channel.id, other, left=exc.message) from None
        finally:
            create.nothing_made()  # no resource holds it: deleted, or for the user to delete
        raise Ownership.yielded(identity, channel.id, other)

    def _post(self, desired: DesiredChannel, create: Create) -> Channel:
        """The POST, under the retry policy, each attempt recorded before it goes; an
        outcome unknown is settled by listing before anything is sent again."""
        body, secrets = desired.body(), desired.secrets()
        first_ambiguous: list[datetime] = []
        last_ambiguous: list[PingBackError] = []
        # What already matched, from the newest list (no list of its own: N creates stay
        # N POSTs and one list).
        known = self.reads.latest
        before = [c.id for c in known.matching(desired)] if known else []

        def attempt(ambiguous: bool) -> Channel:
            if ambiguous:
                found = self._settle(desired, first_ambiguous[0], last_ambiguous[-1])
                if found is not None:
                    return found
            sent_at = datetime.now(timezone.utc)
            # By then this POST has landed or never will: its deadline, then the window
            # its settle would list over.
            create.sending(time.time() + self.transport.deadline + self.settle_window, before)
            try:
                answer = self.transport.send("POST", CHANNELS_PATH, json_body=body, secrets=secrets)
                return _created(answer, desired)
            except PingBackError as exc:
                if outcome_unknown("POST", exc):
                    last_ambiguous.append(exc)
                    if not first_ambiguous:
                        first_ambiguous.append(sent_at)
                raise
            finally:
                self.reads.wrote()

        try:
            return attempts(self.policy, "POST", attempt, tally=self.tally)
        except (OutcomeUnknownError, ConfigurationError):
            raise
        except PingBackError as exc:
            if not first_ambiguous:
                create.nothing_made()
                raise  # every attempt was answered: nothing was created
            found = self._settle(desired, first_ambiguous[0], last=exc)
            if found is not None:
                return found
            create.nothing_made()
            raise exc.evolve(
                maybe_applied=False,
                message=f"{exc.message} (no new {desired.type} channel appeared within "
                f"{self.settle_window:g} s of the last attempt)",
            ) from None

    def _settle(
        self, desired: DesiredChannel, since: datetime, last: PingBackError | None = None
    ) -> Channel | None:
        """After an ambiguous POST: the channel it made, looking over the settle window.

        None when no new matching channel appeared in the window; AmbiguousCreateError when
        several did; OutcomeUnknownError when the channels cannot be listed.
        """
        sent = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        log.warning(
            "a create of %s sent at %s got no usable answer (%s): listing the channels for "
            "up to %g s to find the one it may have made, before anything is sent again",
            a_channel(desired.type),
            sent,
            type(last).__name__ if last is not None else "OutcomeUnknownError",
            self.settle_window,
        )

        def look() -> Channel | None:
            self.tally.add("settle_lists")
            try:
                listing = self.reads.get(fresh=True)
            except PingBackError as exc:
                raise OutcomeUnknownError(
                    f"a create of {a_channel(desired.type)} was sent at {sent} and its outcome is "
                    f"unknown ({type(last or exc).__name__}); listing the channels to check failed "
                    f"too: {exc.message}",
                    channel_type=desired.type,
                    sent_at=sent,
                ) from None
            found = self.owners.candidates(listing, desired)
            if len(found) == 1:
                self.tally.add("reconciled")
                log.info(
                    "an ambiguous create of a %s channel landed: %s", desired.type, found[0].id
                )
                return found[0]
            if len(found) > 1:
                ids = [c.id for c in found]
                raise AmbiguousCreateError(
                    f"a create of {a_channel(desired.type)} was sent at {sent} and its outcome is "
                    f"unknown; {len(ids)} new channels match it: {', '.join(ids)}",
                    channel_type=desired.type,
                    sent_at=sent,
                    candidates=ids,
                )
            return None

        # Lists over the window, the pauses doubling (RetryPolicy.settle_wait); None once
        # it has passed with nothing found.
        end = time.monotonic() + self.settle_window
        left = _limit.left()  # the window ends with the operation's time limit
        if left is not None:
            end = min(end, time.monotonic() + max(0.0, left))
        found: Channel | None = tenacity.Retrying(
            stop=lambda state: time.monotonic() >= end,
            wait=lambda state: self.policy.settle_wait(state.attempt_number, end),
            retry=tenacity.retry_if_result(lambda channel: channel is None),
            retry_error_callback=lambda state: None,
        )(look)
        return found


def _created(answer: Answer, desired: DesiredChannel) -> Channel:
    data = answer.json()
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise answer.invalid(f"{answer.describe()}, not a channel with an id")
    if not is_channel_id(data["id"]):
        # Not what PingBack documents: unreadable, so settled like any unreadable answer
        # (nothing is bound to that id, and no request is ever addressed by it).
        raise answer.invalid(f"{answer.describe()}, whose id is not a UUID")
    try:
        return Channel.model_validate(data)
    except ValidationError as exc:
        # It has an id: the channel exists. Never send the create again; take the
        # declared state for the fields that cannot be read.
        log.debug(
            "created channel %s has unreadable fields: %s", data["id"], unreadable_fields(exc)
        )
        return Channel(
            id=data["id"],
            type=desired.type,
            config=dict(desired.config),
            is_active=desired.is_active,
            business_id=data["business_id"] if is_channel_id(data.get("business_id")) else None,
        )
