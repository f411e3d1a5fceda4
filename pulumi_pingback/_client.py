"""PingBack channels API client (sync, httpx). Knows nothing of Pulumi.

- One connection pool per process (:func:`_shared_http`), shared by every client and
  thread; the token travels per request, never in the pool.
- The retry policy lives in :meth:`PingBackClient._should_retry` and
  :meth:`PingBackClient._wait` (tenacity drives the loop).
- A create whose outcome is unknown (read timeout, connection dropped after sending,
  500/502/504) is reconciled by listing before it is sent again: no duplicate
  channel. Any write whose retries run out after an ambiguous attempt is settled by
  reading the channel back.
- Reads go through one list: concurrent ``get``/``list`` calls share one request, and a
  listing is reused for ``read_window`` seconds unless a write completed since it began.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import tenacity
from pydantic import ValidationError

from ._exceptions import (
    AUTH_HELP,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    InternalServerError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PingBackError,
    PlanLimitError,
    RateLimitError,
    redact,
)
from ._models import Channel
from ._version import __version__

__all__ = ["DEFAULT_API_URL", "PingBackClient"]

DEFAULT_API_URL = "https://api.pingback.live"
CHANNELS_PATH = "/api/v1/channels/"
log = logging.getLogger("pulumi_pingback")

_POOL_LOCK = threading.Lock()
_POOL: httpx.Client | None = None


def _shared_http() -> httpx.Client:
    """The process-wide connection pool (thread-safe; created once, lazily)."""
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = httpx.Client(
                    limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
                    follow_redirects=False,
                    trust_env=False,
                )
    return _POOL


def _secret_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _secret_strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _secret_strings(v)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _outcome_unknown(exc: BaseException) -> bool:
    """A write that may or may not have happened.

    503 says the request was not processed; 500/502/504 and a lost answer say nothing.
    """
    if isinstance(exc, InternalServerError):
        return exc.status_code != 503
    return isinstance(exc, APIConnectionError) and exc.sent


class _Flight:
    def __init__(self, generation: int) -> None:
        self.generation = generation
        self.started = time.monotonic()
        self.done = threading.Event()
        self.result: list[Channel] | None = None
        self.error: BaseException | None = None


class PingBackClient:
    """A client for PingBack's channels endpoints.

    Thread-safe; cheap to construct (the connection pool is shared per process).
    """

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str = DEFAULT_API_URL,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        max_retries: int = 3,
        max_retry_after: float = 60.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        read_window: float = 2.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                "pingback:apiUrl must start with http:// or https:// "
                f"(e.g. {DEFAULT_API_URL}); set it with `pulumi config set pingback:apiUrl <url>`"
            )
        if timeout <= 0 or connect_timeout <= 0:
            raise ConfigurationError("pingback:timeout must be a positive number of seconds")
        if max_retries < 0:
            raise ConfigurationError("pingback:maxRetries must be 0 or more")
        self._token = token or None
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.read_window = read_window
        self._lock = threading.Lock()
        self._write_generation = 0
        self._flight: _Flight | None = None
        self.stats: dict[str, int] = {
            "requests": 0,
            "retries": 0,
            "reconciled": 0,
            "lists": 0,
            "list_shared": 0,
        }

    def __repr__(self) -> str:
        return f"PingBackClient(base_url={self.base_url!r})"

    def __reduce__(self) -> Any:
        raise TypeError("PingBackClient holds a token and is never pickled")

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] = self.stats.get(key, 0) + n

    # ---- transport --------------------------------------------------------------------

    def _send(
        self, method: str, path: str, *, json: Any = None, secrets: Iterable[str] = ()
    ) -> Any:
        """One HTTP request; raises the mapped PingBackError. No retries here."""
        if not self._token:
            raise ConfigurationError(f"no PingBack API token: {AUTH_HELP}")
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "User-Agent": f"pulumi-pingback/{__version__}",
        }
        self._count("requests")
        try:
            response = _shared_http().request(
                method, self.base_url + path, json=json, headers=headers, timeout=self.timeout
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
            raise cls(
                f"could not connect to PingBack at {self.base_url} ({type(exc).__name__}); "
                "check pingback:apiUrl and your network, then run the command again",
                method=method,
                path=path,
                sent=False,
            ) from None
        except httpx.TimeoutException as exc:
            raise APITimeoutError(
                f"PingBack did not answer {method} {path} within {self.timeout.read:g} s "
                f"({type(exc).__name__}); raise pingback:timeout or try again",
                method=method,
                path=path,
            ) from None
        except httpx.TransportError as exc:
            raise APIConnectionError(
                f"the connection to PingBack broke during {method} {path} ({type(exc).__name__}); "
                "try again",
                method=method,
                path=path,
            ) from None
        log.debug("%s %s -> %s", method, path, response.status_code)
        if response.status_code >= 400:
            raise self._status_error(method, path, response, [self._token, *secrets])
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise APIStatusError(
                f"PingBack answered {method} {path} with a body that is not JSON",
                status_code=response.status_code,
                method=method,
                path=path,
            ) from None

    def _status_error(
        self, method: str, path: str, response: httpx.Response, secrets: list[str]
    ) -> APIStatusError:
        status = response.status_code
        try:
            body: Any = response.json()
        except ValueError:
            body = {"detail": response.text[:500]}
        server_msg = ""
        if isinstance(body, dict):
            for key in ("message", "detail", "error"):
                if isinstance(body.get(key), str) and body[key]:
                    server_msg = body[key]
                    break
        elif isinstance(body, str):
            server_msg = body
        server_msg = redact(server_msg, secrets)[:500]
        if isinstance(body, dict):
            body = {
                k: (redact(v, secrets) if isinstance(v, str) else v)
                for k, v in body.items()
                if isinstance(v, str | int | float | bool) or v is None
            }
        else:
            body = {"detail": server_msg}
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        said = f": {server_msg.rstrip('.')}" if server_msg else ""
        where = f"{method} {path}"
        kw: dict[str, Any] = {
            "status_code": status,
            "method": method,
            "path": path,
            "body": body,
            "retry_after": retry_after,
        }
        if status == 400:
            return BadRequestError(
                f"PingBack refused the channel (400){said}. Fix the channel's inputs "
                "(required config fields by type are in the README) and run again",
                **kw,
            )
        if status == 401:
            return AuthenticationError(
                f"PingBack rejected the API token (401){said}. The token is missing, wrong or "
                f"revoked: {AUTH_HELP}",
                **kw,
            )
        if status == 402:
            plan = body.get("plan", "?")
            feature = body.get("feature", "?")
            if body.get("error") == "limit_exceeded" or "current" in body:
                detail = (
                    f"the {plan} plan is at its limit for {feature} "
                    f"({body.get('current', '?')}/{body.get('limit', '?')})"
                )
                fix = (
                    "delete a channel, or upgrade the plan. If this create is part of a "
                    "replacement, Pulumi creates the new channel before deleting the old one: "
                    "set `delete_before_replace=True` in this resource's ResourceOptions"
                )
            else:
                detail = f"the {plan} plan does not include {feature}"
                fix = "upgrade the PingBack plan (Free allows only `widget` channels)"
            return PlanLimitError(f"PingBack plan limit (402): {detail}{said}. To fix: {fix}", **kw)
        if status == 403:
            return PermissionDeniedError(
                f"PingBack refused {where} (403){said}. Only the business owner may manage "
                "channels: use the owner's API token for pingback:token",
                **kw,
            )
        if status == 404:
            return NotFoundError(f"PingBack has no such channel (404): {where}", **kw)
        if status == 429:
            wait = f"; it asked to wait {retry_after:g} s" if retry_after is not None else ""
            return RateLimitError(
                f"PingBack is rate limiting requests (429){wait}{said}. Retries ran out: "
                "wait, then run the command again (or raise pingback:maxRetries)",
                **kw,
            )
        if status >= 500:
            return InternalServerError(
                f"PingBack failed on {where} ({status}){said}. It was retried; try again later",
                **kw,
            )
        return APIStatusError(f"PingBack answered {where} with {status}{said}", **kw)

    # ---- retry policy (the only place it is decided) ------------------------------------

    def _should_retry(self, exc: BaseException, method: str) -> bool:
        if isinstance(exc, RateLimitError):
            return exc.retry_after is None or exc.retry_after <= self.max_retry_after
        if isinstance(exc, InternalServerError):
            return exc.status_code in (500, 502, 503, 504)
        # Transport failures: GET/PATCH/DELETE are idempotent; a POST that may have
        # reached the server is sent again only after create() reconciled by listing.
        return isinstance(exc, APIConnectionError)

    def _wait(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, float | int) and retry_after >= 0:
            return min(float(retry_after), self.max_retry_after)
        n = retry_state.attempt_number - 1
        base: float = min(self.backoff_initial * (2**n), self.backoff_max)
        return base * (1 - 0.25 * random.random())  # jitter: 75%..100% of the step

    def _retrying(self, method: str) -> tenacity.Retrying:
        def before_sleep(state: tenacity.RetryCallState) -> None:
            self._count("retries")
            exc = state.outcome.exception() if state.outcome else None
            log.info(
                "retrying %s after %s (attempt %d)",
                method,
                type(exc).__name__,
                state.attempt_number,
            )

        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            retry=tenacity.retry_if_exception(lambda e: self._should_retry(e, method)),
            wait=self._wait,
            before_sleep=before_sleep,
            reraise=True,
        )

    def _request(
        self, method: str, path: str, *, json: Any = None, secrets: Iterable[str] = ()
    ) -> Any:
        secrets = list(secrets)
        maybe_applied = False
        try:
            for attempt in self._retrying(method):
                with attempt:
                    try:
                        return self._send(method, path, json=json, secrets=secrets)
                    except PingBackError as exc:
                        maybe_applied = maybe_applied or _outcome_unknown(exc)
                        raise
        except PingBackError as exc:
            exc.maybe_applied = maybe_applied
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- reads ----------------------------------------------------------------------------

    def _list_now(self) -> list[Channel]:
        self._count("lists")
        data = self._request("GET", CHANNELS_PATH)
        if not isinstance(data, list):
            raise APIStatusError(
                "PingBack's channel list was not a JSON array", status_code=200, path=CHANNELS_PATH
            )
        return [_channel(item) for item in data if isinstance(item, dict)]

    def list(self, *, fresh: bool = False) -> list[Channel]:
        """Every channel of the business.

        Concurrent callers share one request; a listing that began after the last
        completed write and less than ``read_window`` seconds ago is reused.
        """
        with self._lock:
            flight = self._flight
            usable = (
                not fresh
                and flight is not None
                and flight.generation == self._write_generation
                and flight.error is None
                and (
                    not flight.done.is_set() or time.monotonic() - flight.started < self.read_window
                )
            )
            if usable:
                assert flight is not None
                self.stats["list_shared"] += 1
                leader = False
            else:
                flight = _Flight(self._write_generation)
                self._flight = flight
                leader = True
        if leader:
            try:
                flight.result = self._list_now()
            except BaseException as exc:
                flight.error = exc
                raise
            finally:
                flight.done.set()
        else:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
        assert flight.result is not None
        return list(flight.result)

    def get(self, channel_id: str) -> Channel | None:
        """One channel by id (by listing: the API has no GET of one channel), or None."""
        for channel in self.list():
            if channel.id == channel_id:
                return channel
        return None

    # ---- writes ---------------------------------------------------------------------------

    def _wrote(self) -> None:
        with self._lock:
            self._write_generation += 1
            self._flight = None

    def create(
        self, channel_type: str, config: Mapping[str, Any], is_active: bool = True
    ) -> Channel:
        """POST a channel. Never creates a duplicate when an attempt's outcome is unknown."""
        body = {"type": channel_type, "config": dict(config), "is_active": is_active}
        secrets = list(_secret_strings(config))
        ambiguous_since: datetime | None = None
        try:
            for attempt in self._retrying("POST"):
                with attempt:
                    if ambiguous_since is not None:
                        found = self._find_created(channel_type, config, ambiguous_since)
                        if found is not None:
                            self._count("reconciled")
                            return found
                    sent_at = datetime.now(timezone.utc)
                    try:
                        data = self._send("POST", CHANNELS_PATH, json=body, secrets=secrets)
                    except PingBackError as exc:
                        if _outcome_unknown(exc):
                            ambiguous_since = ambiguous_since or sent_at
                        raise
                    finally:
                        self._wrote()
                    return _channel(data)
        except PingBackError:
            if ambiguous_since is None:
                raise  # every attempt was answered: nothing was created
            try:
                found = self._find_created(channel_type, config, ambiguous_since)
            except PingBackError:
                raise OutcomeUnknownError(
                    f"creating the {channel_type} channel timed out or failed after it was sent, "
                    "and PingBack could not be listed to check whether it exists. Before running "
                    f"`pulumi up` again, look for a new {channel_type} channel in PingBack: delete "
                    "it, or adopt it with adopt_id='<its id>'",
                    method="POST",
                    path=CHANNELS_PATH,
                ) from None
            if found is not None:
                self._count("reconciled")
                return found
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _find_created(
        self, channel_type: str, config: Mapping[str, Any], since: datetime
    ) -> Channel | None:
        """The channel an ambiguous POST made, if any: same type and config, newest first."""
        earliest = since - timedelta(minutes=10)  # tolerate clock skew with the server
        candidates = []
        for channel in self.list(fresh=True):
            if channel.type != channel_type or channel.user_config != dict(config):
                continue
            created = _parse_time(channel.created_at)
            if created is not None and created < earliest:
                continue
            candidates.append((created or since, channel))
        if not candidates:
            return None
        candidates.sort(key=lambda pair: pair[0])
        return candidates[-1][1]

    def update(
        self, channel_id: str, channel_type: str, config: Mapping[str, Any], is_active: bool
    ) -> Channel:
        """PATCH a channel with its full declared state."""
        body = {"type": channel_type, "config": dict(config), "is_active": is_active}
        try:
            data = self._request(
                "PATCH",
                f"{CHANNELS_PATH.rstrip('/')}/{channel_id}",
                json=body,
                secrets=_secret_strings(config),
            )
        except PingBackError as exc:
            current = self._settle(exc, channel_id)
            if (
                current is not None
                and current.type == channel_type
                and current.user_config == dict(config)
                and current.is_active == is_active
            ):
                return current  # the PATCH landed; only its answer was lost
            raise
        finally:
            self._wrote()
        if isinstance(data, dict) and "id" in data and "type" in data:
            return _channel(data)
        found = self.get(channel_id)  # the docs show no PATCH response: read it back
        if found is None:
            raise NotFoundError(
                f"PingBack has no such channel (404): {channel_id}",
                status_code=404,
                method="PATCH",
            )
        return found

    def delete(self, channel_id: str) -> bool:
        """DELETE a channel. Returns False when it was already gone (404 is not an error)."""
        try:
            self._request("DELETE", f"{CHANNELS_PATH.rstrip('/')}/{channel_id}")
        except NotFoundError:
            return False
        except PingBackError as exc:
            if self._settle(exc, channel_id) is None:
                return True  # the DELETE landed; only its answer was lost
            raise
        finally:
            self._wrote()
        return True

    def _settle(self, exc: PingBackError, channel_id: str) -> Channel | None:
        """After a write's retries ran out with its outcome unknown: the channel as it is now.

        Re-raises ``exc`` when no attempt can have landed, or when it cannot be read back.
        """
        if not exc.maybe_applied:
            raise exc
        try:
            current = next((c for c in self.list(fresh=True) if c.id == channel_id), None)
        except PingBackError:
            raise exc from None
        self._count("reconciled")
        return current


def _channel(data: Any) -> Channel:
    """A channel from a response; a malformed one never echoes its (secret) content."""
    try:
        return Channel.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise APIStatusError(
            f"PingBack answered with a channel this provider cannot read (fields: "
            f"{', '.join(fields) or '?'}); please report it",
            status_code=200,
        ) from None


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
