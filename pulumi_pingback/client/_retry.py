"""The retry policy, in one place: what is retried, how long to wait, what is ambiguous.

| failure                                  | GET / PATCH / DELETE | POST (create)                       |
|------------------------------------------|----------------------|-------------------------------------|
| connect failure (never sent)             | retry                | retry                               |
| 429 with Retry-After <= cap (or none)    | retry after the wait | retry after the wait                |
| 429 asking for more than the cap         | fail at once         | fail at once                        |
| 5xx, answer lost, timeout, deadline      | retry                | outcome unknown: settle, then retry |
| a 2xx the client cannot read             | GET: fail; PATCH: read back; DELETE: done (its body is not read) | outcome unknown: settle, then retry |
| 3xx, other 4xx, oversized answer         | fail at once         | fail at once                        |

"Settle" (see ``PingBackClient.create``) means looking for the channel over a window
before sending the POST again: there is no idempotency key, and a 5xx or a lost answer
does not prove that nothing was created (a proxy may answer 502/503/504 after it
forwarded the request; the server may commit after the client gave up).

Waits: ``Retry-After`` (seconds or an HTTP date, read by
:func:`._status.parse_retry_after`) when the server sends one, up to
``max_retry_after``; otherwise jittered exponential backoff (``initial`` doubling up to
``cap``, each wait 75-100 % of its step). A settle window's lists are paced by
:meth:`RetryPolicy.settle_wait`. tenacity runs both loops: every request goes through
:func:`attempts`, the one attempt loop; the numbers are in :mod:`.._defaults`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from .. import _defaults
from .._exceptions import (
    APIConnectionError,
    InternalServerError,
    InvalidResponseError,
    PingBackError,
    RateLimitError,
    ResponseTooLargeError,
    TimeLimitError,
)
from . import _limit

__all__ = ["RetryPolicy", "Tally", "attempts", "outcome_unknown"]

log = logging.getLogger("pulumi_pingback")
T = TypeVar("T")


def outcome_unknown(method: str, exc: BaseException) -> bool:
    """Whether ``exc`` leaves open that the write ``method`` took effect."""
    if method == "GET":
        return False
    if isinstance(exc, APIConnectionError):
        return exc.sent
    if isinstance(exc, InternalServerError):
        return True  # a proxy's 5xx may come after it forwarded the request
    return isinstance(exc, InvalidResponseError)  # a 2xx, unreadable: it may have landed


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = _defaults.MAX_RETRIES
    max_retry_after: float = _defaults.MAX_RETRY_AFTER
    initial: float = _defaults.BACKOFF_INITIAL
    cap: float = _defaults.BACKOFF_CAP

    def should_retry(self, method: str, exc: BaseException) -> bool:
        """Whether another attempt may follow ``exc`` (for POST: after settling): never
        once the operation's time limit ran out, nor for a wait past it."""
        if not isinstance(exc, PingBackError) or isinstance(exc, TimeLimitError):
            return False
        left = _limit.left()
        if left is not None and (left <= 0 or self.wait_at_least(exc) >= left):
            return False
        if isinstance(exc, RateLimitError):
            return exc.retry_after is None or exc.retry_after <= self.max_retry_after
        if isinstance(exc, InternalServerError | APIConnectionError):
            return True
        # An unreadable 2xx: a POST is settled and sent again; other methods are not
        # retried (a PATCH is read back instead).
        return (
            method == "POST"
            and isinstance(exc, InvalidResponseError)
            and not isinstance(exc, ResponseTooLargeError)
        )

    def settle_wait(self, attempt: int, end: float) -> float:
        """After list ``attempt`` of a settle window ending at ``end`` (monotonic): the
        pause before the next, doubling from :data:`.._defaults.SETTLE_FIRST_PAUSE`, never
        past the window's end."""
        step: float = _defaults.SETTLE_FIRST_PAUSE * (2 ** (attempt - 1))
        return max(0.0, min(step, end - time.monotonic()))

    def wait_at_least(self, exc: BaseException) -> float:
        """The wait ``exc`` asks for before another attempt (a 429's Retry-After)."""
        retry_after = getattr(exc, "retry_after", None)
        return float(retry_after) if isinstance(retry_after, float | int) else 0.0

    def wait(self, exc: BaseException | None, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, float | int) and retry_after >= 0:
            return min(float(retry_after), self.max_retry_after)
        step: float = min(self.initial * (2 ** (attempt - 1)), self.cap)
        return step * (1 - 0.25 * random.random())


class Tally:
    """What a client did beyond one request per call (retries, settles, reconciliations),
    counted across threads, for tests and benchmarks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = {"retries": 0, "reconciled": 0, "settle_lists": 0, "recovered": 0}

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


def attempts(
    policy: RetryPolicy, method: str, attempt: Callable[[bool], T], *, tally: Tally | None = None
) -> T:
    """``attempt(ambiguous_so_far)`` until it returns or ``policy`` says stop: the one
    attempt loop every request goes through (each retry counted in ``tally``).

    The error finally raised has ``maybe_applied`` set when any attempt of a write may
    have landed, and a connection failure after retries says how long it really waited:
    each a new error (:meth:`PingBackError.evolve`), the attempt's own unchanged.
    """
    ambiguous = False
    started = time.monotonic()
    tries = [0]

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        pause = policy.wait(exc, state.attempt_number)
        left = _limit.left()  # a backoff never outlasts the operation's time limit
        return pause if left is None else max(0.0, min(pause, left))

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if tally is not None:
            tally.add("retries")
        exc = state.outcome.exception() if state.outcome else None
        pause = state.next_action.sleep if state.next_action else 0.0
        total = policy.max_retries + 1
        if isinstance(exc, RateLimitError):
            # A user must see why the run stands still (the engine's log: _enginelog).
            log.warning(
                "PingBack is rate limiting requests (429 on %s): waiting %.0f s, as it "
                "asks, before attempt %d of %d",
                method,
                pause,
                state.attempt_number + 1,
                total,
            )
            return
        (log.warning if pause >= 5 else log.info)(
            "retrying %s after %s in %.1f s (attempt %d of %d)",
            method,
            type(exc).__name__,
            pause,
            state.attempt_number + 1,
            total,
        )

    try:
        for trial in tenacity.Retrying(
            stop=tenacity.stop_after_attempt(policy.max_retries + 1),
            retry=tenacity.retry_if_exception(lambda e: policy.should_retry(method, e)),
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
        changes: dict[str, object] = {}
        if ambiguous and not exc.maybe_applied:
            changes["maybe_applied"] = True
        if tries[0] > 1 and isinstance(exc, APIConnectionError):
            # Say how long it really waited: each attempt's own timeout, retries and
            # the backoff between them add up.
            waited = time.monotonic() - started
            changes["message"] = f"{exc.message}; {tries[0]} attempts over {waited:.0f} s"
        if not changes:
            raise
        raise exc.evolve(**changes) from None
    raise AssertionError("unreachable")  # pragma: no cover
