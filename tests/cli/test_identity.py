"""One bot, one channel — across runs the provider cannot see from inside one process,
under the real CLI: two stacks creating one bot at once, and a channel made by a run
killed on another machine (a CI runner that is gone, with its create journal)."""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path
from typing import Any

from ..engine._processes import SimulatorProcess
from ._cli import (
    CHANNEL,
    TOKEN,
    Process,
    Stack,
    Workspace,
    ids,
    python_project,
    squash,
    stack_on,
    wait_for,
    yaml_project,
)

BOT = "7300000021:AAH" + "i" * 32
BOT_AGAIN = "7300000021:BBH" + "j" * 32  # the same bot (the id before the colon)


def bot_program(token: str) -> str:
    return (
        "import pulumi\nfrom pulumi_pingback import PingBackChannel, TelegramConfig\n\n"
        'PingBackChannel("bot", type="telegram", '
        f"config=TelegramConfig(bot_token=pulumi.Output.secret({token!r})))\n"
    )


def test_two_stacks_upping_one_bot_at_once_end_with_one_channel(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path, no_leftovers: list[Process]
) -> None:
    """Two projects declare the same bot and run `pulumi up` together, every POST taking
    2 s: each provider's list, made before either POST committed, showed the bot free.
    After its POST each lists again, and the later channel's run deletes it and fails
    naming the other; the other run succeeds. Both used to succeed: two channels on one
    bot, Telegram's webhook flipping between them."""
    stacks = []
    for name, token in (("shop-a", BOT), ("shop-b", BOT_AGAIN)):
        st = Stack(ws, python_project(tmp_path / name, bot_program(token), name=name), "dev")
        st.init()
        st.configure({"pingback:apiUrl": sim.url}, {"pingback:token": TOKEN})
        stacks.append(st)
    fault = {"kind": "latency", "delay": 2, "method": "POST", "times": None}
    sim.control.post("/_sim/faults", json=fault).raise_for_status()
    ups = [
        st.ws.start("up", "--yes", "--non-interactive", "--stack", st.name, cwd=st.dir)
        for st in stacks
    ]
    no_leftovers.extend(ups)
    results = [up.wait(180) for up in ups]
    channels = sim.state()["channels"]
    assert len(channels) == 1, results  # one channel on the bot
    (kept,) = channels
    won = [r for r in results if r.code == 0]
    lost = [r for r in results if r.code != 0]
    assert len(won) == 1 and len(lost) == 1, results
    said = squash(lost[0].stdout)
    assert f"was bound at the same time by channel {kept['id']}, made by another run" in said
    assert "made by this create, was deleted again" in said
    assert [r["method"] for r in sim.requests()].count("DELETE") == 1
    winner = stacks[results.index(won[0])]
    assert [r["id"] for r in winner.resources()] == [kept["id"]]


def test_a_channel_made_by_a_run_killed_on_another_machine_is_taken_as_the_error_says(
    ws: Workspace,
    sim: SimulatorProcess,
    native_plugin: Path,
    tmp_path: Path,
    no_leftovers: list[Process],
) -> None:
    """A CI runner's `up` is killed after PingBack made the bot's channel; the runner, and
    its create journal, are gone. On another machine the next `up` finds the bot bound to
    a channel no journal there knows: the error names it and says how to take it. Doing
    exactly that leaves a clean stack: the channel in it, no pending create, no change."""
    properties: dict[str, Any] = {"type": "telegram", "config": {"botToken": "${botToken}"}}
    bot = {"type": CHANNEL, "properties": properties}
    project = yaml_project(tmp_path / "runner", native_plugin, {"bot": bot}, config=["botToken"])
    st = stack_on(ws, project, sim, botToken=BOT)
    fault = {"kind": "latency", "delay": 3, "method": "POST"}  # the create, held 3 s
    sim.control.post("/_sim/faults", json=fault).raise_for_status()
    up = st.ws.start("up", "--yes", "--non-interactive", "--stack", st.name, cwd=st.dir)
    no_leftovers.append(up)
    wait_for(lambda: any(r["method"] == "POST" for r in sim.requests()), 120, "the POST")
    time.sleep(0.5)
    up.kill_session()  # the runner is gone, every process of it
    up.wait()
    wait_for(lambda: sim.state()["channels"], 10, "the POST to land all the same")
    (made,) = sim.state()["channels"]

    elsewhere = Workspace(ws.root, ws.bin, {"PINGBACK_STATE_DIR": str(tmp_path / "another")})
    st = Stack(elsewhere, project, st.name)
    assert st.run("cancel", "--yes").code == 0
    refused = st.up(check=False)
    assert refused.code != 0
    said = squash(refused.stdout)
    assert f"is already bound to channel {made['id']} of this PingBack business" in said
    assert f"No run on this machine made {made['id']}." in said
    assert f"add adoptId: '{made['id']}' to this resource and run `pulumi up`" in said
    command = re.search(r"`(pulumi refresh --yes --import-pending-creates [^`]+)`", said)
    assert command is not None, said

    # As it says: adopt the channel, `pulumi up`, then the refresh that drops the pending create.
    adopted = {"type": CHANNEL, "properties": {**properties, "adoptId": made["id"]}}
    yaml_project(project, native_plugin, {"bot": adopted}, config=["botToken"])
    sim.clear_log()
    st.up()
    assert [r["method"] for r in sim.requests() if r["method"] != "GET"] == []  # nothing written
    args = shlex.split(command.group(1))[1:]
    st.run(*args, "--non-interactive")
    deployment = st.export()["deployment"]
    assert not deployment.get("pending_operations")
    assert ids(st) == {"bot": made["id"]} and len(sim.state()["channels"]) == 1
    assert st.run("preview", "--expect-no-changes").code == 0
