"""How an injected fault answers: an error status, an odd body, a drip, an oversized
answer, a dropped connection (:class:`._state.FaultRule` says which)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from ._state import FaultRule
from ._state import json_response as _json


def fault_answer(fault: FaultRule) -> web.Response:
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


def odd_body(response: web.Response, kind: str, status: int) -> web.Response:
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


async def drip(request: web.Request, response: web.Response, delay: float) -> web.StreamResponse:
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


async def oversize(request: web.Request, size: int) -> web.StreamResponse:
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


def drop(request: web.Request, entry: dict[str, Any]) -> web.StreamResponse:
    entry["status"] = "dropped"
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError  # aiohttp ends the handler quietly; no answer is written
