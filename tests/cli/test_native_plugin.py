"""The native plugin ``pingback`` under the real CLI: `pulumi package add` into a YAML and
a Python project, a YAML program's lifecycle (up, `preview --diff`, refresh, destroy),
`pulumi import` then `up` changing nothing, the `import` resource option, and the README's
move of a dynamic stack to the plugin.

What is asserted is what a user reads (the CLI's output), what the state keeps
(`pulumi stack export`) and what reached PingBack (the simulator's request log)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_pingback import __version__

from ..engine import STARTUP_LIST, SimulatorProcess, asked
from ._cli import (
    CHANNEL,
    ROOT,
    TOKEN,
    PluginAdded,
    Result,
    Stack,
    Workspace,
    api,
    ciphertexts,
    ids,
    plant,
    sealed_whole,
    secrets_outside_envelopes,
    squash,
    writes,
    yaml_project,
)
from ._cli import stack_on as stack

DYNAMIC = "pulumi-python:dynamic/pingback:Channel"
SDK = "pulumi_pingback_native"
MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

BOT = "7000000001:AAH-native-e2e-first"
BOT_ROTATED = "7000000001:AAH-native-e2e-rotated"
BOT_OTHER = "7000000002:AAH-native-e2e-other"
WA_ACCESS = "EAAG-native-e2e-access"
WA_VERIFY = "native-e2e-verify"
DASHBOARD_KEY = "dashboard-added-e2e-value"


# ---- helpers ---------------------------------------------------------------------------------


def channel_ids(sim: SimulatorProcess) -> set[str]:
    return {c["id"] for c in sim.state()["channels"]}


def telegram(token_key: str = "botToken", **options: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": CHANNEL,
        "properties": {"type": "telegram", "config": {"botToken": f"${{{token_key}}}"}},
    }
    if "active" in options:
        resource["properties"]["isActive"] = options.pop("active")
    if options:
        resource["options"] = options
    return resource


def whatsapp() -> dict[str, Any]:
    return {
        "type": CHANNEL,
        "properties": {
            "type": "whatsapp",
            "config": {
                "phoneNumberId": "109876543210",
                "accessToken": "${waAccess}",
                "verifyToken": "${waVerify}",
            },
        },
    }


def python_native_project(where: Path, sdk: PythonSdk, plugin: Path, program: str) -> Path:
    """A Python project running ``program`` in the virtualenv that `pulumi package add`
    linked the generated SDK into, the plugin recorded as `package add` records it."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "Pulumi.yaml").write_text(
        f"name: {where.name}\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {sdk.venv}\npackages:\n  pingback: {plugin}\n"
    )
    (where / "__main__.py").write_text(program)
    return where


def preview_steps(st: Stack) -> dict[str, dict[str, Any]]:
    """`pulumi preview --json`: each step but the stack's, by resource name."""
    steps = json.loads(st.preview("--json").stdout)["steps"]
    return {s["urn"].rsplit("::", 1)[1]: s for s in steps if CHANNEL in s["urn"]}


# ---- `pulumi package add` ---------------------------------------------------------------------


@dataclass(frozen=True)
class PythonSdk:
    """A Python project after `pulumi package add <plugin>`: the command's result, and the
    project's own virtualenv that the generated SDK was installed into."""

    project: Path
    venv: Path
    added: Result


@pytest.fixture(scope="module")
def python_sdk(
    pulumi_bin: Path, native_plugin: Path, tmp_path_factory: pytest.TempPathFactory
) -> PythonSdk:
    """`pulumi package add` in a Python project, once for the module.

    Its virtualenv is a fresh one (linking installs the SDK into the project's virtualenv
    and upgrades pip, setuptools and wheel there: not something to do to the test venv),
    which sees the test venv's packages through a .pth file, so nothing but the SDK (and
    setuptools, wheel) is installed into it."""
    root = tmp_path_factory.mktemp("python-sdk")
    project = root / "py-added"
    project.mkdir()
    venv = project / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = venv.glob("lib/python*/site-packages")
    test_site = sysconfig.get_paths()["purelib"]
    (site / "test-venv.pth").write_text(f"import site; site.addsitedir({test_site!r})\n")
    (project / "Pulumi.yaml").write_text(
        "name: py-added\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        "    virtualenv: venv\n"
    )
    (project / "requirements.txt").write_text("pulumi>=3.216.0,<4\n")
    (project / "__main__.py").write_text("import pulumi\n")
    ws = Workspace(root / "ws", pulumi_bin)
    added = ws.run("package", "add", str(native_plugin), cwd=project, timeout=900)
    return PythonSdk(project, venv, added)


