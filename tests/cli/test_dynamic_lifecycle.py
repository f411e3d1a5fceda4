"""The dynamic provider's lifecycle under the real CLI: updates in place, both replace
orders, resource options, adoption, a rotated API token, and errors as the CLI prints
them. Each test writes the program a user would write and asserts what the CLI prints,
what the state keeps and which requests reached PingBack."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from ..engine._processes import SimulatorProcess
from ._cli import (
    TOKEN,
    Stack,
    Workspace,
    ciphertexts,
    lines_with,
    python_project,
    sealed_whole,
    secrets_outside_envelopes,
    squash,
)

CHANNEL = "pulumi-python:dynamic/pingback:Channel"
BOT = "7123456789:AAH" + "x" * 32
BOT_ROTATED = "7123456789:BBH" + "y" * 32
OTHER_BOT = "7000000001:AAH" + "z" * 32

HEADER = """\
import pulumi
from pulumi_pingback import PingBackChannel, TelegramConfig, WhatsAppConfig

cfg = pulumi.Config()
"""

BOT_CHANNEL = """\
bot = PingBackChannel(
    "bot",
    type="telegram",
    config=TelegramConfig(bot_token=cfg.require_secret("botToken")),
    is_active={active},
    opts=pulumi.ResourceOptions({opts}),
)
pulumi.export("bot_id", bot.id)
"""


def program(active: bool = True, opts: str = "") -> str:
    return HEADER + BOT_CHANNEL.format(active=active, opts=opts)


def writes(sim: SimulatorProcess) -> list[str]:
    """The write requests PingBack received since the log was cleared, as `METHOD path`."""
    return [f"{r['method']} {r['path']}" for r in sim.requests() if r["method"] != "GET"]


@pytest.fixture
def st(ws: Workspace, sim: SimulatorProcess, tmp_path: Path) -> Stack:
    """A stack of a one-bot program, its token and the bot's token set as secrets."""
    project = python_project(tmp_path / "project", program())
    stack = Stack(ws, project, "dev").init()
    stack.configure({"pingback:apiUrl": sim.url}, {"pingback:token": TOKEN, "botToken": BOT})
    return stack


def rewrite(st: Stack, source: str) -> None:
    (st.dir / "__main__.py").write_text(source)


def bot_id(st: Stack) -> str:
    return str(st.outputs()["bot_id"])


def test_is_active_and_a_rotated_token_update_in_place_and_another_bot_replaces(
    st: Stack, sim: SimulatorProcess
) -> None:
    st.up()
    first = bot_id(st)
    sim.clear_log()

    rewrite(st, program(active=False))
    done = st.up().stdout
    assert f"~  {CHANNEL} bot updated" in done and "[diff: ~is_active]" in done
    assert writes(sim) == [f"PATCH /api/v1/channels/{first}"]

    sim.clear_log()
    st.set("botToken", BOT_ROTATED, secret=True)
    rotated = st.up().stdout
    assert "~ 1 updated" in rotated and "BBH" not in rotated
    assert writes(sim) == [f"PATCH /api/v1/channels/{first}"]
    assert bot_id(st) == first  # the same channel: its webhook and messages stay
    stored = next(c for c in sim.state()["channels"] if c["id"] == first)
    assert stored["config"]["bot_token"] == BOT_ROTATED and stored["is_active"] is False

    # Another bot: a replace, create before delete (the engine's default order).
    old = first
    sim.clear_log()
    st.set("botToken", OTHER_BOT, secret=True)
    done = st.up().stdout
    assert f"++ {CHANNEL} bot created replacement" in done
    assert f"-- {CHANNEL} bot deleted original" in done
    assert lines_with(done, "bot replaced")[0].endswith("[diff: ~identity]")
    new = bot_id(st)
    assert new != old
    assert writes(sim) == ["POST /api/v1/channels/", f"DELETE /api/v1/channels/{old}"]


