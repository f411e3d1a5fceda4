"""The simulator's state: the business it serves, the faults it injects, its request log.

Shared by the API (:mod:`._app`), the fault answers (:mod:`._faults`) and the control
surface (:mod:`._control`); every change goes through ``SimState.lock``. A channel made
outside the API is stored by ``SimState.plant`` alone, whichever way it comes:
``Simulator.plant``, ``POST /_sim/channels`` or ``--seed FILE``.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

PLANS: dict[str, tuple[str, int]] = {"free": ("Free", 1), "mini": ("Mini", 3), "pro": ("Pro", 100)}


FAULT_KINDS = ("status", "latency", "drop", "hang", "late", "body", "drip", "oversize")
ODD_BODIES = ("json", "html", "text", "empty", "wrapped", "no-id")
PLANTED = "a channel object with a string id"
"""What ``SimState.plant`` takes (its error, and ``POST /_sim/channels``'s 400 detail)."""


@dataclass
class FaultRule:
    """One injected fault.

    kind:
    - ``status``: answer ``status`` (with ``retry_after``, ``location``, and ``body`` =
      ``json``, ``html`` or ``text``: ``detail`` as plain text); nothing is written. A 3xx
      is a redirect to ``location``.
    - ``latency``: sleep ``delay``, then serve (a write commits after the sleep, even if
      the client gave up: a *late commit*).
    - ``drop``: close the connection without an answer; with ``after_commit`` the write
      happens first.
    - ``hang``: "commit then hang": the write happens, the answer comes ``delay`` s later.
    - ``late``: answer ``status`` at once (a proxy giving up), and commit the write
      ``delay`` seconds later.
    - ``body``: commit, then answer ``status`` (default 200) with an odd ``body``:
      ``html``, ``empty`` (use status 204), ``wrapped`` (``{"data": …}``) or ``no-id``.
    - ``drip``: serve, sending the answer's bytes one at a time, one every ``delay`` s.
    - ``oversize``: answer 200 with a JSON array of ``size`` bytes, streamed.
    Matches ``method`` ("*" for any) and paths starting with ``path``; lets the first
    ``after`` matching requests through, then applies ``times`` times (None: forever) with
    ``probability``.
    """

    kind: str
    method: str = "*"
    path: str = "/api/v1/channels"
    status: int = 503
    retry_after: str | None = None
    location: str | None = None
    body: str = "json"
    delay: float = 0.0
    size: int = 0
    after: int = 0
    after_commit: bool = False
    times: int | None = 1
    probability: float = 1.0
    detail: str = "injected fault"

    def __post_init__(self) -> None:
        """Refuse what would later turn every call into a 500 or a hang."""
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        if self.body not in ODD_BODIES:
            raise ValueError(f"body must be one of {', '.join(ODD_BODIES)}")
        if not isinstance(self.status, int) or isinstance(self.status, bool):
            raise ValueError("status must be a whole number, e.g. 503")
        if not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status, 100 to 599")
        for name in ("delay", "probability"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a number, 0 or more")
        if self.probability > 1:
            raise ValueError("probability must be from 0 to 1")
        for name in ("size", "after"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a whole number, 0 or more")
        if self.times is not None and (not isinstance(self.times, int) or self.times < 0):
            raise ValueError("times must be a whole number, or null for always")
        for name in ("method", "path"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string")
        if isinstance(self.retry_after, int | float) and not isinstance(self.retry_after, bool):
            self.retry_after = f"{self.retry_after:g}"  # a header is text: "1", "0.5"
        for name in ("retry_after", "location"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string (a header's value), or a number")


@dataclass
class SimState:
    token: str = "sim-token"
    agent_token: str | None = None
    plan: str = "pro"
    latency: float = 0.0
    limit: int | None = None  # overrides the plan's channel limit (benchmarks)
    public_url: str | None = None  # what meta_callback_url is built from (never Host)
    on_request: Any = None  # called with each finished log entry (the CLI prints a line)
    seed: int = 0
    business_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[FaultRule] = field(default_factory=list)
    connections: set[tuple[Any, ...]] = field(default_factory=set)
    inflight: int = 0
    max_inflight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: random.Random = field(default_factory=random.Random)

    def reset(self) -> None:
        """Forget channels, webhooks, faults, latency and the log."""
        with self.lock:
            self.channels.clear()
            self.webhooks.clear()
            self.faults.clear()
            self.latency = 0.0
            self.rng.seed(self.seed)
        self.clear_log()

    def clear_log(self) -> None:
        """Forget the request log, the connections seen and the in-flight peak."""
        with self.lock:
            self.requests.clear()
            self.connections.clear()
            self.max_inflight = 0

    def plant(self, item: object, *, keyless: bool = False) -> str:
        """Store a raw channel object as it is, odd shapes included (``config: null``, a
        type PingBack has not got); its key. The key is its ``id``: the API then updates
        or deletes it by that id, and planting the id again replaces it.

        Raises ``ValueError`` (:data:`PLANTED`) for anything but a JSON object with a
        string id, unless ``keyless``: then an object whose id is missing or not a string
        is stored too, under a key of its own, as a listing's item no client can address
        (``Simulator.plant``, for tests of such listings).
        """
        if not isinstance(item, dict):
            raise ValueError(PLANTED)
        key = item.get("id")
        if not isinstance(key, str):
            if not keyless:
                raise ValueError(PLANTED)
            key = f"planted-{id(item)}"  # planting the same object again replaces it
        with self.lock:
            self.channels[key] = item
        return key

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "plan": self.plan,
                "business_id": self.business_id,
                "channels": [dict(c) for c in self.channels.values()],
                "webhooks": dict(self.webhooks),
                "connections": len(self.connections),
                "max_inflight": self.max_inflight,
                "faults": [asdict(f) for f in self.faults],
            }

    def pick_fault(self, method: str, path: str) -> FaultRule | None:
        with self.lock:
            for rule in self.faults:
                if rule.method not in ("*", method) or not path.startswith(rule.path):
                    continue
                if rule.times is not None and rule.times <= 0:
                    continue
                if rule.after > 0:
                    rule.after -= 1
                    continue
                if rule.probability < 1.0 and self.rng.random() >= rule.probability:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                return rule
        return None


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/json", headers=headers
    )


STATE = web.AppKey("state", SimState)
