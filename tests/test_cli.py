"""`pingback channels` and `pingback export`, against the simulator; the export, run."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_pingback import DesiredChannel, PingBackClient, __version__
from pulumi_pingback.command import main
from pulumi_pingback.command._export import project_name
from pulumi_pingback.simulator import Simulator

from ._ruff import ruff_isolated
from .conftest import TG_ROTATED, TOKEN, quick
from .engine import STARTUP_LIST, Engine, asked
from .engine._processes import ROOT, free_port
from .hostile import BUSINESS, hostile_server, uid
from .program import run_program

PINGBACK = Path(sys.executable).parent / "pingback"  # the console script, as installed

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


def test_a_misspelt_command_gets_a_did_you_mean() -> None:
    assert run("chanels") == (
        2,
        "",
        "pingback: error: argument COMMAND: invalid choice: 'chanels' (choose from "
        "'channels', 'export'); did you mean 'channels'? (pingback --help says more)\n",
    )


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
    assert program.count("opts=pulumi.ResourceOptions(protect=True)") == 8
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
    assert ruff_isolated(program) == []  # as ruff's defaults format and lint a user's code
    # -o FILE writes the same program, and never over a file without --force
    target = tmp_path / "program.py"
    assert run("export", "-o", str(target))[0] == 0
    assert target.read_text() == program
    target.write_text("mine")
    assert run("export", "-o", str(target)) == (
        2,
        "",
        f"pingback: error: {target} exists; pass --force to overwrite it\n",
    )
    assert target.read_text() == "mine"
    assert run("export", "-o", str(target), "--force")[0] == 0
    assert target.read_text() == program
    unprotected = run("export", "--no-protect")[1]
    assert "protect" not in unprotected.split('"""', 2)[2]
    assert ruff_isolated(unprotected) == []


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
    first, _, _ = run_program(engine, tmp_path, config=config, secret_keys=secret_keys)
    assert len(first.steps) == 8 and set(first.steps.values()) == {"create"}
    assert engine.ids() == {c["id"] for c in sim.channels()}  # adopted, not created
    # 0 POSTs, and no PATCH: every channel already holds what the program declares
    assert {r["method"] for r in sim.requests()} == {"GET"}
    assert {c["id"]: c["config"] for c in sim.channels()} == stored  # unchanged by adoption
    sim.clear_log()
    again, _, _ = run_program(engine, tmp_path, config=config, secret_keys=secret_keys)
    assert set(again.steps.values()) == {"same"} and asked(sim) == STARTUP_LIST


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
    assert code == 2  # at the door: nothing sent
    assert err == (
        "pingback: error: --api-url (or PINGBACK_API_URL) must be the API's base URL, "
        "without a path, e.g. https://api.pingback.live\n"
    )
    with hostile_server() as elsewhere:  # a host that answers 404 to everything
        elsewhere.failure = (404, {"detail": "Not Found"})
        code, _, err = run("--api-url", elsewhere.url, "channels")
    assert code == 1
    assert err.endswith(
        "To fix: set it to the API's base URL, without a path (e.g. https://api.pingback.live).\n"
    )
    assert f"the API URL {elsewhere.url} (--api-url or PINGBACK_API_URL) does not serve" in err