def test_replaces_refused_keeping_the_bot_or_at_the_plan_limit_work_delete_before_replace(
    st: Stack, sim: SimulatorProcess
) -> None:
    st.up()
    old = bot_id(st)
    urn = next(r["urn"] for r in st.resources())

    # --target-replace keeping the bot: the replacement (created first) would take the
    # bot from the channel it replaces. Refused before any write.
    sim.clear_log()
    refused = st.up("--target-replace", urn, check=False)
    assert refused.code != 0
    printed = squash(refused.stdout)
    assert "pulumi_pingback.IdentityConflictError:" in printed
    assert f"is already bound to channel {old}" in printed
    assert "delete_before_replace=True" in printed
    assert writes(sim) == []  # refused before any write
    assert bot_id(st) == old

    # Another bot on a plan at its limit: the replacement's create is refused (402).
    sim.control.post("/_sim/config", json={"plan": "mini", "limit": 1}).raise_for_status()
    st.set("botToken", OTHER_BOT, secret=True)
    failed = st.up(check=False)
    assert failed.code != 0
    printed = failed.stdout
    assert (
        "pulumi_pingback.PlanLimitError: PingBack plan limit (402 on POST /api/v1/channels/): "
        "the Mini plan is at its limit for channels (1/1)"
    ) in printed
    assert "set `delete_before_replace=True` in the replaced resource's ResourceOptions" in printed
    assert [c["id"] for c in sim.state()["channels"]] == [old]  # the old one intact
    assert bot_id(st) == old  # and still in the stack

    # delete_before_replace=True, as both errors say: the replace, then a --target-replace.
    sim.clear_log()
    rewrite(st, program(opts="delete_before_replace=True"))
    done = st.up().stdout
    assert f"-- {CHANNEL} bot deleted original" in done
    assert f"++ {CHANNEL} bot created replacement" in done
    assert writes(sim) == [f"DELETE /api/v1/channels/{old}", "POST /api/v1/channels/"]
    new = bot_id(st)
    assert [c["id"] for c in sim.state()["channels"]] == [new]

    sim.clear_log()
    done = st.up("--target-replace", urn).stdout
    assert "+-1 replaced" in done
    assert writes(sim) == [f"DELETE /api/v1/channels/{new}", "POST /api/v1/channels/"]


def test_protect_refuses_a_removal_and_retain_on_delete_keeps_the_channel(
    st: Stack, sim: SimulatorProcess
) -> None:
    rewrite(st, program(opts="protect=True"))
    st.up()
    kept = bot_id(st)
    rewrite(st, HEADER)  # the bot removed from the program
    refused = st.up(check=False)
    assert refused.code != 0
    assert "cannot be deleted\n    because it is protected." in refused.stdout
    assert [c["id"] for c in sim.state()["channels"]] == [kept]

    rewrite(st, program(opts="retain_on_delete=True"))
    st.up()
    sim.clear_log()
    rewrite(st, HEADER)
    done = st.up().stdout
    assert f"-  {CHANNEL} bot deleted" in done
    assert writes(sim) == []  # left in PingBack: only the stack lets go of it
    assert [c["id"] for c in sim.state()["channels"]] == [kept]
    assert st.resources() == []


def test_ignore_changes_keeps_a_change_out_of_the_plan(st: Stack, sim: SimulatorProcess) -> None:
    rewrite(st, program(opts='ignore_changes=["is_active", "config.bot_token"]'))
    st.up()
    sim.clear_log()
    rewrite(st, program(active=False, opts='ignore_changes=["is_active", "config.bot_token"]'))
    st.set("botToken", BOT_ROTATED, secret=True)
    quiet = st.preview("--diff", "--expect-no-changes")
    assert quiet.code == 0 and "2 unchanged" in quiet.stdout
    assert "2 unchanged" in st.up().stdout
    assert writes(sim) == []


def test_replace_on_changes_turns_a_rotation_into_a_replace(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path
) -> None:
    source = HEADER + (
        "wa = PingBackChannel(\n"
        '    "wa",\n'
        '    type="whatsapp",\n'
        "    config=WhatsAppConfig(\n"
        '        phone_number_id="109876543210",\n'
        '        access_token=cfg.require_secret("access"),\n'
        '        verify_token=cfg.require_secret("verify"),\n'
        "    ),\n"
        '    opts=pulumi.ResourceOptions(replace_on_changes=["config.verify_token"]),\n'
        ")\n"
    )
    st = Stack(ws, python_project(tmp_path / "wa", source), "dev").init()
    st.configure(
        {"pingback:apiUrl": sim.url},
        {"pingback:token": TOKEN, "access": "EAAG-access-1", "verify": "verify-1"},
    )
    st.up()

    st.set("access", "EAAG-access-2", secret=True)
    assert "~ 1 to update" in st.preview().stdout  # an unlisted key: in place
    st.set("access", "EAAG-access-1", secret=True)
    st.set("verify", "verify-2", secret=True)
    listed = st.preview("--diff").stdout
    assert "+-1 to replace" in listed
    assert "verify-2" not in listed and "verify-1" not in listed


