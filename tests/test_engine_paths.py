"""What the fast layer proves on the engine's paths that tests/cli does not.

The lifecycles themselves — refresh and its drift, `up --refresh`, the settings a
refresh or destroy takes from the state, both replace orders, previews,
``ignore_changes``, ``replace_on_changes``, ``protect``, ``retain_on_delete`` — are
proved under the real CLI (tests/cli/test_dynamic_lifecycle.py, test_multi_env.py,
test_native_plugin.py, test_engine_contract.py). Here: what a Python program's
``PingBackChannel`` hands the engine (its options, the ``import_`` it refuses, a
``get``), and what each provider answers on one process driven call by call
(tests/engine's :class:`Driver`): the settings it refuses when it starts, and its errors
as the CLI prints them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pulumi
import pytest

from pulumi_pingback.simulator import Simulator

from .conftest import TOKEN, bot
from .engine import Declared, Driver, Engine, ResourceState, StepError, Target, channel
from .program import run_program

MISSING = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture
def engine(make_engine: Callable[..., Engine], target: Target) -> Engine:
    """A stack on the dynamic provider, then on the native plugin."""
    return make_engine(target=target)


@pytest.fixture
def dynamic_engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()


def made_in_the_dashboard(sim: Simulator, kind: str, config: dict[str, Any]) -> str:
    """A channel created through PingBack's API, outside Pulumi: its id."""
    response = httpx.post(
        f"{sim.url}/api/v1/channels/",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"type": kind, "config": config},
    )
    response.raise_for_status()
    return str(response.json()["id"])


def create(drv: Driver, d: Declared) -> ResourceState:
    """A create step on the driver's process: Check of the program's inputs, then Create."""
    news, _ = drv.news(d)
    checked, secrets = drv.check(d, {}, news)
    return drv.create(d, checked, secrets)


# ---- 1. what a Python program hands the engine ------------------------------------------------


def _program(tmp_path: Path, body: str) -> Path:
    (tmp_path / "__main__.py").write_text(
        "import pulumi\nfrom pulumi_pingback import PingBackChannel, WhatsAppConfig\n"
        + textwrap.dedent(body)
    )
    return tmp_path


def _run(
    engine: Engine, sim: Simulator, program: Path, *, preview: bool = False
) -> tuple[Mapping[str, str], dict[str, Any], list[Any]]:
    config = {"pingback:token": TOKEN, "pingback:apiUrl": sim.url, "project:trigger": "a"}
    run, exports, monitor = run_program(
        engine, program, config=config, secret_keys=[], preview=preview
    )
    return run.steps, exports, monitor.registrations


def test_protect_retain_on_delete_and_replacement_trigger_reach_the_engine(
    sim: Simulator, dynamic_engine: Engine, tmp_path: Path
) -> None:
    """``PingBackChannel`` merges its own options (``additional_secret_outputs``) into the
    program's: every other option reaches the engine as the program set it. (What the
    engine then does with each is proved under the real CLI: tests/cli/
    test_dynamic_lifecycle.py.)"""
    program = _program(
        tmp_path,
        """
        config = pulumi.Config()
        PingBackChannel("kept", type="sms", config={"n": "1"},
                        opts=pulumi.ResourceOptions(retain_on_delete=True))
        PingBackChannel("guarded", type="sms", config={"n": "2"},
                        opts=pulumi.ResourceOptions(protect=True))
        PingBackChannel("rolled", type="sms", config={"n": "3"},
                        opts=pulumi.ResourceOptions(replacement_trigger=config.get("trigger")))
        """,
    )
    dynamic_engine.project = "project"
    steps, _, registered = _run(dynamic_engine, sim, program, preview=True)
    assert steps == {"kept": "create", "guarded": "create", "rolled": "create"}
    by_name = {r.name: r for r in registered}
    assert [by_name["kept"].retainOnDelete, by_name["kept"].protect] == [True, False]
    assert [by_name["guarded"].protect, by_name["guarded"].retainOnDelete] == [True, False]
    assert by_name["rolled"].HasField("replacement_trigger")
    assert by_name["rolled"].replacement_trigger.string_value == "a"
    assert not by_name["kept"].HasField("replacement_trigger")
    assert [r["method"] for r in sim.requests()] == ["GET"]  # the start's list; no write


def test_import_is_refused_with_a_pointer_to_adopt_id(
    sim: Simulator, dynamic_engine: Engine, tmp_path: Path
) -> None:
    program = _program(
        tmp_path,
        f"""
        PingBackChannel("w", type="sms", config={{}},
                        opts=pulumi.ResourceOptions(import_="{MISSING}"))
        """,
    )
    with pytest.raises(pulumi.RunError) as info:
        _run(dynamic_engine, sim, program)
    assert f"pass adopt_id='{MISSING}' instead" in str(info.value)
    assert sim.requests() == []


def test_the_import_step_itself_fails_in_the_dynamic_server(dynamic_engine: Engine) -> None:
    """Why ``import_`` is refused: the engine's import step (Read with empty properties)
    reaches a dynamic server with no pickled provider to call (pulumi/pulumi#16175)."""
    with pytest.raises(StepError) as info, dynamic_engine.driver() as drv:
        drv.import_(channel("w", "sms", {}), MISSING)
    assert info.value.method == "Read" and "KeyError: '__provider'" in info.value.details


