"""Nothing PingBack sends becomes code, a command, a URL path or a terminal sequence.

Every test here runs against a real HTTP server on 127.0.0.1 that answers hostile
values (``tests/hostile.py``): what a compromised or proxied API, a wrong ``apiUrl`` or a
dashboard user who may add config keys can send. Through the ``pingback`` command and
through both providers; docs/security.md names each promise's test.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_pingback import (
    ChannelNotFoundError,
    ConfigurationError,
    DesiredChannel,
    PingBackError,
)
from pulumi_pingback._operations import Channels
from pulumi_pingback.command import main

from ._ruff import ruff_isolated
from .conftest import TOKEN, bot, quick
from .engine import Engine, StepError, Target
from .hostile import BUSINESS, LIST_PATH, Hostile, hostile_server, item, uid

# ---- hostile values -------------------------------------------------------------------------

PWNED = "PWNED"
"""The file every injection below would create, were it run."""
RUN = f'__import__("os").system("touch {PWNED}")'
CLOSE_DOCSTRING = f'"""\n{RUN}\n"""'
KWARG = '**{"k": ' + RUN + "}, zz"
SHELL = f"x'$(touch {PWNED})'`touch {PWNED}`"
TITLE = "\x1b]0;owned\x07"  # OSC: retitle the terminal
STYLE = "\x1b[31;5m"  # CSI: red, blinking
C1 = "\x9b2J"  # a C1 CSI: clear the screen
BIDI = "\u202e"  # right-to-left override
TERMINAL = TITLE + STYLE + C1 + BIDI + "\x7f\r"
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
"""A control character anywhere but a line break: what must never reach a terminal."""

PATH_ID = "zz/../../../auth/delete-me"


def hostile_listing() -> list[dict[str, Any]]:
    """A business whose channels carry every hostile value a listing can."""
    return [
        # A typed channel with keys the type does not document: a dict literal.
        item(
            uid(1),
            "telegram",
            {"bot_token": "7300000001:AAH-bot", "display name": CLOSE_DOCSTRING, KWARG: "v"},
        ),
        # Exactly the documented keys: the typed class, its readable value a literal.
        item(
            uid(2),
            "whatsapp",
            {
                "phone_number_id": CLOSE_DOCSTRING + TERMINAL,
                "access_token": "EAAG-access",
                "verify_token": "verify",
            },
        ),
        # Free keys, each a secret: their names reach the pasted commands.
        item(uid(3), "sms", {SHELL: "s", "a b": "1", "a-b": "2"}),
        # A type that is no type: a literal too.
        item(uid(4), f'x"); {RUN}; ("', {}),
        # Ids and business ids that are not UUIDs: unreadable, skipped.
        item(PATH_ID, "webchat", {}),
        item(uid(5), "webchat", {}, business_id=CLOSE_DOCSTRING),
        item(uid(6) + "\n" + RUN, "webchat", {}),
    ]


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    with hostile_server() as server:
        monkeypatch.setenv("PINGBACK_TOKEN", TOKEN)
        monkeypatch.setenv("PINGBACK_API_URL", server.url)
        monkeypatch.setenv("PINGBACK_MAX_RETRIES", "0")
        yield server


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def only_channel_paths(server: Hostile) -> None:
    """Every request the server received went to the channels list, or to one channel
    by a UUID."""
    for path in server.paths():
        rest = path.removeprefix(LIST_PATH)
        assert path.startswith(LIST_PATH) and (
            rest == "" or re.fullmatch(r"[0-9a-f-]{36}", rest)
        ), path


# ---- 1. the exported program is built, not formatted -----------------------------------------

EXPECTED_CALLS = {
    "PingBackChannel",
    "WhatsAppConfig",
    "pulumi.Config",
    "pulumi.ResourceOptions",
    "config.require_secret",
}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else f"<{type(node).__name__}>"


def test_a_hostile_listing_exports_only_literals_and_the_expected_calls(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.listing = hostile_listing()
    code, _, err = run("export", str(tmp_path / "project"))
    assert code == 1  # three channels unreadable: named, skipped
    program = (tmp_path / "project" / "__main__.py").read_text()
    tree = ast.parse(program)
    calls = {_dotted(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert calls == EXPECTED_CALLS
    loaded = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }
    assert loaded <= {"pulumi", "config", "PingBackChannel", "WhatsAppConfig"}
    keywords = {n.arg for n in ast.walk(tree) if isinstance(n, ast.keyword)}
    assert None not in keywords  # no **mapping
    assert keywords <= {"type", "config", "is_active", "adopt_id", "opts", "protect"} | {
        "phone_number_id",
        "access_token",
        "verify_token",
    }
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert all(isinstance(v, str | bool) for v in constants)
    # Every hostile value is a string in it, exactly as PingBack sent it.
    assert CLOSE_DOCSTRING + TERMINAL in constants  # the phone number, readable
    assert KWARG in constants and "display name" in constants and SHELL in constants
    assert f'x"); {RUN}; ("' in constants
    docstring = ast.get_docstring(tree) or ""
    assert RUN not in docstring and BUSINESS not in docstring
    assert RAW_CONTROL.search(program) is None  # every control character escaped
    assert [uid(1), uid(2), uid(3), uid(4)] == sorted(
        v for v in constants if isinstance(v, str) and re.fullmatch(r"[0-9a-f-]{36}", v)
    )
    assert ruff_isolated(program) == []
    for unreadable in (PATH_ID, uid(5)):
        assert f"channel {unreadable} is listed in a form this tool cannot read" in err
    assert (
        f"channel {uid(6)}\\x0a{RUN} is listed in a form this tool cannot read (id)" in err
    )  # its line break shown, not made
    _run_with_mocks(tmp_path / "project", tree)
    assert not list(tmp_path.rglob(PWNED))


def _run_with_mocks(project: Path, tree: ast.Module) -> None:
    """Run the exported program as `pulumi up` would (its config set, every resource
    mocked): it registers its four channels and does nothing else."""
    keys = sorted(
        str(c.args[0].value)
        for c in ast.walk(tree)
        if isinstance(c, ast.Call)
        and _dotted(c.func) == "config.require_secret"
        and isinstance(c.args[0], ast.Constant)
    )
    script = f"""