def test_adopt_id_takes_a_channel_made_in_the_dashboard(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path
) -> None:
    made = httpx.post(
        f"{sim.url}/api/v1/channels/",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"type": "telegram", "config": {"bot_token": BOT}},
    ).json()
    source = HEADER + BOT_CHANNEL.replace(
        "    is_active={active},\n", f'    is_active={{active}},\n    adopt_id="{made["id"]}",\n'
    ).format(active=True, opts="")
    st = Stack(ws, python_project(tmp_path / "adopt", source), "dev").init()
    st.configure({"pingback:apiUrl": sim.url}, {"pingback:token": TOKEN, "botToken": BOT})
    sim.clear_log()
    done = st.up().stdout
    # The dynamic provider cannot import: the engine shows a create; the provider adopts.
    assert f"+  {CHANNEL} bot created" in done
    assert bot_id(st) == made["id"]
    # PingBack holds what the program declares: adopted as it is, nothing written
    assert [r["method"] for r in sim.requests() if r["method"] != "GET"] == []
    assert len(sim.state()["channels"]) == 1
    # ... and the CLI says so: one line, under the stack (a dynamic provider has no URN),
    # and again in the Diagnostics at the end, as it shows every message
    notice = (
        f"adopted telegram channel {made['id']} (telegram:bot/7123456789): "
        "nothing was written to PingBack"
    )
    progress, diagnostics = squash(done).split("Diagnostics:")
    assert progress.count(notice) == 1 and diagnostics.count(notice) == 1, done


def test_the_state_seals_each_credential_only_and_a_state_sealed_whole_previews_clean(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path
) -> None:
    """A widget has no ciphertext at all (nor its pickled provider); a credential is secret
    in the inputs and the outputs, from secret config or plain text; a readable key stays
    plain; a config given whole as ``pulumi.Output.secret`` stays secret whole in the
    outputs (the engine's rules: no ``additional_secret_outputs`` asks for it). A state as
    0.3 sealed it then previews and refreshes with no change."""
    plain_bot, whole_bot = "7000000003:AAH" + "p" * 32, "7000000004:AAH" + "q" * 32
    source = (
        HEADER
        + BOT_CHANNEL.format(active=True, opts="")
        + (
            'PingBackChannel("w", type="widget", config={"widget_id": "w1"})\n'
            f'PingBackChannel("plainbot", type="telegram", config={{"bot_token": "{plain_bot}"}})\n'
            "PingBackChannel(\n"
            '    "whole", type="telegram", '
            f'config=pulumi.Output.secret({{"bot_token": "{whole_bot}"}})\n'
            ")\n"
            "PingBackChannel(\n"
            '    "wa",\n'
            '    type="whatsapp",\n'
            '    config=WhatsAppConfig(phone_number_id="109876543210", access_token="EAAG-plain", '
            'verify_token="verify-plain"),\n'
            ")\n"
        )
    )
    st = Stack(ws, python_project(tmp_path / "seal", source), "dev").init()
    st.set("pingback:apiUrl", sim.url)
    st.set("pingback:token", TOKEN, secret=True)
    st.set("botToken", BOT, secret=True)
    st.up()
    canaries = [TOKEN, BOT, plain_bot, whole_bot, "EAAG-plain", "verify-plain"]
    assert secrets_outside_envelopes(st.export(), canaries) == []
    sealed = {r["urn"].rsplit("::", 1)[1]: ciphertexts(r) for r in st.resources()}
    assert sealed == {
        "w": [],  # no `4dabf18193072939515e22adb298388d` anywhere in the widget
        "bot": [".inputs.config.bot_token", ".outputs.config.bot_token"],
        "plainbot": [".inputs.config.bot_token", ".outputs.config.bot_token"],
        "whole": [".inputs.config", ".outputs.config"],
        "wa": [
            ".inputs.config.access_token",
            ".inputs.config.verify_token",
            ".outputs.config.access_token",
            ".outputs.config.verify_token",
            ".outputs.meta_verify_token",
        ],
    }
    wa = next(r for r in st.resources() if r["urn"].endswith("::wa"))
    assert wa["inputs"]["config"]["phone_number_id"] == "109876543210"
    assert wa["outputs"]["config"]["phone_number_id"] == "109876543210"

    # The same stack as 0.3 wrote it: `pulumi stack import`, then nothing to do.
    old = json.loads(st.run("stack", "export", "--show-secrets").stdout)
    for r in old["deployment"]["resources"]:
        if r["type"] == CHANNEL:
            for side in ("inputs", "outputs"):
                r[side]["__provider"] = sealed_whole(r[side]["__provider"])
            r["outputs"]["config"] = sealed_whole(r["outputs"]["config"])
            r["additionalSecretOutputs"] = ["config", "meta_verify_token"]
            if r["inputs"]["type"] == "widget":
                r["inputs"]["config"] = sealed_whole(r["inputs"]["config"])
    (tmp_path / "old.json").write_text(json.dumps(old))
    st.run("stack", "import", "--file", str(tmp_path / "old.json"))
    imported = next(r for r in st.resources() if r["urn"].endswith("::w"))
    assert len(ciphertexts(imported)) == 4
    sim.clear_log()
    assert "6 unchanged" in st.preview("--diff", "--expect-no-changes").stdout
    assert "6 unchanged" in st.refresh("--expect-no-changes").stdout
    assert "6 unchanged" in st.up().stdout  # the next `up` seals the inputs key by key
    widget = next(r for r in st.resources() if r["urn"].endswith("::w"))
    assert ciphertexts(widget["inputs"]) == []
    assert writes(sim) == []


