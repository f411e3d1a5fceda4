"""Faults only the CLI can show: an `up` killed (SIGKILL) or interrupted (Ctrl-C) while
creates are in flight. What the next commands say, and that following them leaves
PingBack holding exactly the stack's channels: no duplicate, no orphan."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
import yaml

from ..engine._processes import SimulatorProcess
from ._cli import (
    CHANNEL as CHANNEL_NATIVE,
)
from ._cli import (
    TOKEN,
    Process,
    Stack,
    Workspace,
    ids,
    python_project,
    squash,
    stack_on,
    wait_for,
)

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
    stack.configure({"pingback:apiUrl": sim.url}, {"pingback:token": TOKEN})
    return stack


LATENCY = 3.0
"""How long PingBack holds each create before it commits and answers."""


def start_slow_up(st: Stack, sim: SimulatorProcess, started: list[Process]) -> Process:
    """`pulumi up` against a PingBack answering every create (POST) after ``LATENCY``
    seconds, returned once the first create is in flight (the log lists a request when it
    arrives). The lists are answered at once: no wait before the first create."""
    fault = {"kind": "latency", "delay": LATENCY, "method": "POST", "times": None}
    sim.control.post("/_sim/faults", json=fault).raise_for_status()
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


def settle(sim: SimulatorProcess, stopped: float) -> None:
    """Let the creates already at PingBack land: they commit ``LATENCY`` seconds after
    they arrived, and none arrived after ``stopped`` (monotonic), when the last process
    that could send one was killed or gone. Then PingBack answers at once again."""
    time.sleep(max(0.0, stopped + LATENCY + 1 - time.monotonic()))
    sim.control.delete("/_sim/faults").raise_for_status()


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
    killed = time.monotonic()
    if everything:  # the CLI, its host, the program and the providers, at once
        up.kill_session()
    else:  # the CLI alone: its plugins finish their calls, to nobody
        up.signal(signal.SIGKILL)
    up.wait()
    # No provider is left running: it notices that the engine is gone and exits once its
    # calls in flight are done. (The language host checks every 5 minutes, as Pulumi's.)
    wait_for(lambda: not providers(up), 60, "the provider to exit")
    # Killed with the CLI, the providers sent nothing after `killed`; left running, they
    # exited once their calls were answered, i.e. once their creates had committed.
    settle(sim, killed)
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
    # PingBack is right; the stack still lists the killed run's creates as pending (the
    # engine keeps them: every later command warns again) until the documented last step,
    # which writes nothing to PingBack.
    assert st.export()["deployment"].get("pending_operations"), "the engine dropped them"
    sim.clear_log()
    assert st.run("refresh", "--yes", "--clear-pending-creates").code == 0
    assert not st.export()["deployment"].get("pending_operations")
    assert [r for r in sim.requests() if r["method"] != "GET"] == []
    assert "pending operations" not in st.up().stdout
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
    settle(sim, time.monotonic())  # a create the CLI did not wait for may land until then
    # Everything the CLI sent is in the stack: it waited for the creates in flight.
    in_state = {r["id"] for r in st.resources()}
    assert in_state == {c["id"] for c in sim.state()["channels"]}

    done = st.up()
    assert "pending operations" not in done.stdout
    consistent(st, sim)


# ---- a killed run's POST that commits late (#25, 1) ----------------------------------------------

SIX_BOTS = """\
import pulumi
from pulumi_pingback import PingBackChannel, TelegramConfig

for i in range(6):
    PingBackChannel(
        f"bot{i}",
        type="telegram",
        config=TelegramConfig(bot_token=pulumi.Output.secret(f"730000000{i}:AAH" + "x" * 32)),
    )
