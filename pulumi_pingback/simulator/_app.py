"""A local PingBack: the channels API as documented (here), plus a control surface for tests
(:mod:`._control`); the state in :mod:`._state`, fault answers in :mod:`._faults`.

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
    POST /_sim/channels    plant a raw channel object as is, odd shapes included; it needs
                           a string id (SimState.plant, as --seed and Simulator.plant)
    POST /_sim/config      {"plan": "free|mini|pro", "latency": seconds, "limit": channels,
                           "token": the owner token it accepts from now on (a rotation)}
    POST /_sim/reset       forget channels, webhooks, faults and the log
    POST /_sim/clear-log   forget the log and the connection count only
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from ._control import add_control_routes
from ._faults import drip, drop, fault_answer, odd_body, oversize
from ._state import PLANS, STATE, FaultRule, SimState
from ._state import json_response as _json

__all__ = ["PLANS", "FaultRule", "SimState", "create_app"]

CHANNEL_TYPES = ("webchat", "widget", "email", "whatsapp", "telegram", "instagram", "x", "sms")
REQUIRED = {
    "telegram": ("bot_token",),
    "whatsapp": ("phone_number_id", "access_token", "verify_token"),
    "instagram": ("phone_number_id", "access_token", "verify_token"),
    "x": ("api_key", "api_secret", "access_token", "access_token_secret", "bearer_token"),
    "widget": ("widget_id",),  # "the stored config holds {"widget_id": "<uuid>"}"
}


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
            return fault_answer(fault)
        if fault.kind == "late":
            entry["status"] = fault.status
            asyncio.get_running_loop().call_later(fault.delay, handler, request, body)
            return fault_answer(fault)
        if fault.kind == "oversize":
            entry["status"] = 200
            return await oversize(request, fault.size)
        if fault.kind == "latency":
            await asyncio.sleep(fault.delay)
        elif fault.kind == "drop" and not fault.after_commit:
            return drop(request, entry)
        response = handler(request, body)
        entry["status"] = response.status
        if fault.kind == "drop":
            return drop(request, entry)
        if fault.kind == "hang":
            await asyncio.sleep(fault.delay)
        elif fault.kind == "body":
            entry["status"] = fault.status if fault.status != 503 else 200
            return odd_body(response, fault.body, entry["status"])
        elif fault.kind == "drip":
            return await drip(request, response, fault.delay)
        return response


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

    app = web.Application(middlewares=[nodelay], client_max_size=1024 * 1024)
    app[STATE] = state
    add_control_routes(app, state)
    for path in ("/api/v1/channels/", "/api/v1/channels"):
        app.router.add_route("*", path, api.dispatch)
    app.router.add_route("*", "/api/v1/channels/{channel_id}", api.dispatch)
    return app
