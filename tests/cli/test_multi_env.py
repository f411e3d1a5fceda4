"""examples/multi-env under the real CLI: three stacks up, then destroy (prod's protected
channels refused); previews after a token rotation and a bot change, then refresh after
changes made outside Pulumi and `up --refresh`. What is asserted is what a user reads
(the CLI's output) and what the state keeps (`pulumi stack export`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..engine._processes import SimulatorProcess
from ..test_example import SECRETS
from ._cli import (
    TOKEN,
    Stack,
    Workspace,
    api,
    copy_example,
    lines_with,
    secrets_outside_envelopes,
    squash,
)

CHANNEL = "pulumi-python:dynamic/pingback:Channel"


def stack(ws: Workspace, project: Path, name: str, sim: SimulatorProcess) -> Stack:
    """A stack of the example, its apiUrl pointed at the simulator, its secrets set as the
    stack file lists them."""
    st = Stack(ws, project, name).init()
    st.configure({"pingback:apiUrl": sim.url}, {"pingback:token": TOKEN, **SECRETS[name]})
    return st


def ids(st: Stack) -> dict[str, str]:
    return {r["urn"].rsplit("::", 1)[1]: r["id"] for r in st.resources()}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example("multi-env", tmp_path)


def test_three_stacks_go_up_hold_no_credential_and_destroy_refuses_protected_ones(
    ws: Workspace, project: Path, sim: SimulatorProcess
) -> None:
    stacks = {name: stack(ws, project, name, sim) for name in ("dev", "staging", "prod")}
    created = {name: st.up() for name, st in stacks.items()}

    assert "+ 2 created" in created["dev"].stdout  # the stack and the widget
    assert "+ 4 created" in created["staging"].stdout
    assert "+ 6 created" in created["prod"].stdout
    prod = created["prod"].stdout
    prod = squash(prod)
    assert 'telegram_bot : "telegram:bot/7123456789"' in prod
    assert 'x_account : "x:account/4242"' in prod
    assert "meta_verify_token : [secret]" in prod
    assert f'meta_callback_url : "{sim.url}/api/v1/webhooks/whatsapp"' in prod
    channels = sim.state()["channels"]
    assert sorted(c["type"] for c in channels) == sorted(
        ["widget"] * 3 + ["telegram", "whatsapp"] * 2 + ["instagram", "x"]
    )

    canaries = [TOKEN, *(v for s in SECRETS.values() for v in s.values())]
    for name, st in stacks.items():
        state = st.export()
        assert secrets_outside_envelopes(state, canaries) == [], name
        for r in st.resources():
            assert r.get("protect", False) is (name == "prod"), r["urn"]
            if r["outputs"]["type"] == "whatsapp":
                # readable: the number and the identity; sealed: the tokens, in the inputs
                # and the outputs alike
                number = r["inputs"]["config"]["phone_number_id"]
                assert number == "109876543210" or name != "prod"
                assert r["outputs"]["config"]["phone_number_id"] == number
                assert r["inputs"]["identity"].startswith("whatsapp:phone/")
                for side in ("inputs", "outputs"):
                    assert "ciphertext" in r[side]["config"]["access_token"]
                    assert "ciphertext" in r[side]["config"]["verify_token"]
    for backend_file in ws.backend.rglob("*.json"):
        text = backend_file.read_text()
        assert not [c for c in canaries if c in text], backend_file

    # A second `up` of prod changes nothing, and sends PingBack nothing but reads.
    sim.clear_log()
    again = stacks["prod"].up()
    assert "6 unchanged" in again.stdout
    assert [r["method"] for r in sim.requests() if r["method"] != "GET"] == []

    # destroy: prod's channels are protected (refused, nothing deleted), dev's are not.
    held = {name: set(ids(st).values()) for name, st in stacks.items()}
    refused = stacks["prod"].destroy(check=False)
    assert refused.code != 0
    assert "cannot be deleted\n    because it is protected." in refused.stdout
    assert "pulumi state unprotect" in refused.stdout
    assert len(sim.state()["channels"]) == 9  # nothing deleted

    done = stacks["dev"].destroy()
    assert "- 2 deleted" in done.stdout
    assert {c["id"] for c in sim.state()["channels"]} == held["staging"] | held["prod"]
    assert stacks["dev"].resources() == []
    stacks["prod"].run("state", "unprotect", "--all", "--yes")
    assert "- 6 deleted" in stacks["prod"].destroy().stdout
    assert {c["id"] for c in sim.state()["channels"]} == held["staging"]


def test_preview_diff_after_a_rotation_and_a_bot_change_then_refresh_after_changes_outside(
    ws: Workspace, project: Path, sim: SimulatorProcess
) -> None:
    st = stack(ws, project, "staging", sim)
    st.up()
    channel = ids(st)
    sim.clear_log()

    st.set("telegramBotToken", "7000000001:AAH-staging-rotated", secret=True)
    rotated = squash(st.preview("--diff").stdout)
    assert "~ pulumi-python:dynamic/pingback:Channel: (update)" in rotated
    assert "bot_token: [secret]" in rotated
    assert 'identity : "telegram:bot/7000000001"' in rotated  # the same bot: no replace
    assert "AAH-staging-rotated" not in rotated and "AAH-staging-bot" not in rotated
    assert "~ 1 to update" in rotated

    st.set("telegramBotToken", "7000000002:AAH-staging-other", secret=True)
    other = squash(st.preview("--diff").stdout)
    assert "+-pulumi-python:dynamic/pingback:Channel: (replace)" in other
    # why: the bot, readable, though the token prints as [secret]
    assert '~ identity : "telegram:bot/7000000001" => "telegram:bot/7000000002"' in other
    assert "config : {\n bot_token: [secret]\n }" in other  # the token only: sealed alone
    assert "AAH-staging-other" not in other
    assert "+-1 to replace" in other
    assert sim.requests() == [] or {r["method"] for r in sim.requests()} == {"GET"}
    st.set("telegramBotToken", SECRETS["staging"]["telegramBotToken"], secret=True)  # back

    dashboard = api(sim)
    # Someone turns the bot off in the dashboard: refresh shows it, the next preview
    # shows the program putting it back.
    assert dashboard.patch(
        f"/channels/{channel['support-bot']}", json={"is_active": False}
    ).is_success
    refreshed = st.refresh().stdout
    assert f"~  {CHANNEL} support-bot updated" in refreshed
    assert "[diff: ~is_active]" in refreshed
    assert "~ 1 updated" in refreshed
    drift = squash(st.preview("--diff").stdout)
    assert "~ is_active: false => true" in drift

    # ... and deletes the WhatsApp channel: refresh drops it from the stack.
    assert dashboard.delete(f"/channels/{channel['support-whatsapp']}").is_success
    dropped = st.refresh().stdout
    assert f"-  {CHANNEL} support-whatsapp deleted" in dropped
    assert "support-whatsapp" not in ids(st)

    # `up --refresh` reads first, then undoes both: the bot back on, the number back.
    restored = st.up("--refresh").stdout
    assert lines_with(restored, "support-bot updated")[0].endswith("[diff: ~is_active]")
    assert f"+  {CHANNEL} support-whatsapp created" in restored
    assert "+ 1 created" in restored and "~ 1 updated" in restored
    bot = next(c for c in sim.state()["channels"] if c["id"] == channel["support-bot"])
    assert bot["is_active"] is True
    assert st.run("preview", "--expect-no-changes").code == 0
    assert st.run("refresh", "--yes", "--expect-no-changes").code == 0
