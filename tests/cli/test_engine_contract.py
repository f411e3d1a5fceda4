"""The provider keeps the real engine's contract (issue #17), each point shown by the CLI:
ignoreChanges on refresh, lookups of a missing id, importing what PingBack stores,
warnings that reach the user, readable keys in previews, gRPC codes, `::` in names,
adoption across provider processes, launch forms, names as the user wrote them, and
proxies and private CAs."""

from __future__ import annotations

import http.server
import json
import os
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
import yaml

from ..engine._processes import SimulatorProcess
from ._cli import (
    CHANNEL,
    TOKEN,
    Stack,
    Workspace,
    api,
    ids,
    plant,
    python_project,
    secrets_outside_envelopes,
    squash,
    stack_on,
    writes,
    yaml_project,
)

DYNAMIC = "pulumi-python:dynamic/pingback:Channel"
BOT = "7000000001:AAH-contract-e2e-first"
BOT_ROTATED = "7000000001:AAH-contract-e2e-rotated"
MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def bot(**options: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "type": CHANNEL,
        "properties": {"type": "telegram", "config": {"botToken": "${botToken}"}},
    }
    if options:
        resource["options"] = options
    return resource


def one_bot(
    front: str, where: Path, plugin: Path, yaml_options: dict[str, Any], python_options: str
) -> tuple[Path, str]:
    """A program of one bot, its token from secret config ``botToken``, with resource
    options: YAML for the native plugin, Python for the dynamic provider. The project and
    the bot's type token."""
    if front == "native":
        project = yaml_project(where, plugin, {"bot": bot(**yaml_options)}, config=("botToken",))
        return project, CHANNEL
    project = python_project(
        where,
        "import pulumi\nfrom pulumi_pingback import PingBackChannel\n"
        'PingBackChannel("bot", type="telegram", config={"bot_token": '
        'pulumi.Config().require_secret("botToken")}, opts=pulumi.ResourceOptions('
        f"{python_options}))\n",
    )
    return project, DYNAMIC


# ---- 1. ignoreChanges on refresh -------------------------------------------------------------


@pytest.mark.parametrize("front", ["native", "dynamic"])
def test_ignore_changes_keeps_a_dashboard_change_out_of_refresh(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path, front: str
) -> None:
    project, kind = one_bot(
        front,
        tmp_path / "p",
        native_plugin,
        {"ignoreChanges": ["config.botToken", "isActive"]},
        'ignore_changes=["config.bot_token", "is_active"]',
    )
    st = stack_on(ws, project, sim, botToken=BOT)
    st.up()
    (channel_id,) = ids(st, kind).values()
    # The token rotated and the bot switched off in the dashboard: both paths ignored.
    with api(sim) as dashboard:
        changed = dashboard.patch(
            f"/channels/{channel_id}",
            json={"type": "telegram", "config": {"bot_token": BOT_ROTATED}, "is_active": False},
        )
    assert changed.is_success
    quiet = st.run("refresh", "--yes", "--expect-no-changes", check=False)
    assert quiet.code == 0, quiet
    assert "2 unchanged" in quiet.stdout
    # The next `up` leaves the channel as it is in PingBack: nothing sent.
    sim.clear_log()
    assert st.run("preview", "--expect-no-changes").code == 0
    assert writes(sim) == []


# ---- 2. a lookup of a missing id --------------------------------------------------------------


