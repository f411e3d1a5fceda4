"""PingBack channels API client (sync, httpx). Raises facts, in PingBack's terms: no
Pulumi import, no setting or option named in a message (the audience's advice is added
by :mod:`._diagnostics`). The create journal it may be given (:mod:`._journal`) is the one
part that knows a CLI can be killed mid-create.

    client = PingBackClient(token, base_url="https://api.pingback.live")
    channel = client.create(DesiredChannel("telegram", {"bot_token": "…"}))

- Transport, bounds and the pool: :mod:`._transport`. Retry policy: :mod:`._retry`.
  Status -> error: :func:`._exceptions.make_status_error`. Reads: :mod:`._listing`.
- Every request goes through one attempt loop (:meth:`PingBackClient._attempts`).
- **Creates never guess.** When a POST's outcome is unknown (5xx, answer lost, an
  unreadable 2xx), the channels are listed over a settle window before anything is sent
  again; the channel it made is the one new, unclaimed channel that matches what was
  sent (:mod:`._ledger`). Several matches: :class:`AmbiguousCreateError`, listing them.
- **Every write is settled**: a PATCH or DELETE whose retries ran out after an attempt
  that may have landed is read back.
- **404 is checked**: a DELETE's 404 means "already gone" only once a list shows the
  channel absent; a PATCH's 404 says whether the list still shows the channel.
- **One identity, one channel**: a create, identity-changing update or adoption that would
  bind a bot / number / account another channel holds fails before any write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any, TypeVar

import tenacity
from pydantic import ValidationError

from . import _defaults
from ._exceptions import (
    AdoptionError,
    AmbiguousCreateError,
    APIConnectionError,
    ConfigurationError,
    NotFoundError,
    OutcomeUnknownError,
    PingBackError,
    RateLimitError,
)
from ._journal import Journal
from ._kinds import a_channel, describe_identity
from ._ledger import Ledger
from ._listing import Listing, SharedList, describe_unreadable, unreadable_fields
from ._models import Channel, DesiredChannel
from ._redact import Redactor, strings_in
from ._retry import RetryPolicy, outcome_unknown
from ._settings import Settings
from ._transport import Answer, Transport

__all__ = ["CHANNELS_PATH", "DEFAULT_API_URL", "PingBackClient"]

DEFAULT_API_URL = _defaults.API_URL
CHANNELS_PATH = "/api/v1/channels/"
log = logging.getLogger("pulumi_pingback")
T = TypeVar("T")


def _channel_path(channel_id: str) -> str:
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
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"the API URL must start with http:// or https:// (e.g. {DEFAULT_API_URL})"
            )
        if timeout <= 0 or connect_timeout <= 0:
            raise ConfigurationError("the timeout must be a positive number of seconds")
        if max_retries < 0:
            raise ConfigurationError("max_retries must be 0 or more")
        self.transport = Transport(
            token,
            base_url=base_url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            deadline=deadline if deadline is not None else _defaults.DEADLINE_FACTOR * timeout,
            max_bytes=max_answer_bytes,
        )
        self.policy = RetryPolicy(max_retries, max_retry_after, backoff_initial, backoff_max)
        self.settle_window = settle_window if settle_window is not None else timeout
        self.ledger = Ledger()
        self.journal = journal
        self.reads = SharedList(self._list_now, window=read_window)
        self._lock = threading.Lock()
        self.stats: dict[str, int] = {
            "retries": 0,
            "reconciled": 0,
            "settle_lists": 0,
            "recovered": 0,
        }

    @classmethod
    def from_settings(cls, settings: Settings, *, journal: Journal | None = None) -> PingBackClient:
        """The client of a provider or of the `pingback` command: one way from settings."""
        return cls(
            settings.token,
            base_url=settings.api_url,
            timeout=settings.timeout,
            connect_timeout=min(_defaults.CONNECT_TIMEOUT, settings.timeout),
            max_retries=settings.max_retries,
            journal=journal,
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
        with self._lock:
            return {**self.stats, **self.reads.stats, "requests": self.transport.requests}

    def remember(self, secrets: Iterable[str]) -> None:
        """Secrets this client must redact from every later error (stored configs)."""
        self.transport.remember(secrets)

    def redactor(self, secrets: Iterable[str] = (), *, fragments: bool = True) -> Redactor:
        """Removes the token, remembered secrets and ``secrets`` from a text, in every form."""
        return self.transport.redactor(secrets, fragments=fragments)

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1

    # ---- the one attempt loop --------------------------------------------------------------

    def _attempts(self, method: str, attempt: Callable[[bool], T]) -> T:
        """``attempt(ambiguous_so_far)`` until it returns or the retry policy says stop.

        The error finally raised has ``maybe_applied`` set when any attempt of a write may
        have landed.
        """
        if not self.transport.has_token:
            raise ConfigurationError("no PingBack API token was given")
        ambiguous = False
        started = time.monotonic()
        tries = [0]

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return self.policy.wait(exc, state.attempt_number)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            self._count("retries")
            exc = state.outcome.exception() if state.outcome else None
            pause = state.next_action.sleep if state.next_action else 0.0
            attempts = self.policy.max_retries + 1
            if isinstance(exc, RateLimitError):
                # A user must see why the run stands still (the engine's log: _enginelog).
                log.warning(
                    "PingBack is rate limiting requests (429 on %s): waiting %.0f s, as it "
                    "asks, before attempt %d of %d",
                    method,
                    pause,
                    state.attempt_number + 1,
                    attempts,
                )
                return
            (log.warning if pause >= 5 else log.info)(
                "retrying %s after %s in %.1f s (attempt %d of %d)",
                method,
                type(exc).__name__,
                pause,
                state.attempt_number + 1,
                attempts,
            )

        try:
            for trial in tenacity.Retrying(
                stop=tenacity.stop_after_attempt(self.policy.max_retries + 1),
                retry=tenacity.retry_if_exception(lambda e: self.policy.should_retry(method, e)),
                wait=wait,
                before_sleep=before_sleep,
                reraise=True,
            ):
                with trial:
                    tries[0] += 1
                    try:
                        return attempt(ambiguous)
                    except PingBackError as exc:
                        ambiguous = ambiguous or outcome_unknown(method, exc)
                        raise
        except PingBackError as exc:
            exc.maybe_applied = exc.maybe_applied or ambiguous
            if tries[0] > 1 and isinstance(exc, APIConnectionError):
                # Say how long it really waited: each attempt's own timeout, retries and
                # the backoff between them add up.
                exc.message += f"; {tries[0]} attempts over {time.monotonic() - started:.0f} s"
                exc.args = (exc.message,)
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self, method: str, path: str, body: Any = None, secrets: list[str] | None = None
    ) -> Answer:
        return self.transport.send(method, path, json_body=body, secrets=secrets or ())

    # ---- reads ------------------------------------------------------------------------------

    def _list_now(self) -> Listing:
        listing = self._attempts("GET", lambda _: Listing.parse(self._send("GET", CHANNELS_PATH)))
        self.ledger.observe(listing)
        return listing

    def listing(self, *, fresh: bool = False) -> Listing:
        """Every channel of the business, indexed by id (shared; see :class:`SharedList`)."""
        return self.reads.get(fresh=fresh)

    def list(self, *, fresh: bool = False) -> list[Channel]:
        """Every readable channel of the business."""
        return list(self.listing(fresh=fresh).channels.values())

    def get(self, channel_id: str, *, fresh: bool = False) -> Channel | None:
        """One channel by id (by listing: the API has no GET of one channel), or None.

        Raises InvalidResponseError when PingBack lists it in a form that cannot be read.
        """
        listing = self.listing(fresh=fresh)
        channel = listing.channels.get(channel_id)
        if channel is None:
            unreadable = describe_unreadable(channel_id, listing)
            if unreadable is not None:
                raise unreadable
        return channel

    def _ensure_baseline(self) -> None:
        if not self.ledger.has_baseline:
            self.listing()

    # ---- create -----------------------------------------------------------------------------

    def create(self, desired: DesiredChannel, *, guard: bool = True) -> Channel:
        """POST a channel. Never creates a duplicate and never returns another's channel."""
        with self.ledger.one_at_a_time(desired):
            self._ensure_baseline()  # one list per process: "what existed before"
            channel = self._recover(desired)
            if channel is None:
                identity = desired.identity if guard else None
                with self.ledger.binding(identity):
                    channel = self._journaled_create(desired)
            self.ledger.wrote(channel)
            self.ledger.claim(channel.id)
            return channel

    def _journaled_create(self, desired: DesiredChannel) -> Channel:
        """The create, recorded in the journal (if any) before it is sent and once it ends."""
        journal = self.journal
        if journal is None:
            return self._create(desired)
        fp = journal.fingerprint(desired.type, desired.config, desired.is_active)
        # What already matched, from the newest list (no list of its own: N creates stay
        # N POSTs and one list).
        known = self.reads.latest
        before = [c.id for c in known.channels.values() if desired.matches(c)] if known else []
        entry = journal.sent(fp, before)
        try:
            channel = self._create(desired)
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
        listing = self.listing(fresh=True)
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
        self._count("recovered")
        log.info(
            "channel %s, made by an earlier run whose caller had stopped, is taken instead "
            "of creating another",
            found[0].id,
        )
        return found[0]

    def _create(self, desired: DesiredChannel) -> Channel:
        body, secrets = desired.body(), desired.secrets()
        first_ambiguous: list[datetime] = []
        last_ambiguous: list[PingBackError] = []

        def attempt(ambiguous: bool) -> Channel:
            if ambiguous:
                found = self._settle_create(desired, first_ambiguous[0], last_ambiguous[-1])
                if found is not None:
                    return found
            sent_at = datetime.now(timezone.utc)
            try:
                answer = self._send("POST", CHANNELS_PATH, body, secrets)
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
            return self._attempts("POST", attempt)
        except (OutcomeUnknownError, ConfigurationError):
            raise
        except PingBackError as exc:
            if not first_ambiguous:
                raise  # every attempt was answered: nothing was created
            found = self._settle_create(desired, first_ambiguous[0], last=exc)
            if found is not None:
                return found
            exc.maybe_applied = False
            exc.message += (
                f" (no new {desired.type} channel appeared within {self.settle_window:g} s "
                "of the last attempt)"
            )
            raise

    def _settle_create(
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
            self._count("settle_lists")
            try:
                listing = self.listing(fresh=True)
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
                self._count("reconciled")
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

    # ---- adopt, update, delete ----------------------------------------------------------------

    def adopt(
        self, channel_id: str, desired: DesiredChannel, *, overwrite: bool = False
    ) -> Channel:
        """Take an existing channel: check it is the declared kind of thing and holds the
        declared state. When it holds exactly that, nothing is sent; when it differs, the
        adoption is refused naming the keys (``overwrite``: PATCH it to the declared
        state) — a live channel is never changed by an adoption nobody saw."""
        existing = self.get(channel_id)
        if existing is None:
            raise AdoptionError(
                f"PingBack has no channel {channel_id} in this business",
                channel_id=channel_id,
                reason="missing",
            )
        if self.ledger.is_claimed(channel_id):
            raise AdoptionError(
                f"channel {channel_id} was already created or adopted by another resource "
                "in this deployment",
                channel_id=channel_id,
                reason="taken",
            )
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
        if desired.matches(existing):
            self.ledger.claim(channel_id)
            return existing
        if not overwrite:
            differ = differing_keys(existing, desired)
            raise AdoptionError(
                f"channel {channel_id} holds {_listing_of(differ)} that PingBack keeps "
                "otherwise than declared (values not shown); adopting it would overwrite "
                f"{'it' if len(differ) == 1 else 'them'} in PingBack",
                channel_id=channel_id,
                reason="differs",
                keys=differ,
            )
        with self.ledger.binding(want, exclude=[channel_id]):
            self.remember(strings_in(existing.config))  # the stored config, quoted back?
            channel = self._patch(channel_id, desired)
        self.ledger.claim(channel_id)
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
            self._ensure_baseline()
            with self.ledger.binding(new_identity, exclude=[channel_id]):
                return self._patch(channel_id, desired)
        return self._patch(channel_id, desired)

    def _patch(self, channel_id: str, desired: DesiredChannel) -> Channel:
        path = _channel_path(channel_id)
        body, secrets = desired.body(), desired.secrets()
        try:
            answer = self._attempts("PATCH", lambda _: self._send("PATCH", path, body, secrets))
        except NotFoundError as exc:
            self.reads.wrote()
            exc.listed = channel_id in self.listing(fresh=True).ids
            raise
        except PingBackError as exc:
            self.reads.wrote()
            current = self._settle(exc, channel_id)
            if current is not None and desired.matches(current):
                self.ledger.wrote(current)
                return current  # the PATCH landed; only its answer was lost
            raise
        self.reads.wrote()
        channel = _patched(answer, channel_id)
        if channel is None:  # no readable channel in the answer: read it back
            channel = self.get(channel_id, fresh=True)
            if channel is None or not desired.matches(channel):
                state = "is gone" if channel is None else "does not hold the declared state"
                raise answer.invalid(f"{answer.describe()}, and the channel {state}")
        self.ledger.wrote(channel)
        return channel

    def delete(self, channel_id: str) -> bool:
        """DELETE a channel. False when a list confirms it was already gone."""
        path = _channel_path(channel_id)
        try:
            self._attempts("DELETE", lambda _: self._send("DELETE", path))
        except NotFoundError as exc:
            self.reads.wrote()
            listing = self.listing(fresh=True)  # a 404 on the list itself says: wrong URL
            if channel_id in listing.ids:
                exc.listed = True
                raise
            self.ledger.deleted(channel_id)
            return False
        except PingBackError as exc:
            self.reads.wrote()
            if self._settle(exc, channel_id) is None:
                self.ledger.deleted(channel_id)
                return True  # the DELETE landed; only its answer was lost
            raise
        self.reads.wrote()
        self.ledger.deleted(channel_id)
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
        self._count("reconciled")
        return listing.channels.get(channel_id)


def differing_keys(existing: Channel, desired: DesiredChannel) -> list[str]:
    """The config keys (and ``is_active``) whose values PingBack holds otherwise than
    declared, present on one side only included; compared, never shown."""
    have, want = existing.user_config, dict(desired.config)
    keys = sorted(k for k in set(have) | set(want) if have.get(k, _ABSENT) != want.get(k, _ABSENT))
    if existing.is_active != desired.is_active:
        keys.append("is_active")
    return keys


_ABSENT = object()


def _listing_of(keys: list[str]) -> str:
    named = ", ".join(("" if k == "is_active" else "config.") + k for k in keys)
    return f"{'a value' if len(keys) == 1 else 'values'} ({named})"


def _created(answer: Answer, desired: DesiredChannel) -> Channel:
    data = answer.json()
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise answer.invalid(f"{answer.describe()}, not a channel with an id")
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
            business_id=data["business_id"] if isinstance(data.get("business_id"), str) else None,
        )


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
