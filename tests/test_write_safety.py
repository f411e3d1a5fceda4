"""Nothing bound twice, nothing orphaned, nothing duplicated — tested once.

Each test is one promise of the README's "What happens when…", tried against a
simulator that misbehaves: late commits, proxies, odd answers, careless programs, under
the engine's call orders (tests/engine/). Write safety is the core's (client/ and its
ownership registry, which both fronts call the same way: tests/test_layers.py), so each
promise runs once, through the dynamic provider; what each front's wire adds (its gRPC
codes, its names, its secrets) is tested beside it (tests/test_native.py,
tests/test_provider.py), and the registry's own races in tests/test_ownership.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from pulumi_pingback import DesiredChannel
from pulumi_pingback.simulator import Simulator

from .conftest import TG, TG_OTHER_BOT, TG_ROTATED, bot, quick, writes
from .engine import Engine, StepError, channel


def live_ids(sim: Simulator) -> set[str]:
    return {c["id"] for c in sim.channels()}


def posts(sim: Simulator) -> int:
    return sum(1 for r in sim.requests() if r["method"] == "POST")


# ---- 1. reconciliation never binds a resource to another's channel ------------------------


def test_identical_siblings_in_one_stack_never_share_a_channel(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine()
    engine.up([channel("a", "webchat", {})])
    sim.inject("status", status=502, method="POST")  # nothing created
    engine.up([channel("a", "webchat", {}), channel("b", "webchat", {})])
    a, b = engine.state["a"].id, engine.state["b"].id
    assert a != b and live_ids(sim) == {a, b}
    engine.up([channel("b", "webchat", {})])  # deleting one leaves the other
    assert live_ids(sim) == {b}


def test_two_stacks_sharing_a_business_never_share_a_channel(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    dev, prod = make_engine(stack="dev"), make_engine(stack="prod")
    prod.up([channel("w", "sms", {"widget_id": "same"})])
    sim.inject("status", status=502, method="POST")
    dev.up([channel("w", "sms", {"widget_id": "same"})])
    assert dev.state["w"].id != prod.state["w"].id
    dev.destroy()
    assert live_ids(sim) == {prod.state["w"].id}


def test_80_identical_creates_4_at_a_time_under_post_faults_get_80_channels(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    sim.state.rng.seed(11)
    for fault in (
        {"kind": "status", "status": 502},
        {"kind": "late", "status": 503, "delay": 0.05},
        {"kind": "drop"},
        {"kind": "drop", "after_commit": True},
    ):
        sim.inject(method="POST", times=None, probability=0.08, **fault)
    engine = make_engine(config={"pingback:timeout": "0.5", "pingback:maxRetries": "5"}, parallel=4)
    engine.up([channel(f"c{i}", "webchat", {}) for i in range(80)])
    ids = [r.id for r in engine.state.values()]
    assert len(ids) == 80 and len(set(ids)) == 80 and set(ids) == live_ids(sim)
    assert sum(1 for r in sim.requests() if r["fault"]) >= 10


# ---- 2. late commits -----------------------------------------------------------------------


def test_a_create_stored_after_the_timeout_is_not_sent_twice(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    sim.inject("latency", method="POST", delay=0.8)  # stored 0.8 s after it arrived
    engine = make_engine(config={"pingback:timeout": "0.5"})
    engine.up([bot()])
    assert live_ids(sim) == {engine.state["bot"].id}
    assert sim.webhooks() == {"7123456789": engine.state["bot"].id}
    assert posts(sim) == 1


def test_a_proxy_503_after_forwarding_is_not_sent_twice(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    sim.inject("late", method="POST", status=503, delay=0.3)
    engine = make_engine(config={"pingback:timeout": "1"})
    engine.up([bot()])
    assert live_ids(sim) == {engine.state["bot"].id} and posts(sim) == 1


# ---- 3. a 2xx the client cannot read -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"), [("html", 200), ("empty", 204), ("wrapped", 201), ("no-id", 201)]
)
def test_a_create_answered_with_an_unreadable_2xx_is_found(
    sim: Simulator, engine: Engine, body: str, status: int
) -> None:
    sim.inject("body", method="POST", body=body, status=status)
    assert engine.up([bot()]).steps == {"bot": "create"}
    assert live_ids(sim) == {engine.state["bot"].id}
    sim.clear_log()
    assert engine.up([bot()]).steps == {"bot": "same"}  # the next up creates nothing
    assert writes(sim) == []  # the provider's start lists; nothing else


# ---- 4. redirects ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_delete_keeps_the_resource_and_says_where(
    sim: Simulator, engine: Engine, status: int
) -> None:
    engine.up([bot()])
    cid = engine.state["bot"].id
    sim.inject("status", status=status, method="DELETE", location="https://new.example/x")
    with pytest.raises(StepError) as info:
        engine.destroy()
    assert info.value.message == (
        f"PingBack answered DELETE /api/v1/channels/{cid} with a redirect ({status}) to "
        "https://new.example/x; redirects are never followed\n"
        f"pingback:apiUrl ({sim.url}) is answered by a redirect; the API token is never sent "
        "elsewhere. To fix: set pingback:apiUrl to the address PingBack answers on."
    )
    assert engine.ids() == {cid} == live_ids(sim)


def test_a_redirected_patch_is_an_error_not_an_update(sim: Simulator, engine: Engine) -> None:
    engine.up([bot()])
    sim.inject("status", status=302, method="PATCH", location="https://login.example/")
    with pytest.raises(StepError, match=r"with a redirect \(302\) to https://login.example/"):
        engine.up([bot(TG_ROTATED)])
    assert engine.state["bot"].outputs["config"] == {"bot_token": TG}
    assert sim.channels()[0]["config"] == {"bot_token": TG}


# ---- 5. a 404 from the wrong route ---------------------------------------------------------


def test_a_wrong_api_url_fails_destroy_and_create_naming_pingback_api_url(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    right = make_engine()
    right.up([bot(), channel("w", "sms", {})])
    wrong = make_engine(config={"pingback:apiUrl": sim.url + "/api"})
    wrong.stack_import(right.state)
    advice = (  # at the door, before anything is sent
        "pingback:apiUrl (or PINGBACK_API_URL) must be the API's base URL, without a path, "
        "e.g. https://api.pingback.live"
    )
    with pytest.raises(StepError) as info:
        wrong.destroy()
    assert info.value.message.endswith(advice)
    assert len(sim.channels()) == 2 and len(wrong.state) == 2  # nothing lost or dropped
    with pytest.raises(StepError) as info:
        wrong.up([*[r.declared for r in right.state.values()], channel("n", "sms", {})])
    # at the provider's start, before any step (the plugin's Configure; the dynamic
    # provider's first call)
    assert info.value.method in ("CheckConfig", "Check") and info.value.message.endswith(advice)


def test_a_proxy_not_found_page_on_delete_is_not_already_deleted(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot()])
    cid = engine.state["bot"].id
    sim.inject("status", status=404, method="DELETE", body="html")
    with pytest.raises(StepError) as info:
        engine.destroy()
    assert info.value.message.endswith(
        f"PingBack still lists channel {cid}: the 404 came from the route, not the channel. "
        f"Check pingback:apiUrl ({sim.url}) and any proxy in front of PingBack."
    )
    assert engine.ids() == {cid} == live_ids(sim)


# ---- 6. adopt_id and replacements ------------------------------------------------------------


@pytest.fixture
def adopted(sim: Simulator, engine: Engine) -> tuple[Engine, str]:
    """A Telegram channel made in the dashboard, adopted by resource `bot`."""
    existing = quick(sim).create(DesiredChannel("telegram", {"bot_token": TG}))
    engine.up([bot(adopt_id=existing.id)])
    assert engine.state["bot"].id == existing.id
    return engine, existing.id


@pytest.mark.parametrize("delete_first", [False, True])
@pytest.mark.parametrize("how", ["target_replace", "replacement_trigger"])
def test_a_forced_replace_of_an_adopted_channel_keeps_it(
    sim: Simulator, adopted: tuple[Engine, str], delete_first: bool, how: str
) -> None:
    engine, cid = adopted
    sim.clear_log()
    # The replacement re-adopts the channel, with a rotated token: a change of a live
    # channel, so the program says it may overwrite (adopt_overwrite).
    if how == "target_replace":
        result = engine.up(
            [
                bot(
                    TG_ROTATED,
                    adopt_id=cid,
                    adopt_overwrite=True,
                    delete_before_replace=delete_first,
                )
            ],
            target_replace=["bot"],
        )
    else:
        engine.up([bot(adopt_id=cid, replacement_trigger="v1")])
        sim.clear_log()
        result = engine.up(
            [
                bot(
                    TG_ROTATED,
                    adopt_id=cid,
                    adopt_overwrite=True,
                    replacement_trigger="v2",
                    delete_before_replace=delete_first,
                )
            ]
        )
    assert result.steps == {"bot": "replace"}
    assert "Diff" not in result.methods  # forced: the engine never diffs
    assert engine.state["bot"].id == cid and live_ids(sim) == {cid}
    assert sim.channels()[0]["config"] == {"bot_token": TG_ROTATED}  # re-adopted: one PATCH
    assert [r["method"] for r in sim.requests() if r["method"] != "GET"] == ["PATCH"]


@pytest.mark.parametrize("delete_first", [False, True])
@pytest.mark.parametrize(
    "change", [{"token": TG_OTHER_BOT, "type": "telegram"}, {"token": "", "type": "webchat"}]
)
def test_an_identity_or_type_change_of_an_adopted_channel_fails_and_keeps_it(
    sim: Simulator, adopted: tuple[Engine, str], delete_first: bool, change: dict[str, str]
) -> None:
    engine, cid = adopted
    if change["type"] == "telegram":
        program = [bot(change["token"], adopt_id=cid, delete_before_replace=delete_first)]
    else:
        program = [channel("bot", "webchat", {}, adopt_id=cid, delete_before_replace=delete_first)]
    with pytest.raises(StepError) as info:
        engine.up(program)
    assert info.value.method == ("Delete" if delete_first else "Create")
    assert "remove adopt_id" in info.value.message
    assert engine.state["bot"].id == cid and live_ids(sim) == {cid}
    assert not [r for r in sim.requests() if r["method"] == "DELETE"]


def test_without_adopt_id_an_adopted_channel_is_replaced_like_any_other(
    sim: Simulator, adopted: tuple[Engine, str]
) -> None:
    engine, cid = adopted
    assert engine.up([bot(TG_OTHER_BOT)]).steps == {"bot": "replace"}
    assert engine.state["bot"].id != cid and live_ids(sim) == {engine.state["bot"].id}


def test_one_channel_is_never_adopted_by_two_resources(sim: Simulator, engine: Engine) -> None:
    existing = quick(sim).create(DesiredChannel("webchat", {}))
    with pytest.raises(StepError, match="already managed by another resource of this deployment"):
        engine.up(
            [
                channel("a", "webchat", {}, adopt_id=existing.id),
                channel("b", "webchat", {}, adopt_id=existing.id),
            ]
        )
    assert engine.ids() == {existing.id} == live_ids(sim)


def test_adopting_a_channel_another_resource_manages_is_refused(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([channel("a", "webchat", {})])
    taken = engine.state["a"].id
    with pytest.raises(StepError, match=f"channel {taken} is already managed by another"):
        engine.up([channel("a", "webchat", {}), channel("b", "webchat", {}, adopt_id=taken)])
    assert set(engine.state) == {"a"} and live_ids(sim) == {taken}


# ---- 7. one odd channel breaks nothing --------------------------------------------------------


@pytest.mark.parametrize("odd", [{"config": None}, {"is_active": None}, {"created_at": 1700000000}])
def test_one_malformed_channel_breaks_no_other_read(
    sim: Simulator, engine: Engine, odd: dict[str, Any]
) -> None:
    engine.up([bot(), channel("w", "sms", {"v": "1"})])
    sim.plant(
        {
            "id": "odd",
            "business_id": "b",
            "type": "webchat",
            "config": {},
            "is_active": True,
            "created_at": "2024-01-01T00:00:00Z",
            **odd,
        }
    )
    assert engine.refresh().steps == {"bot": "same", "w": "same"}
    assert engine.up([bot(), channel("w", "sms", {"v": "2"})]).steps == {
        "bot": "same",
        "w": "update",
    }
    sim.inject("body", method="PATCH", body="html")  # read back by listing
    assert engine.up([bot(), channel("w", "sms", {"v": "3"})]).steps["w"] == "update"
    sim.inject("status", status=502, method="POST")  # reconciled by listing
    assert (
        engine.up([bot(), channel("w", "sms", {"v": "3"}), channel("s", "sms", {})]).steps["s"]
        == "create"
    )


# ---- 8. bounds --------------------------------------------------------------------------------


def test_a_dripping_server_cannot_hold_a_refresh(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(config={"pingback:timeout": "1", "pingback:maxRetries": "1"})
    engine.up([bot()])
    sim.inject("drip", method="GET", delay=0.6, times=None)
    start = time.monotonic()
    with pytest.raises(StepError) as info:
        engine.refresh()
    elapsed = time.monotonic() - start
    assert "did not finish answering GET /api/v1/channels/ within the 2 s deadline" in (
        info.value.message
    )
    assert elapsed < 2 * 2 + 1 + 3  # 2 attempts of one deadline each, backoff, process start


def test_an_800_mb_list_is_not_read_whole(
    sim: Simulator, make_engine: Callable[..., Engine]
) -> None:
    engine = make_engine(config={"pingback:maxRetries": "0"})
    engine.up([bot()])
    with engine.session() as drv:
        engine.up([bot(TG_ROTATED)])  # started (its first list done); a write: lists again
        sim.inject("oversize", method="GET", size=800 * 2**20, times=None)
        with pytest.raises(StepError) as info:
            engine.refresh()
        pid = drv.process.pid
        peak = next(
            int(line.split()[1])
            for line in open(f"/proc/{pid}/status")  # noqa: SIM115
            if line.startswith("VmHWM:")
        )
    assert "larger than 16 MiB; reading stopped there" in info.value.message
    assert peak < 200 * 1024  # KiB: the provider process never held the answer


# ---- 9. one identity, one channel ------------------------------------------------------------


def test_two_resources_with_one_bot_fail_before_the_second_write(
    sim: Simulator, engine: Engine
) -> None:
    with pytest.raises(StepError) as info:
        engine.up([bot(), bot(TG_ROTATED, name="bot2")])
    first = engine.state["bot"].id
    assert info.value.name == "bot2"
    assert info.value.message.startswith(
        f"the Telegram bot 7123456789 is already bound to channel {first} of this PingBack business"
    )
    assert posts(sim) == 1 and live_ids(sim) == {first}


def test_a_forced_replace_keeping_the_bot_asks_for_delete_before_replace(
    sim: Simulator, engine: Engine
) -> None:
    engine.up([bot()])
    old = engine.state["bot"].id
    with pytest.raises(StepError) as info:
        engine.up([bot(TG_ROTATED)], target_replace=["bot"])
    assert info.value.method == "Create"
    assert (
        f"If {old} is the channel this resource replaces (a forced replace: --target-replace, "
        "replacement_trigger, replace_on_changes), set "
    ) in info.value.message
    assert "`delete_before_replace=True`" in info.value.message
    assert engine.ids() == {old} == live_ids(sim)
    assert engine.up(
        [bot(TG_ROTATED, delete_before_replace=True)], target_replace=["bot"]
    ).steps == {"bot": "replace"}
    assert live_ids(sim) == {engine.state["bot"].id} != {old}


def test_an_update_that_would_take_another_channels_account_is_refused(
    sim: Simulator, engine: Engine
) -> None:
    opaque = {
        "api_key": "k",
        "api_secret": "s",
        "access_token": "opaque",  # no account id: no identity
        "access_token_secret": "t",
        "bearer_token": "b",
    }
    engine.up([channel("x1", "x", {**opaque, "access_token": "42-a"}), channel("x2", "x", opaque)])
    with pytest.raises(StepError, match="the X account 42 is already bound to channel"):
        engine.up(
            [
                channel("x1", "x", {**opaque, "access_token": "42-a"}),
                channel("x2", "x", {**opaque, "access_token": "42-b"}),  # an update in place
            ]
        )
    assert [r["method"] for r in sim.requests()].count("PATCH") == 0
