"""Every engine path the CLI takes, in the engine's order — and the provider right on each.

Spec: the engine as tests/engine reproduces it, checked against the real CLI
(docs/engine-fidelity.md): refresh diffs, `up --refresh`, saved provider
config, pending deletes, resource options, preview, errors as users see them. Each path
runs against both fronts — the dynamic provider and the native plugin (``engine`` is on
the ``target`` fixture) — except those that run a Python program with
``PingBackChannel``; the native plugin's own paths (import, detailed diffs, previews)
are in test_native.py.
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

from .conftest import TG, TG_OTHER_BOT, TG_ROTATED, TOKEN, bot, wa_config, writes
from .engine import CheckFailed, Engine, EngineError, Secret, StepError, Target, channel
from .program import run_program

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "multi-env"


@pytest.fixture
def engine(make_engine: Callable[..., Engine], target: Target) -> Engine:
    """A stack on the dynamic provider, then on the native plugin."""
    return make_engine(target=target)


@pytest.fixture
def dynamic_engine(make_engine: Callable[..., Engine]) -> Engine:
    return make_engine()


def toggle_in_dashboard(sim: Simulator, cid: str, **fields: Any) -> None:
    response = httpx.patch(
        f"{sim.url}/api/v1/channels/{cid}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json=fields,
    )
    response.raise_for_status()


# ---- 1. refresh: Read, then Diff of the refreshed state against the old inputs ------------


def test_refresh_reads_then_diffs_and_a_clean_stack_shows_no_drift(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot(), channel("wa", "whatsapp", wa_config())])
    sim.clear_log()
    refreshed = engine.refresh()
    assert refreshed.steps == {"bot": "same", "wa": "same"}
    assert refreshed.methods == ["Read", "Diff", "Read", "Diff"]
    assert [r["method"] for r in sim.requests()] == ["GET"]


def test_refresh_shows_drift_made_in_the_dashboard_and_up_undoes_it(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot()])
    toggle_in_dashboard(sim, engine.state["bot"].id, is_active=False)
    assert engine.refresh().steps == {"bot": "changed"}
    assert engine.state["bot"].inputs["is_active"] is False
    assert engine.preview([bot()]).steps == {"bot": "update"}
    sim.clear_log()
    assert engine.up([bot()]).steps == {"bot": "update"}
    assert writes(sim) == ["PATCH"] and sim.channels()[0]["is_active"] is True
    assert engine.refresh().steps == {"bot": "same"}  # no perpetual diff


# ---- 2. up --refresh --------------------------------------------------------------------------


def test_up_refresh_reads_diffs_checks_diffs_then_restores(sim: Simulator, engine: Engine) -> None:
    engine.up([bot()])
    toggle_in_dashboard(sim, engine.state["bot"].id, is_active=False)
    assert engine.up([bot()]).steps == {"bot": "same"}  # a plain up does not notice
    sim.clear_log()
    run = engine.up([bot()], refresh=True)
    assert run.steps == {"bot": "update"}
    assert run.methods == ["Read", "Diff", "Check", "Diff", "Update"]
    assert writes(sim) == ["PATCH"] and sim.channels()[0]["is_active"] is True


def test_up_refresh_recreates_a_channel_deleted_outside(sim: Simulator, engine: Engine) -> None:
    engine.up([bot()])
    httpx.delete(
        f"{sim.url}/api/v1/channels/{engine.state['bot'].id}",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ).raise_for_status()
    run = engine.up([bot()], refresh=True)
    assert run.steps == {"bot": "create"}
    assert run.methods == ["Read", "Check", "Create"]
    assert [c["id"] for c in sim.channels()] == [engine.state["bot"].id]


# ---- 3. refresh and destroy use the config saved by the last up ------------------------------


def test_refresh_and_destroy_use_the_config_saved_by_the_last_up(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot()])
    sim.state.token = "rotated-token-2"  # the old token is revoked...
    engine.config["pingback:token"] = "rotated-token-2"  # ...and the new one set
    saved_advice = (
        "`pulumi refresh` and `pulumi destroy` use the pingback: settings saved by the last "
        "`pulumi up`: after changing them, run `pulumi up` first (or `pulumi refresh "
        "--run-program`)."
    )
    with pytest.raises(StepError) as info:
        engine.refresh()
    assert info.value.message.startswith("PingBack rejected the API token (401 on GET")
    assert saved_advice in info.value.message
    with pytest.raises(StepError) as info:
        engine.destroy()
    assert saved_advice in info.value.message
    assert engine.refresh(run_program=True).steps == {"bot": "same"}
    assert engine.up([bot()]).steps == {"bot": "same"}  # saves the new token
    engine.destroy()
    assert sim.channels() == []


# ---- 4. pending deletes -----------------------------------------------------------------------


def test_a_replaced_channel_is_deleted_at_the_end_of_the_same_up(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot(), channel("w", "sms", {"v": "1"})])
    run = engine.up([bot(TG_OTHER_BOT), channel("w", "sms", {"v": "2"})])
    assert run.methods == [
        "Check",
        "Diff",
        "Check",
        "Create",
        "Check",
        "Diff",
        "Update",
        "Delete",
    ]


def test_a_failed_up_leaves_the_old_channel_until_a_run_succeeds(
    sim: Simulator, engine: Engine
) -> None:
    sim.set_plan("mini")
    engine.up([bot(), channel("w", "sms", {})])
    # The replacement is created (3/3), then the new widget hits the plan's limit.
    with pytest.raises(StepError) as info:
        engine.up([bot(TG_OTHER_BOT), channel("w", "sms", {}), channel("w2", "sms", {"n": "2"})])
    assert info.value.name == "w2" and "(3/3)" in info.value.message
    assert info.value.run is not None
    assert len(info.value.run.state.pending_deletes) == 1 and len(sim.channels()) == 3
    # Pending deletes are retired at the end of a run, so the same program fails again...
    with pytest.raises(StepError):
        engine.up([bot(TG_OTHER_BOT), channel("w", "sms", {}), channel("w2", "sms", {"n": "2"})])
    # ...and a run that succeeds first deletes the old channel, at its end.
    run = engine.up([bot(TG_OTHER_BOT), channel("w", "sms", {})])
    assert run.steps == {"bot": "same", "w": "same"}
    assert run.methods[-1] == "Delete" and run.state.pending_deletes == ()
    again = engine.up(
        [bot(TG_OTHER_BOT), channel("w", "sms", {}), channel("w2", "sms", {"n": "2"})]
    )
    assert again.steps["w2"] == "create"


def test_the_402_advice_says_how_to_get_out_of_it(sim: Simulator, engine: Engine) -> None:
    sim.set_plan("mini")
    engine.up([channel("a", "sms", {"n": "a"}), channel("b", "sms", {"n": "b"})])
    engine.up([channel(n, "sms", {"n": n}) for n in "ab"] + [channel("c", "sms", {})])
    with pytest.raises(StepError) as info:
        engine.up(
            [channel(n, "sms", {"n": n}) for n in "ab"]
            + [channel("c", "sms", {}), channel("d", "sms", {"n": "d"})]
        )
    assert "delete_before_replace=True" in info.value.message
    assert "`pulumi up --target <its URN>` deletes it first." in info.value.message


# ---- 5. delete_before_replace ------------------------------------------------------------------


def test_the_delete_before_replace_option_decides_the_order(sim: Simulator, engine: Engine) -> None:
    engine.up([bot()])
    run = engine.up([bot(TG_OTHER_BOT, delete_before_replace=True)])
    assert run.methods == ["Check", "Diff", "Check", "Delete", "Create"]
    run = engine.up([bot(TG, delete_before_replace=False)])
    assert run.methods == ["Check", "Diff", "Check", "Create", "Delete"]


# ---- 6. preview -------------------------------------------------------------------------------


def test_a_previewed_replace_gets_a_second_check_and_writes_nothing(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot()])
    sim.clear_log()
    plan = engine.preview([bot(TG_OTHER_BOT)])
    if engine.target.native:  # a detailed diff names the key; the plan is the plugin's
        assert plan.steps == {"bot": "replace:identity,config.bot_token"}
        assert plan.methods == ["Check", "Diff", "Check", "Create"]
    else:
        assert plan.steps == {"bot": "replace:identity"}
        assert plan.methods == ["Check", "Diff", "Check"]
    assert [r["method"] for r in sim.requests()] == ["GET"]  # the start's list; no write
    assert plan.diff_lines == (
        "bot: config.bot_token: [secret] => [secret]",
        "bot: identity: 'telegram:bot/7123456789' => 'telegram:bot/7000000001'",
    )


def test_ignore_changes_applies_before_check(sim: Simulator, engine: Engine) -> None:
    engine.up([channel("w", "sms", {"v": "1"}, is_active=True)])
    sim.clear_log()
    ignored = channel("w", "sms", {"v": "2"}, is_active=False, ignore_changes=("config",))
    assert engine.preview([ignored]).steps == {"w": "update"}  # is_active still changes
    assert engine.up([ignored]).steps == {"w": "update"}
    assert sim.channels()[0]["config"] == {"v": "1"} and sim.channels()[0]["is_active"] is False
    both = channel("w", "sms", {"v": "3"}, is_active=True, ignore_changes=("config", "is_active"))
    sim.clear_log()
    assert engine.up([both]).steps == {"w": "same"} and writes(sim) == []


def test_the_program_sees_checked_inputs_at_preview_and_the_rest_unknown(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    from .test_example import stack_config

    config, secrets = stack_config("prod", sim)
    engine = make_engine(config=config, stack="prod")
    engine.project = "pingback-multi-env"
    plan, exports, _ = run_program(
        engine, EXAMPLE, config=config, secret_keys=secrets, preview=True
    )
    assert set(plan.steps.values()) == {"create"} and writes(sim) == []  # the start's list only
    assert exports["telegram_bot"] == ("telegram:bot/7123456789", False)  # computed by Check
    assert exports["meta_callback_url"][0] is None  # unknown until PingBack answers
    assert exports["widget_channel_id"][0] is None


# ---- 7. resource options from a real program ------------------------------------------------


def _program(tmp_path: Path, body: str) -> Path:
    (tmp_path / "__main__.py").write_text(
        "import pulumi\nfrom pulumi_pingback import PingBackChannel, WhatsAppConfig\n"
        + textwrap.dedent(body)
    )
    return tmp_path


def _run(engine: Engine, sim: Simulator, program: Path) -> tuple[Mapping[str, str], dict[str, Any]]:
    config = {"pingback:token": TOKEN, "pingback:apiUrl": sim.url, "pingback:timeout": "2"}
    run, exports, _ = run_program(engine, program, config=config, secret_keys=[])
    return run.steps, exports


def test_replace_on_changes_is_honoured(
    sim: Simulator, dynamic_engine: Engine, tmp_path: Path
) -> None:
    engine = dynamic_engine
    body = """
    verify = pulumi.Config().require("verify")
    PingBackChannel(
        "wa",
        type="whatsapp",
        config=WhatsAppConfig(phone_number_id="1", access_token="a", verify_token=verify),
        opts=pulumi.ResourceOptions(
            replace_on_changes=["config.verify_token"], delete_before_replace=True
        ),
    )
    """
    program = _program(tmp_path, body)
    engine.project = "project"

    def run(verify: str) -> Mapping[str, str]:
        config = {"pingback:token": TOKEN, "pingback:apiUrl": sim.url, "project:verify": verify}
        return run_program(engine, program, config=config, secret_keys=[])[0].steps

    assert run("v1") == {"wa": "create"}
    first = engine.state["wa"].id
    assert run("v2") == {"wa": "replace"}  # without the option: an update in place
    assert engine.state["wa"].id != first and len(sim.channels()) == 1


def test_protect_retain_on_delete_and_replacement_trigger_reach_the_engine(
    sim: Simulator, dynamic_engine: Engine, tmp_path: Path
) -> None:
    engine = dynamic_engine
    program = _program(
        tmp_path,
        """
        config = pulumi.Config()
        if not config.get_bool("dropKept"):
            PingBackChannel("kept", type="sms", config={"n": "1"},
                            opts=pulumi.ResourceOptions(retain_on_delete=True))
        PingBackChannel("guarded", type="sms", config={"n": "2"},
                        opts=pulumi.ResourceOptions(protect=True))
        PingBackChannel("rolled", type="sms", config={"n": "3"},
                        opts=pulumi.ResourceOptions(replacement_trigger=config.get("trigger")))
        """,
    )
    engine.project = "project"
    config = {"pingback:token": TOKEN, "pingback:apiUrl": sim.url, "project:trigger": "a"}

    def up(**extra: str) -> Mapping[str, str]:
        return run_program(engine, program, config={**config, **extra}, secret_keys=[])[0].steps

    up()
    rolled, kept = engine.state["rolled"].id, engine.state["kept"].id
    assert up(**{"project:trigger": "b"})["rolled"] == "replace"
    assert engine.state["rolled"].id != rolled
    assert up(**{"project:trigger": "b", "project:dropKept": "true"})["kept"] == "delete"
    assert "kept" not in engine.state
    assert kept in {c["id"] for c in sim.channels()}  # retain_on_delete: left in PingBack
    with pytest.raises(EngineError, match="cannot be deleted because it is protected"):
        engine.destroy()
    assert engine.state["guarded"].id in {c["id"] for c in sim.channels()}


def test_import_is_refused_with_a_pointer_to_adopt_id(
    sim: Simulator, dynamic_engine: Engine, tmp_path: Path
) -> None:
    engine = dynamic_engine
    program = _program(
        tmp_path,
        """
        PingBackChannel("w", type="sms", config={},
                        opts=pulumi.ResourceOptions(import_="3fa85f64-5717-4562-b3fc-2c963f66afa6"))
        """,
    )
    with pytest.raises(pulumi.RunError) as info:
        _run(engine, sim, program)
    assert "pass adopt_id='3fa85f64-5717-4562-b3fc-2c963f66afa6' instead" in str(info.value)
    assert sim.requests() == []


def test_the_import_step_itself_fails_in_the_dynamic_server(
    sim: Simulator, dynamic_engine: Engine
) -> None:
    engine = dynamic_engine
    with pytest.raises(StepError) as info:
        engine.up([channel("w", "sms", {}, import_id="3fa85f64-5717-4562-b3fc-2c963f66afa6")])
    assert info.value.method == "Read" and "KeyError: '__provider'" in info.value.details


def test_get_looks_a_channel_up_and_a_missing_id_is_an_error(
    sim: Simulator, dynamic_engine: Engine, tmp_path: Path
) -> None:
    engine = dynamic_engine
    engine.up([channel("w", "sms", {"widget_id": "abc"})])
    cid = engine.state["w"].id
    program = _program(
        tmp_path,
        f"""
        found = PingBackChannel.get("found", "{cid}")
        pulumi.export("type", found.type)
        pulumi.export("config", found.config)
        """,
    )
    looker = Engine(dict(engine.config), cwd=tmp_path)
    result, exports = _run(looker, sim, program)
    assert result == {"found": "read"}
    assert exports["type"] == ("sms", False)
    assert exports["config"] == ({"widget_id": "abc"}, True)
    missing = _program(
        tmp_path, 'PingBackChannel.get("gone", "3fa85f64-5717-4562-b3fc-2c963f66afa6")\n'
    )
    with pytest.raises(StepError) as info:
        _run(Engine(dict(engine.config), cwd=tmp_path), sim, missing)
    assert info.value.message == (
        "PingBack has no channel 3fa85f64-5717-4562-b3fc-2c963f66afa6 in this business\n"
        "To fix: check the id (`pingback channels` lists the business's channels)."
    )


# ---- settings are checked at preview ---------------------------------------------------------


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
    with pytest.raises(StepError) as info:
        engine.preview([bot()])
    # The dynamic provider judges its settings in its first Check; the native plugin in
    # the default provider's CheckConfig, before any resource.
    assert info.value.method == ("CheckConfig" if engine.target.native else "Check")
    assert expected in info.value.message
    assert sim.requests() == []


# ---- 8. errors as the CLI shows them ----------------------------------------------------------


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
    with pytest.raises(StepError) as info:
        engine.up([bot()])
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


def test_check_failures_print_as_the_cli_prints_them(dynamic_engine: Engine) -> None:
    engine = dynamic_engine
    with pytest.raises(CheckFailed) as info:
        engine.up([channel("c", "telegram", {"bot_tokn": Secret(TG)}, is_active="yes")])
    assert info.value.rendered == [
        "pulumi-python:dynamic/pingback:Channel resource 'c': property config.bot_tokn value "
        "{<nil>} has a problem: unknown key 'bot_tokn' for a telegram channel; did you mean "
        "'bot_token'? allowed keys: bot_token",
        "pulumi-python:dynamic/pingback:Channel resource 'c': property config.bot_token value "
        "{<nil>} has a problem: missing: a telegram channel needs config.bot_token",
        "pulumi-python:dynamic/pingback:Channel resource 'c': property is_active value {yes} "
        "has a problem: must be true or false (a boolean, not a string)",
    ]


def test_token_rotation_of_the_bot_is_one_patch_through_up_refresh(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot()])
    sim.clear_log()
    assert engine.up([bot(TG_ROTATED)], refresh=True).steps == {"bot": "update"}
    assert writes(sim) == ["PATCH"]