def test_get_looks_a_channel_up_and_a_missing_id_is_an_error(
    sim: Simulator, dynamic_engine: Engine, tmp_path: Path
) -> None:
    cid = made_in_the_dashboard(sim, "sms", {"widget_id": "abc"})
    program = _program(
        tmp_path,
        f"""
        found = PingBackChannel.get("found", "{cid}")
        pulumi.export("type", found.type)
        pulumi.export("config", found.config)
        """,
    )
    steps, exports, _ = _run(dynamic_engine, sim, program)
    assert steps == {"found": "read"}
    assert exports["type"] == ("sms", False)
    assert exports["config"] == ({"widget_id": "abc"}, True)
    missing = _program(tmp_path, f'PingBackChannel.get("gone", "{MISSING}")\n')
    with pytest.raises(StepError) as info:
        _run(dynamic_engine, sim, missing)
    assert info.value.message == (
        f"PingBack has no channel {MISSING} in this business\n"
        "To fix: check the id (`pingback channels` lists the business's channels)."
    )


# ---- 2. settings are checked when the provider starts ----------------------------------------


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"pingback:apiurl": "http://127.0.0.1:1"},
            "unknown setting pingback:apiurl: did you mean pingback:apiUrl? the pingback: "
            "settings are pingback:token, pingback:apiUrl, pingback:timeout, pingback:maxRetries "
            "(remove it with `pulumi config rm pingback:apiurl`)",
        ),
        ({"pingback:token": ""}, "no PingBack API token: set the business owner's API token"),
        ({"pingback:apiUrl": "api.pingback.live"}, "must be an http:// or https:// URL"),
        ({"pingback:apiUrl": "https://api.pingback.live/api/v1"}, "without the /api/v1 path"),
        ({"pingback:timeout": "soon"}, "pingback:timeout (or PINGBACK_TIMEOUT) must be a positive"),
        ({"pingback:maxRetries": "-1"}, "pingback:maxRetries (or PINGBACK_MAX_RETRIES) must be"),
    ],
    ids=["typo", "no-token", "no-scheme", "with-path", "timeout", "retries"],
)
def test_settings_are_checked_at_preview(
    sim: Simulator,
    make_engine: Callable[..., Engine],
    config: dict[str, str],
    expected: str,
    target: Target,
) -> None:
    engine = make_engine(config=config, target=target)
    # The dynamic provider judges its settings in its first Check; the native plugin in
    # the default provider's CheckConfig, before any resource: both before any request.
    with pytest.raises(StepError) as info, engine.driver() as drv:
        drv.check(bot(), {}, drv.news(bot())[0])
    assert info.value.method == ("CheckConfig" if target.native else "Check")
    assert expected in info.value.message
    assert sim.requests() == []


# ---- 3. errors as the CLI shows them ----------------------------------------------------------


def _failing(sim: Simulator, make_engine: Callable[..., Engine], case: str) -> StepError:
    engine = make_engine(config={"pingback:maxRetries": "1", "pingback:timeout": "0.5"})
    if case == "401":
        engine.config["pingback:token"] = "wrong-token"
    if case == "402":
        sim.set_plan("free")
    if case == "403":
        engine.config["pingback:token"] = "sim-agent-token-0002"
    if case == "503":
        sim.inject("status", status=503, method="POST", times=None)
    if case == "timeout":
        sim.inject("latency", method="GET", delay=2, times=None)
    with pytest.raises(StepError) as info, engine.driver() as drv:
        create(drv, bot())
    return info.value


ADVICE = {
    "401": "To fix: set the business owner's API token with",
    "402": "To fix: upgrade to the Mini or Pro plan",
    "403": "To fix: use an API token of the business owner",
    "503": "Try again later; re-running `pulumi up` is safe.",
    "timeout": "To fix: raise pingback:timeout (now 0.5 s)",
}


@pytest.mark.parametrize("case", sorted(ADVICE))
def test_an_error_reads_as_one_short_message(
    sim: Simulator, make_engine: Callable[..., Engine], case: str
) -> None:
    printed = _failing(sim, make_engine, case).printed
    lines = printed.splitlines()
    # 1 resource line + the traceback's 10-13 (the SDK's get_provider frame when the
    # provider's start fails: a token refused, PingBack unreachable)
    assert len(lines) <= 14, printed
    error_line = next(i for i, line in enumerate(lines) if line.startswith("    pulumi_pingback."))
    assert ADVICE[case] in lines[error_line + 1], printed  # the line after what happened
    assert printed.count("To fix") + printed.count("Try again") <= 1
    for repeated in ("upgrade", "Only the business owner", "re-running"):
        assert printed.lower().count(repeated.lower()) <= 1, printed
    assert "During handling" not in printed and "tenacity" not in printed


def test_the_402_advice_says_how_to_get_out_of_it(sim: Simulator, engine: Engine) -> None:
    """At the plan's limit, a create's advice names both ways out, in the front's words:
    delete-before-replace, and retiring an old channel a failed `up` replaced."""
    sim.set_plan("mini")
    for n in "abc":
        made_in_the_dashboard(sim, "sms", {"n": n})
    with pytest.raises(StepError) as info, engine.driver() as drv:
        create(drv, channel("d", "sms", {"n": "d"}))
    assert info.value.method == "Create" and "(3/3)" in info.value.message
    assert "delete_before_replace=True" in info.value.message
    assert "`pulumi up --target <its URN>` deletes it first." in info.value.message
