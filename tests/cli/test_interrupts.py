"""Faults only the CLI can show: an `up` killed (SIGKILL) or interrupted (Ctrl-C) while
creates are in flight. What the next commands say, and that following them leaves
PingBack holding exactly the stack's channels: no duplicate, no orphan."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..engine._processes import SimulatorProcess
from ._cli import TOKEN, Process, Stack, Workspace, python_project, wait_for

CHANNEL = "pulumi-python:dynamic/pingback:Channel"
PROGRAM = """\
import pulumi
from pulumi_pingback import PingBackChannel, TelegramConfig, WidgetConfig

for i in range(3):
    PingBackChannel(
        f"bot{i}",
        type="telegram",
        config=TelegramConfig(bot_token=pulumi.Output.secret(f"70000000{i}:AAH" + "x" * 32)),
    )
    PingBackChannel(f"widget{i}", type="widget", config=WidgetConfig(widget_id=f"site-{i}"))
"""
NAMES = {f"{kind}{i}" for kind in ("bot", "widget") for i in range(3)}


@pytest.fixture
def st(ws: Workspace, sim: SimulatorProcess, tmp_path: Path) -> Stack:
    stack = Stack(ws, python_project(tmp_path / "project", PROGRAM), "dev").init()
    stack.set("pingback:apiUrl", sim.url)
    stack.set("pingback:token", TOKEN, secret=True)
    return stack


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[list[Process]]:
    """Whatever the test started is killed at the end, orphaned plugins included."""
    started: list[Process] = []
    yield started
    for up in started:
        up.kill_session()


def start_slow_up(st: Stack, sim: SimulatorProcess, started: list[Process]) -> Process:
    """`pulumi up` against a PingBack answering every request after 3 s, returned once
    the first create is in flight (the log lists a request when it arrives)."""
    sim.control.post("/_sim/config", json={"latency": 3}).raise_for_status()
    up = st.ws.start("up", "--yes", "--non-interactive", "--stack", st.name, cwd=st.dir)
    started.append(up)
    wait_for(lambda: any(r["method"] == "POST" for r in sim.requests()), 60, "creates in flight")
    time.sleep(0.5)
    return up


def providers(up: Process) -> list[int]:
    """The provider processes (the dynamic provider's server) of the CLI's session."""
    found = []
    for pid in up.session():
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"pulumi.dynamic" in command:
            found.append(pid)
    return found


def settle(sim: SimulatorProcess) -> None:
    """Let the creates already at PingBack land (they are written after the latency)."""
    time.sleep(4)
    sim.control.post("/_sim/config", json={"latency": 0}).raise_for_status()


def consistent(st: Stack, sim: SimulatorProcess) -> None:
    """PingBack holds exactly the stack's channels, one each."""
    state = {r["urn"].rsplit("::", 1)[1]: r["id"] for r in st.resources()}
    held = sorted(c["id"] for c in sim.state()["channels"])
    assert set(state) == NAMES
    assert sorted(state.values()) == held, "a duplicate or an orphan in PingBack"
    assert st.run("preview", "--expect-no-changes").code == 0


@pytest.mark.parametrize("everything", [False, True], ids=["the-cli", "every-process"])
def test_a_killed_up_leaves_no_duplicate_and_no_orphan(
    st: Stack, sim: SimulatorProcess, everything: bool, no_leftovers: list[Process]
) -> None:
    up = start_slow_up(st, sim, no_leftovers)
    if everything:  # the CLI, its host, the program and the providers, at once
        up.kill_session()
    else:  # the CLI alone: its plugins finish their calls, to nobody
        up.signal(signal.SIGKILL)
    up.wait()
    # No provider is left running: it notices that the engine is gone and exits once its
    # calls in flight are done. (The language host checks every 5 minutes, as Pulumi's.)
    wait_for(lambda: not providers(up), 60, "the provider to exit")
    settle(sim)
    landed = {c["id"] for c in sim.state()["channels"]}
    assert landed, "no create had reached PingBack: the test did not kill mid-flight"

    locked = st.up(check=False)
    assert locked.code != 0
    assert "the stack is currently locked by 1 lock(s)" in locked.output
    assert "`pulumi cancel`" in locked.output
    assert st.run("cancel", "--yes").code == 0

    sim.clear_log()
    done = st.up()
    printed = done.stdout
    assert "pending operations from previous deployment" in printed
    assert "interrupted while creating" in printed
    posts = [r for r in sim.requests() if r["method"] == "POST"]
    # The channels the killed run made are taken, not made again.
    assert len(posts) == len(NAMES) - len(landed), printed
    consistent(st, sim)


def test_an_interrupted_up_finishes_what_it_started(
    st: Stack, sim: SimulatorProcess, no_leftovers: list[Process]
) -> None:
    up = start_slow_up(st, sim, no_leftovers)
    up.signal(signal.SIGINT, group=True)  # Ctrl-C
    interrupted = up.wait()
    assert interrupted.code != 0
    assert "^C received; cancelling." in interrupted.stdout
    assert "error: update canceled" in interrupted.stdout
    settle(sim)
    # Everything the CLI sent is in the stack: it waited for the creates in flight.
    in_state = {r["id"] for r in st.resources()}
    assert in_state == {c["id"] for c in sim.state()["channels"]}

    done = st.up()
    assert "pending operations" not in done.stdout
    consistent(st, sim)
