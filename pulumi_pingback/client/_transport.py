"""One HTTP exchange with PingBack: the shared pool, bounds, and the facts of the answer.

- One connection pool per process, shared by every client and thread; the token travels
  per request, never in the pool, and no cookie is kept (nothing an answer sets reaches
  another request). Redirects are never followed (a 3xx is an error, and the token is
  never sent anywhere but ``base_url``).
- A request goes straight to the pool's transport for ``base_url`` (the proxy the
  environment names, or none), chosen once: what httpx's client adds on top of it for
  every request (merging defaults, cookies, auth, redirects) is work this provider pays
  on every create and never uses.
- Bounds: each request has a wall-clock **deadline** (``deadline`` seconds, enforced on
  every socket read and write, so a server that drips one byte at a time cannot hold a
  call past it) and a **size cap** on the answer (reading stops at the cap).
- No retries here and no advice: :meth:`Transport.send` returns the answer or raises
  the exception that states what happened (:mod:`pulumi_pingback._exceptions`).
- The first list may be sent early (:func:`send_early`): the native plugin sends it as
  soon as CheckConfig gives the settings, while the rest of the client stack loads, and
  the first list of a transport of the same token and URL takes its answer.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from .._defaults import CHANNELS_PATH, DEADLINE_FACTOR, MAX_ANSWER_BYTES
from .._exceptions import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    InvalidResponseError,
    ResponseTooLargeError,
    TimeLimitError,
)
from .._untrusted import inert
from .._version import __version__
from . import _limit
from ._redact import Redactor, redactor
from ._status import make_status_error, parse_retry_after

if TYPE_CHECKING:
    from .._settings import Settings

__all__ = ["Answer", "Transport", "parallel_writes", "send_early"]

log = logging.getLogger("pulumi_pingback")

_local = threading.local()


def _remaining(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` clamped to what is left of the current request's deadline."""
    deadline: float | None = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("deadline exceeded")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, _remaining(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _remaining(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _when_written(sent: Callable[[], None], event: str, info: Any) -> None:
    """httpcore's trace of one request: ``sent`` once it is written."""
    if event == "http11.receive_response_headers.started":
        sent()


def parallel_writes() -> int:
    """How many calls this process may have in flight: at least the Pulumi engine's
    default ``--parallel`` (4 x CPUs, or ``PULUMI_PARALLEL``, which the CLI's plugins
    inherit), and 64 whatever the machine; capped at 512. The native plugin's threads
    and this pool's connections are both this size."""
    setting = os.environ.get("PULUMI_PARALLEL", "")
    asked = int(setting) if setting.isdigit() else 0
    return min(512, max(64, 4 * (os.cpu_count() or 1), asked))


_POOL_LOCK = threading.Lock()
_POOL: httpx.Client | None = None


def _shared_http() -> httpx.Client:
    """The process-wide connection pool (thread-safe; created once, lazily).

    It honours the environment as every Pulumi provider does: ``HTTPS_PROXY``,
    ``HTTP_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` choose a proxy per host, and
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` a private CA. Redirects are still never followed,
    so the token goes nowhere but ``base_url`` (through the proxy, when one is set)."""
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                # As many connections as the native plugin has threads (the dynamic
                # server uses 4): a write never waits for a connection.
                size = parallel_writes()
                client = httpx.Client(
                    limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                    trust_env=True,
                    follow_redirects=False,
                )
                transports = [client._transport, *client._mounts.values()]
                for transport in transports:
                    if transport is None:  # NO_PROXY: the default transport serves it
                        continue
                    pool = getattr(transport, "_pool", None)
                    assert hasattr(pool, "_network_backend"), "httpcore changed: see _transport.py"
                    pool._network_backend = _DeadlineBackend()  # type: ignore[union-attr]
                _POOL = client
    return _POOL


def _why_not_connected(exc: BaseException) -> str:
    """The exception's class, and what TLS said when it refused the server's certificate
    (the cause a user can act on: a private CA goes in SSL_CERT_FILE)."""
    import ssl

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or "verification failed"
            return (
                f"{type(exc).__name__}: its TLS certificate is not trusted: {reason}; a "
                "company's own CA goes in SSL_CERT_FILE (a PEM bundle) or SSL_CERT_DIR"
            )
        cause = cause.__cause__ or cause.__context__
    return type(exc).__name__


@dataclass(frozen=True)
class Answer:
    """A 2xx answer, read whole (within the cap)."""

    status: int
    method: str
    path: str
    content_type: str
    body: bytes
    sent: float = field(default=0.0, compare=False)
    """When the request was sent (monotonic): what the answer says is of that time or later."""

    def json(self) -> Any:
        """The parsed JSON body; an InvalidResponseError that says what came instead."""
        if self.body.strip():
            try:
                return json.loads(self.body)
            except ValueError:
                pass
        raise self.invalid(f"{self.describe()}, not JSON")

    def describe(self) -> str:
        """What came back, in a few words; never its content."""
        size = len(self.body)
        if not self.body.strip():
            return f"an empty body ({self.status})"
        head = self.body.lstrip()[:1]
        if "html" in self.content_type or head == b"<":
            return f"an HTML page ({size} bytes)"
        try:
            data = json.loads(self.body)
        except ValueError:
            kind = self.content_type.split(";")[0] or "no content type"
            return f"{size} bytes of {kind}"
        if isinstance(data, dict):
            keys = ", ".join(inert(str(k))[:40] for k in sorted(data)[:6]) or "none"
            return f"a JSON object (keys: {keys})"
        if isinstance(data, list):
            return f"a JSON array of {len(data)}"
        return f"a JSON {type(data).__name__}"

    def invalid(self, what: str) -> InvalidResponseError:
        return InvalidResponseError(
            f"PingBack answered {self.method} {self.path} with {self.status} and {what}",
            status_code=self.status,
            method=self.method,
            path=self.path,
        )


class Transport:
    """Sends one request to ``base_url``; knows the token, the bounds and nothing else."""

    def __init__(
        self,
        token: str | None,
        *,
        base_url: str,
        timeout: float,
        connect_timeout: float,
        deadline: float | None = None,
        max_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self._token = token or None
        self.base_url = base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self.deadline = deadline if deadline is not None else DEADLINE_FACTOR * timeout
        self.max_bytes = max_bytes
        self.requests = 0
        self._known: set[str] = set()
        self._known_lock = threading.Lock()
        self._timeouts = self.timeout.as_dict()
        self._route: tuple[httpx.BaseTransport, httpx.Headers, httpx.Headers] | None = None
        self._urls: dict[str, httpx.URL] = {}

    def __reduce__(self) -> Any:
        raise TypeError("a PingBack transport holds a token and is never pickled")

    def remember(self, secrets: Iterable[str]) -> None:
        """Secrets to redact from every later answer (e.g. stored configs the caller saw)."""
        with self._known_lock:
            self._known.update(secrets)

    def redactor(self, secrets: Iterable[str] = (), *, fragments: bool = True) -> Redactor:
        """Redacts the token, every remembered secret and ``secrets`` (see ``_redact``)."""
        with self._known_lock:
            known = list(self._known)
        return redactor([self._token, *known, *secrets], fragments=fragments)

    def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        secrets: Iterable[str] = (),
    ) -> Answer:
        """One request. Returns a 2xx answer; raises the mapped error for anything else.

        ``secrets`` (with the token) are redacted from whatever the answer quotes. A GET
        sent early (:func:`send_early`) is not sent again: its answer is taken.
        """
        if self._token is None:
            raise ConfigurationError("no PingBack API token was given")
        if _EARLY and method == "GET" and json_body is None:
            early = _claim_early(self._token, self.base_url, path)
            if early is not None:
                self.requests += 1
                return early.result()  # its answer, or what it raised (raised nowhere else)
        return self._send(method, path, json_body, secrets)

    def _send(
        self,
        method: str,
        path: str,
        json_body: Any,
        secrets: Iterable[str],
        sent: Callable[[], None] | None = None,
    ) -> Answer:
        """The exchange itself; ``sent`` is called when the request is written."""
        transport, headers, json_headers = self._route or self._routed()
        url = self._urls.get(path) or self._url(path)
        content: bytes | None = None
        if json_body is not None:  # as httpx encodes ``json=``
            content = json.dumps(
                json_body, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode()
            headers = json_headers
        extensions: dict[str, Any] = {"timeout": self._timeouts}
        if sent is not None:
            extensions["trace"] = functools.partial(_when_written, sent)
        request = httpx.Request(
            method, url, headers=headers, content=content, extensions=extensions
        )
        started = time.monotonic()
        deadline = started + self.deadline
        limit = _limit.current()
        if limit is not None:
            if limit.end <= started:
                raise TimeLimitError(
                    f"the operation's time limit ({limit.describe()}) ran out before "
                    f"{method} {path} was sent",
                    method=method,
                    path=path,
                    sent=False,
                )
            deadline = min(deadline, limit.end)
        self.requests += 1
        _local.deadline = deadline
        try:
            response = transport.handle_request(request)
            try:
                body = self._read_capped(response, method, path)
            finally:
                response.close()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
            raise cls(
                f"could not connect to PingBack at {self.base_url} for {method} {path} "
                f"({_why_not_connected(exc)})",
                method=method,
                path=path,
                sent=False,
            ) from None
        except httpx.TimeoutException as exc:
            elapsed = time.monotonic() - started
            if limit is not None and limit.end <= started + elapsed + 0.05:
                raise TimeLimitError(
                    f"PingBack did not answer {method} {path} within the operation's time "
                    f"limit ({limit.describe()})",
                    method=method,
                    path=path,
                ) from None
            if elapsed >= self.deadline - 0.05:
                what = f"did not finish answering {method} {path} within the {self.deadline:g} s deadline"
            else:
                what = f"did not answer {method} {path} within {self.timeout.read:g} s"
            raise APITimeoutError(
                f"PingBack {what} ({type(exc).__name__})", method=method, path=path
            ) from None
        except httpx.TransportError as exc:
            raise APIConnectionError(
                f"the connection to PingBack broke during {method} {path} ({type(exc).__name__})",
                method=method,
                path=path,
            ) from None
        finally:
            _local.deadline = None
        status = response.status_code
        log.debug(
            "%s %s -> %s (%.0f ms)", method, path, status, (time.monotonic() - started) * 1000
        )
        content_type = response.headers.get("content-type", "")
        if 200 <= status < 300:
            return Answer(status, method, path, content_type, body, started)
        parsed: Any
        try:
            parsed = json.loads(body) if body.strip() else None
        except ValueError:  # a text body is quoted (redacted, then cut); a page is not
            parsed = None if "html" in content_type else body.decode(errors="replace")
        raise make_status_error(
            status,
            method=method,
            path=path,
            body=parsed,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            location=response.headers.get("Location"),
            redact=self.redactor(secrets),
        )

    def _routed(self) -> tuple[httpx.BaseTransport, httpx.Headers, httpx.Headers]:
        """The pool's transport for ``base_url`` and the headers of every request to it
        (httpx's defaults, as its client sends them, then ours with the token), without
        a body and with a JSON one."""
        client = _shared_http()
        headers = httpx.Headers(client.headers)
        headers.update(
            {
                "Authorization": f"Bearer {self._token}",
                "Accept": "application/json",
                "User-Agent": f"pulumi-pingback/{__version__}",
            }
        )
        json_headers = headers.copy()
        json_headers["Content-Type"] = "application/json"
        self._route = (client._transport_for_url(httpx.URL(self.base_url)), headers, json_headers)
        return self._route

    def _url(self, path: str) -> httpx.URL:
        """The URL of ``path`` (parsed once for the channels' collection, which every
        create and list asks for)."""
        url = httpx.URL(self.base_url + path)
        if path == CHANNELS_PATH:
            self._urls[path] = url
        return url

    def _read_capped(self, response: httpx.Response, method: str, path: str) -> bytes:
        declared = response.headers.get("content-length", "")
        too_large = ResponseTooLargeError(
            f"PingBack's answer to {method} {path} is larger than {self.max_bytes // 2**20} MiB; "
            "reading stopped there",
            status_code=response.status_code,
            method=method,
            path=path,
        )
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)


# ---- the first list, sent early ----------------------------------------------------------------

EARLY_WINDOW = 30.0
"""Seconds an early answer waits to be taken; after that it is dropped (a list that old
is not what a provider configured now should start from)."""

_EARLY_LOCK = threading.Lock()
_EARLY: dict[tuple[str, str, str], tuple[float, Future[Answer]]] = {}
_TAKEN: Future[Answer] = Future()
"""What an early answer's slot holds once taken: one early send per key and process."""


def send_early(
    settings: Settings, path: str = CHANNELS_PATH, *, sending: Callable[[], None] = lambda: None
) -> None:
    """GET ``path`` with ``settings`` now, in this thread, for the first :meth:`Transport.send`
    of the same GET, by a transport of the same token and base URL, to take its answer
    (or its error) within :data:`EARLY_WINDOW` seconds, instead of sending its own; once
    per token, URL and path and process.

    The native plugin calls it on a thread of its own when CheckConfig gives the
    settings: the provider's first list (configure's check of the settings, and the
    "what existed before" of the creates) is then in flight while the plugin loads the
    rest of its client, where it was sent after (issue 26). The answer keeps the time it
    was sent (:attr:`Answer.sent`): a list taken early is of that time, not of the time
    it was taken. ``sending``: called once the request is written (what remains is the
    round trip: another thread can take the GIL without delaying the request)."""
    if not settings.token:
        return
    key = (settings.token, settings.api_url.rstrip("/"), path)
    future: Future[Answer] = Future()
    with _EARLY_LOCK:
        if key in _EARLY:
            return
        _EARLY[key] = (time.monotonic(), future)
    transport = Transport(
        settings.token,
        base_url=settings.api_url,
        timeout=settings.timeout,
        connect_timeout=settings.connect_timeout,
    )
    try:
        future.set_result(transport._send("GET", path, None, (), sent=sending))
    except BaseException as exc:  # taken by the send that claims it, raised there only
        future.set_exception(exc)


def _claim_early(token: str, base_url: str, path: str) -> Future[Answer] | None:
    """The early send of this GET, if there is one not yet taken and young enough; it is
    taken (whatever its age: one early send per key and process)."""
    key = (token, base_url, path)
    with _EARLY_LOCK:
        entry = _EARLY.get(key)
        if entry is None or entry[1] is _TAKEN:
            return None
        _EARLY[key] = (entry[0], _TAKEN)
    begun, future = entry
    return future if time.monotonic() - begun <= EARLY_WINDOW else None