def test_package_add_in_a_yaml_project_records_the_plugin(
    ws: Workspace, plugin_added: PluginAdded, sim: SimulatorProcess, tmp_path: Path
) -> None:
    # `pulumi package add <plugin>` in a new YAML project: how the session's plugin was
    # made ready (conftest), its project copied here as the command left it.
    native_plugin, added = plugin_added.plugin, plugin_added.added
    assert (
        f"Successfully generated an SDK for the pingback package at "
        f"{plugin_added.project / 'sdks'}" in added.output
    )
    assert "Added package PingBack" in added.output
    project = shutil.copytree(plugin_added.project, tmp_path / "yaml-added")
    recorded = yaml.safe_load((project / "Pulumi.yaml").read_text())
    assert recorded == {
        "name": "yaml-added",
        "runtime": "yaml",
        "packages": {"pingback": str(native_plugin)},
    }
    # YAML's "SDK" is a package declaration, nothing to import
    declared = project / f"sdks/pingback/pingback-{__version__}.yaml"
    declaration = yaml.safe_load(declared.read_text())
    assert declaration == {
        "packageDeclarationVersion": 1,
        "name": "pingback",
        "version": __version__,
    }

    # The project as recorded runs the plugin: a preview plans the channel.
    recorded["resources"] = {"bot": telegram()}
    recorded["config"] = {"botToken": {"type": "string", "secret": True}}
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(recorded, sort_keys=False))
    st = stack(ws, project, sim, botToken=BOT)
    planned = squash(st.preview().stdout)
    assert f"+ {CHANNEL} bot create" in planned
    assert "+ 2 to create" in planned
    assert asked(sim) == STARTUP_LIST  # a preview of creates: the start-up check only


def test_package_add_in_a_python_project_links_an_importable_sdk_that_ups(
    ws: Workspace, python_sdk: PythonSdk, native_plugin: Path, sim: SimulatorProcess
) -> None:
    project, added = python_sdk.project, python_sdk.added.output
    assert f"Successfully generated an SDK for the pingback package at {project / 'sdks'}" in added
    assert f"You can import the SDK in your Python code with:\n\n  import {SDK}\n" in added
    assert f"Successfully installed {SDK}-{__version__}" in added
    assert "Added package PingBack" in added
    recorded = yaml.safe_load((project / "Pulumi.yaml").read_text())
    assert recorded["packages"] == {"pingback": str(native_plugin)}
    # linked: the SDK's folder listed in requirements.txt, after what was there
    assert (project / "requirements.txt").read_text().splitlines() == [
        "pulumi>=3.216.0,<4",
        "sdks/pingback",
    ]
    assert (project / "sdks/pingback" / SDK / "channel.py").is_file()

    imported = subprocess.run(
        [
            str(python_sdk.venv / "bin" / "python"),
            "-c",
            f"import {SDK} as pb; print(pb.__file__); print(pb.Channel.__module__);"
            "print(pb.ChannelType.TELEGRAM.value)",
        ],
        cwd="/",
        capture_output=True,
        text=True,
        check=True,
    )
    where, module, kind = imported.stdout.split()
    assert where.startswith(str(python_sdk.venv)), where  # installed, not the sdks/ folder
    assert (module, kind) == (f"{SDK}.channel", "telegram")

    (project / "__main__.py").write_text(
        "import pulumi\n"
        f"import {SDK} as pingback\n\n"
        "bot = pingback.Channel(\n"
        '    "support-bot",\n'
        "    type=pingback.ChannelType.TELEGRAM,\n"
        '    config={"bot_token": pulumi.Config().require_secret("botToken")},\n'
        ")\n"
        'pulumi.export("identity", bot.identity)\n'
    )
    st = stack(ws, project, sim, botToken=BOT)
    up = squash(st.up().stdout)
    assert f"+ {CHANNEL} support-bot created" in up
    assert 'identity: "telegram:bot/7000000001"' in up
    assert "+ 2 created" in up
    assert writes(sim) == [("POST", "/api/v1/channels/")]
    (made,) = sim.state()["channels"]
    assert made["id"] == ids(st)["support-bot"]
    assert made["config"] == {"bot_token": BOT}
    assert secrets_outside_envelopes(st.export(), [TOKEN, BOT]) == []


# ---- a YAML program ------------------------------------------------------------------------------


def _guide_yaml() -> list[dict[str, Any]]:
    """The YAML snippets of docs/native.md, parsed."""
    guide = (ROOT / "docs" / "native.md").read_text()
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", guide, re.S)]


