"""Fixtures for the end-to-end suite: the real ``pulumi`` CLI, built by
``scripts/pulumi-cli/build``, and the simulator as its own process.

Without the built CLI these tests are skipped, saying how to build it; under ``CI=true``
a missing CLI is a failure (``.ci/run`` builds it first).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..engine._processes import SimulatorProcess
from ._cli import Workspace, cli_bin

TOKEN = "sim-owner-token-e2e-0001"
BUILD = "scripts/pulumi-cli/build"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.cli)


@pytest.fixture(scope="session")
def pulumi_bin() -> Path:
    found = cli_bin()
    if found is None:
        message = (
            f"the Pulumi CLI built by {BUILD} is not in its cache (or PINGBACK_PULUMI_BIN): "
            f"run `{BUILD}` (a few minutes, cold) to run the end-to-end suite"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def simulator() -> Iterator[SimulatorProcess]:
    """``pingback-simulator`` in its own process for the whole session; reset per test."""
    with SimulatorProcess("--quiet", token=TOKEN) as sim:
        yield sim


@pytest.fixture
def sim(simulator: SimulatorProcess) -> SimulatorProcess:
    simulator.reset(plan="pro", latency=0, limit=None)
    simulator.control.delete("/_sim/faults").raise_for_status()
    return simulator


@pytest.fixture
def ws(pulumi_bin: Path, tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", pulumi_bin)
