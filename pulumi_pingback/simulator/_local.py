"""``Simulator``: the simulator on its own event loop in a thread, for tests."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import asdict
from typing import Any

from aiohttp import web

from ._app import FaultRule, SimState, create_app

__all__ = ["Simulator"]


class Simulator:
    """The simulator on its own event loop in a daemon thread, on real sockets."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = "sim-token",
        agent_token: str | None = None,
        plan: str = "pro",
        seed: int = 0,
    ) -> None:
        self.state = SimState(token=token, agent_token=agent_token, plan=plan, seed=seed)
        self.state.rng.seed(seed)
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Simulator:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                runner = web.AppRunner(create_app(self.state), access_log=None)
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
                loop.run_until_complete(site.start())
                self.port = int(runner.addresses[0][1])
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="pingback-simulator", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- direct access for tests (the same data the /_sim/ endpoints serve) --------------

    def channels(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(c, config=dict(c["config"])) for c in self.state.channels.values()]

    def requests(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(r) for r in self.state.requests]

    def webhooks(self) -> dict[str, str]:
        with self.state.lock:
            return dict(self.state.webhooks)

    def connections(self) -> int:
        with self.state.lock:
            return len(self.state.connections)

    def inject(self, kind: str, **kwargs: Any) -> FaultRule:
        rule = FaultRule(kind=kind, **kwargs)
        with self.state.lock:
            self.state.faults.append(rule)
        return rule

    def plant(self, item: dict[str, Any]) -> str:
        """Store a raw channel object as is (``config: null`` and other odd shapes), as
        ``POST /_sim/channels`` does, and also one without a string id (a listing's item
        no client can address); its key. See ``SimState.plant``."""
        return self.state.plant(item, keyless=True)

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def max_inflight(self) -> int:
        with self.state.lock:
            return self.state.max_inflight

    def clear_log(self) -> None:
        self.state.clear_log()

    def set_plan(self, plan: str) -> None:
        with self.state.lock:
            self.state.plan = plan

    def set_latency(self, seconds: float) -> None:
        with self.state.lock:
            self.state.latency = seconds

    def reset(self) -> None:
        self.state.reset()

    def fault_rules(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [asdict(f) for f in self.state.faults]
