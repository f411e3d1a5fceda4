from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_pingback import PingBackClient
from pulumi_pingback.simulator import Simulator

from .engine import DYNAMIC, NATIVE, Engine, Secret, Target, channel

# ---- every journal of the session in a folder of its own -------------------------------------
#
# A create writes its journal (pulumi_pingback.client._journal) under PINGBACK_STATE_DIR, else
# $XDG_STATE_HOME/pulumi-pingback, else ~/.local/state/pulumi-pingback: the user's own. The
# session points both variables into one temporary folder before any test runs, so this
# process, every child it starts (they inherit the environment) and the harness's provider
# processes (tests/engine drops PINGBACK_* from their environment; they keep XDG_STATE_HOME)
# write there: tests/test_journal.py::test_the_suite_keeps_every_journal_out_of_the_users_state_dir.
# At the end, the session fails if the user's folder holds a change in a journal of its own
# owner token (TOKEN, unique to the session) for any 127.0.0.1 port; other
# changes there, which another pulumi-pingback process on the machine may have made, are
# listed.

_USERS_STATE_DIR: Path | None = None
_SESSION_STATE: Path | None = None
_SEEN: dict[str, tuple[int, int]] = {}
_SAVED_ENV: dict[str, str | None] = {}


def users_state_dir() -> Path:
    """The folder a journal would be written to without the session's settings."""
    assert _USERS_STATE_DIR is not None, "set by pytest_configure"
    return _USERS_STATE_DIR


def session_state_dirs() -> tuple[Path, Path]:
    """Where the session's journals go: PINGBACK_STATE_DIR, and $XDG_STATE_HOME's folder
    (the harness's provider processes)."""
    assert _SESSION_STATE is not None, "set by pytest_configure"
    return _SESSION_STATE / "journal", _SESSION_STATE / "xdg" / "pulumi-pingback"


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: its modification time and size."""
    found: dict[str, tuple[int, int]] = {}
    for path in folder.rglob("*") if folder.is_dir() else ():
        try:
            st = path.lstat()
        except OSError:  # gone while listed
            continue
        if not path.is_dir():
            found[path.relative_to(folder).as_posix()] = (st.st_mtime_ns, st.st_size)
    return found


def pytest_configure(config: pytest.Config) -> None:
    global _USERS_STATE_DIR, _SESSION_STATE, _SEEN
    given = os.environ.get("PINGBACK_STATE_DIR")
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    _USERS_STATE_DIR = Path(given) if given else Path(state) / "pulumi-pingback"
    _SEEN = _files(_USERS_STATE_DIR)
    _SESSION_STATE = Path(tempfile.mkdtemp(prefix="pingback-tests-state-"))
    for name, value in (
        ("PINGBACK_STATE_DIR", _SESSION_STATE / "journal"),
        ("XDG_STATE_HOME", _SESSION_STATE / "xdg"),
    ):
        _SAVED_ENV[name] = os.environ.get(name)
        os.environ[name] = str(value)


def _journal_folders(token: str) -> set[str]:
    """The journal folder of ``token`` for every API URL on 127.0.0.1 (the naming of
    pulumi_pingback.client._journal.Journal, checked against it)."""
    from pulumi_pingback.client._journal import Journal

    key = hashlib.sha256(f"pulumi-pingback journal\0{token}".encode()).digest()
    urls = [f"http://127.0.0.1:{port}" for port in range(1, 65536)]
    names = {f"creates-{hmac.new(key, u.encode(), 'sha256').hexdigest()[:16]}" for u in urls}
    assert Journal(token, urls[-1]).folder.name in names, "the journal names folders otherwise"
    return names


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _USERS_STATE_DIR is None:
        return
    now = _files(_USERS_STATE_DIR)
    changed = sorted(k for k in now.keys() | _SEEN.keys() if now.get(k) != _SEEN.get(k))
    ours = _journal_folders(TOKEN) if changed else set()
    leaked = [k for k in changed if k.split("/", 1)[0] in ours]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if leaked:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if changed and reporter is not None:
        shown = "\n  ".join((leaked or changed)[:20])
        reporter.write_line(
            f"\nFAILED: a test wrote its journal in the user's {_USERS_STATE_DIR}:\n  {shown}"
            if leaked
            else f"\n{_USERS_STATE_DIR} changed during the run, in no journal of this "
            f"session's token (another pulumi-pingback process?):\n  {shown}",
            red=bool(leaked),
            yellow=not leaked,
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, value in _SAVED_ENV.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if _SESSION_STATE is not None:
        shutil.rmtree(_SESSION_STATE, ignore_errors=True)


# ---- the simulator, clients and engines ----------------------------------------------------

_RUN = uuid.uuid4().hex[:8]
TOKEN = f"sim-owner-token-{_RUN}"  # unique to the session: see pytest_sessionfinish
AGENT_TOKEN = "sim-agent-token-0002"  # refused (403): it journals nothing
TG = "7123456789:AAH" + "x" * 32
TG_ROTATED = "7123456789:BBH" + "y" * 32
TG_OTHER_BOT = "7000000001:AAH" + "z" * 32


def bot(token: str = TG, name: str = "bot", **kw: Any) -> Any:
    """A Telegram channel declared with its bot token as a secret."""
    return channel(name, "telegram", {"bot_token": Secret(token)}, **kw)


def writes(sim: Simulator) -> list[str]:
    """The methods of the write requests PingBack received, in order."""
    return [r["method"] for r in sim.requests() if r["method"] != "GET"]


def wa_config(
    phone: str = "109876543210", access: str = "EAAG-access-1", verify: str = "verify-1"
) -> dict[str, str]:
    return {"phone_number_id": phone, "access_token": access, "verify_token": verify}


def x_config(account: str = "1234567890", n: int = 1) -> dict[str, str]:
    return {
        "api_key": f"xkey{n}",
        "api_secret": f"xsecret{n}",
        "access_token": f"{account}-xaccess{n}",
        "access_token_secret": f"xats{n}",
        "bearer_token": f"xbearer{n}",
    }


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(token=TOKEN, agent_token=AGENT_TOKEN, plan="pro") as s:
        yield s


def quick(sim: Simulator, token: str | None = TOKEN, **kw: Any) -> PingBackClient:
    """A client with short waits: 2 s timeout, 3 retries, 10-50 ms backoff, 0.3 s settle."""
    opts: dict[str, Any] = {
        "base_url": sim.url,
        "timeout": 2.0,
        "max_retries": 3,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "settle_window": 0.3,
    }
    opts.update(kw)
    return PingBackClient(token, **opts)


@pytest.fixture
def client(sim: Simulator) -> PingBackClient:
    return quick(sim)


@pytest.fixture
def make_engine(sim: Simulator, tmp_path: Path) -> Callable[..., Engine]:
    def make(**overrides: Any) -> Engine:
        config = {
            "pingback:token": TOKEN,
            "pingback:apiUrl": sim.url,
            "pingback:timeout": "2",
            "pingback:maxRetries": "3",
        }
        config.update(overrides.pop("config", {}))
        return Engine(config, cwd=tmp_path, **overrides)

    return make


@pytest.fixture
def engine(make_engine: Callable[..., Engine]) -> Engine:
    """A stack on the dynamic provider (files whose tests hold for both providers
    override it with one on ``target``)."""
    return make_engine()


@pytest.fixture(params=[DYNAMIC, NATIVE], ids=lambda t: t.name)
def target(request: pytest.FixtureRequest) -> Target:
    """The provider a test that holds for both runs against: the dynamic provider, then
    the native plugin. Tests that are deliberately one provider's do not take it."""
    assert isinstance(request.param, Target)
    return request.param
