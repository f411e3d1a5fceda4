"""The provider through the real `python -m pulumi.dynamic` server, in the engine's order."""

from __future__ import annotations

import base64
import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_pingback import (
    APIConnectionError,
    DesiredChannel,
    PingBackChannelProvider,
    PingBackClient,
)
from pulumi_pingback.simulator import Simulator

from .conftest import TG, TG_OTHER_BOT, TG_ROTATED, TOKEN, bot, wa_config, writes
from .engine import UNKNOWN, CheckFailed, Engine, Secret, Snapshot, StepError, channel

CANARY = "CANARYf00dfeed"


def api(sim: Simulator) -> list[tuple[str, Any]]:
    return [(r["method"], r["status"]) for r in sim.requests()]


def delete_out_of_band(sim: Simulator, channel_id: str) -> None:
    """Someone deletes the channel in the PingBack dashboard."""
    response = httpx.delete(
        f"{sim.url}/api/v1/channels/{channel_id}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200


def test_create_then_a_noop_up_makes_no_api_call(sim: Simulator, engine: Engine) -> None:
    assert engine.up([bot(), channel("web", "sms", {"widget_id": "w-1"})]).steps == {
        "bot": "create",
        "web": "create",
    }
    # N creates: N POSTs and 1 list; and a list after the bot's POST (another run may bind
    # the same bot at the same time: tests/test_ownership.py)
    assert api(sim) == [("GET", 200), ("POST", 201), ("GET", 200), ("POST", 201)]
    state = engine.state["bot"]
    assert state.id == sim.channels()[0]["id"]
    assert {k: v for k, v in state.outputs.items() if k not in ("created_at", "business_id")} == {
        "type": "telegram",
        "config": {"bot_token": TG},
        "is_active": True,
        "identity": "telegram:bot/7123456789",
        "__provider": engine.blob,
    }
    assert state.outputs["business_id"] == sim.state.business_id
    assert sim.requests()[1]["body"] == {
        "type": "telegram",
        "config": {"bot_token": TG},
        "is_active": True,
    }

    sim.clear_log()
    again = engine.up([bot(), channel("web", "sms", {"widget_id": "w-1"})])
    assert again.steps == {"bot": "same", "web": "same"}
    assert api(sim) == [("GET", 200)]  # the provider's start: one list checks the token
    assert again.methods == ["Check", "Diff", "Check", "Diff"]


def test_token_rotation_updates_in_place_with_one_patch(sim: Simulator, engine: Engine) -> None:
    engine.up([bot()])
    first_id = engine.state["bot"].id
    sim.clear_log()
    assert engine.up([bot(TG_ROTATED)]).steps == {"bot": "update"}
    assert api(sim) == [("GET", 200), ("PATCH", 200)]  # the start's list, one PATCH
    assert sim.requests()[1]["path"] == f"/api/v1/channels/{first_id}"
    assert sim.requests()[1]["body"] == {
        "type": "telegram",
        "config": {"bot_token": TG_ROTATED},
        "is_active": True,
    }
    assert engine.state["bot"].id == first_id
    assert engine.state["bot"].outputs["config"] == {"bot_token": TG_ROTATED}


def test_is_active_toggle_is_an_update(sim: Simulator, engine: Engine) -> None:
    engine.up([bot()])
    sim.clear_log()
    assert engine.up([bot(is_active=False)]).steps == {"bot": "update"}
    assert api(sim) == [("GET", 200), ("PATCH", 200)]
    assert sim.channels()[0]["is_active"] is False


def test_another_bot_replaces_create_before_delete(sim: Simulator, engine: Engine) -> None:
    engine.up([bot()])
    old_id = engine.state["bot"].id
    sim.clear_log()
    run = engine.up([bot(TG_OTHER_BOT)])
    assert run.steps == {"bot": "replace"}
    assert run.methods == ["Check", "Diff", "Check", "Create", "Delete"]
    assert [(r["method"], r["path"]) for r in sim.requests()] == [
        ("GET", "/api/v1/channels/"),
        ("POST", "/api/v1/channels/"),
        ("GET", "/api/v1/channels/"),  # alone on its bot? (tests/test_ownership.py)
        ("DELETE", f"/api/v1/channels/{old_id}"),
    ]
    assert [c["id"] for c in sim.channels()] == [engine.state["bot"].id]
    assert engine.state["bot"].outputs["identity"] == "telegram:bot/7000000001"


def test_delete_before_replace_deletes_first(sim: Simulator, engine: Engine) -> None:
    engine.up([bot()])
    sim.clear_log()
    run = engine.up([bot(TG_OTHER_BOT, delete_before_replace=True)])
    assert run.steps == {"bot": "replace"}
    assert run.methods == ["Check", "Diff", "Check", "Delete", "Create"]
    assert [m for m, _ in api(sim)] == ["GET", "DELETE", "POST", "GET"]  # the start's list first
    assert engine.ids() == {c["id"] for c in sim.channels()}


def test_type_change_replaces(sim: Simulator, engine: Engine) -> None:
    engine.up([channel("c", "sms", {})])
    assert engine.up([channel("c", "webchat", {})]).steps == {"c": "replace"}
    assert [c["type"] for c in sim.channels()] == ["webchat"]


def test_preview_with_unknowns_calls_no_api_and_reports_the_replace(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot(), channel("wa", "whatsapp", wa_config())])
    sim.clear_log()
    plan = engine.preview(
        [
            channel("bot", "telegram", {"bot_token": UNKNOWN}),
            channel("wa", "whatsapp", {**wa_config(), "access_token": UNKNOWN}),
            channel("new", UNKNOWN, UNKNOWN),
        ]
    )
    assert plan.steps == {"bot": "replace:identity", "wa": "update", "new": "create"}
    assert api(sim) == [("GET", 200)]  # the provider's start; nothing written


