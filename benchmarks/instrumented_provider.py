"""`python -m pulumi.dynamic`, with per-thread CPU accounting (for benchmarks/run.py only).

Wraps every provider method, the one HTTP exchange (`Transport.send`: httpx, the socket
I/O, our deadline and size cap) and the create journal's methods (its files, and asking
whether the caller still waits) in `time.thread_time()` counters, then runs the
dynamic-provider server exactly as the CLI does. On SIGUSR1 it writes the counters to
$PINGBACK_CPU_REPORT:

    provider_s  CPU inside the provider's methods (our code and the HTTP exchanges)
    http_s      CPU inside the HTTP exchanges
    journal_s   CPU inside the create journal (part of our code)
    process_s   CPU of the whole process (user + system)
    calls       provider method calls

so that: our code = provider_s - http_s; SDK server + gRPC = process_s - provider_s.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from pulumi_pingback import PingBackChannelProvider
from pulumi_pingback.client._journal import Journal
from pulumi_pingback.client._transport import Transport

_lock = threading.Lock()
_totals = {"provider_s": 0.0, "http_s": 0.0, "journal_s": 0.0, "calls": 0, "seq": 0}
_depth = threading.local()


def _timed(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nested = getattr(_depth, key, 0)
        setattr(_depth, key, nested + 1)
        start = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            setattr(_depth, key, nested)
            if not nested:  # count the outermost call only
                with _lock:
                    _totals[key] += time.thread_time() - start
                    if key == "provider_s":
                        _totals["calls"] += 1

    return wrapper


for _method in ("check", "diff", "create", "update", "delete", "read"):
    setattr(
        PingBackChannelProvider,
        _method,
        _timed("provider_s", getattr(PingBackChannelProvider, _method)),
    )
Transport.send = _timed("http_s", Transport.send)  # type: ignore[method-assign]
for _method in (
    "fingerprint",
    "sent",
    "attempt",
    "answered",
    "failed",
    "take",
    "claim",
    "unresolved",
    "of_resource",
    "held",
    "knows",
    "claimed_elsewhere",
):
    setattr(Journal, _method, _timed("journal_s", getattr(Journal, _method)))


def _report(signum: int, frame: Any) -> None:
    times = os.times()
    with _lock:
        _totals["seq"] += 1
        data = dict(_totals, process_s=times.user + times.system)
    path = os.environ["PINGBACK_CPU_REPORT"]
    with open(path + ".tmp", "w") as out:
        json.dump(data, out)
    os.replace(path + ".tmp", path)


signal.signal(signal.SIGUSR1, _report)
runpy.run_module("pulumi.dynamic", run_name="__main__")
