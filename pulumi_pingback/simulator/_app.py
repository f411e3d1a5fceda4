"""A local PingBack: the channels API as documented, plus a control surface for tests.

Its rules (types, required fields, plans) are its own copy of PingBack's documentation,
kept apart from the provider's table (``pulumi_pingback._kinds``) on purpose: a test
where both agree proves the provider against the docs, not against itself.

API (as PingBack's channels documentation gives it, plus what the docs leave out):
    GET    /api/v1/channels/          bare JSON array of every channel
    POST   /api/v1/channels/          create (400 / 401 / 402 / 403 as documented)
    PATCH  /api/v1/channels/{id}      update (404 when missing)
    DELETE /api/v1/channels/{id}      delete -> {"message": "Channel deleted"}
There is deliberately no GET of one channel: the real API documents none.

Control surface under the reserved prefix ``/_sim/`` (no auth):
    GET  /_sim/state       channels, Telegram webhooks, plan, TCP connections accepted
    GET  /_sim/requests    the request log (method, path, status, parsed body, fault, connection)
    POST /_sim/faults      add a fault rule (see FaultRule); DELETE clears them
    POST /_sim/channels    plant a raw channel object as is (odd shapes for tests)
    POST /_sim/config      {"plan": "free|mini|pro", "latency": seconds, "limit": channels,
                           "token": the owner token it accepts from now on (a rotation)}
    POST /_sim/reset       forget channels, webhooks, faults and the log
    POST /_sim/clear-log   forget the log and the connection count only
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

CHANNEL_TYPES = ("webchat", "widget", "email", "whatsapp", "telegram", "instagram", "x", "sms")
REQUIRED = {
    "telegram": ("bot_token",),
    "whatsapp": ("phone_number_id", "access_token", "verify_token"),
    "instagram": ("phone_number_id", "access_token", "verify_token"),
    "x": ("api_key", "api_secret", "access_token", "access_token_secret", "bearer_token"),
    "widget": ("widget_id",),  # "the stored config holds {"widget_id": "<uuid>"}"
}
PLANS: dict[str, tuple[str, int]] = {"free": ("Free", 1), "mini": ("Mini", 3), "pro": ("Pro", 100)}


FAULT_KINDS = ("status", "latency", "drop", "hang", "late", "body", "drip", "oversize")
ODD_BODIES = ("json", "html", "text", "empty", "wrapped", "no-id")


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


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body), content_type="application/json", headers=headers
    )


class _Api:
    def __init__(self, state: SimState) -> None:
        self.s = state

    # -- helpers -------------------------------------------------------------------------

    def _auth(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        if token == self.s.token:
            return None
        if token is not None and self.s.agent_token is not None and token == self.s.agent_token:
            return _json(403, {"detail": "Only the business owner can manage channels"})
        return _json(401, {"detail": "Could not validate credentials"})

    def _public(self, channel: dict[str, Any], origin: str) -> dict[str, Any]:
        out = dict(channel)
        if not isinstance(out.get("config"), dict):
            return out  # a raw item planted by a test (see Simulator.plant)
        config = dict(out["config"])
        if out.get("type") in ("whatsapp", "instagram"):
            config["_meta_setup_instructions"] = {
                "callback_url": f"{origin}/api/v1/webhooks/{out['type']}",
                "verify_token": config.get("verify_token", ""),
            }
        out["config"] = config
        return out

    def _validate(self, ctype: Any, config: Any, is_active: Any) -> web.Response | None:
        if ctype not in CHANNEL_TYPES:
            return _json(
                400, {"detail": f"Invalid channel type. Must be one of: {', '.join(CHANNEL_TYPES)}"}
            )
        if not isinstance(config, dict):
            return _json(400, {"detail": "config must be an object"})
        missing = [k for k in REQUIRED.get(ctype, ()) if not config.get(k)]
        if missing:
            return _json(
                400, {"detail": f"Missing required config fields for {ctype}: {', '.join(missing)}"}
            )
        wrong = [k for k in REQUIRED.get(ctype, ()) if not isinstance(config[k], str)]
        if wrong:
            return _json(400, {"detail": f"Config fields must be strings: {', '.join(wrong)}"})
        if not isinstance(is_active, bool):
            return _json(400, {"detail": "is_active must be a boolean"})
        return None

    def _plan_check(self, ctype: str, creating: bool) -> web.Response | None:
        name, limit = PLANS[self.s.plan]
        limit = self.s.limit if self.s.limit is not None else limit
        if self.s.plan == "free" and ctype != "widget":
            return _json(
                402,
                {
                    "error": "feature_locked",
                    "plan": name,
                    "feature": "integrations",
                    "message": f"The {name} plan only supports widget channels. Upgrade to Mini or Pro.",
                },
            )
        if creating and len(self.s.channels) >= limit:
            return _json(
                402,
                {
                    "error": "limit_exceeded",
                    "plan": name,
                    "feature": "channels",
                    "current": len(self.s.channels),
                    "limit": limit,
                    "message": f"Your {name} plan allows {limit} channels. Upgrade to add more.",
                },
            )
        return None

    def _register_webhook(self, channel: dict[str, Any]) -> None:
        if channel["type"] == "telegram":
            bot = str(channel["config"].get("bot_token", "")).split(":", 1)[0]
            self.s.webhooks[bot] = channel["id"]  # Telegram: the last registration wins

    # -- handlers (state changes under the lock; called by _dispatch) -----------------------

    def list(self, request: web.Request, body: Any) -> web.Response:
        with self.s.lock:
            items = [self._public(c, _origin(request)) for c in self.s.channels.values()]
        return _json(200, items)

    def create(self, request: web.Request, body: Any) -> web.Response:
        if not isinstance(body, dict):
            return _json(400, {"detail": "Request body must be a JSON object"})
        ctype, config = body.get("type"), body.get("config")
        bad = self._validate(ctype, config, body.get("is_active", True))
        if bad:
            return bad
        assert isinstance(config, dict)
        with self.s.lock:
            bad = self._plan_check(str(ctype), creating=True)
            if bad:
                return bad
            channel_id = str(uuid.uuid4())
            channel: dict[str, Any] = {
                "id": channel_id,
                "business_id": self.s.business_id,
                "type": ctype,
                "config": {k: v for k, v in config.items() if not str(k).startswith("_")},
                "is_active": body.get("is_active", True),
                "created_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            }
            self.s.channels[channel_id] = channel
            self._register_webhook(channel)
            out = self._public(channel, _origin(request))
        return _json(201, out)

    def update(self, request: web.Request, body: Any) -> web.Response:
        channel_id = request.match_info["channel_id"]
        if not isinstance(body, dict):
            return _json(400, {"detail": "Request body must be a JSON object"})
        with self.s.lock:
            current = self.s.channels.get(channel_id)
            if current is None:
                return _json(404, {"detail": "Channel not found"})
            ctype = body.get("type", current["type"])
            config = body.get("config", current["config"])
            is_active = body.get("is_active", current["is_active"])
            bad = self._validate(ctype, config, is_active) or self._plan_check(
                str(ctype), creating=False
            )
            if bad:
                return bad
            assert isinstance(config, dict)
            current.update(
                type=ctype,
                config={k: v for k, v in config.items() if not str(k).startswith("_")},
                is_active=is_active,
            )
            self._register_webhook(current)
            out = self._public(current, _origin(request))
        return _json(200, out)

    def delete(self, request: web.Request, body: Any) -> web.Response:
        channel_id = request.match_info["channel_id"]
        with self.s.lock:
            channel = self.s.channels.pop(channel_id, None)
            if channel is None:
                return _json(404, {"detail": "Channel not found"})
            for bot, owner in list(self.s.webhooks.items()):
                if owner == channel_id:
                    del self.s.webhooks[bot]
        return _json(200, {"message": "Channel deleted"})

    # -- the one entry point: auth, faults, latency, log -----------------------------------

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        with self.s.lock:
            self.s.inflight += 1
            self.s.max_inflight = max(self.s.max_inflight, self.s.inflight)
        started = time.monotonic()
        entry: dict[str, Any] = {"method": request.method, "path": request.path, "status": None}
        try:
            return await self._dispatch(request, entry)
        finally:
            with self.s.lock:
                self.s.inflight -= 1
            if self.s.on_request is not None:
                self.s.on_request(entry, time.monotonic() - started)

    async def _dispatch(self, request: web.Request, entry: dict[str, Any]) -> web.StreamResponse:
        handler = {
            ("GET", False): self.list,
            ("POST", False): self.create,
            ("PATCH", True): self.update,
            ("DELETE", True): self.delete,
        }.get((request.method, "channel_id" in request.match_info))
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        entry.update(
            body=body,
            fault=None,
            conn=_conn_key(request),
            user_agent=request.headers.get("User-Agent"),
        )
        with self.s.lock:
            entry["seq"] = len(self.s.requests)
            self.s.requests.append(entry)
            if request.transport is not None:  # TCP connections the API accepted
                self.s.connections.add(request.transport.get_extra_info("peername"))
            latency = self.s.latency
        if latency:
            await asyncio.sleep(latency)
        if handler is None:
            entry["status"] = 405
            return _json(405, {"detail": "Method Not Allowed"})
        denied = self._auth(request)
        if denied is not None:
            entry["status"] = denied.status
            return denied
        fault = self.s.pick_fault(request.method, request.path)
        if fault is None:
            response = handler(request, body)
            entry["status"] = response.status
            return response
        entry["fault"] = fault.kind
        if fault.kind == "status":
            entry["status"] = fault.status
            return _fault_answer(fault)
        if fault.kind == "late":
            entry["status"] = fault.status
            asyncio.get_running_loop().call_later(fault.delay, handler, request, body)
            return _fault_answer(fault)
        if fault.kind == "oversize":
            entry["status"] = 200
            return await _oversize(request, fault.size)
        if fault.kind == "latency":
            await asyncio.sleep(fault.delay)
        elif fault.kind == "drop" and not fault.after_commit:
            return _drop(request, entry)
        response = handler(request, body)
        entry["status"] = response.status
        if fault.kind == "drop":
            return _drop(request, entry)
        if fault.kind == "hang":
            await asyncio.sleep(fault.delay)
        elif fault.kind == "body":
            entry["status"] = fault.status if fault.status != 503 else 200
            return _odd_body(response, fault.body, entry["status"])
        elif fault.kind == "drip":
            return await _drip(request, response, fault.delay)
        return response


def _fault_answer(fault: FaultRule) -> web.Response:
    headers: dict[str, str] = {}
    if fault.retry_after:
        headers["Retry-After"] = fault.retry_after
    if fault.location:
        headers["Location"] = fault.location
    if fault.body == "text":
        return web.Response(status=fault.status, text=fault.detail, headers=headers)
    if fault.body == "html":
        page = f"<html><body><h1>{fault.status}</h1><p>{fault.detail}</p></body></html>"
        return web.Response(
            status=fault.status, text=page, content_type="text/html", headers=headers
        )
    return _json(fault.status, {"detail": fault.detail}, headers)


def _odd_body(response: web.Response, kind: str, status: int) -> web.Response:
    """The committed answer, in a shape a client cannot take at face value."""
    data = json.loads(response.text or "null")
    if kind == "html":
        return web.Response(
            status=status, text="<html><body>OK</body></html>", content_type="text/html"
        )
    if kind == "empty":
        return web.Response(status=status)
    if kind == "wrapped":
        return _json(status, {"data": data})
    if kind == "no-id" and isinstance(data, dict):
        return _json(status, {k: v for k, v in data.items() if k != "id"})
    return _json(status, data)


async def _drip(request: web.Request, response: web.Response, delay: float) -> web.StreamResponse:
    """The answer, one byte every ``delay`` seconds."""
    body = response.body if isinstance(response.body, bytes) else b""
    stream = web.StreamResponse(
        status=response.status, headers={"Content-Type": "application/json"}
    )
    stream.content_length = len(body)
    try:
        await stream.prepare(request)
        for i in range(len(body)):
            await stream.write(body[i : i + 1])
            await asyncio.sleep(delay)
        await stream.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client gave up
    return stream


async def _oversize(request: web.Request, size: int) -> web.StreamResponse:
    """A JSON array of ``size`` bytes, streamed in 64 KiB chunks (never held in memory)."""
    stream = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    chunk = b" " * 65536
    try:
        await stream.prepare(request)
        await stream.write(b"[")
        sent = 1
        while sent < size - 1:
            piece = chunk[: min(len(chunk), size - 1 - sent)]
            await stream.write(piece)
            sent += len(piece)
        await stream.write(b"]")
        await stream.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client stopped reading
    return stream


STATE = web.AppKey("state", SimState)


def _drop(request: web.Request, entry: dict[str, Any]) -> web.StreamResponse:
    entry["status"] = "dropped"
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError  # aiohttp ends the handler quietly; no answer is written


def _origin(request: web.Request) -> str:
    """The simulator's own address — never the request's Host header (a client could make
    it say anything)."""
    state = request.app[STATE]
    if state.public_url:
        return state.public_url.rstrip("/")
    transport = request.transport
    host, port = transport.get_extra_info("sockname")[:2] if transport else ("127.0.0.1", 0)
    return f"http://{host}:{port}"


def _conn_key(request: web.Request) -> Any:
    transport = request.transport
    return transport.get_extra_info("peername")[1] if transport is not None else None


def create_app(state: SimState) -> web.Application:
    api = _Api(state)

    @web.middleware
    async def nodelay(request: web.Request, handler: Any) -> web.StreamResponse:
        # asyncio already sets TCP_NODELAY on accepted sockets; make sure of it, since a
        # Nagle stall costs ~40 ms per keep-alive request.
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        response: web.StreamResponse = await handler(request)
        return response

    async def sim_state(request: web.Request) -> web.Response:
        return _json(200, state.snapshot())

    async def sim_requests(request: web.Request) -> web.Response:
        with state.lock:
            return _json(200, [dict(r) for r in state.requests])

    async def sim_add_fault(request: web.Request) -> web.Response:
        data = await request.json()
        try:
            rule = FaultRule(**data)
        except (TypeError, ValueError) as exc:
            return _json(400, {"detail": str(exc)})
        with state.lock:
            state.faults.append(rule)
        return _json(201, asdict(rule))

    async def sim_plant(request: web.Request) -> web.Response:
        item = await request.json()
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return _json(400, {"detail": "a channel object with a string id"})
        with state.lock:
            state.channels[item["id"]] = item
        return _json(201, item)

    async def sim_clear_faults(request: web.Request) -> web.Response:
        with state.lock:
            state.faults.clear()
        return _json(200, {"faults": 0})

    async def sim_config(request: web.Request) -> web.Response:
        data = await request.json()
        if not isinstance(data, dict):
            return _json(400, {"detail": "a JSON object: plan, latency, limit"})
        if "plan" in data and data["plan"] not in PLANS:
            return _json(400, {"detail": "plan must be free, mini or pro"})
        latency = data.get("latency", 0)
        if not isinstance(latency, int | float) or isinstance(latency, bool) or latency < 0:
            return _json(400, {"detail": "latency must be a number of seconds, 0 or more"})
        limit = data.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            return _json(400, {"detail": "limit must be a whole number, or null"})
        token = data.get("token")
        if token is not None and (not isinstance(token, str) or not token):
            return _json(400, {"detail": "token must be a non-empty string"})
        with state.lock:
            if "plan" in data:
                state.plan = data["plan"]
            if "latency" in data:
                state.latency = float(latency)
            if "limit" in data:
                state.limit = limit
            if token is not None:
                state.token = token
        return _json(200, {"plan": state.plan, "latency": state.latency})

    async def sim_reset(request: web.Request) -> web.Response:
        state.reset()
        return _json(200, {"reset": True})

    async def sim_clear_log(request: web.Request) -> web.Response:
        state.clear_log()
        return _json(200, {"requests": 0})

    app = web.Application(middlewares=[nodelay], client_max_size=1024 * 1024)
    app[STATE] = state
    app.router.add_get("/_sim/state", sim_state)
    app.router.add_get("/_sim/requests", sim_requests)
    app.router.add_post("/_sim/faults", sim_add_fault)
    app.router.add_post("/_sim/channels", sim_plant)
    app.router.add_delete("/_sim/faults", sim_clear_faults)
    app.router.add_post("/_sim/config", sim_config)
    app.router.add_post("/_sim/reset", sim_reset)
    app.router.add_post("/_sim/clear-log", sim_clear_log)
    for path in ("/api/v1/channels/", "/api/v1/channels"):
        app.router.add_route("*", path, api.dispatch)
    app.router.add_route("*", "/api/v1/channels/{channel_id}", api.dispatch)
    return app