def test_refresh_detects_drift_then_up_restores_it(sim: Simulator, engine: Engine) -> None:
    engine.up([bot()])
    assert engine.refresh().steps == {"bot": "same"}
    sim.clear_log()
    assert engine.up([bot()]).steps == {"bot": "same"}  # no diff noise after a refresh
    assert api(sim) == [("GET", 200)]  # only the provider's start

    cid = engine.state["bot"].id
    httpx.patch(
        f"{sim.url}/api/v1/channels/{cid}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"is_active": False},
    )  # someone toggles it in the dashboard
    sim.clear_log()
    assert engine.refresh().steps == {"bot": "changed"}
    assert api(sim) == [("GET", 200)]
    assert engine.state["bot"].outputs["is_active"] is False
    assert engine.state["bot"].inputs["is_active"] is False  # refreshed inputs
    assert engine.preview([bot()]).steps == {"bot": "update"}
    sim.clear_log()
    assert engine.up([bot()]).steps == {"bot": "update"}
    assert api(sim) == [("GET", 200), ("PATCH", 200)] and sim.channels()[0]["is_active"] is True


def test_refresh_drops_a_channel_deleted_out_of_band_and_up_recreates_it(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot()])
    cid = engine.state["bot"].id
    delete_out_of_band(sim, cid)
    assert engine.refresh().steps == {"bot": "deleted"}
    assert engine.state == {}
    assert engine.up([bot()]).steps == {"bot": "create"}
    assert len(sim.channels()) == 1


def test_update_of_a_channel_deleted_out_of_band_says_refresh(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot()])
    cid = engine.state["bot"].id
    delete_out_of_band(sim, cid)
    with pytest.raises(StepError) as info:
        engine.up([bot(TG_ROTATED)])
    assert info.value.method == "Update"
    assert info.value.message == (
        f"PingBack answered 404 Not Found to PATCH /api/v1/channels/{cid}: Channel not found\n"
        "The channel was deleted outside Pulumi. To fix: run `pulumi refresh` "
        "(it leaves the stack), then `pulumi up` (it is created again)."
    )
    engine.refresh()
    assert engine.up([bot(TG_ROTATED)]).steps == {"bot": "create"}


def test_destroy_deletes_everything_and_tolerates_already_gone(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot(), channel("w", "sms", {})])
    gone = engine.state["w"].id
    delete_out_of_band(sim, gone)
    sim.clear_log()
    engine.destroy()
    # the start's list, the two DELETEs, the list that confirms the 404 means gone
    assert sorted((m, s) for m, s in api(sim)) == [
        ("DELETE", 200),
        ("DELETE", 404),
        ("GET", 200),
        ("GET", 200),
    ]
    assert sim.channels() == [] and engine.state == {}


def test_removing_a_resource_from_the_program_deletes_it(sim: Simulator, engine: Engine) -> None:
    engine.up([bot(), channel("w", "sms", {})])
    assert engine.up([bot()]).steps == {"bot": "same", "w": "delete"}
    assert [c["type"] for c in sim.channels()] == ["telegram"]


