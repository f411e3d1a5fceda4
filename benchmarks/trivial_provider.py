"""Two dynamic providers that do the least a create can, the baselines of benchmarks/run.py (9.).

Served by the same `python -m pulumi.dynamic` server as PingBackChannelProvider (its 4
worker threads, the same gRPC and (de)serialization per call), so that what they take
apart is what this provider adds to each create:

- :class:`SleepingProvider`: a create waits one round trip and does nothing else (no
  HTTP, no journal, no CPU of its own): the server's floor.
- :class:`PostingProvider`: a create is one POST of the channel through one shared httpx
  client (no journal, no check, no retry): the floor plus what the API and one HTTP
  exchange cost.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from typing import Any

import httpx
from pulumi.dynamic import CreateResult, ResourceProvider

_ids = itertools.count()
_client: httpx.Client | None = None
_lock = threading.Lock()


class SleepingProvider(ResourceProvider):
    """Create: sleep ``PINGBACK_BENCH_RTT`` seconds (default 0.04), return an id."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        time.sleep(float(os.environ.get("PINGBACK_BENCH_RTT", "0.04")))
        return CreateResult(f"trivial-{next(_ids)}", {"type": props.get("type")})


class PostingProvider(ResourceProvider):
    """Create: POST the channel to ``PINGBACK_BENCH_URL`` with ``PINGBACK_BENCH_TOKEN``."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        global _client
        with _lock:
            if _client is None:
                token = os.environ["PINGBACK_BENCH_TOKEN"]
                _client = httpx.Client(
                    base_url=os.environ["PINGBACK_BENCH_URL"],
                    headers={"Authorization": f"Bearer {token}"},
                )
        body = {k: props[k] for k in ("type", "config", "is_active")}
        answer = _client.post("/api/v1/channels/", json=body)
        answer.raise_for_status()
        return CreateResult(answer.json()["id"], {"type": props.get("type")})
