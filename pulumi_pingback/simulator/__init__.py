"""A local PingBack for tests and for trying stacks without an account.

    from pulumi_pingback.simulator import Simulator
    with Simulator(plan="mini") as sim:      # a real server on 127.0.0.1, port 0
        sim.url, sim.channels(), sim.requests(), sim.inject("status", status=503)

Or from a shell: ``pingback-simulator --port 8787`` (see ``--help``). It needs the
``simulator`` extra (aiohttp): ``pip install 'pulumi-pingback[simulator]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._app import FaultRule, SimState, create_app
    from ._local import Simulator

__all__ = ["FaultRule", "SimState", "Simulator", "create_app"]

_WHERE = {"FaultRule": "_app", "SimState": "_app", "create_app": "_app", "Simulator": "_local"}


def __getattr__(name: str) -> Any:
    """Loaded on first use, so that `pingback-simulator` can say what is missing."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_pingback.simulator' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"pulumi_pingback.simulator.{module}"), name)