import json, runpy, pulumi
from pulumi.runtime import mocks, set_all_config
seen = []
class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        seen.append(args.typ)
        return (args.name + "-id", args.inputs)
    def call(self, args):
        return ({{}}, None)
pulumi.runtime.set_mocks(Mocks(), project="p", stack="s", preview=True)
set_all_config({{f"p:{{k}}": "v" for k in {keys!r}}}, [f"p:{{k}}" for k in {keys!r}])
runpy.run_path("__main__.py", run_name="__main__")
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await
_sync_await(wait_for_rpcs())
print(json.dumps(seen))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PULUMI_TEST_MODE": "true"},
    )
    assert done.returncode == 0, done.stderr
    registered = json.loads(done.stdout.strip().splitlines()[-1])
    assert registered == ["pulumi-python:dynamic/pingback:Channel"] * 4


# ---- 2. every pasted command is quoted ------------------------------------------------------


def _as_pasted(line: str, cwd: Path) -> list[list[str]]:
    """What bash runs when ``line`` is pasted: the argv of each ``pulumi`` and ``cd`` it
    calls (both stand-ins that record their arguments and do nothing else)."""
    record = cwd / "argv.jsonl"
    record.unlink(missing_ok=True)
    stub = (
        f'log() {{ "{sys.executable}" -c "import json,sys; print(json.dumps(sys.argv[1:]))" '
        f'"$@" >> {shlex.quote(str(record))}; }}\n'
        'pulumi() { log pulumi "$@"; }\ncd() { log cd "$@"; }\n'
    )
    bash = shutil.which("bash") or "/bin/bash"
    subprocess.run([bash, "-c", stub + line], cwd=cwd, check=True, timeout=30)
    return [json.loads(r) for r in record.read_text().splitlines()] if record.exists() else []