"""


def test_a_post_that_commits_after_the_killed_run_is_taken_not_made_again(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path, no_leftovers: list[Process]
) -> None:
    """Six bots; PingBack commits one POST 12 s after it arrives. The whole `up` is
    SIGKILLed at 5 s and run again at once: the new run's create of that bot waits for the
    killed run's POST to land (its time to land has not passed) and takes its channel —
    where it used to list at once, find nothing, and POST a seventh channel for six
    resources."""
    st = Stack(ws, python_project(tmp_path / "six", SIX_BOTS), "dev").init()
    st.configure({"pingback:apiUrl": sim.url}, {"pingback:token": TOKEN})
    fault = {"kind": "latency", "delay": 12, "method": "POST"}  # the first POST only
    sim.control.post("/_sim/faults", json=fault).raise_for_status()
    up = st.ws.start("up", "--yes", "--non-interactive", "--stack", st.name, cwd=st.dir)
    no_leftovers.append(up)
    wait_for(lambda: sum(r["method"] == "POST" for r in sim.requests()) >= 6, 60, "six POSTs")
    held_commits = time.monotonic() + 12  # at the latest: it arrived before the sixth
    time.sleep(max(0.0, 5 - 1))  # about 5 s into the run: one POST still held
    up.kill_session()
    up.wait()
    assert len(sim.state()["channels"]) == 5  # the sixth commits later

    assert st.run("cancel", "--yes").code == 0
    sim.clear_log()
    done = st.up()
    # past the held POST's commit, whatever the run did (it waited for it: little is left)
    time.sleep(max(0.0, held_commits + 1 - time.monotonic()))
    state = {r["urn"].rsplit("::", 1)[1]: r["id"] for r in st.resources()}
    held = sorted(c["id"] for c in sim.state()["channels"])
    assert len(state) == 6 and sorted(state.values()) == held  # six, no duplicate, no orphan
    assert [r["method"] for r in sim.requests()].count("POST") == 0  # taken, not made again
    printed = squash(done.stdout)
    assert "an earlier run's create of a telegram channel" in printed
    assert "may still land: waiting up to" in printed
    assert st.run("preview", "--expect-no-changes").code == 0


# ---- the native plugin finishes a create whose engine is gone (#25, 4) --------------------------


def test_the_native_plugin_finishes_and_journals_a_create_whose_engine_is_gone(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path, no_leftovers: list[Process]
) -> None:
    """The CLI alone is SIGKILLed while the plugin's POST waits 9 s for PingBack: the
    plugin notices the engine is gone (after 6 s) but finishes the create first — its
    journal records the channel as orphaned — then exits; the next `up` takes it. It used
    to exit at once (its calls were never marked in flight), leaving an orphan no journal
    named. The plugin is the installed `pulumi-resource-pingback` (a project with no
    `packages:` entry), which the engine starts itself; a source plugin runs under the
    Python language host, which kills it with the engine, as Pulumi's own host does
    (docs/testing.md)."""
    project = tmp_path / "yaml-kill"
    project.mkdir()
    program = {
        "name": "yaml-kill",
        "runtime": "yaml",
        "config": {"botToken": {"type": "string", "secret": True}},
        "resources": {
            "bot": {
                "type": CHANNEL_NATIVE,
                "properties": {"type": "telegram", "config": {"botToken": "${botToken}"}},
            }
        },
    }
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(program, sort_keys=False))
    st = stack_on(ws, project, sim, botToken="7300000011:AAH" + "k" * 32)
    fault = {"kind": "latency", "delay": 9, "method": "POST"}
    sim.control.post("/_sim/faults", json=fault).raise_for_status()
    up = st.ws.start("up", "--yes", "--non-interactive", "--stack", st.name, cwd=st.dir)
    no_leftovers.append(up)
    wait_for(lambda: any(r["method"] == "POST" for r in sim.requests()), 120, "the POST")
    plugins = [p for p in up.session() if b"pulumi-resource-pingback" in _cmdline(p)]
    assert plugins, "the plugin is not running"
    up.signal(signal.SIGKILL)  # the CLI alone: the engine is gone, the plugin lives on
    up.wait()
    time.sleep(4)
    assert all(_alive(p) for p in plugins), "the plugin left before its create ended"
    wait_for(lambda: not any(_alive(p) for p in plugins), 60, "the plugin to exit")
    (made,) = sim.state()["channels"]
    (file,) = (ws.root / "pingback-state").glob("creates-*/*.jsonl")  # one channel's
    journal = file.read_text()
    records = [json.loads(line) for line in journal.splitlines()]
    assert {"op": "orphaned", "id": made["id"]} in [
        {k: r.get(k) for k in ("op", "id")} for r in records
    ], journal

    assert st.run("cancel", "--yes").code == 0
    sim.clear_log()
    st.up()
    assert [r["method"] for r in sim.requests()].count("POST") == 0
    assert ids(st) == {"bot": made["id"]}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