def test_the_guide_s_yaml_programs_run_as_written(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    """docs/native.md's YAML: the bot program, then the functions beside it (the widget
    channel PingBack made with a widget, the bot read back by its identity)."""
    program, functions = _guide_yaml()
    project = yaml_project(
        tmp_path / "guide",
        native_plugin,
        program["resources"],
        config=("telegramBotToken",),
        outputs=program["outputs"],
    )
    st = stack(ws, project, sim, telegramBotToken="7123456789:AAH-guide-bot")
    st.up()
    assert st.outputs() == {"identity": "telegram:bot/7123456789"}
    widget = plant(sim, "widget", {"widget_id": "guide-site"})
    yaml_project(
        project,
        native_plugin,
        program["resources"],
        config=("telegramBotToken",),
        variables=functions["variables"],
        outputs={**program["outputs"], **functions["outputs"]},
    )
    sim.clear_log()
    up = st.up()
    assert writes(sim) == []
    assert "1 unchanged" in squash(up.stdout) or "2 unchanged" in squash(up.stdout)
    assert st.outputs() == {
        "identity": "telegram:bot/7123456789",
        "widgetChannel": widget,
        "botActive": True,
    }
    assert "- 2 deleted" in squash(st.destroy().stdout)


def test_yaml_up_preview_diff_after_a_rotation_and_a_bot_change_refresh_then_destroy(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    project = yaml_project(
        tmp_path / "yaml-diff",
        native_plugin,
        {"bot": telegram(), "phone": whatsapp()},
        config=("botToken", "waAccess", "waVerify"),
        outputs={"identity": "${bot.identity}"},
    )
    st = stack(ws, project, sim, botToken=BOT, waAccess=WA_ACCESS, waVerify=WA_VERIFY)
    up = squash(st.up().stdout)
    assert f"+ {CHANNEL} bot created" in up and f"+ {CHANNEL} phone created" in up
    assert "+ 3 created" in up
    assert 'identity: "telegram:bot/7000000001"' in up
    assert sorted(c["type"] for c in sim.state()["channels"]) == ["telegram", "whatsapp"]
    assert secrets_outside_envelopes(st.export(), [TOKEN, BOT, WA_ACCESS, WA_VERIFY]) == []
    sim.clear_log()

    # The bot's token re-issued by @BotFather: an update of that one key, shown [secret].
    st.set("botToken", BOT_ROTATED, secret=True)
    rotated = st.preview("--diff")
    text = squash(rotated.stdout)
    assert f"~ {CHANNEL}: (update)" in text
    assert "~ botToken: [secret] => [secret]" in text
    assert "~ accessToken: [secret] => [secret]" not in text  # the phone is not touched
    assert "~ 1 to update" in text and "2 unchanged" in text
    assert "(replace)" not in text
    for secret in (TOKEN, BOT, BOT_ROTATED, WA_ACCESS, WA_VERIFY):
        assert secret not in rotated.output and secret.split(":")[-1] not in rotated.output
    bot_step = preview_steps(st)["bot"]
    assert bot_step["op"] == "update"
    assert bot_step["detailedDiff"] == {"config.botToken": {"kind": "update", "inputDiff": True}}

    # Another bot: a replace, the identity readable and named as the reason.
    st.set("botToken", BOT_OTHER, secret=True)
    other = st.preview("--diff")
    text = squash(other.stdout)
    assert f"+-{CHANNEL}: (replace)" in text
    assert "~ botToken: [secret] => [secret]" in text
    assert '~ identity: "telegram:bot/7000000001" => "telegram:bot/7000000002"' in text
    assert "+-1 to replace" in text
    assert BOT_OTHER not in other.output and BOT_OTHER.split(":")[-1] not in other.output
    plain = squash(st.preview().stdout)
    assert f"+- {CHANNEL} bot replace [diff: ~config,identity]" in plain
    bot_step = preview_steps(st)["bot"]
    assert bot_step["op"] == "replace"
    assert bot_step["replaceReasons"] == ["identity"]
    assert bot_step["detailedDiff"] == {
        "config.botToken": {"kind": "update-replace", "inputDiff": True},
        "identity": {"kind": "update-replace", "inputDiff": True},
    }
    assert writes(sim) == []  # previews write nothing

    # The program as it was; the stack as PingBack holds it: a refresh reads, changes nothing.
    st.set("botToken", BOT, secret=True)
    channel = ids(st)
    sim.clear_log()

    clean = st.run("refresh", "--yes", "--non-interactive", "--expect-no-changes")
    assert "3 unchanged" in clean.stdout
    assert {r["method"] for r in sim.requests()} == {"GET"}  # reads only

    # In the dashboard: the bot turned off, a key added to the number's config.
    dashboard = api(sim)
    assert dashboard.patch(f"/channels/{channel['bot']}", json={"is_active": False}).is_success
    phone = next(c for c in sim.state()["channels"] if c["id"] == channel["phone"])
    config = {**phone["config"], "extra_key": DASHBOARD_KEY}
    assert dashboard.patch(f"/channels/{channel['phone']}", json={"config": config}).is_success
    sim.clear_log()

    drift = st.refresh("--diff")
    text = squash(drift.stdout)
    assert "~ isActive: true => false" in text
    assert "+ extra_key: [secret]" in text
    assert "~ 2 updated" in text
    assert DASHBOARD_KEY not in drift.output
    assert writes(sim) == []
    undo = squash(st.preview("--diff").stdout)  # the program puts both back
    assert "~ isActive: false => true" in undo
    assert "- extra_key: [secret]" in undo
    assert "~ 2 to update" in undo

    state = st.export()
    canaries = [TOKEN, BOT, WA_ACCESS, WA_VERIFY, DASHBOARD_KEY]
    assert secrets_outside_envelopes(state, canaries) == []
    for backend_file in ws.backend.rglob("*.json"):
        assert not [c for c in canaries if c in backend_file.read_text()], backend_file

    sim.clear_log()
    gone = st.destroy()
    assert f"- {CHANNEL} bot deleted" in squash(gone.stdout)
    assert "- 3 deleted" in gone.stdout
    assert sorted(writes(sim)) == sorted(
        ("DELETE", f"/api/v1/channels/{channel[name]}") for name in ("bot", "phone")
    )
    assert sim.state()["channels"] == []
    assert st.export()["deployment"].get("resources", []) == []


# ---- what the state seals ----------------------------------------------------------------------


def test_yaml_state_seals_each_credential_only_and_a_state_sealed_whole_previews_clean(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    """A widget has no ciphertext at all; a credential is secret in the inputs and the
    outputs, from secret config or plain text; readable keys stay plain; a config the
    program made secret whole stays so. A state as 0.3 sealed it (each config whole in the
    outputs, a widget's inputs too) then previews and refreshes with no change."""
    plain_bot = "7000000003:AAH-native-e2e-plain"
    whole_bot = "7000000004:AAH-native-e2e-whole"
    resources = {
        "w": {"type": CHANNEL, "properties": {"type": "widget", "config": {"widgetId": "w1"}}},
        "bot": telegram(),
        "plainbot": {
            "type": CHANNEL,
            "properties": {"type": "telegram", "config": {"botToken": plain_bot}},
        },
        "whole": {
            "type": CHANNEL,
            "properties": {"type": "telegram", "config": {"fn::secret": {"botToken": whole_bot}}},
        },
        "phone": whatsapp(),
    }
    project = yaml_project(
        tmp_path / "yaml-seal",
        native_plugin,
        resources,
        config=("botToken", "waAccess", "waVerify"),
    )
    st = stack(ws, project, sim, botToken=BOT, waAccess=WA_ACCESS, waVerify=WA_VERIFY)
    st.up()
    state = st.export()
    canaries = [TOKEN, BOT, plain_bot, whole_bot, WA_ACCESS, WA_VERIFY]
    assert secrets_outside_envelopes(state, canaries) == []
    sealed = {r["urn"].rsplit("::", 1)[1]: ciphertexts(r) for r in st.resources()}
    assert sealed == {
        "w": [],  # no `4dabf18193072939515e22adb298388d` anywhere in the widget
        "bot": [".inputs.config.botToken", ".outputs.config.botToken"],
        "plainbot": [".inputs.config.botToken", ".outputs.config.botToken"],
        "whole": [".inputs.config", ".outputs.config"],
        "phone": [
            ".inputs.config.accessToken",
            ".inputs.config.verifyToken",
            ".outputs.config.accessToken",
            ".outputs.config.verifyToken",
            ".outputs.metaVerifyToken",
        ],
    }
    phone = next(r for r in st.resources() if r["urn"].endswith("::phone"))
    assert phone["inputs"]["config"]["phoneNumberId"] == "109876543210"
    assert phone["outputs"]["config"]["phoneNumberId"] == "109876543210"

    # The same stack as 0.3 wrote it: `pulumi stack import`, then nothing to do.
    old = json.loads(st.run("stack", "export", "--show-secrets").stdout)
    for r in old["deployment"]["resources"]:
        if r["type"] == CHANNEL:
            r["outputs"]["config"] = sealed_whole(r["outputs"]["config"])
            r["additionalSecretOutputs"] = ["config", "metaVerifyToken"]
            if r["inputs"]["type"] == "widget":
                r["inputs"]["config"] = sealed_whole(r["inputs"]["config"])
    (tmp_path / "old.json").write_text(json.dumps(old))
    st.run("stack", "import", "--file", str(tmp_path / "old.json"))
    imported = next(r for r in st.resources() if r["urn"].endswith("::w"))
    assert ciphertexts(imported) == [".inputs.config", ".outputs.config"]
    sim.clear_log()
    assert "6 unchanged" in st.preview("--diff", "--expect-no-changes").stdout
    assert "6 unchanged" in st.refresh("--expect-no-changes").stdout
    assert "6 unchanged" in st.up().stdout  # the next `up` seals the inputs key by key
    widget = next(r for r in st.resources() if r["urn"].endswith("::w"))
    assert ciphertexts(widget["inputs"]) == []
    assert writes(sim) == []


# ---- `pulumi import` -----------------------------------------------------------------------------


def test_pulumi_import_for_python_then_the_generated_code_ups_without_a_change(
    ws: Workspace, python_sdk: PythonSdk, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    bot = plant(sim, "telegram", {"bot_token": BOT})
    phone = plant(
        sim,
        "whatsapp",
        {"phone_number_id": "5550001", "access_token": WA_ACCESS, "verify_token": WA_VERIFY},
        active=False,
    )
    project = python_native_project(
        tmp_path / "py-import", python_sdk, native_plugin, "import pulumi\n"
    )
    st = stack(ws, project, sim)
    sim.clear_log()

    out: dict[str, str] = {}
    for name, id_ in (("support-bot", bot), ("support-whatsapp", phone)):
        target = project / f"{name}.py"
        done = st.run("import", CHANNEL, name, id_, "--out", str(target), "--yes")
        assert f"= {CHANNEL} {name} imported" in squash(done.stdout)
        assert "= 1 imported" in done.stdout
        out[name] = target.read_text()
    assert writes(sim) == []  # read, never written
    assert ids(st) == {"support-bot": bot, "support-whatsapp": phone}

    # The code declares the channel as read, credentials included (wrapped as secrets),
    # and protected, as `pulumi import` always writes it.
    assert f"import {SDK} as pingback\n" in out["support-bot"]
    assert 'support_bot = pingback.Channel("support-bot",' in out["support-bot"]
    assert "type=pingback.ChannelType.TELEGRAM," in out["support-bot"]
    assert f'"bot_token": pulumi.Output.secret("{BOT}"),' in out["support-bot"]
    assert "opts = pulumi.ResourceOptions(protect=True))" in out["support-bot"]
    assert '"phone_number_id": "5550001",' in out["support-whatsapp"]
    assert "is_active=False," in out["support-whatsapp"]
    assert "type=pingback.ChannelType.WHATSAPP," in out["support-whatsapp"]
    # ... which the state keeps sealed
    assert secrets_outside_envelopes(st.export(), [TOKEN, BOT, WA_ACCESS, WA_VERIFY]) == []
    assert all(r.get("protect") for r in st.resources())

    # Each credential replaced with a secret config read, as the README says, then `up`.
    program = "\n".join(out.values())
    keys = {BOT: "botToken", WA_ACCESS: "waAccess", WA_VERIFY: "waVerify"}
    for value, key in keys.items():
        literal = f'pulumi.Output.secret("{value}")'
        assert literal in program
        program = program.replace(literal, f'pulumi.Config().require_secret("{key}")')
    st.configure(secrets={key: value for value, key in keys.items()})
    assert not [s for s in (BOT, WA_ACCESS, WA_VERIFY) if s in program]
    (project / "__main__.py").write_text(program)
    sim.clear_log()
    up = st.up()
    assert "3 unchanged" in up.stdout
    assert writes(sim) == []
    assert st.run("preview", "--expect-no-changes").code == 0
    assert ids(st) == {"support-bot": bot, "support-whatsapp": phone}

    # An id PingBack does not have: an error naming it, and nothing in the stack.
    missing = st.run("import", CHANNEL, "ghost", MISSING, "--yes", check=False)
    assert missing.code != 0
    assert f"error: Preview failed: PingBack has no channel {MISSING} in this business" in (
        missing.stdout
    )
    assert "ghost" not in ids(st)
    assert writes(sim) == []


def test_pulumi_import_for_yaml_then_the_generated_code_ups_without_a_change(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    bot = plant(sim, "telegram", {"bot_token": BOT})
    phone = plant(
        sim,
        "whatsapp",
        {"phone_number_id": "5550001", "access_token": WA_ACCESS, "verify_token": WA_VERIFY},
        active=False,
    )
    project = yaml_project(tmp_path / "yaml-import", native_plugin, {})
    st = stack(ws, project, sim)
    sim.clear_log()

    generated: dict[str, Any] = {}
    for name, id_ in (("support-bot", bot), ("support-whatsapp", phone)):
        target = project / f"{name}.yaml"
        done = st.run("import", CHANNEL, name, id_, "--out", str(target), "--yes")
        assert f"= {CHANNEL} {name} imported" in squash(done.stdout)
        generated.update(yaml.safe_load(target.read_text())["resources"])
    assert writes(sim) == []
    assert generated == {
        "support-bot": {
            "type": "pingback:Channel",
            "properties": {
                "config": {"botToken": {"fn::secret": BOT}},
                "isActive": True,
                "type": "telegram",
            },
            "options": {"protect": True},
        },
        "support-whatsapp": {
            "type": "pingback:Channel",
            "properties": {
                "config": {
                    "accessToken": {"fn::secret": WA_ACCESS},
                    "phoneNumberId": "5550001",
                    "verifyToken": {"fn::secret": WA_VERIFY},
                },
                "isActive": False,
                "type": "whatsapp",
            },
            "options": {"protect": True},
        },
    }
    assert secrets_outside_envelopes(st.export(), [TOKEN, BOT, WA_ACCESS, WA_VERIFY]) == []

    keys = {BOT: "botToken", WA_ACCESS: "waAccess", WA_VERIFY: "waVerify"}
    for resource in generated.values():
        config = resource["properties"]["config"]
        for k, v in config.items():
            if isinstance(v, dict):
                config[k] = f"${{{keys[v['fn::secret']]}}}"
    yaml_project(project, native_plugin, generated, config=keys.values())
    st.configure(secrets={key: value for value, key in keys.items()})
    assert not [s for s in keys if s in (project / "Pulumi.yaml").read_text()]
    sim.clear_log()
    up = st.up()
    assert "3 unchanged" in up.stdout
    assert writes(sim) == []
    assert st.run("preview", "--expect-no-changes").code == 0

    missing = st.run("import", CHANNEL, "ghost", MISSING, "--yes", check=False)
    assert missing.code != 0
    assert f"PingBack has no channel {MISSING} in this business" in missing.stdout
    assert "To fix: check the id" in missing.stdout
    assert "ghost" not in ids(st)


# ---- the `import` resource option ---------------------------------------------------------------


def test_the_import_option_adopts_a_channel_and_updates_it_to_the_program(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    bot = plant(sim, "telegram", {"bot_token": BOT})
    project = yaml_project(
        tmp_path / "yaml-adopt",
        native_plugin,
        {"bot": telegram(active=False, **{"import": bot})},
        config=("botToken",),
    )
    st = stack(ws, project, sim, botToken=BOT)
    sim.clear_log()

    plan = squash(st.preview("--diff").stdout)
    assert f"= {CHANNEL}: (import)" in plan
    assert f"~ {CHANNEL}: (update)" in plan
    assert "~ isActive: true => false" in plan
    assert "= 1 to import" in plan and "~ 1 to update" in plan

    # With Pulumi 3.274.1 the import is followed by an update in the same run: the
    # channel is read, then PATCHed to what the program declares; never created.
    up = squash(st.up().stdout)
    assert f"= {CHANNEL} bot imported" in up
    assert f"~ {CHANNEL} bot updated" in up
    assert "= 1 imported" in up and "~ 1 updated" in up
    assert writes(sim) == [("PATCH", f"/api/v1/channels/{bot}")]
    assert ids(st) == {"bot": bot}
    (adopted,) = sim.state()["channels"]
    assert adopted["is_active"] is False
    (resource,) = st.resources()
    assert resource["importID"] == bot

    sim.clear_log()
    again = st.up()
    assert "2 unchanged" in again.stdout
    assert writes(sim) == []


def test_an_import_id_left_in_the_program_blocks_a_replace_and_a_new_one_deletes_the_old(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    """What the engine really does when a change needs a replace, and once the channel is
    in the stack (the README says the option is then ignored: it is not)."""
    first = plant(sim, "telegram", {"bot_token": BOT})
    second = plant(sim, "telegram", {"bot_token": "7100000009:AAH-native-e2e-second"})
    where = tmp_path / "yaml-import-id"
    project = yaml_project(
        where, native_plugin, {"bot": telegram(**{"import": first})}, config=("botToken",)
    )
    refusal = (
        "previously-imported resources that still specify an ID may not be replaced; "
        "please remove the `import` declaration from your program;"
    )
    reason = "identity: {telegram:bot/7000000001} => {telegram:bot/7000000002}"

    # The program declares another bot than the channel's: the channel is imported as
    # read (it is in the stack afterwards), then the replace is refused: `up` fails.
    st = stack(ws, project, sim, botToken=BOT_OTHER)
    sim.clear_log()
    first_up = st.up(check=False)
    assert first_up.code != 0
    assert f"= {CHANNEL} bot imported" in squash(first_up.stdout)
    assert f"error: {refusal}" in first_up.stdout and reason in first_up.stdout
    assert writes(sim) == []
    assert ids(st) == {"bot": first}
    sim.clear_log()

    # Now in the stack, the id still in the program: every run refuses the replace, a
    # warning at preview and an error at `up`, nothing sent.
    warned = st.preview()
    assert f"warning: {refusal}" in warned.stdout and reason in warned.stdout
    failed = st.up(check=False)
    assert failed.code != 0
    assert f"error: {refusal}" in failed.stdout
    # nothing but the start-up check of each provider the two runs started
    assert writes(sim) == [] and set(asked(sim)) == set(STARTUP_LIST)
    assert ids(st) == {"bot": first}
    assert channel_ids(sim) == {first, second}

    # Another id (the program now declaring that channel): the engine imports it as a
    # replacement and deletes the channel the resource had: a DELETE reaches PingBack.
    st.set("botToken", "7100000009:AAH-native-e2e-second", secret=True)
    yaml_project(
        where, native_plugin, {"bot": telegram(**{"import": second})}, config=("botToken",)
    )
    plan = squash(st.preview("--diff").stdout)
    assert f"+-{CHANNEL}: (replace)" in plan
    assert '~ identity : "telegram:bot/7000000001" => "telegram:bot/7100000009"' in plan
    moved = squash(st.up().stdout)
    assert f"=> {CHANNEL} bot imported replacement" in moved
    assert f"-- {CHANNEL} bot deleted original" in moved
    assert "+-1 replaced" in moved
    assert writes(sim) == [("DELETE", f"/api/v1/channels/{first}")]
    assert ids(st) == {"bot": second}
    assert channel_ids(sim) == {second}


# ---- an upgrade from the last release ----------------------------------------------------------

RELEASE = "cd30274"
"""0.3.0, the last release: its schema took PingBack's config keys (``bot_token``), and
its state holds them."""


def _release_plugin(where: Path) -> Path:
    """The native plugin of the last release from this repository's history, as `pulumi
    package add` would have made it, but for its virtualenv, which lends it this suite's
    packages (pulumi, httpx, pydantic: within the ranges 0.3.0 asks for) instead of
    installing them again."""
    plugin = where / "pingback-0.3.0"
    plugin.mkdir(parents=True)
    files = ("__main__.py", "PulumiPlugin.yaml", "requirements.txt", "pulumi_pingback")
    git = shutil.which("git")
    assert git, "the upgrade test reads the release from this repository's history"
    archive = subprocess.run(
        [git, "-C", str(ROOT), "archive", RELEASE, *files], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(plugin, filter="data")
    venv = plugin / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (site,) = (venv / "lib").glob("python*/site-packages")
    (site / "suite.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return plugin


def _config_keys(st: Stack) -> dict[str, set[str]]:
    """The keys of each channel's config in the state's outputs (`stack export
    --show-secrets`: 0.3.0 sealed a config whole)."""
    state = json.loads(st.run("stack", "export", "--show-secrets").stdout)
    keys = {}
    for r in state["deployment"]["resources"]:
        if r["type"] == CHANNEL:
            config = r["outputs"]["config"]
            if "plaintext" in config:
                config = json.loads(config["plaintext"])
            keys[r["urn"].rsplit("::", 1)[1]] = set(config)
    return keys


def test_a_stack_of_the_last_release_previews_clean_after_the_upgrade(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    """The schema's config keys are camelCase now (``botToken``; a widget's more keys in
    ``extra``). A stack 0.3.0 made — PingBack's keys in its inputs and outputs — previews
    no change with this plugin and the program in the new shape; `up --refresh` moves its
    outputs to the new shape writing nothing to PingBack. A program left in the old shape
    is refused at preview, naming the keys there are."""
    old_widget = {
        "type": CHANNEL,
        "properties": {"type": "widget", "config": {"widget_id": "w1", "theme": "dark"}},
    }
    old_bot = {
        "type": CHANNEL,
        "properties": {"type": "telegram", "config": {"bot_token": "${botToken}"}},
    }
    old_phone = whatsapp()
    old_phone["properties"]["config"] = {
        "phone_number_id": "109876543210",
        "access_token": "${waAccess}",
        "verify_token": "${waVerify}",
    }
    old = {"bot": old_bot, "phone": old_phone, "w": old_widget}
    keys = ("botToken", "waAccess", "waVerify")
    project = yaml_project(tmp_path / "upgrade", _release_plugin(tmp_path), old, config=keys)
    st = stack(ws, project, sim, botToken=BOT, waAccess=WA_ACCESS, waVerify=WA_VERIFY)
    assert "+ 4 created" in st.up().stdout
    assert _config_keys(st) == {
        "bot": {"bot_token"},
        "phone": {"phone_number_id", "access_token", "verify_token"},
        "w": {"widget_id", "theme"},
    }  # the release's shape
    sim.clear_log()

    yaml_project(project, native_plugin, old, config=keys)
    refused = st.preview(check=False)
    assert refused.code != 0
    text = squash(refused.output)
    # Pulumi YAML checks a program against the schema, so the old keys never reach the
    # plugin (whose own refusal, for untyped callers, is tests/test_native.py's).
    assert "Property bot_token does not exist on 'pingback:index:ChannelConfig'" in text, text
    assert "Existing properties are: botToken" in text
    assert "Cannot assign '{widget_id: string, theme: string}'" in text

    widget = {
        "type": CHANNEL,
        "properties": {"type": "widget", "config": {"widgetId": "w1", "extra": {"theme": "dark"}}},
    }
    yaml_project(
        project, native_plugin, {"bot": telegram(), "phone": whatsapp(), "w": widget}, config=keys
    )
    plan = squash(st.preview("--expect-no-changes", "--diff").stdout)
    assert "4 unchanged" in plan, plan
    st.up("--refresh")
    assert writes(sim) == []
    assert _config_keys(st) == {
        "bot": {"botToken"},
        "phone": {"phoneNumberId", "accessToken", "verifyToken"},
        "w": {"widgetId", "extra"},
    }
    assert secrets_outside_envelopes(st.export(), [TOKEN, BOT, WA_ACCESS, WA_VERIFY]) == []
    assert "4 unchanged" in squash(st.preview("--expect-no-changes").stdout)
    assert writes(sim) == []


# ---- dynamic -> native ----------------------------------------------------------------------------

DYNAMIC_PROGRAM = """\
import pulumi
from pulumi_pingback import PingBackChannel, TelegramConfig, WhatsAppConfig

config = pulumi.Config()
opts = pulumi.ResourceOptions(retain_on_delete=RETAIN)
bot = PingBackChannel(
    "support-bot",
    type="telegram",
    config=TelegramConfig(bot_token=config.require_secret("botToken")),
    opts=opts,
)
whatsapp = PingBackChannel(
    "support-whatsapp",
    type="whatsapp",
    config=WhatsAppConfig(
        phone_number_id="109876543210",
        access_token=config.require_secret("waAccess"),
        verify_token=config.require_secret("waVerify"),
    ),
    opts=opts,
)
pulumi.export("bot", bot.id)
pulumi.export("whatsapp", whatsapp.id)
"""

NATIVE_PROGRAM = """\
import pulumi
import pulumi_pingback_native as pingback

config = pulumi.Config()
ids = IDS
bot = pingback.Channel(
    "support-bot",
    type=pingback.ChannelType.TELEGRAM,
    config={"bot_token": config.require_secret("botToken")},
    opts=pulumi.ResourceOptions(import_=ids.get("support-bot")),
)
whatsapp = pingback.Channel(
    "support-whatsapp",
    type=pingback.ChannelType.WHATSAPP,
    config={
        "phone_number_id": "109876543210",
        "access_token": config.require_secret("waAccess"),
        "verify_token": config.require_secret("waVerify"),
    },
    opts=pulumi.ResourceOptions(import_=ids.get("support-whatsapp")),
)
pulumi.export("bot", bot.id)
pulumi.export("whatsapp", whatsapp.id)
"""


def test_a_dynamic_stack_moves_to_the_native_plugin_without_a_create_or_a_delete(
    ws: Workspace, python_sdk: PythonSdk, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    program = tmp_path / "move" / "__main__.py"
    project = python_native_project(
        program.parent, python_sdk, native_plugin, DYNAMIC_PROGRAM.replace("RETAIN", "False")
    )
    st = stack(ws, project, sim, botToken=BOT, waAccess=WA_ACCESS, waVerify=WA_VERIFY)
    assert "+ 3 created" in st.up().stdout
    dynamic = ids(st, DYNAMIC)
    assert set(dynamic) == {"support-bot", "support-whatsapp"}
    assert channel_ids(sim) == set(dynamic.values())
    canaries = [TOKEN, BOT, WA_ACCESS, WA_VERIFY]

    # 1. retain_on_delete: the state only changes.
    program.write_text(DYNAMIC_PROGRAM.replace("RETAIN", "True"))
    sim.clear_log()
    assert "3 unchanged" in st.up().stdout
    assert writes(sim) == []
    assert all(r.get("retainOnDelete") for r in st.resources(DYNAMIC))

    # 2. the same channels as pingback.Channel with import_: read and taken over; the
    # old resources leave the stack without their Delete.
    program.write_text(NATIVE_PROGRAM.replace("IDS", repr(dynamic)))
    sim.clear_log()
    plan = squash(st.preview("--diff").stdout)
    assert plan.count(f"= {CHANNEL}: (import)") == 2
    assert plan.count(f"- {DYNAMIC}: (delete[retain])") == 2
    assert "- 2 to delete" in plan and "= 2 to import" in plan
    moved = squash(st.up().stdout)
    assert f"= {CHANNEL} support-bot imported" in moved
    for name in dynamic:
        assert re.search(rf"- {DYNAMIC} {name} deleted \([\d.]+s\)\[retain\]", moved), name
    assert "- 2 deleted" in moved and "= 2 imported" in moved
    assert writes(sim) == []
    assert ids(st) == dynamic
    assert ids(st, DYNAMIC) == {}
    assert channel_ids(sim) == set(dynamic.values())
    assert st.outputs() == {"bot": dynamic["support-bot"], "whatsapp": dynamic["support-whatsapp"]}
    assert secrets_outside_envelopes(st.export(), canaries) == []

    # 3. import_ removed: a clean up and refresh.
    program.write_text(NATIVE_PROGRAM.replace("IDS", "{}"))
    sim.clear_log()
    assert "3 unchanged" in st.up().stdout
    assert st.run("preview", "--expect-no-changes").code == 0
    assert st.run("refresh", "--yes", "--expect-no-changes").code == 0
    assert writes(sim) == []
    assert ids(st) == dynamic
    assert channel_ids(sim) == set(dynamic.values())
    assert secrets_outside_envelopes(st.export(), canaries) == []
