"""`pingback channels` and `pingback export`, against the simulator; the export, run."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pulumi_pingback import DesiredChannel, PingBackClient
from pulumi_pingback.cli import main
from pulumi_pingback.simulator import Simulator

from .conftest import TOKEN, quick
from .engine import Engine
from .program import run_program

CANARY = "CANARY-cli"

EVERY_TYPE: list[tuple[str, dict[str, Any], bool]] = [
    ("telegram", {"bot_token": f"7123456789:{CANARY}tg"}, True),
    (
        "whatsapp",
        {"phone_number_id": "109876", "access_token": f"{CANARY}wa", "verify_token": f"{CANARY}v"},
        True,
    ),
    (
        "instagram",
        {"phone_number_id": "55501", "access_token": f"{CANARY}ig", "verify_token": f"{CANARY}v2"},
        False,
    ),
    (
        "x",
        {
            "api_key": f"{CANARY}k",
            "api_secret": f"{CANARY}s",
            "access_token": f"4242-{CANARY}a",
            "access_token_secret": f"{CANARY}t",
            "bearer_token": f"{CANARY}b",
        },
        True,
    ),
    ("widget", {"widget_id": "w-support", "theme_key": f"{CANARY}w"}, True),
    ("webchat", {}, True),
    ("email", {"address": f"{CANARY}mail"}, True),
    ("sms", {"provider": {"key": f"{CANARY}sms", "n": 2}}, True),
]


@pytest.fixture
def business(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> PingBackClient:
    """A business holding a channel of every type, and the CLI's environment pointing at it."""
    client = quick(sim)
    for ctype, config, active in EVERY_TYPE:
        client.create(DesiredChannel(ctype, config, active))
    monkeypatch.setenv("PINGBACK_TOKEN", TOKEN)
    monkeypatch.setenv("PINGBACK_API_URL", sim.url)
    monkeypatch.setenv("PINGBACK_MAX_RETRIES", "0")
    sim.clear_log()
    return client


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_channels_lists_every_channel_as_a_table_and_as_json(
    sim: Simulator, business: PingBackClient
) -> None:
    code, out, err = run("channels")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "TYPE", "IDENTITY", "ACTIVE", "CREATED"]
    assert lines[-1] == "8 channels"
    assert any("telegram:bot/7123456789" in line and " yes " in line for line in lines)
    assert any("instagram:phone/55501" in line and " no " in line for line in lines)
    code, out, _ = run("channels", "--json")
    rows = json.loads(out)
    assert {r["type"] for r in rows} == {t for t, _, _ in EVERY_TYPE}
    assert set(rows[0]) == {"id", "type", "identity", "is_active", "created_at", "business_id"}
    assert CANARY not in out  # no config, no credential
    assert [r["method"] for r in sim.requests()] == ["GET", "GET"]


def test_export_declares_every_channel_and_never_writes_a_credential(
    business: PingBackClient, tmp_path: Path
) -> None:
    code, program, err = run("export")
    assert code == 0
    assert CANARY not in program and CANARY not in err
    for ctype, _, _ in EVERY_TYPE:
        assert f'type="{ctype}"' in program
    assert program.count("adopt_id=") == 8
    assert 'phone_number_id="109876"' in program  # readable values are written as they are
    assert '"widget_id": "w-support"' in program
    assert "is_active=False" in program  # the inactive Instagram channel
    assert 'config.require_secret("telegramBot7123456789BotToken")' in program
    assert "config.require_secret_object(" in program  # the sms config's nested value
    commands = [line for line in err.splitlines() if line.startswith("pulumi config set")]
    assert "pulumi config set --secret telegramBot7123456789BotToken '<the bot_token of " in err
    assert len(commands) == 2 + program.count("config.require_secret")  # + token and apiUrl
    names = [line.split('"')[1] for line in program.splitlines() if line.startswith('    "')]
    assert len(names) == len(set(names)) == 8
    assert "telegram-bot-7123456789" in names and "widget-w-support" in names
    assert run("export")[1] == program  # stable
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", "exported.py", "-"],
        input=program,
        capture_output=True,
        text=True,
        check=True,
    )
    assert formatted.stdout == program  # as the project formats its own code
    # -o FILE writes the same program
    target = tmp_path / "program.py"
    assert run("export", "-o", str(target))[0] == 0
    assert target.read_text() == program