def test_every_command_printed_or_written_runs_as_the_argv_it_means(
    hostile: Hostile, tmp_path: Path
) -> None:
    hostile.listing = hostile_listing()[:4]
    folder = tmp_path / f"it's {SHELL} dir"
    stack = "org/proj/dev.1_a-b"
    code, _, err = run("export", str(folder), "--stack", stack)
    assert code == 0
    printed = err.splitlines()[1:]  # after "pingback: exported … Next:"
    written = (folder / "STACK-CONFIG.md").read_text().split("```bash\n")[1].split("\n```")[0]
    meant_secrets = {
        f"<the {SHELL} of sms channel {uid(3)}>",
        f"<the a b of sms channel {uid(3)}>",
        f"<the a-b of sms channel {uid(3)}>",
        f"<the bot_token of telegram channel {uid(1)}>",
    }
    for lines, skip_cd in ((printed, False), (written.splitlines(), True)):
        runs = [argv for line in lines for argv in _as_pasted(line, tmp_path)]
        assert runs == [shlex.split(line) for line in lines]  # one command a line, as split
        expected_head = [
            *([] if skip_cd else [["cd", str(folder)]]),
            ["pulumi", "install"],
            ["pulumi", "stack", "init", stack],
            [
                "pulumi",
                "config",
                "set",
                "--secret",
                "pingback:token",
                "<the business owner API token>",
            ],
            ["pulumi", "config", "set", "pingback:apiUrl", hostile.url],
        ]
        assert runs[: len(expected_head)] == expected_head
        assert runs[-1] == ["pulumi", "up"]
        secrets = runs[len(expected_head) : -1]
        assert {argv[-1] for argv in secrets} >= meant_secrets
        keys = [argv[4] for argv in secrets]
        assert len(keys) == len(set(keys))  # "a b" and "a-b" read two stack config keys
        assert all(argv[:4] == ["pulumi", "config", "set", "--secret"] for argv in secrets)
    assert not list(tmp_path.rglob(PWNED))


@pytest.mark.parametrize("stack", [f"prod;touch {PWNED}", f"$(touch {PWNED})", "a b", "a/b/c/d"])
def test_a_stack_name_pulumi_would_refuse_is_a_usage_error_before_any_request(
    hostile: Hostile, tmp_path: Path, stack: str
) -> None:
    code, out, err = run("export", str(tmp_path / "p"), "--stack", stack)
    assert code == 2 and out == "" and "--stack" in err
    assert hostile.received() == [] and not (tmp_path / "p").exists()


# ---- 3. ids are checked where they enter ----------------------------------------------------


def test_a_create_answered_with_an_id_that_is_not_a_uuid_binds_and_addresses_nothing(
    hostile: Hostile,
) -> None:
    hostile.created = item(PATH_ID, "telegram", {"bot_token": "7300000001:AAH-bot"})
    client = quick(hostile, max_retries=0, settle_window=0.2)  # type: ignore[arg-type]
    with pytest.raises(PingBackError) as info:
        client.create(DesiredChannel("telegram", {"bot_token": "7300000001:AAH-bot"}))
    assert "whose id is not a UUID" in str(info.value)
    for call in (
        lambda: client.delete(PATH_ID),
        lambda: client.update(PATH_ID, DesiredChannel("webchat", {})),
    ):
        with pytest.raises(ChannelNotFoundError, match="channel ids are UUIDs"):
            call()
    assert [r.method for r in hostile.received()].count("POST") == 1
    assert {r.method for r in hostile.received()} == {"GET", "POST"}
    only_channel_paths(hostile)


@pytest.fixture
def make_engine(hostile: Hostile, tmp_path: Path, target: Target) -> Callable[..., Engine]:
    def make(**config: str) -> Engine:
        settings = {
            "pingback:token": TOKEN,
            "pingback:apiUrl": hostile.url,
            "pingback:timeout": "1",
            "pingback:maxRetries": "0",
            **config,
        }
        return Engine(settings, cwd=tmp_path, target=target)

    return make


def test_an_up_answered_with_a_path_for_an_id_addresses_nothing_but_channels(
    hostile: Hostile, make_engine: Callable[..., Engine]
) -> None:
    hostile.created = item(PATH_ID, "telegram", {"bot_token": "7300000001:AAH-bot"})
    engine = make_engine()
    with pytest.raises(StepError) as info:
        engine.up([bot("7300000001:AAH-bot")])
    assert "whose id is not a UUID" in info.value.message
    assert len(engine.state) == 0  # nothing bound to it
    engine.destroy()
    assert {r.method for r in hostile.received()} == {"GET", "POST"}  # nothing deleted
    only_channel_paths(hostile)


def test_pingback_channels_names_an_unreadable_id_without_using_it(hostile: Hostile) -> None:
    hostile.listing = hostile_listing()
    code, out, err = run("channels")
    assert code == 1
    assert f"channel {PATH_ID} is listed in a form this tool cannot read (id)" in err
    assert PATH_ID not in out
    only_channel_paths(hostile)


# ---- 4. the API URL is checked at the door --------------------------------------------------

BAD_URLS: list[tuple[str, Callable[[str], str], str]] = [
    ("credentials", lambda u: u.replace("//", "//user:hunter2@"), "user name or password"),
    ("a path", lambda u: u + "/prefix", "without a path"),
    ("a query", lambda u: u + "/?next=/x", "query"),
    ("a fragment", lambda u: u + "#x", "fragment"),
    ("empty", lambda u: "", "must not be empty"),
    ("another scheme", lambda u: u.replace("http", "ftp"), "http:// or https://"),
]