def test_a_get_of_a_missing_id_is_an_error_naming_it_not_a_phantom(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    existing = plant(sim, "telegram", {"bot_token": BOT})
    looked_up = {
        "type": CHANNEL,
        # the state a program gives a get: the engine sends it as both inputs and state
        "get": {"id": existing, "state": {"type": "telegram", "isActive": True}},
    }
    project = yaml_project(
        tmp_path / "p", native_plugin, {"found": looked_up}, outputs={"id": "${found.identity}"}
    )
    st = stack_on(ws, project, sim)
    found = squash(st.up().stdout)
    assert 'id: "telegram:bot/7000000001"' in found

    missing = dict(looked_up, get={"id": MISSING, "state": {"type": "telegram"}})
    yaml_project(tmp_path / "p", native_plugin, {"found": missing})
    failed = st.up(check=False)
    assert failed.code != 0
    assert f"PingBack has no channel {MISSING} in this business" in failed.stdout
    assert MISSING not in json.dumps(st.export())  # no phantom in the state


# ---- 3. importing what PingBack already stores -----------------------------------------------


@pytest.mark.parametrize(
    ("kind", "config"),
    [
        ("telegram", {"bot_token": BOT, "dashboard_note": "added in the dashboard"}),
        ("sms", {"sender": ""}),
    ],
    ids=["telegram-with-a-dashboard-key", "sms-with-an-empty-value"],
)
def test_pulumi_import_of_what_pingback_stores_checks_and_ups_clean(
    ws: Workspace,
    native_plugin: Path,
    sim: SimulatorProcess,
    tmp_path: Path,
    kind: str,
    config: dict[str, str],
) -> None:
    channel_id = "5d3c2b1a-0000-4000-8000-00000000" + ("0001" if kind == "telegram" else "0002")
    sim.control.post(
        "/_sim/channels",
        json={
            "id": channel_id,
            "business_id": sim.state()["business_id"],
            "type": kind,
            "config": config,
            "is_active": True,
            "created_at": "2026-11-30T10:00:00Z",
        },
    ).raise_for_status()
    project = yaml_project(tmp_path / "p", native_plugin, {})
    st = stack_on(ws, project, sim)
    out = tmp_path / "imported.yaml"
    imported = st.run("import", CHANNEL, "imported", channel_id, "--yes", "--out", str(out))
    assert imported.code == 0
    assert "failed to validate" not in imported.output
    generated = yaml.safe_load(out.read_text())
    resource = generated["resources"]["imported"]
    assert resource["options"]["protect"] is True  # what `pulumi import` adds
    # The generated code, with its credential from secret config, ups clean.
    if kind == "telegram":
        resource["properties"]["config"]["botToken"] = "${botToken}"
        st.set("botToken", BOT, secret=True)
        project_data = yaml.safe_load((project / "Pulumi.yaml").read_text())
        project_data["config"] = {"botToken": {"type": "string", "secret": True}}
        (project / "Pulumi.yaml").write_text(yaml.safe_dump(project_data))
    data = yaml.safe_load((project / "Pulumi.yaml").read_text())
    data["resources"] = generated["resources"]
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    sim.clear_log()
    again = st.up()
    assert "2 unchanged" in again.stdout, again
    assert writes(sim) == []


# ---- 5. what the provider must say reaches the user -------------------------------------------


def test_a_rate_limit_wait_and_a_settle_are_warnings_the_cli_prints(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    project = yaml_project(tmp_path / "p", native_plugin, {"bot": bot()}, config=("botToken",))
    st = stack_on(ws, project, sim, settings={"pingback:timeout": "2"}, botToken=BOT)
    sim.control.post(
        "/_sim/faults",
        json={"kind": "status", "status": 429, "retry_after": 1, "method": "POST", "times": 1},
    ).raise_for_status()
    sim.control.post(
        "/_sim/faults",
        json={"kind": "latency", "delay": 3, "method": "POST", "times": 1},  # the next POST
    ).raise_for_status()
    done = squash(st.up("--skip-preview").stdout)
    assert (
        f"{CHANNEL} (bot):\n warning: PingBack is rate limiting requests (429 on POST): "
        "waiting 1 s, as it asks, before attempt 2 of 4"
    ) in done
    assert "got no usable answer (APITimeoutError): listing the channels for up to 2 s" in done
    assert len(sim.state()["channels"]) == 1  # and the late create was found, not repeated


def test_pingback_log_level_lines_reach_the_cli(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    project = yaml_project(tmp_path / "p", native_plugin, {"bot": bot()}, config=("botToken",))
    # A 503 to a POST leaves its outcome unknown: the channels are listed over a settle
    # window (the timeout) before the retry. 2 s, not the default 30: the wait is not
    # what this test is about.
    st = stack_on(ws, project, sim, settings={"pingback:timeout": "2"}, botToken=BOT)
    sim.control.post(
        "/_sim/faults", json={"kind": "status", "status": 503, "method": "POST", "times": 1}
    ).raise_for_status()
    done = squash(st.up("--skip-preview", env={"PINGBACK_LOG_LEVEL": "INFO"}).stdout)
    assert "retrying POST after InternalServerError" in done
    assert BOT not in done and TOKEN not in done
    # DEBUG lines (each request) reach the CLI's output only with --debug, as the CLI
    # prints every debug diagnostic (README, Troubleshooting).
    debug = {"PINGBACK_LOG_LEVEL": "DEBUG"}
    assert "GET /api/v1/channels/ -> 200" not in st.preview(env=debug).stdout
    shown = st.preview("--debug", env=debug).stdout
    assert "GET /api/v1/channels/ -> 200" in shown
    assert BOT not in shown and TOKEN not in shown


# ---- 5b. customTimeouts bound the whole create ---------------------------------------------------


@pytest.mark.parametrize("front", ["native", "dynamic"])
def test_custom_timeouts_cut_a_create_against_a_hung_server_and_the_next_up_settles_it(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path, front: str
) -> None:
    """PingBack takes the POST, makes the channel, then hangs 40 s before it answers.
    Under `customTimeouts: {create: 3s}` the create gives up after 3 s — not after the
    client's own budget (the 30 s request timeout, then retries): its error says the
    limit ran out and that the channel may exist, and the next `up` finds the channel
    that POST made instead of making a second."""
    project, kind = one_bot(
        front,
        tmp_path / "p",
        native_plugin,
        {"customTimeouts": {"create": "3s"}},
        'custom_timeouts=pulumi.CustomTimeouts(create="3s")',
    )
    st = stack_on(ws, project, sim, botToken=BOT)
    assert st.run("preview").code == 0  # the plugin and the program ready: not timed below
    sim.control.post(
        "/_sim/faults", json={"kind": "hang", "delay": 40, "method": "POST", "times": 1}
    ).raise_for_status()
    started = time.monotonic()
    failed = st.up("--skip-preview", check=False)
    took = time.monotonic() - started
    assert failed.code != 0
    said = squash(failed.output)
    assert "customTimeouts.create: 3 s" in said, said
    assert "outcome is unknown" in said, said
    assert took < 3 + 12, took  # the limit, one request, the CLI's own start and end
    assert len(sim.state()["channels"]) == 1  # PingBack made it all the same

    sim.control.delete("/_sim/faults").raise_for_status()
    sim.clear_log()
    settled = st.up("--skip-preview", check=False)
    assert settled.code == 0, settled
    assert [r["method"] for r in sim.requests() if r["method"] == "POST"] == []
    (made,) = sim.state()["channels"]
    assert ids(st, kind) == {"bot": made["id"]}


# ---- 5c. the functions: getChannels, getChannel --------------------------------------------------


@pytest.mark.parametrize("front", ["native", "dynamic"])
def test_get_channels_and_get_channel_read_what_no_stack_manages_without_a_credential(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path, front: str
) -> None:
    """The widget channel PingBack makes with a widget, and a bot made in the dashboard:
    a YAML program (`fn::invoke`) and a Python program of the dynamic provider
    (`get_channels`, `get_channel`) read them — ids, types, identities, the readable keys
    — and never the bot's token. A malformed identity fails the preview, by name."""
    widget = plant(sim, "widget", {"widget_id": "w-site-1", "theme": "dark"})
    made = plant(sim, "telegram", {"bot_token": BOT})
    if front == "native":

        def program(identity: str) -> Path:
            return yaml_project(
                tmp_path / "p",
                native_plugin,
                {},
                variables={
                    "widgets": {
                        "fn::invoke": {
                            "function": "pingback:index:getChannels",
                            "arguments": {"type": "widget"},
                        }
                    },
                    "bot": {
                        "fn::invoke": {
                            "function": "pingback:index:getChannel",
                            "arguments": {"identity": identity},
                        }
                    },
                },
                outputs={"widgets": "${widgets.channels}", "bot": "${bot}"},
            )

        names = {"active": "isActive", "made": "createdAt", "widget": "widgetId"}
    else:

        def program(identity: str) -> Path:
            return python_project(
                tmp_path / "p",
                "import pulumi\nfrom pulumi_pingback import ChannelType, get_channel, get_channels\n"
                'pulumi.export("widgets", get_channels(type=ChannelType.WIDGET))\n'
                f'pulumi.export("bot", get_channel(identity={identity!r}))\n',
            )

        names = {"active": "is_active", "made": "created_at", "widget": "widget_id"}
    st = stack_on(ws, program("telegram:bot/7000000001"), sim)
    sim.clear_log()
    up = st.up()
    assert writes(sim) == []
    outputs = st.outputs()
    (listed,) = outputs["widgets"]
    assert listed["id"] == widget and listed["type"] == "widget"
    assert listed["config"] == {names["widget"]: "w-site-1"}  # not `theme`: undocumented
    assert listed[names["active"]] is True and listed[names["made"]]
    bot = outputs["bot"]
    assert (bot["id"], bot["type"], bot["identity"]) == (
        made,
        "telegram",
        "telegram:bot/7000000001",
    )
    assert bot["config"] == {}  # its only key is a credential
    assert BOT not in up.output and BOT not in json.dumps(st.export())

    program("telegram:7000000001")
    refused = st.preview(check=False)
    assert refused.code != 0
    said = squash(refused.output)
    assert "identity" in said and "must be <kind>/<id>" in said, said


# ---- 6. readable keys stay readable -------------------------------------------------------------


def test_phone_number_id_is_readable_in_previews_and_state_credentials_are_not(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    def program(number: str) -> Path:
        wa = {
            "type": CHANNEL,
            "properties": {
                "type": "whatsapp",
                "config": {
                    "phoneNumberId": number,
                    "accessToken": "EAAG-plain-in-the-program",  # no secret: sealed anyway
                    "verifyToken": "${verify}",
                },
            },
        }
        return yaml_project(tmp_path / "p", native_plugin, {"wa": wa}, config=("verify",))

    st = stack_on(ws, program("109876543210"), sim, verify="verify-e2e")
    st.up()
    (wa,) = [r for r in st.resources() if r["type"] == CHANNEL]
    assert wa["inputs"]["config"]["phoneNumberId"] == "109876543210"
    assert "ciphertext" in wa["inputs"]["config"]["accessToken"]
    assert "ciphertext" in wa["inputs"]["config"]["verifyToken"]
    assert secrets_outside_envelopes(st.export(), ["EAAG-plain-in-the-program", "verify-e2e"]) == []
    program("109876543299")
    diff = squash(st.preview("--diff").stdout)
    assert '~ phoneNumberId: "109876543210" => "109876543299"' in diff
    assert "EAAG-plain-in-the-program" not in diff


# ---- 7. a failure that changed nothing is not "state unknown" --------------------------------


def summary(events: str) -> dict[str, Any]:
    """The summary of `pulumi up --skip-preview --json` (its engine events, one a line):
    ``maybeCorrupt`` is the engine's verdict that a resource's state may be unknown."""
    for line in events.splitlines():
        event = json.loads(line)
        if "summaryEvent" in event:
            found: dict[str, Any] = event["summaryEvent"]
            return found
    raise AssertionError(f"no summary event in:\n{events[-2000:]}")


def test_a_refused_update_is_a_known_failure_and_a_lost_one_is_not(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    # The engine marks a run "maybe corrupt" when Read, Update or Delete fail with gRPC
    # UNKNOWN (INTERNAL, DATA_LOSS): the resource's state is unknown. (CLI 3.274 ignores
    # the code of a failed Create.) A PATCH PingBack refused changed nothing.
    project = yaml_project(tmp_path / "p", native_plugin, {"bot": bot()}, config=("botToken",))
    st = stack_on(ws, project, sim, settings={"pingback:maxRetries": "0"}, botToken=BOT)
    st.up()
    sim.control.post(
        "/_sim/faults", json={"kind": "status", "status": 400, "method": "PATCH", "times": 1}
    ).raise_for_status()
    st.set("botToken", BOT_ROTATED, secret=True)
    refused = st.up("--skip-preview", "--json", check=False)
    assert refused.code != 0
    assert "PingBack refused the channel (400 on PATCH" in refused.stdout
    assert summary(refused.stdout).get("maybeCorrupt", False) is False

    # A PATCH whose answer is lost, and the channel cannot be read back: unknown.
    sim.control.post(
        "/_sim/faults",
        json={"kind": "drop", "method": "PATCH", "after_commit": True, "times": 1},
    ).raise_for_status()
    sim.control.post(  # every list: the provider's start-up one, and the read-back
        "/_sim/faults", json={"kind": "status", "status": 503, "method": "GET", "times": None}
    ).raise_for_status()
    lost = st.up("--skip-preview", "--json", check=False)
    assert lost.code != 0
    assert summary(lost.stdout)["maybeCorrupt"] is True  # the truth: it may have landed


# ---- 8. a name holding `::` -----------------------------------------------------------------


def test_a_resource_name_with_double_colons_works(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    named = dict(bot(), name="team::support-bot")
    project = yaml_project(tmp_path / "p", native_plugin, {"bot": named}, config=("botToken",))
    st = stack_on(ws, project, sim, botToken=BOT)
    assert "+ 2 created" in st.up().stdout
    (urn,) = [r["urn"] for r in st.resources() if r["type"] == CHANNEL]
    assert urn.endswith("::pingback:index:Channel::team::support-bot")
    assert st.run("refresh", "--yes", "--expect-no-changes").code == 0
    assert "- 2 deleted" in st.destroy().stdout
    assert sim.state()["channels"] == []


# ---- 9. adoption across two provider processes -----------------------------------------------


def test_a_replaced_adopted_channel_survives_a_provider_change(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    adopted = plant(sim, "telegram", {"bot_token": BOT})
    resource = bot()
    resource["properties"]["adoptId"] = adopted
    project = yaml_project(tmp_path / "p", native_plugin, {"bot": resource}, config=("botToken",))
    st = stack_on(ws, project, sim, botToken=BOT)
    st.up()
    # The same channel under an explicit provider, and replaced (`--target-replace`) in the
    # same run: the replacement's create runs in the new provider's process, the old
    # resource's delete in the old (default) provider's.
    explicit = {
        "type": "pulumi:providers:pingback",
        "properties": {"apiUrl": sim.url, "token": "${pingback:token}"},
    }
    moved = dict(resource, options={"provider": "${explicit}"})
    yaml_project(
        tmp_path / "p",
        native_plugin,
        {"explicit": explicit, "bot": moved},
        config=("botToken",),
    )
    sim.clear_log()
    (urn,) = [r["urn"] for r in st.resources() if r["type"] == CHANNEL]
    done = st.up("--target-replace", urn, "--target", urn, "--target-dependents")
    assert "replaced" in done.stdout, done
    assert [c["id"] for c in sim.state()["channels"]] == [adopted]  # never deleted
    assert ("DELETE", f"/api/v1/channels/{adopted}") not in writes(sim)
    assert ids(st) == {"bot": adopted}


# ---- 10. launch forms ------------------------------------------------------------------------------


def test_the_plugin_starts_with_tracing_and_attaches_for_debugging(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    project = yaml_project(tmp_path / "p", native_plugin, {"bot": bot()}, config=("botToken",))
    st = stack_on(ws, project, sim, botToken=BOT)
    traced = st.up("--tracing", (tmp_path / "trace.json").as_uri())
    assert "+ 2 created" in traced.stdout

    # PULUMI_DEBUG_PROVIDERS: the plugin started by hand (no engine address), the CLI
    # attaches to it at its port.
    python = native_plugin / "venv" / "bin" / "python"
    plugin = subprocess.Popen(
        [str(python), str(native_plugin)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert plugin.stdout is not None
        port = plugin.stdout.readline().strip()
        assert port.isdigit(), plugin.stderr.read() if plugin.stderr else ""
        st.set("botToken", BOT_ROTATED, secret=True)
        attached = st.up(env={"PULUMI_DEBUG_PROVIDERS": f"pingback:{port}"})
        assert "~ 1 updated" in attached.stdout
    finally:
        plugin.terminate()
        plugin.wait(10)


def test_pip_install_puts_a_plugin_on_path_that_the_cli_runs(
    ws: Workspace, sim: SimulatorProcess, tmp_path: Path, native_plugin: Path
) -> None:
    # The README's alternative to `pulumi package add`: the package installed in a
    # virtualenv of its own, whose bin/ is on PATH (not activated). The plugin's ./venv is
    # one: `pulumi package add` made it and pip-installed requirements.txt (`.[native]`,
    # i.e. `pip install <checkout>[native]`) into it, dependencies and all. A project with
    # no `packages:` entry: the CLI finds pulumi-resource-pingback on PATH, which holds
    # that bin/ and the CLI's, nothing else of Python.
    venv_bin = native_plugin / "venv" / "bin"
    assert (venv_bin / "pulumi-resource-pingback").is_file()
    project = tmp_path / "p"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        yaml.safe_dump(
            {
                "name": "on-path",
                "runtime": "yaml",
                "config": {"botToken": {"type": "string", "secret": True}},
                "resources": {"bot": bot()},
            }
        )
    )
    st = stack_on(ws, project, sim, botToken=BOT)
    path = os.pathsep.join([str(venv_bin), str(ws.bin), "/usr/bin", "/bin"])
    assert "+ 2 created" in st.up(env={"PATH": path}).stdout
    assert len(sim.state()["channels"]) == 1


def test_a_plaintext_owner_token_is_sealed_in_the_native_state(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    """The native plugin marks ``token`` secret in the provider's checked inputs, so the
    state's copy of the settings is encrypted even when the stack config is not
    (docs/secrets.md)."""
    project = yaml_project(tmp_path / "p", native_plugin, {"bot": bot()}, config=("botToken",))
    st = Stack(ws, project, "dev").init()
    st.configure({"pingback:apiUrl": sim.url, "pingback:token": TOKEN}, {"botToken": BOT})
    st.up()
    assert TOKEN not in json.dumps(st.export())


# ---- 11. names as the user wrote them ------------------------------------------------------------


def test_a_config_key_is_named_as_the_user_wrote_it(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    typo = bot()
    typo["properties"]["config"]["adopt_id"] = MISSING
    project = yaml_project(tmp_path / "p", native_plugin, {"bot": typo}, config=("botToken",))
    st = stack_on(ws, project, sim, botToken=BOT)
    failed = st.preview(check=False)
    assert failed.code != 0
    # Pulumi YAML checks the program against the schema's typed config (the plugin's own
    # message for an untyped caller: tests/test_native.py).
    assert "Property adopt_id does not exist on 'pingback:index:ChannelConfig'" in failed.stdout
    assert "adoptId" not in failed.stdout


# ---- 12. proxies and private CAs ------------------------------------------------------------------


class _Relay(http.server.BaseHTTPRequestHandler):
    """Relays each request to PingBack: as a company's forward proxy does (absolute-URI
    requests, ``upstream`` None), or as PingBack's own TLS front does (``upstream``: the
    simulator). Every request is noted in ``seen``."""

    server: _Server

    def _relay(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        url = self.path if self.server.upstream is None else self.server.upstream + self.path
        headers = {k: v for k, v in self.headers.items() if k in ("Authorization", "Content-Type")}
        with httpx.Client(trust_env=False) as client:
            answer = client.request(self.command, url, content=body, headers=headers)
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _relay

    def log_message(self, *args: Any) -> None:
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Relay)
        self.upstream = upstream
        self.seen: list[str] = []

    def start(self) -> _Server:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self


@pytest.fixture
def proxy() -> Iterator[_Server]:
    server = _Server().start()
    yield server
    server.shutdown()


def test_https_proxy_and_no_proxy_are_honoured(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path, proxy: _Server
) -> None:
    project = yaml_project(tmp_path / "p", native_plugin, {"bot": bot()}, config=("botToken",))
    st = stack_on(ws, project, sim, botToken=BOT)
    through = {"HTTP_PROXY": f"http://127.0.0.1:{proxy.server_address[1]}", "NO_PROXY": ""}
    st.up(env=through)
    seen = proxy.seen
    assert f"POST {sim.url}/api/v1/channels/" in seen
    assert len(sim.state()["channels"]) == 1

    seen.clear()
    bypass = dict(through, NO_PROXY="127.0.0.1")
    st.set("botToken", BOT_ROTATED, secret=True)
    st.up(env=bypass)
    assert seen == []  # NO_PROXY: straight to PingBack


def test_a_private_ca_in_ssl_cert_file_is_trusted(
    ws: Workspace, native_plugin: Path, sim: SimulatorProcess, tmp_path: Path
) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    server = _Server(upstream=sim.url)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.start()
    try:
        ca_file = tmp_path / "company-ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        project = yaml_project(tmp_path / "p", native_plugin, {"bot": bot()}, config=("botToken",))
        tls = {"pingback:apiUrl": f"https://localhost:{server.server_address[1]}"}
        st = stack_on(ws, project, sim, settings=tls, botToken=BOT)
        untrusted = st.up(check=False)
        assert untrusted.code != 0
        assert "its TLS certificate is not trusted" in untrusted.stdout
        assert "SSL_CERT_FILE" in untrusted.stdout
        trusted = st.up(env={"SSL_CERT_FILE": str(ca_file)})
        assert f"{CHANNEL} bot created" in trusted.stdout
        assert len(sim.state()["channels"]) == 1
    finally:
        server.shutdown()