def test_the_exported_program_adopts_every_channel_and_then_changes_nothing(
    sim: Simulator, business: PingBackClient, tmp_path: Path
) -> None:
    code, program, err = run("export")
    assert code == 0
    (tmp_path / "__main__.py").write_text(program)
    # What the user sets by following the commands on stderr: the real values.
    stored = {c.id: c.user_config for c in business.list(fresh=True)}
    config = {"pingback:token": TOKEN, "pingback:apiUrl": sim.url}
    secret_keys = ["pingback:token"]
    for line in err.splitlines():
        if line.startswith("pulumi config set --secret ") and "pingback:token" not in line:
            key = line.split()[4]
            what = line.split("'")[1]  # <the KEY of TYPE channel ID>
            field, channel_id = what.split(" of ")[0].split()[-1], what.split()[-1].rstrip(">")
            value = stored[channel_id][field]
            config[f"project:{key}"] = value if isinstance(value, str) else json.dumps(value)
            secret_keys.append(f"project:{key}")
    engine = Engine(config, secret_keys=secret_keys, project="project", cwd=tmp_path)
    sim.clear_log()
    result, _, _ = run_program(engine, tmp_path, config=config, secret_keys=secret_keys)
    assert len(result) == 8 and set(result.values()) == {"create"}
    assert engine.ids() == {c["id"] for c in sim.channels()}  # adopted, not created
    assert {r["method"] for r in sim.requests()} == {"GET", "PATCH"}  # 0 POSTs
    assert {c["id"]: c["config"] for c in sim.channels()} == stored  # unchanged by adoption
    sim.clear_log()
    again, _, _ = run_program(engine, tmp_path, config=config, secret_keys=secret_keys)
    assert set(again.values()) == {"same"} and sim.requests() == []


def test_a_slow_list_gets_a_progress_line(sim: Simulator, business: PingBackClient) -> None:
    sim.set_latency(0.6)
    code, _, err = run("channels")
    assert code == 0
    assert err == f"pingback: listing the channels at {sim.url}…\n"


@pytest.mark.parametrize(
    ("env", "argv", "code", "expected"),
    [
        (
            {"PINGBACK_TOKEN": ""},
            ["channels"],
            2,
            "pingback: error: no PingBack API token: export PINGBACK_TOKEN=<the business "
            "owner's API token>\n",
        ),
        (
            {"PINGBACK_TOKEN": "wrong"},
            ["channels"],
            1,
            "pingback: error: PingBack rejected the API token (401 on GET /api/v1/channels/): "
            "Could not validate credentials\nTo fix: export PINGBACK_TOKEN=<the business owner's "
            "API token>.\n",
        ),
        (
            {},
            ["--api-url", "ftp://nowhere", "export"],
            2,
            "pingback: error: --api-url (or PINGBACK_API_URL) must be an http:// or https:// URL "
            "with a host, e.g. https://api.pingback.live\n",
        ),
        (
            {"PINGBACK_TIMEOUT": "soon"},
            ["channels"],
            2,
            "pingback: error: PINGBACK_TIMEOUT must be a positive number of seconds (at most "
            "3600), e.g. 30\n",
        ),
    ],
    ids=["no-token", "wrong-token", "bad-url", "bad-timeout"],
)
def test_errors_are_one_message_with_the_fix_and_an_exit_code(
    business: PingBackClient,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    argv: list[str],
    code: int,
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run(*argv) == (code, "", expected)


def test_a_wrong_url_names_the_setting_of_the_command(
    sim: Simulator, business: PingBackClient
) -> None:
    code, _, err = run("--api-url", sim.url + "/api", "channels")
    assert code == 1
    assert err.endswith(
        "To fix: set it to the API's base URL, without a path (e.g. https://api.pingback.live).\n"
    )
    assert f"the API URL (--api-url or PINGBACK_API_URL) ({sim.url}/api) does not serve" in err


def test_the_console_script_runs(sim: Simulator, business: PingBackClient) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pulumi_pingback.cli", "channels", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and len(json.loads(out.stdout)) == 8
    bad = subprocess.run(
        [sys.executable, "-m", "pulumi_pingback.cli", "channels"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin", "PINGBACK_API_URL": sim.url, "PINGBACK_TOKEN": "wrong"},
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("pingback: error: PingBack rejected the API token")
