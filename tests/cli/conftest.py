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
from ._cli import TOKEN, PluginAdded, Process, Workspace, cli_bin, plugin_copy

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
    simulator.reset(plan="pro", latency=0, limit=None, token=TOKEN)
    simulator.control.delete("/_sim/faults").raise_for_status()
    return simulator


@pytest.fixture
def ws(pulumi_bin: Path, tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws", pulumi_bin)


@pytest.fixture(scope="session")
def plugin_added(pulumi_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> PluginAdded:
    """The plugin (PulumiPlugin.yaml and the package it installs) made ready once the way
    users make it: `pulumi package add <checkout>` in a YAML project, which creates the
    plugin's ./venv and installs requirements.txt into it."""
    root = tmp_path_factory.mktemp("native-plugin")
    plugin = plugin_copy(root)
    ws = Workspace(root / "ws", pulumi_bin)
    project = root / "yaml-added"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: yaml-added\nruntime: yaml\n")
    added = ws.run("package", "add", str(plugin), cwd=project, timeout=900)
    assert (plugin / "venv" / "bin" / "python").exists()
    return PluginAdded(plugin, project, added)


@pytest.fixture(scope="session")
def native_plugin(plugin_added: PluginAdded) -> Path:
    """A copy of this checkout's plugin, ready (``plugin_added``). Projects name it in
    Pulumi.yaml (`packages: {pingback: <path>}`), as `pulumi package add` records it."""
    return plugin_added.plugin


@pytest.fixture
def no_leftovers() -> Iterator[list[Process]]:
    """Whatever the test started in the background (``Workspace.start``) is killed at the
    end, its whole session, orphaned plugins included."""
    started: list[Process] = []
    yield started
    for up in started:
        up.kill_session()