def test_adoption_takes_an_existing_channel(
    sim: Simulator, engine: Engine, client: PingBackClient
) -> None:
    existing = client.create(DesiredChannel("telegram", {"bot_token": TG}, False))
    sim.clear_log()
    # Declared otherwise than PingBack holds it: refused, naming what differs, nothing sent.
    with pytest.raises(StepError) as info:
        engine.up([bot(TG_ROTATED, adopt_id=existing.id)])
    assert info.value.message.startswith(
        f"channel {existing.id} holds values (config.bot_token, is_active) that PingBack "
        "keeps otherwise than declared (values not shown); adopting it would overwrite them"
    )
    assert "adopt_overwrite=True" in info.value.message
    assert TG not in info.value.message and TG_ROTATED not in info.value.message
    assert [m for m, _ in api(sim)] == ["GET"] and engine.state == {}
    # Declared as it is: taken with no write at all.
    sim.clear_log()
    assert engine.up([bot(TG, adopt_id=existing.id, is_active=False)]).steps == {"bot": "create"}
    assert api(sim) == [("GET", 200)]
    engine.stack_import(Snapshot())  # the resource forgotten: `pulumi state delete`
    # On purpose: adopt_overwrite=True.
    sim.clear_log()
    assert engine.up([bot(TG_ROTATED, adopt_id=existing.id, adopt_overwrite=True)]).steps == {
        "bot": "create"
    }
    assert engine.state["bot"].id == existing.id
    assert api(sim) == [("GET", 200), ("PATCH", 200)]
    assert sim.channels()[0]["config"] == {"bot_token": TG_ROTATED}
    assert sim.channels()[0]["is_active"] is True
    assert engine.up([bot(TG_ROTATED, adopt_id=existing.id, adopt_overwrite=True)]).steps == {
        "bot": "same"
    }


def test_adoption_refuses_a_missing_or_mistyped_channel(
    sim: Simulator, engine: Engine, client: PingBackClient
) -> None:
    missing = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    with pytest.raises(StepError) as info:
        engine.up([bot(adopt_id=missing)])
    assert info.value.message == (
        f"PingBack has no channel {missing} in this business\n"
        "To fix: copy the id from the PingBack dashboard (`pingback channels` lists them), "
        "or remove adopt_id to create a new channel."
    )
    widget = client.create(DesiredChannel("sms", {}))
    with pytest.raises(StepError) as info:
        engine.up([bot(adopt_id=widget.id)])
    assert info.value.message == (
        f"channel {widget.id} is an sms channel, not telegram\n"
        "To fix: declare the channel as it is, or remove adopt_id to create a new channel."
    )
    assert len(sim.channels()) == 1 and engine.state == {}


def test_check_reports_every_problem_before_any_write(sim: Simulator, engine: Engine) -> None:
    with pytest.raises(CheckFailed) as info:
        engine.up(
            [
                channel(
                    "x",
                    "x",
                    {"api_key": "k", "acess_token": Secret(CANARY)},
                    is_active="yes",
                    adopt_id="not-a-uuid",
                )
            ]
        )
    assert info.value.failures == [
        ("adopt_id", "must be the UUID of an existing channel (copy it from PingBack)"),
        (
            "config.acess_token",
            "unknown key 'acess_token' for an x channel; did you mean "
            "'access_token'? allowed keys: api_key, api_secret, access_token, "
            "access_token_secret, bearer_token",
        ),
        ("config.api_secret", "missing: an x channel needs config.api_secret"),
        ("config.access_token", "missing: an x channel needs config.access_token"),
        ("config.access_token_secret", "missing: an x channel needs config.access_token_secret"),
        ("config.bearer_token", "missing: an x channel needs config.bearer_token"),
        ("is_active", "must be true or false (a boolean, not a string)"),
    ]
    assert CANARY not in info.value.details
    assert writes(sim) == []  # only the provider's start listed