def test_a_rotated_api_token_refresh_uses_the_saved_one_and_says_so(
    st: Stack, sim: SimulatorProcess
) -> None:
    st.up()
    # PingBack rotates the owner token; the stack config gets the new one.
    sim.control.post("/_sim/config", json={"token": "rotated-token-0002"}).raise_for_status()
    st.set("pingback:token", "rotated-token-0002", secret=True)
    refused = st.refresh(check=False)
    assert refused.code != 0
    printed = refused.stdout
    assert "pulumi_pingback.AuthenticationError: PingBack rejected the API token (401" in printed
    assert (
        "Note: `pulumi refresh` and `pulumi destroy` use the pingback: settings saved by the last "
        "`pulumi up`: after changing them, run `pulumi up` first (or `pulumi refresh "
        "--run-program`)."
    ) in printed
    assert "rotated-token-0002" not in printed and TOKEN not in printed
    assert st.run("refresh", "--yes", "--run-program").code == 0
    st.up()
    assert st.refresh().code == 0  # the new token is the saved one now


@pytest.mark.parametrize(
    ("fault", "printed"),
    [
        (
            {"kind": "status", "status": 401},
            "pulumi_pingback.AuthenticationError: PingBack rejected the API token (401 on GET "
            "/api/v1/channels/)",
        ),
        (
            {"kind": "status", "status": 400, "method": "POST"},
            "pulumi_pingback.BadRequestError: PingBack refused the channel (400 on POST "
            "/api/v1/channels/): injected fault\n"
            "    To fix: correct the channel's inputs",
        ),
    ],
    ids=["401", "400"],
)
def test_errors_as_the_cli_prints_them(
    st: Stack, sim: SimulatorProcess, fault: dict[str, object], printed: str
) -> None:
    sim.control.post("/_sim/faults", json={"path": "/api/v1/channels", **fault}).raise_for_status()
    failed = st.up(check=False)
    assert failed.code != 0
    assert printed in failed.stdout
    assert f"{CHANNEL} (bot):\n    error: " in failed.stdout
    assert BOT not in failed.output and TOKEN not in failed.output
    assert st.resources() == [] and sim.state()["channels"] == []