def test_the_console_script_runs(sim: Simulator, business: PingBackClient) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pulumi_pingback.command", "channels", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0 and len(json.loads(out.stdout)) == 8
    bad = subprocess.run(
        [sys.executable, "-m", "pulumi_pingback.command", "channels"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin", "PINGBACK_API_URL": sim.url, "PINGBACK_TOKEN": "wrong"},
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("pingback: error: PingBack rejected the API token")
    both = subprocess.run(  # export (another module) raises the errors this one catches
        [sys.executable, "-m", "pulumi_pingback.command", "export", "DIR", "-o", "FILE"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (both.returncode, both.stdout, both.stderr) == (
        2,
        "",
        "pingback: error: give DIR (a project) or -o FILE (the program alone), not both\n",
    )


# ---- pingback export DIR: a project ---------------------------------------------------------


@pytest.mark.parametrize(
    ("recorded", "requirement"),
    [
        (
            {
                "url": "https://github.com/pulumi-pingback/pulumi-pingback",
                "vcs_info": {"vcs": "git", "commit_id": "0123abc", "requested_revision": "main"},
            },
            "pulumi-pingback @ git+https://github.com/pulumi-pingback/pulumi-pingback@0123abc",
        ),
        (
            {"url": "file:///tmp/dist/pulumi_pingback-0.3.0-py3-none-any.whl", "archive_info": {}},
            "pulumi-pingback @ file:///tmp/dist/pulumi_pingback-0.3.0-py3-none-any.whl",
        ),
        (
            {"url": "file:///src/pulumi-pingback", "dir_info": {"editable": True}},
            "pulumi-pingback @ file:///src/pulumi-pingback",
        ),
        (None, "pulumi-pingback==9.9.9"),  # from an index: no record
        ({"url": "file:///a b; rm -rf ~"}, "pulumi-pingback==9.9.9"),  # not a URL: ignored
    ],
)
def test_the_export_pins_the_pulumi_pingback_that_wrote_it(
    monkeypatch: pytest.MonkeyPatch, recorded: dict[str, Any] | None, requirement: str
) -> None:
    """PEP 610: pip records where it installed a distribution from; the exported
    requirements.txt installs exactly that (a commit, a wheel, a folder), or the version
    when it came from an index — never a tag that may not exist."""
    from importlib import metadata

    from pulumi_pingback.command._export import pinned_requirement

    class Dist:
        version = "9.9.9"

        def read_text(self, name: str) -> str | None:
            return None if recorded is None else json.dumps(recorded)

    monkeypatch.setattr(metadata, "distribution", lambda name: Dist())
    assert pinned_requirement() == requirement


def test_export_dir_writes_a_project_that_ruff_passes_and_the_note_lists_the_secrets(
    sim: Simulator, business: PingBackClient, tmp_path: Path
) -> None:
    folder = tmp_path / "Support Channels"
    code, out, err = run("export", str(folder))
    assert code == 0 and out == ""
    assert sorted(p.name for p in folder.iterdir()) == [
        "Pulumi.yaml",
        "STACK-CONFIG.md",
        "__main__.py",
        "requirements.txt",
    ]
    business_id = business.list(fresh=True)[0].business_id
    assert (folder / "Pulumi.yaml").read_text() == (
        "name: support-channels\n"
        f'description: "The PingBack channels of business {business_id}, adopted by '
        'pingback export."\n'
        "runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n"
    )
    # what wrote it: here this checkout, as pip recorded its editable install
    requirement = (folder / "requirements.txt").read_text().splitlines()[-1]
    assert requirement == f"pulumi-pingback @ {ROOT.as_uri()}"
    program = (folder / "__main__.py").read_text()
    assert program.count("adopt_id=") == 8
    assert program.count("opts=pulumi.ResourceOptions(protect=True)") == 8
    assert "STACK-CONFIG.md lists the" in program
    assert ruff_isolated(folder) == []
    for text in (program, err, *(p.read_text() for p in folder.iterdir())):
        assert CANARY not in text and TOKEN not in text
    # stderr: what was written, then the commands to run, in order; the note has the same
    lines = err.splitlines()
    assert lines[0] == (
        f"pingback: exported 8 channels into {folder}/ (Pulumi.yaml, __main__.py, "
        "requirements.txt, STACK-CONFIG.md). Next:"
    )
    assert lines[1] == f"cd '{folder}'"
    assert lines[2] == "pulumi install"
    assert lines[3] == "pulumi stack init prod"
    assert lines[4] == (
        "pulumi config set --secret pingback:token '<the business owner API token>'"
    )
    assert lines[5] == f"pulumi config set pingback:apiUrl {sim.url}"
    secret_lines = lines[6:-1]
    assert len(secret_lines) == program.count("config.require_secret") == 13
    assert all(line.startswith("pulumi config set --secret ") for line in secret_lines)
    assert lines[-1] == "pulumi up"
    note = (folder / "STACK-CONFIG.md").read_text()
    assert note.startswith("# Stack config for support-channels\n")
    assert "```bash\n" + "\n".join(lines[2:]) + "\n```\n" in note
    # --no-protect: none protected
    bare = tmp_path / "bare"
    assert run("export", str(bare), "--no-protect")[0] == 0
    assert "protect" not in (bare / "__main__.py").read_text().split('"""', 2)[2]
    # one list by each export and one by this test: no write
    assert [r["method"] for r in sim.requests()] == ["GET", "GET", "GET"]


def test_export_never_overwrites_a_file_without_force(
    sim: Simulator, business: PingBackClient, tmp_path: Path
) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text("name: mine\n")
    (folder / "__main__.py").write_text("# mine\n")
    assert run("export", str(folder)) == (
        2,
        "",
        f"pingback: error: {folder}/Pulumi.yaml and {folder}/__main__.py exist; pass --force "
        "to overwrite them\n",
    )
    assert sorted(p.name for p in folder.iterdir()) == ["Pulumi.yaml", "__main__.py"]
    assert (folder / "Pulumi.yaml").read_text() == "name: mine\n"
    assert sim.requests() == []  # refused before asking PingBack anything
    (folder / "__main__.py").unlink()
    assert run("export", str(folder))[2] == (
        f"pingback: error: {folder}/Pulumi.yaml exists; pass --force to overwrite it\n"
    )
    code, _, _ = run("export", str(folder), "--force")
    assert code == 0
    assert (folder / "Pulumi.yaml").read_text().startswith("name: project\n")
    assert run("export", str(folder), "-o", str(tmp_path / "x.py")) == (
        2,
        "",
        "pingback: error: give DIR (a project) or -o FILE (the program alone), not both\n",
    )


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("acme", "acme"),
        ("Acme Support", "acme-support"),
        ("my_project.v2", "my_project.v2"),
        ("--été--", "t"),
        ("pingback", "pingback-channels"),  # its config namespace is the provider's
        ("Pulumi", "pulumi-channels"),
        ("???", "pingback-channels"),
        ("x" * 150, "x" * 100),
    ],
)
def test_the_project_name_comes_from_the_folder_and_pulumi_accepts_it(
    tmp_path: Path, folder: str, name: str
) -> None:
    assert project_name(tmp_path / folder) == name
    assert re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", name)  # Pulumi's ValidateProjectName


def test_two_channels_on_one_identity_are_refused_naming_both(
    sim: Simulator, business: PingBackClient, tmp_path: Path
) -> None:
    # PingBack lets a second channel take the bot (its webhook wins): a program cannot
    # declare both
    second = httpx.post(
        sim.url + "/api/v1/channels/",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"type": "telegram", "config": {"bot_token": TG_ROTATED}, "is_active": True},
    ).json()["id"]
    first = next(c["id"] for c in sim.channels() if c["type"] == "telegram" and c["id"] != second)
    sim.clear_log()
    ids = [first, second]  # as listed: the older first, so the newer is the one to leave out
    folder = tmp_path / "project"
    code, out, err = run("export", str(folder))
    assert (code, out) == (1, "")
    assert err == (
        f"pingback: error: channels {ids[0]} and {ids[1]} are all bound to the Telegram bot "
        "7123456789 (telegram:bot/7123456789); Telegram keeps one webhook per bot, and one "
        "program cannot adopt 2 channels on one identity (its first change would be "
        "refused).\nTo fix: delete all but one of them in the PingBack dashboard, or export "
        f"and adopt one only: --exclude {ids[1]} (an excluded channel stays in PingBack, "
        "unmanaged).\nNothing was written.\n"
    )
    assert not folder.exists()
    code, _, err = run("export", str(folder), "--exclude", ids[1])
    assert code == 0
    program = (folder / "__main__.py").read_text()
    assert f'adopt_id="{ids[0]}"' in program and ids[1] not in program + err
    assert run("export", "--exclude", "nope")[::2] == (
        2,
        "pingback: error: --exclude nope: the business has no channel with that id\n",
    )


ODD = uid(1)
UNREADABLE = {
    "id": ODD,
    "business_id": BUSINESS,
    "type": "webchat",
    "config": None,
    "is_active": True,
    "created_at": "2024-01-01T00:00:00Z",
}


def test_a_channel_that_cannot_be_read_is_named_and_the_exit_code_says_so(
    sim: Simulator, business: PingBackClient, tmp_path: Path
) -> None:
    planted = httpx.post(sim.url + "/_sim/channels", json=UNREADABLE)
    assert planted.status_code == 201
    line = f"pingback: channel {ODD} is listed in a form this tool cannot read (config); "
    code, out, err = run("channels")
    assert code == 1
    assert out.splitlines()[-1] == "8 channels"  # the others are listed all the same
    assert err == line + "skipped\n"
    code, out, err = run("channels", "--json")
    assert code == 1 and len(json.loads(out)) == 8 and err == line + "skipped\n"
    # export: the others, and exit 1 until the channel is left out on purpose
    code, program, err = run("export")
    assert code == 1 and program.count("adopt_id=") == 8
    assert err.endswith(line + "not exported (--exclude ID to leave it out)\n")
    code, _, err = run("export", "--exclude", ODD)
    assert code == 0 and ODD not in err
    sim.plant({"no": "id"})  # an item with no id at all
    code, _, err = run("channels")
    assert code == 1
    assert err == (
        line + "skipped\n"
        "pingback: 1 item of the listing has no id: not a channel anything can read or manage; "
        "skipped\n"
    )


# ---- the command as installed: a real process ----------------------------------------------


def pingback(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PINGBACK_")}
    return subprocess.run(
        [str(PINGBACK), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, "PINGBACK_MAX_RETRIES": "0", **env},
    )


def test_version_and_api_url_after_the_command(sim: Simulator, business: PingBackClient) -> None:
    version = pingback("--version")
    assert (version.returncode, version.stdout, version.stderr) == (
        0,
        f"pingback {__version__}\n",
        "",
    )
    dead = f"http://127.0.0.1:{free_port()}"
    env = {"PINGBACK_TOKEN": TOKEN, "PINGBACK_API_URL": dead}
    after = pingback("channels", "--json", "--api-url", sim.url, **env)
    assert after.returncode == 0 and len(json.loads(after.stdout)) == 8
    before = pingback("--api-url", sim.url, "channels", "--json", **env)
    assert before.returncode == 0 and before.stdout == after.stdout
    exported = pingback("export", "--api-url", sim.url, **env)
    assert exported.returncode == 0 and exported.stdout.count("adopt_id=") == 8
    assert f"pulumi config set pingback:apiUrl {sim.url}\n" in exported.stderr


def test_a_dead_port_is_one_error_with_one_pair_of_parentheses(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    done = pingback("channels", PINGBACK_TOKEN=TOKEN, PINGBACK_API_URL=dead)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"pingback: error: could not connect to PingBack at {dead} for GET /api/v1/channels/ "
        f"(ConnectError)\nCheck the API URL {dead} (--api-url or PINGBACK_API_URL) and the "
        "network, then run the command again.\n"
    )


def test_o_into_a_missing_folder_is_one_line(sim: Simulator, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "__main__.py"
    done = pingback("export", "-o", str(target), PINGBACK_TOKEN=TOKEN, PINGBACK_API_URL=sim.url)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"pingback: error: cannot write {target}: the folder {target.parent} does not exist\n"
    )
    assert sim.requests() == []  # refused before asking PingBack


def test_export_into_a_folder_that_cannot_be_made_is_one_line(
    sim: Simulator, tmp_path: Path
) -> None:
    """#29: the folder is made before anything is listed; one that cannot be is one error
    naming it and the system's reason (and the parent it is about), not a traceback."""
    env = {"PINGBACK_TOKEN": TOKEN, "PINGBACK_API_URL": sim.url}
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    folder = blocker / "project"
    done = pingback("export", str(folder), **env)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"pingback: error: cannot make the folder {folder}: Not a directory\n"
    if Path("/proc").is_dir():  # the report's example; the reason is the system's
        done = pingback("export", "/proc/none", **env)
        assert (done.returncode, done.stdout) == (2, "")
        assert re.fullmatch(
            r"pingback: error: cannot make the folder /proc/none: [^\n:]+\n", done.stderr
        ), done.stderr
        code, out, err = run("export", "/proc/none/deeper")  # a parent it could not make
        assert (code, out) == (2, "")
        assert err.startswith(
            "pingback: error: cannot make the folder /proc/none/deeper: /proc/none: "
        ), err
    assert sim.requests() == []  # refused before asking PingBack anything
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]


def test_a_folder_the_export_made_is_removed_when_it_stops_before_writing(
    sim: Simulator, business: PingBackClient, tmp_path: Path
) -> None:
    sim.inject("status", status=503, method="GET", times=1)
    folder = tmp_path / "new" / "project"
    code, out, err = run("export", str(folder))
    assert (code, out) == (1, "") and err.startswith("pingback: error: "), err
    assert list(tmp_path.iterdir()) == []  # both folders it made: nothing was written
    assert run("export", str(folder))[0] == 0
    assert (folder / "__main__.py").is_file()


def test_pingback_log_level_logs_requests_on_stderr_and_never_the_token(
    sim: Simulator, business: PingBackClient
) -> None:
    env = {"PINGBACK_TOKEN": TOKEN, "PINGBACK_API_URL": sim.url}
    debug = pingback("channels", **env, PINGBACK_LOG_LEVEL="debug")
    assert debug.returncode == 0
    assert re.fullmatch(
        r"pingback: debug: GET /api/v1/channels/ -> 200 \(\d+ ms\)\n", debug.stderr
    ), debug.stderr
    assert TOKEN not in debug.stderr + debug.stdout
    # a retry is an info line; without the setting, none of these
    sim.inject("status", status=503, method="GET", times=1)
    info = pingback("channels", **env, PINGBACK_LOG_LEVEL="INFO", PINGBACK_MAX_RETRIES="1")
    assert info.returncode == 0
    assert re.fullmatch(
        r"pingback: info: retrying GET after InternalServerError in [\d.]+ s "
        r"\(attempt 2 of 2\)\n(pingback: listing the channels at \S+…\n)?",
        info.stderr,
    ), info.stderr
    sim.inject("status", status=503, method="GET", times=1)
    quiet = pingback("channels", **env, PINGBACK_MAX_RETRIES="1")
    assert quiet.returncode == 0  # the retry's pause shows only as the progress line
    assert quiet.stderr in ("", f"pingback: listing the channels at {sim.url}…\n")
    bad = pingback("channels", **env, PINGBACK_LOG_LEVEL="loud")
    assert (bad.returncode, bad.stdout, bad.stderr) == (
        2,
        "",
        "pingback: error: PINGBACK_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, "
        "not 'loud'\n",
    )
