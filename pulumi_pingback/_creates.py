"""Creates never guess: a POST whose outcome is unknown is settled before anything is
sent again (used by :class:`._client.PingBackClient`; knows nothing of Pulumi).

- **Settle.** When a POST's outcome is unknown (5xx, answer lost, an unreadable 2xx),
  the channels are listed over a settle window before the POST is sent again; the
  channel it made is the one new, unclaimed channel that matches what was sent
  (:mod:`._ledger`). Several matches: :class:`AmbiguousCreateError`, listing them.
- **Recover.** A create whose caller was killed before the answer (a CLI's SIGKILL) is
  found by the next process through the create journal (:mod:`._journal`), and taken
  instead of creating another.
- **One identity, one channel.** A create that would bind a bot / number / account
  another channel holds fails before any write (:meth:`._ledger.Ledger.binding`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import tenacity
from pydantic import ValidationError

from ._defaults import CHANNELS_PATH
from ._exceptions import (
    AmbiguousCreateError,
    ConfigurationError,
    OutcomeUnknownError,
    PingBackError,
)
from ._journal import Journal
from ._kinds import a_channel
from ._ledger import Ledger
from ._listing import SharedList, unreadable_fields
from ._models import Channel, DesiredChannel
from ._retry import RetryPolicy, Tally, attempts, outcome_unknown
from ._transport import Answer, Transport
from ._untrusted import is_channel_id

__all__ = ["Creator"]
log = logging.getLogger("pulumi_pingback")


class Creator:
    """The creates of one client: given the client's transport, retry policy, shared
    list, ledger and journal (the parts it works with, not the client)."""

    def __init__(
        self,
        transport: Transport,
        policy: RetryPolicy,
        reads: SharedList,
        ledger: Ledger,
        journal: Journal | None,
        *,
        settle_window: float,
        tally: Tally,
    ) -> None:
        self.transport = transport
        self.policy = policy
        self.reads = reads
        self.ledger = ledger
        self.journal = journal
        self.settle_window = settle_window
        self.tally = tally

    def create(self, desired: DesiredChannel, *, guard: bool = True) -> Channel:
        """POST a channel. Never creates a duplicate and never returns another's channel."""
        with self.ledger.one_at_a_time(desired):
            self.ensure_baseline()
            channel = self._recover(desired)
            if channel is None:
                identity = desired.identity if guard else None
                with self.ledger.binding(identity):
                    channel = self._journaled(desired)
            self.ledger.wrote(channel)
            self.ledger.claim(channel.id)
            return channel

    def ensure_baseline(self) -> None:
        """One list per process, before its first create or identity-changing update:
        "what existed before", which the identity guard and settling compare against."""
        if not self.ledger.has_baseline:
            self.reads.get()

    def _journaled(self, desired: DesiredChannel) -> Channel:
        """The create, recorded in the journal (if any) before it is sent and once it ends."""
        journal = self.journal
        if journal is None:
            return self._post(desired)
        fp = journal.fingerprint(desired.type, desired.config, desired.is_active)
        # What already matched, from the newest list (no list of its own: N creates stay
        # N POSTs and one list).
        known = self.reads.latest
        before = [c.id for c in known.channels.values() if desired.matches(c)] if known else []
        entry = journal.sent(fp, before)
        try:
            channel = self._post(desired)
        except PingBackError as exc:
            if not exc.maybe_applied and not isinstance(exc, OutcomeUnknownError):
                journal.failed([entry])  # every attempt was answered: nothing was made
            raise
        journal.answered(entry, channel.id)
        return channel

    def _recover(self, desired: DesiredChannel) -> Channel | None:
        """The channel an earlier process's create of this very channel made, if that
        create's answer never reached its caller (a killed CLI): see :mod:`._journal`."""
        journal = self.journal
        if journal is None:
            return None
        fp = journal.fingerprint(desired.type, desired.config, desired.is_active)
        lost = journal.lost(fp, wait=self.settle_window)
        if lost is None:
            return None
        listing = self.reads.get(fresh=True)
        held = journal.held()
        found = sorted(
            (
                c
                for c in listing.channels.values()
                if desired.matches(c)
                and c.id not in lost.before
                and c.id not in held
                and not self.ledger.is_claimed(c.id)
            ),
            key=lambda c: (c.id not in lost.known, c.created_at or "", c.id),
        )
        if not found:
            journal.failed(lost.entries)  # none of them landed
            return None
        if len(found) > len(lost.entries):
            ids = [c.id for c in found]
            raise AmbiguousCreateError(
                f"a create of {a_channel(desired.type)} was cut short by an earlier run (its "
                f"caller stopped before the answer); {len(ids)} new channels match it: "
                f"{', '.join(ids)}",
                channel_type=desired.type,
                sent_at="an earlier run",
                candidates=ids,
            )
        journal.taken(lost.entries[:1], found[0].id)
        self.tally.add("recovered")
        log.info(
            "channel %s, made by an earlier run whose caller had stopped, is taken instead "
            "of creating another",
            found[0].id,
        )
        return found[0]

    def _post(self, desired: DesiredChannel) -> Channel:
        body, secrets = desired.body(), desired.secrets()
        first_ambiguous: list[datetime] = []
        last_ambiguous: list[PingBackError] = []

        def attempt(ambiguous: bool) -> Channel:
            if ambiguous:
                found = self._settle(desired, first_ambiguous[0], last_ambiguous[-1])
                if found is not None:
                    return found
            sent_at = datetime.now(timezone.utc)
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
                raise  # every attempt was answered: nothing was created
            found = self._settle(desired, first_ambiguous[0], last=exc)
            if found is not None:
                return found
            exc.maybe_applied = False
            exc.message += (
                f" (no new {desired.type} channel appeared within {self.settle_window:g} s "
                "of the last attempt)"
            )
            raise

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
            found = self.ledger.candidates(listing, desired)
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