@pytest.mark.parametrize(("case", "bad", "words"), BAD_URLS, ids=[c for c, _, _ in BAD_URLS])
def test_the_command_refuses_a_bad_api_url_in_one_line_before_any_request(
    hostile: Hostile, case: str, bad: Callable[[str], str], words: str
) -> None:
    code, out, err = run("--api-url", bad(hostile.url), "channels")
    assert (code, out) == (2, "")
    assert err.startswith("pingback: error: --api-url (or PINGBACK_API_URL) ") and words in err
    assert err.count("\n") == 1 and "hunter2" not in err
    assert hostile.received() == []


@pytest.mark.parametrize(("case", "bad", "words"), BAD_URLS, ids=[c for c, _, _ in BAD_URLS])
def test_the_providers_core_refuses_a_bad_api_url_before_any_request(
    hostile: Hostile, case: str, bad: Callable[[str], str], words: str
) -> None:
    """What both fronts configure with (each front's preview: below)."""
    with pytest.raises(ConfigurationError) as info:
        Channels.from_config({"pingback:token": TOKEN, "pingback:apiUrl": bad(hostile.url)})
    assert "pingback:apiUrl (or PINGBACK_API_URL) " in str(info.value)
    assert words in str(info.value) and "hunter2" not in str(info.value)
    assert hostile.received() == []


@pytest.mark.parametrize(("case", "bad", "words"), BAD_URLS[:1], ids=[BAD_URLS[0][0]])
def test_both_providers_refuse_a_bad_api_url_at_preview_before_any_request(
    hostile: Hostile,
    make_engine: Callable[..., Engine],
    case: str,
    bad: Callable[[str], str],
    words: str,
) -> None:
    """Through each front's wire, one bad URL (its password never printed); every kind
    of bad URL is the core's (above)."""
    engine = make_engine(**{"pingback:apiUrl": bad(hostile.url)})
    with pytest.raises(StepError) as info:
        engine.preview([bot()])
    assert "pingback:apiUrl (or PINGBACK_API_URL) " in info.value.message
    assert words in info.value.message and "hunter2" not in info.value.printed
    assert hostile.received() == []


# ---- 5. terminal output is inert -----------------------------------------------------------


def test_pingback_channels_prints_no_control_sequence_pingback_sent(hostile: Hostile) -> None:
    hostile.listing = [
        item(uid(1), "webchat" + TERMINAL, {}, created_at=TITLE + "2026"),
        item(
            uid(2),
            "whatsapp",
            {"phone_number_id": STYLE + "109" + C1, "access_token": "a", "verify_token": "v"},
            created_at="2026-12-01" + BIDI,
        ),
        item(uid(3) + TITLE, "webchat", {}),
    ]
    code, out, err = run("channels")
    assert code == 1  # the third is unreadable
    assert RAW_CONTROL.search(out + err) is None
    assert "webchat\\x1b]0;owned\\x07\\x1b[31;5m\\x9b2J\\u202e\\x7f\\x0d" in out
    assert "whatsapp:phone/\\x1b[31;5m109\\x9b2J" in out
    assert f"channel {uid(3)}\\x1b]0;owned\\x07 is listed" in err
    code, out, _ = run("channels", "--json")
    assert RAW_CONTROL.search(out) is None
    rows = json.loads(out)
    assert [r["type"] for r in rows] == ["webchat" + TERMINAL, "whatsapp"]  # data, unchanged
    assert rows[1]["created_at"] == "2026-12-01" + BIDI


def test_an_error_quoting_hostile_text_is_inert_in_the_command(hostile: Hostile) -> None:
    hostile.failure = (500, {"detail": TITLE + "boom" + STYLE, TERMINAL: 1})
    code, _, err = run("channels")
    assert code == 1 and "boom" in err
    assert RAW_CONTROL.search(err) is None


def test_an_error_quoting_hostile_text_is_inert_through_both_providers(
    hostile: Hostile, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine()
    hostile.failure = (400, {"detail": TITLE + "refused" + STYLE + C1})
    with pytest.raises(StepError) as info:
        engine.up([bot()])
    assert "refused" in info.value.details
    assert RAW_CONTROL.search(info.value.details) is None
    assert "\\x1b]0;owned\\x07refused" in info.value.details