def test_no_token_names_both_ways_to_set_it(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(config={"pingback:token": ""})
    with pytest.raises(StepError) as info:
        engine.up([bot()])
    assert info.value.message == (
        "no PingBack API token: set the business owner's API token with "
        "`pulumi config set --secret pingback:token <token>` (or export PINGBACK_TOKEN)"
    )
    assert sim.requests() == []


def test_environment_variables_configure_the_provider(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(
        config={"pingback:token": "", "pingback:apiUrl": ""},
        env={"PINGBACK_TOKEN": TOKEN, "PINGBACK_API_URL": sim.url},
    )
    engine.config = {}
    assert engine.up([bot()]).steps == {"bot": "create"}


def test_bad_timeout_setting_is_a_clear_error(make_engine: Callable[..., Engine]) -> None:
    engine = make_engine(config={"pingback:timeout": "soon"})
    with pytest.raises(
        StepError, match=r"pingback:timeout \(or PINGBACK_TIMEOUT\) must be a positive number"
    ):
        engine.up([bot()])


def test_402_during_a_replacement_points_to_delete_before_replace(
    sim: Simulator, engine: Engine
) -> None:
    sim.set_plan("mini")
    engine.up([bot(), channel("a", "sms", {}), channel("b", "sms", {})])
    before = engine.ids()
    with pytest.raises(StepError) as info:
        engine.up([bot(TG_OTHER_BOT), channel("a", "sms", {}), channel("b", "sms", {})])
    assert info.value.method == "Create"
    assert "the Mini plan is at its limit for channels (3/3)" in info.value.message
    assert "set `delete_before_replace=True`" in info.value.message
    assert engine.ids() == before == {c["id"] for c in sim.channels()}
    assert engine.state["bot"].outputs["identity"] == "telegram:bot/7123456789"
    assert (
        engine.up(
            [
                bot(TG_OTHER_BOT, delete_before_replace=True),
                channel("a", "sms", {}),
                channel("b", "sms", {}),
            ]
        ).steps["bot"]
        == "replace"
    )
    assert engine.ids() == {c["id"] for c in sim.channels()}


def test_four_calls_run_at_once_on_one_provider(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(parallel=8)
    sim.set_latency(0.2)
    engine.up([channel(f"w{i}", "sms", {"n": str(i)}) for i in range(12)])
    assert len(sim.channels()) == 12 and engine.ids() == {c["id"] for c in sim.channels()}
    assert sim.max_inflight() == 4  # the server's pool: 4 workers, the rest queue


def test_the_pickled_provider_is_small_stable_and_holds_no_secret() -> None:
    provider = PingBackChannelProvider()
    blob = serialize_provider(provider)
    settings = {
        "pingback:token": CANARY,
        "pingback:apiUrl": "http://127.0.0.1:1",
        "pingback:maxRetries": "0",  # refused at once: no backoff to wait through
    }
    with pytest.raises(APIConnectionError):  # the start's list: nothing listens there
        provider.configure(ConfigureRequest(Config(raw_config=settings, project_name="p")))
    with pytest.raises(APIConnectionError):  # the client is built
        provider.delete("3fa85f64-5717-4562-b3fc-2c963f66afa6", {"type": "sms"})
    again = serialize_provider(provider)  # even once configured, with a client
    assert again == blob
    raw = base64.b64decode(blob)
    assert len(raw) <= 100
    # by reference, under the package's public name: a path no move inside it changes
    assert b"\x8c\x0fpulumi_pingback\x94\x8c\x17PingBackChannelProvider" in raw
    assert CANARY.encode() not in raw and CANARY not in repr(provider)
    assert isinstance(pickle.loads(raw), PingBackChannelProvider)


PICKLED_BY_0_3 = "gASVPwAAAAAAAACMGXB1bHVtaV9waW5nYmFjay5fcHJvdmlkZXKUjBdQaW5nQmFja0NoYW5uZWxQcm92aWRlcpSTlCmBlH2UYi4="
"""``serialize_provider(PingBackChannelProvider())`` as 0.3.0 wrote it into every state."""


def test_a_provider_pickled_by_0_3_still_loads() -> None:
    """refresh and destroy unpickle the provider the last `up` wrote: a stack written
    before the package's folders keeps working."""
    raw = base64.b64decode(PICKLED_BY_0_3)
    assert b"pulumi_pingback._provider" in raw
    assert type(pickle.loads(raw)) is PingBackChannelProvider


def test_state_marks_credentials_secret_and_identity_plain(sim: Simulator, engine: Engine) -> None:
    engine.up([bot(), channel("wa", "whatsapp", wa_config())])  # wa config given in plain text
    shown = {(name, path): value for name, path, value in engine.non_secret_values()}
    assert shown[("bot", ("outputs", "identity"))] == "telegram:bot/7123456789"
    assert shown[("wa", ("outputs", "identity"))] == "whatsapp:phone/109876543210"
    assert shown[("wa", ("outputs", "meta_callback_url"))].endswith("/api/v1/webhooks/whatsapp")
    plain_outputs = {path for (_, path) in shown if path[0] == "outputs"}
    assert ("outputs", "meta_verify_token") not in plain_outputs
    # of the outputs' config, the readable key only: each credential is sealed, as in inputs
    assert {p for p in plain_outputs if p[:2] == ("outputs", "config")} == {
        ("outputs", "config", "phone_number_id")
    }
    assert TG not in [v for v in shown.values()]


def test_the_same_bot_in_two_stacks_of_one_business_is_refused_before_any_write(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    dev, prod = make_engine(stack="dev"), make_engine(stack="prod")
    prod.up([bot()])
    theirs = prod.state["bot"].id
    sim.clear_log()
    with pytest.raises(StepError) as info:
        dev.up([bot(TG_ROTATED)])  # the same bot declared in a second stack
    assert info.value.message == (
        f"the Telegram bot 7123456789 is already bound to channel {theirs} of this PingBack "
        "business\nTelegram keeps one webhook per bot, so a second channel would silence one "
        f"of the two. If {theirs} is the channel this resource replaces (a forced replace: --target-replace, "
        "replacement_trigger, replace_on_changes), set "
        "`delete_before_replace=True` in its ResourceOptions; otherwise delete that channel "
        "(or adopt it with adopt_id) or use another one."
    )
    assert [r["method"] for r in sim.requests()] == ["GET"]  # no write
    assert sim.webhooks() == {"7123456789": theirs}  # prod keeps its messages
    # The fix: one bot per environment.
    assert dev.up([bot(TG_OTHER_BOT)]).steps == {"bot": "create"}


def test_a_refresh_reads_every_channel_with_one_list(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(parallel=8)
    engine.up([channel(f"w{i}", "sms", {"n": str(i)}) for i in range(24)])
    assert sim.connections() <= 4  # the pool is shared by the server's 4 workers
    sim.clear_log()
    assert set(engine.refresh().steps.values()) == {"same"}
    assert api(sim) == [("GET", 200)]  # 24 concurrent reads share one list


def test_an_error_of_the_whole_process_is_said_in_full_once_and_a_channel_s_always() -> None:
    """The dynamic provider's boundary: a token PingBack rejects fails every call alike,
    so the second says in one line that it is the same; an error about one channel (or a
    create that may have landed) stays whole for each resource, even with equal text."""
    from pulumi_pingback._exceptions import AuthenticationError, OutcomeUnknownError
    from pulumi_pingback.dynamic._provider import _once

    rejected = AuthenticationError(
        "PingBack rejected the API token (401 on GET /api/v1/channels/) [once-test]",
        status_code=401,
    ).evolve(advice="To fix: set the token.")
    assert _once(rejected) is rejected
    again = _once(rejected)
    assert isinstance(again, AuthenticationError) and again.advice == ""
    assert str(again) == (
        "the same error as another resource of this command, in full there: "
        "PingBack rejected the API token (401 on GET /api/v1/channels/) [once-test]"
    )
    lost = OutcomeUnknownError(
        "a create of a sms channel was sent at 12:00:00 [once-test]",
        channel_type="sms",
        sent_at="12:00:00",
    )
    assert _once(lost) is lost and _once(lost) is lost


def test_the_program_checks_its_settings_once_per_run_under_the_stack() -> None:
    """``once_per_program``: a typo fails the program (a RunError, no traceback); the
    check runs again for the next program run's config (an Automation API process runs
    many), and not again within one."""
    import contextvars

    import pulumi
    from pulumi.runtime.config import CONFIG

    from pulumi_pingback.dynamic import _program

    def run(config: dict[str, str]) -> None:
        def body() -> None:
            CONFIG.set(config)
            _program.once_per_program()

        contextvars.copy_context().run(body)

    typo = {"pingback:apiurl": "http://127.0.0.1:1", "pingback:token": "t"}
    with pytest.raises(pulumi.RunError, match="did you mean pingback:apiUrl"):
        run(typo)
    with pytest.raises(pulumi.RunError):
        run(typo)  # not passed: checked again
    run({"pingback:token": "t", "pingback:apiUrl": "http://127.0.0.1:1"})
    with pytest.raises(pulumi.RunError, match="pingback:timout"):
        run({"pingback:timout": "3"})  # the next run's config is checked anew
