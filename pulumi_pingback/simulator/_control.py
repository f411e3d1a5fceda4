"""The control surface under ``/_sim/`` (no auth): what tests and benchmarks use to read
the simulator's state and log, inject faults, plant odd channels, change the plan or the
owner token, and reset it. Listed in :mod:`._app`'s docstring."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from ._state import PLANS, FaultRule, SimState
from ._state import json_response as _json


def add_control_routes(app: web.Application, state: SimState) -> None:
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
        try:
            state.plant(item)
        except ValueError as exc:
            return _json(400, {"detail": str(exc)})
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

    app.router.add_get("/_sim/state", sim_state)
    app.router.add_get("/_sim/requests", sim_requests)
    app.router.add_post("/_sim/faults", sim_add_fault)
    app.router.add_post("/_sim/channels", sim_plant)
    app.router.add_delete("/_sim/faults", sim_clear_faults)
    app.router.add_post("/_sim/config", sim_config)
    app.router.add_post("/_sim/reset", sim_reset)
    app.router.add_post("/_sim/clear-log", sim_clear_log)