def test_a_dead_server_is_one_message_naming_the_url(st: Stack) -> None:
    st.configure(
        {
            "pingback:apiUrl": "http://127.0.0.1:9",
            "pingback:timeout": "2",
            "pingback:maxRetries": "1",
        }
    )
    failed = st.up(check=False)
    assert failed.code != 0
    # the provider's start-up list: the preview already fails, saying the whole wait
    assert re.search(
        r"pulumi_pingback\.APIConnectionError: could not connect to PingBack at "
        r"http://127\.0\.0\.1:9 for GET /api/v1/channels/ \(ConnectError\); 2 attempts over "
        r"[01] s\n    Check pingback:apiUrl \(http://127\.0\.0\.1:9\) and the network, then run "
        r"the command again\.",
        failed.stdout,
    ), failed.stdout
    assert "Previewing update" in failed.stdout and "Updating (" not in failed.stdout
    assert st.resources() == []


PLAIN_TOKEN_WARNING = "pingback:token is in this stack's config in plain text"


def test_a_plaintext_owner_token_is_warned_about_and_encrypted_by_the_next_up(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path
) -> None:
    """docs/secrets.md: the state keeps the owner token — the settings saved for refresh
    and destroy, in the default provider's inputs — encrypted when the stack config holds
    it as a secret, readable when it does not; the program warns about the latter."""
    project = python_project(tmp_path / "project", program())
    st = Stack(ws, project, "dev").init()
    st.configure({"pingback:apiUrl": sim.url, "pingback:token": TOKEN}, {"botToken": BOT})
    plain = st.up()
    assert lines_with(plain.stdout, PLAIN_TOKEN_WARNING), plain.stdout
    assert "pulumi config set --secret pingback:token" in squash(plain.stdout)
    providers = [
        r
        for r in st.export()["deployment"]["resources"]
        if r["type"].startswith("pulumi:providers")
    ]
    assert TOKEN in json.dumps(providers)  # what the warning says
    st.set("pingback:token", TOKEN, secret=True)
    sealed = st.up()
    assert PLAIN_TOKEN_WARNING not in sealed.stdout
    assert TOKEN not in json.dumps(st.export())
    assert TOKEN not in (project / "Pulumi.dev.yaml").read_text()
    # From the environment alone, the token is in no file and not in the state.
    st.run("config", "rm", "pingback:token")
    from_env = st.up(env={"PINGBACK_TOKEN": TOKEN})
    assert PLAIN_TOKEN_WARNING not in from_env.stdout
    assert TOKEN not in json.dumps(st.export())


WIDGETS = (
    HEADER
    + """\
for i in range(4):
    PingBackChannel(f"w{i}", type="widget", config={"widget_id": f"site-{i}"})
"""
)


def test_a_rejected_token_is_said_in_full_once_per_command(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path
) -> None:
    """A refresh reads every channel, and a revoked token fails each read alike: the
    error is printed in full (with its advice) for one resource, the others say in one
    line that it is the same."""
    st = Stack(ws, python_project(tmp_path / "widgets", WIDGETS), "dev").init()
    st.configure({"pingback:apiUrl": sim.url}, {"pingback:token": TOKEN})
    st.up()
    sim.control.post("/_sim/config", json={"token": "another-owner-token"}).raise_for_status()
    failed = st.refresh(check=False)
    assert failed.code != 0
    diagnostics = squash(failed.stdout).split("Diagnostics:", 1)[1]
    assert diagnostics.count("PingBack rejected the API token") == 4, failed.stdout
    assert diagnostics.count("To fix: ") == 1, failed.stdout
    same = "the same error as another resource of this command, in full there: "
    assert diagnostics.count(same) == 3, failed.stdout
    assert TOKEN not in failed.output


def test_a_settings_typo_fails_the_program_once_under_the_stack(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path
) -> None:
    st = Stack(ws, python_project(tmp_path / "widgets", WIDGETS), "dev").init()
    st.configure({"pingback:apiurl": sim.url}, {"pingback:token": TOKEN})
    failed = st.preview(check=False)
    assert failed.code != 0
    printed = squash(failed.stdout)
    typo = "unknown setting pingback:apiurl: did you mean pingback:apiUrl?"
    diagnostics = printed.split("Diagnostics:", 1)[1]
    assert diagnostics.count(typo) == 1, failed.stdout
    assert "pulumi:pulumi:Stack (pingback-e2e-dev):" in diagnostics
    assert CHANNEL not in diagnostics  # no resource was registered, no request sent
    assert sim.requests() == [] or all(r["path"].startswith("/_sim") for r in sim.requests())
