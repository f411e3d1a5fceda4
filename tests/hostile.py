"""A PingBack stand-in on 127.0.0.1 that answers hostile values: what a compromised or
proxied API, a wrong ``apiUrl`` or a dashboard user who may add config keys can send.

Unlike the simulator, it keeps no rules: each route answers what the test set —
``listing`` for ``GET /api/v1/channels/``, ``created`` for a POST (also listed from then
on, as PingBack would), ``failure`` (status, body) for every request when set — and it
records every request as it arrived on the socket (method, raw path, Authorization
header), so a test sees exactly where the client sent what.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LIST_PATH = "/api/v1/channels/"
BUSINESS = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    authorization: str | None


class Hostile:
    def __init__(self) -> None:
        self.listing: list[Any] = []
        self.created: dict[str, Any] | None = None
        self.failure: tuple[int, Any] | None = None
        self.on_post: Callable[[dict[str, Any]], tuple[int, Any]] | None = None
        """When set: what answers a POST (given its body), instead of ``created``."""
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self.url = ""

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def paths(self) -> list[str]:
        return [r.path for r in self.received()]

    def _record(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._received.append(
                Received(handler.command, handler.path, handler.headers.get("Authorization"))
            )

    def answer(self, handler: BaseHTTPRequestHandler) -> tuple[int, Any]:
        self._record(handler)
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length)) if length else None
        if self.failure is not None:
            return self.failure
        method, path = handler.command, handler.path
        if path == LIST_PATH and method == "POST" and self.on_post is not None:
            return self.on_post(body or {})
        if path == LIST_PATH and method == "GET":
            return 200, self.listing
        if path == LIST_PATH and method == "POST" and self.created is not None:
            self.listing.append(self.created)
            return 201, self.created
        if path.startswith(LIST_PATH) and method in ("PATCH", "DELETE"):
            if method == "DELETE":
                gone = path.removeprefix(LIST_PATH)
                self.listing = [c for c in self.listing if c.get("id") != gone]
            return 200, {"message": "ok"}
        return 404, {"detail": "Not Found"}


def _handler(server: Hostile) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            status, body = server.answer(self)
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def hostile_server() -> Iterator[Hostile]:
    server = Hostile()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


def uid(n: int) -> str:
    """The ``n``-th channel id of a test: a UUID, as PingBack's ids are."""
    return f"00000000-0000-4000-8000-{n:012d}"


def item(channel_id: str, type_: str, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A listed channel as PingBack documents it, with ``extra`` fields over it."""
    return {
        "id": channel_id,
        "business_id": BUSINESS,
        "type": type_,
        "config": config,
        "is_active": True,
        "created_at": "2026-12-01T10:00:00Z",
        **extra,
    }
