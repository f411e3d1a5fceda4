"""Nothing bound twice, nothing orphaned, nothing duplicated — tested once, on the core.

Each test is one promise of the README's "What happens when…", tried against a
simulator that misbehaves: late commits, proxies, odd answers, careless programs. Write
safety is the core's — :class:`pulumi_pingback._operations.Channels`, its client and its
ownership registry with the create journal, which both fronts call the same way
(tests/test_layers.py) — so each promise runs once, in this process, against the
in-process simulator, with threads that really race where a promise is about races. A
:class:`Stack` calls the core as the engine calls a provider: each deployment a fresh
``Channels`` (a fresh provider process), Check then Create, Check then Diff then Update,
Delete, in the orders tests/engine reproduces and tests/cli/test_engine_fidelity.py
compares with the real CLI (a replacement: Create then Delete, or Delete then Create).

What each front's wire adds is tested beside it (tests/test_provider.py,
tests/test_native.py: names, secrets, gRPC codes), and end to end here only where the
wire carries the promise: an unreadable 2xx through each front
(:func:`test_an_unreadable_2xx_through_each_front_is_found_and_the_next_up_is_clean`).
A late commit through each front, under the real CLI: tests/cli/test_interrupts.py.
The registry's own races: tests/test_ownership.py; the client's request by request:
tests/test_client.py; the soak (behind ``-m soak``): tests/test_soak.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from pulumi_pingback import DesiredChannel, PingBackError
from pulumi_pingback._operations import Channels
from pulumi_pingback._settings import Settings
from pulumi_pingback.channels._models import Declaration
from pulumi_pingback.simulator import Simulator

from .conftest import TG, TG_OTHER_BOT, TG_ROTATED, TOKEN, bot, quick, writes
from .engine import Engine, Target

BOT: dict[str, Any] = {"type": "telegram", "config": {"bot_token": TG}}


def live_ids(sim: Simulator) -> set[str]:
    return {c["id"] for c in sim.channels()}


def posts(sim: Simulator) -> int:
    return sum(1 for r in sim.requests() if r["method"] == "POST")


def telegram(token: str = TG, **options: Any) -> dict[str, Any]:
    return {"type": "telegram", "config": {"bot_token": token}, **options}


@dataclass(frozen=True)
class Held:
    """One resource in the stack's state: its id, checked inputs and outputs."""

    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]


class Stack:
    """One stack's state and its current deployment's core (``ops``), called as the engine
    calls a front. ``quick_waits``: the client retries and settles within milliseconds
    (tests/conftest.py ``quick``); else it waits as a provider's does."""

    def __init__(
        self,
        sim: Simulator,
        *,
        timeout: float = 2.0,
        max_retries: int = 3,
        quick_waits: bool = False,
    ) -> None:
        self.sim = sim
        self.settings = Settings(TOKEN, sim.url, timeout=timeout, max_retries=max_retries)
        self.quick_waits = quick_waits
        self.state: dict[str, Held] = {}
        self.ops = self.deploy()

    def deploy(self) -> Channels:
        """A new `pulumi up`: a fresh provider process, configured and verified."""
        ops = Channels(self.settings)
        if self.quick_waits:  # the client the core would build, its waits short
            s = self.settings
            ops._client = quick(
                self.sim, timeout=s.timeout, max_retries=s.max_retries, owners=ops.owners
            )
        ops.verify()
        self.ops = ops
        return ops

    def check(self, inputs: dict[str, Any], olds: Held | None = None) -> dict[str, Any]:
        checked = self.ops.check(inputs, olds.inputs if olds else None)
        assert not checked.failures, checked.failures
        return checked.inputs

    def create(self, name: str, inputs: dict[str, Any], *, checked: bool = False) -> Held:
        news = inputs if checked else self.check(inputs, self.state.get(name))
        out = self.ops.create(Declaration.of(news))
        assert out.id is not None
        self.state[name] = Held(out.id, news, out.values)
        return self.state[name]

    def update(self, name: str, inputs: dict[str, Any]) -> Held:
        old = self.state[name]
        news = self.check(inputs, old)
        assert self.ops.diff(old.id, old.outputs, news).kind == "update"
        out = self.ops.update(old.id, old.outputs, Declaration.of(news))
        self.state[name] = Held(old.id, news, out.values)
        return self.state[name]

    def delete(self, name: str) -> None:
        old = self.state[name]
        self.ops.delete(old.id, old.outputs)
        del self.state[name]


# ---- 1. reconciliation never binds a resource to another's channel ------------------------


def test_identical_siblings_in_one_stack_never_share_a_channel(sim: Simulator) -> None:
    stack = Stack(sim, quick_waits=True)
    a = stack.create("a", {"type": "webchat", "config": {}})
    sim.inject("status", status=502, method="POST")  # nothing created
    b = stack.create("b", {"type": "webchat", "config": {}})
    assert a.id != b.id and live_ids(sim) == {a.id, b.id}
    stack.delete("a")  # deleting one leaves the other
    assert live_ids(sim) == {b.id}


def test_two_stacks_sharing_a_business_never_share_a_channel(sim: Simulator) -> None:
    theirs = Stack(sim).create("w", {"type": "sms", "config": {"widget_id": "same"}})  # prod
    dev = Stack(sim, quick_waits=True)  # `up` of another stack, later
    sim.inject("status", status=502, method="POST")
    ours = dev.create("w", {"type": "sms", "config": {"widget_id": "same"}})
    assert ours.id != theirs.id
    dev.delete("w")
    assert live_ids(sim) == {theirs.id}


def test_identical_creates_racing_on_threads_under_post_faults_get_a_channel_each(
    sim: Simulator,
) -> None:
    """40 creates of two bodies (20 identical each) on 8 threads of one deployment, every
    kind of POST fault on the way: one channel per create, none shared, none left over."""
    sim.state.rng.seed(11)
    for fault in (
        {"kind": "status", "status": 502},
        {"kind": "late", "status": 503, "delay": 0.05},
        {"kind": "drop"},
        {"kind": "drop", "after_commit": True},
    ):
        sim.inject(method="POST", times=None, probability=0.08, **fault)
    sim.set_latency(0.02)  # each request in flight long enough for the other body's to overlap
    ops = Stack(sim, timeout=0.5, max_retries=5, quick_waits=True).ops
    bodies = [("webchat", {}), ("sms", {"widget_id": "same"})] * 20

    def create(body: tuple[str, dict[str, str]]) -> str:
        out = ops.create(Declaration(DesiredChannel(*body)))
        assert out.id is not None
        return out.id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(create, bodies))
    assert len(set(ids)) == 40 and set(ids) == live_ids(sim)
    faulted = [r for r in sim.requests() if r["fault"]]
    assert len(faulted) >= 6 and {r["fault"] for r in faulted} >= {"status", "late", "drop"}
    assert sim.max_inflight() > 1  # the two bodies' creates overlapped


# ---- 2. late commits -----------------------------------------------------------------------


def test_a_create_stored_after_the_timeout_is_not_sent_twice(sim: Simulator) -> None:
    sim.inject("latency", method="POST", delay=0.8)  # stored 0.8 s after it arrived
    made = Stack(sim, timeout=0.5).create("bot", BOT)
    assert live_ids(sim) == {made.id} and sim.webhooks() == {"7123456789": made.id}
    assert posts(sim) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_proxy_5xx_after_forwarding_is_not_sent_twice(sim: Simulator, status: int) -> None:
    sim.inject("late", method="POST", status=status, delay=0.3)  # answered; stored later
    made = Stack(sim, timeout=1.0).create("bot", BOT)
    assert live_ids(sim) == {made.id} and posts(sim) == 1


# ---- 3. a 2xx the client cannot read -------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"), [("html", 200), ("empty", 204), ("wrapped", 201), ("no-id", 201)]
)
def test_a_create_answered_with_an_unreadable_2xx_is_found(
    sim: Simulator, body: str, status: int
) -> None:
    stack = Stack(sim)
    sim.inject("body", method="POST", body=body, status=status)
    made = stack.create("bot", BOT)
    assert live_ids(sim) == {made.id}
    asked = [(r["method"], r["status"]) for r in sim.requests()]
    assert asked == [("GET", 200), ("POST", status), ("GET", 200)]  # found by one list
    assert stack.ops.client().counters["reconciled"] == 1
    sim.clear_log()
    stack.deploy()  # the next up: its outputs diff clean against the same program
    assert stack.ops.diff(made.id, made.outputs, stack.check(BOT, made)).kind == "none"
    assert writes(sim) == []


def test_an_unreadable_2xx_through_each_front_is_found_and_the_next_up_is_clean(
    sim: Simulator, make_engine: Callable[..., Engine], target: Target
) -> None:
    """End to end: what a create found by listing gives back crosses each front's wire
    as a create's answer does, so the next `up` changes nothing."""
    engine = make_engine(target=target)
    sim.inject("body", method="POST", body="html", status=200)
    assert engine.up([bot()]).steps == {"bot": "create"}
    assert live_ids(sim) == {engine.state["bot"].id}
    sim.clear_log()
    assert engine.up([bot()]).steps == {"bot": "same"}
    assert writes(sim) == []  # the provider's start lists; nothing else


# ---- 4. redirects ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirected_delete_keeps_the_resource_and_says_where(sim: Simulator, status: int) -> None:
    stack = Stack(sim)
    cid = stack.create("bot", BOT).id
    sim.inject("status", status=status, method="DELETE", location="https://new.example/x")
    with pytest.raises(PingBackError) as info:
        stack.delete("bot")
    assert str(info.value) == (
        f"PingBack answered DELETE /api/v1/channels/{cid} with a redirect ({status}) to "
        "https://new.example/x; redirects are never followed\n"
        f"pingback:apiUrl ({sim.url}) is answered by a redirect; the API token is never sent "
        "elsewhere. To fix: set pingback:apiUrl to the address PingBack answers on."
    )
    assert set(stack.state) == {"bot"} and live_ids(sim) == {cid}


def test_a_redirected_patch_is_an_error_not_an_update(sim: Simulator) -> None:
    stack = Stack(sim)
    stack.create("bot", BOT)
    sim.inject("status", status=302, method="PATCH", location="https://login.example/")
    with pytest.raises(PingBackError, match=r"with a redirect \(302\) to https://login.example/"):
        stack.update("bot", telegram(TG_ROTATED))
    assert stack.state["bot"].outputs["config"] == {"bot_token": TG}
    assert sim.channels()[0]["config"] == {"bot_token": TG}


# ---- 5. a 404 from the wrong route ---------------------------------------------------------


def test_a_wrong_api_url_fails_destroy_and_create_naming_pingback_api_url(
    sim: Simulator,
) -> None:
    """Every command's provider configures from the settings first (a destroy from those
    its last `up` saved): a path in pingback:apiUrl fails there, before anything is sent.
    Each front's preview: tests/test_hostile_server.py."""
    stack = Stack(sim)
    stack.create("bot", BOT)
    stack.create("w", {"type": "sms", "config": {}})
    sim.clear_log()
    with pytest.raises(PingBackError) as info:
        Channels.from_config({"pingback:token": TOKEN, "pingback:apiUrl": sim.url + "/api"})
    assert str(info.value).endswith(
        "pingback:apiUrl (or PINGBACK_API_URL) must be the API's base URL, without a path, "
        "e.g. https://api.pingback.live"
    )
    assert sim.requests() == [] and len(sim.channels()) == 2


def test_a_proxy_not_found_page_on_delete_is_not_already_deleted(sim: Simulator) -> None:
    stack = Stack(sim)
    cid = stack.create("bot", BOT).id
    sim.inject("status", status=404, method="DELETE", body="html")
    with pytest.raises(PingBackError) as info:
        stack.delete("bot")
    assert str(info.value).endswith(
        f"PingBack still lists channel {cid}: the 404 came from the route, not the channel. "
        f"Check pingback:apiUrl ({sim.url}) and any proxy in front of PingBack."
    )
    assert set(stack.state) == {"bot"} and live_ids(sim) == {cid}


# ---- 6. adopt_id and replacements ------------------------------------------------------------


@pytest.fixture
def adopted(sim: Simulator) -> tuple[Stack, str]:
    """A Telegram channel made in the dashboard, adopted by resource `bot`."""
    existing = quick(sim).create(DesiredChannel("telegram", {"bot_token": TG}))
    stack = Stack(sim)
    assert stack.create("bot", telegram(adopt_id=existing.id)).id == existing.id
    return stack, existing.id


@pytest.mark.parametrize("delete_first", [False, True])
def test_a_forced_replace_of_an_adopted_channel_keeps_it(
    sim: Simulator, adopted: tuple[Stack, str], delete_first: bool
) -> None:
    """A forced replace (--target-replace, a changed replacement_trigger: no Diff) that
    re-adopts the channel with a rotated token (a change of a live channel, so the program
    says it may overwrite): the create re-adopts it with one PATCH, the old resource's
    delete keeps it, in either order."""
    stack, cid = adopted
    old = stack.state["bot"]
    stack.deploy()
    sim.clear_log()
    news = stack.check(telegram(TG_ROTATED, adopt_id=cid, adopt_overwrite=True), old)
    if delete_first:
        stack.ops.delete(old.id, old.outputs)
        made = stack.create("bot", news, checked=True)
    else:
        made = stack.create("bot", news, checked=True)
        stack.ops.delete(old.id, old.outputs)
    assert made.id == cid and live_ids(sim) == {cid}
    assert sim.channels()[0]["config"] == {"bot_token": TG_ROTATED}
    assert writes(sim) == ["PATCH"]


@pytest.mark.parametrize("delete_first", [False, True])
@pytest.mark.parametrize(
    "program", [telegram(TG_OTHER_BOT), {"type": "webchat", "config": {}}], ids=["bot", "type"]
)
def test_an_identity_or_type_change_of_an_adopted_channel_fails_and_keeps_it(
    sim: Simulator, adopted: tuple[Stack, str], delete_first: bool, program: dict[str, Any]
) -> None:
    stack, cid = adopted
    old = stack.state["bot"]
    stack.deploy()
    news = stack.check({**program, "adopt_id": cid}, old)
    assert stack.ops.diff(cid, old.outputs, news).kind == "replace"
    with pytest.raises(PingBackError, match="remove adopt_id"):
        if delete_first:
            stack.ops.delete(old.id, old.outputs)
        else:
            stack.create("bot", news, checked=True)
    assert live_ids(sim) == {cid} and "DELETE" not in writes(sim)


def test_without_adopt_id_an_adopted_channel_is_replaced_like_any_other(
    sim: Simulator, adopted: tuple[Stack, str]
) -> None:
    stack, cid = adopted
    old = stack.state["bot"]
    stack.deploy()
    news = stack.check(telegram(TG_OTHER_BOT), old)
    assert stack.ops.diff(cid, old.outputs, news).kind == "replace"
    made = stack.create("bot", news, checked=True)
    stack.ops.delete(old.id, old.outputs)
    assert made.id != cid and live_ids(sim) == {made.id}


def test_one_channel_is_never_adopted_by_two_resources(sim: Simulator) -> None:
    existing = quick(sim).create(DesiredChannel("webchat", {})).id
    stack = Stack(sim)
    stack.create("a", {"type": "webchat", "config": {}, "adopt_id": existing})
    with pytest.raises(PingBackError, match="already managed by another resource of this"):
        stack.create("b", {"type": "webchat", "config": {}, "adopt_id": existing})
    assert set(stack.state) == {"a"} and live_ids(sim) == {existing}


def test_adopting_a_channel_another_resource_manages_is_refused(sim: Simulator) -> None:
    stack = Stack(sim)
    taken = stack.create("a", {"type": "webchat", "config": {}}).id
    stack.deploy()
    a = stack.state["a"]
    assert stack.ops.diff(taken, a.outputs, stack.check(a.inputs, a)).kind == "none"
    with pytest.raises(PingBackError, match=f"channel {taken} is already managed by another"):
        stack.create("b", {"type": "webchat", "config": {}, "adopt_id": taken})
    assert set(stack.state) == {"a"} and live_ids(sim) == {taken}


# ---- 7. one odd channel breaks nothing --------------------------------------------------------


@pytest.mark.parametrize("odd", [{"config": None}, {"is_active": None}, {"created_at": 1700000000}])
def test_one_malformed_channel_breaks_no_other_read(sim: Simulator, odd: dict[str, Any]) -> None:
    stack = Stack(sim, quick_waits=True)
    stack.create("bot", BOT)
    w = stack.create("w", {"type": "sms", "config": {"v": "1"}})
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
    stack.deploy()  # a refresh reads each of them
    for held in stack.state.values():
        read = stack.ops.read(held.id, held.outputs)
        assert read is not None and read.id == held.id
    assert stack.update("w", {"type": "sms", "config": {"v": "2"}}).id == w.id
    sim.inject("body", method="PATCH", body="html")  # read back by listing
    assert stack.update("w", {"type": "sms", "config": {"v": "3"}}).outputs["config"] == {"v": "3"}
    sim.inject("status", status=502, method="POST")  # reconciled by listing
    stack.create("s", {"type": "sms", "config": {}})
    ids = {h.id for h in stack.state.values()}
    assert len(ids) == 3 and set(sim.state.channels) == {"odd", *ids} and posts(sim) == 4


# ---- 8. bounds --------------------------------------------------------------------------------


def test_a_dripping_server_cannot_hold_a_refresh(sim: Simulator) -> None:
    stack = Stack(sim, timeout=0.5, max_retries=1)
    stack.create("bot", BOT)
    sim.inject("drip", method="GET", delay=0.3, times=None)
    start = time.monotonic()
    with pytest.raises(PingBackError) as info:
        stack.deploy()  # a refresh's provider starts with a list
    elapsed = time.monotonic() - start
    assert "did not finish answering GET /api/v1/channels/ within the 1 s deadline" in str(
        info.value
    )
    assert elapsed < 4  # 2 attempts of a 1 s deadline, a backoff: not the drip's minutes


def _peak_rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


def test_an_800_mb_list_is_not_read_whole(sim: Simulator) -> None:
    stack = Stack(sim, max_retries=0)
    held = stack.create("bot", BOT)
    stack.update("bot", telegram(TG_ROTATED))  # a write: the next read lists again
    sim.inject("oversize", method="GET", size=800 * 2**20, times=None)
    before = _peak_rss_kib()
    with pytest.raises(PingBackError, match="larger than 16 MiB; reading stopped there"):
        stack.ops.read(held.id, stack.state["bot"].outputs)
    assert _peak_rss_kib() - before < 200 * 1024  # KiB: the answer was never held


# ---- 9. one identity, one channel ------------------------------------------------------------


def test_two_resources_with_one_bot_fail_before_the_second_write(sim: Simulator) -> None:
    stack = Stack(sim)
    first = stack.create("bot", BOT).id
    with pytest.raises(PingBackError) as info:
        stack.create("bot2", telegram(TG_ROTATED))
    assert str(info.value).startswith(
        f"the Telegram bot 7123456789 is already bound to channel {first} of this PingBack business"
    )
    assert posts(sim) == 1 and live_ids(sim) == {first}


def test_a_forced_replace_keeping_the_bot_asks_for_delete_before_replace(sim: Simulator) -> None:
    stack = Stack(sim)
    old = stack.create("bot", BOT)
    stack.deploy()
    news = stack.check(telegram(TG_ROTATED), old)  # forced: no Diff; Create first
    with pytest.raises(PingBackError) as info:
        stack.create("bot", news, checked=True)
    assert (
        f"If {old.id} is the channel this resource replaces (a forced replace: --target-replace, "
        "replacement_trigger, replace_on_changes), set "
    ) in str(info.value)
    assert "`delete_before_replace=True`" in str(info.value)
    assert live_ids(sim) == {old.id}
    stack.deploy()  # delete_before_replace: Delete, then Create
    news = stack.check(telegram(TG_ROTATED), old)
    stack.ops.delete(old.id, old.outputs)
    made = stack.create("bot", news, checked=True)
    assert live_ids(sim) == {made.id} != {old.id}


def test_an_update_that_would_take_another_channels_account_is_refused(sim: Simulator) -> None:
    opaque = {
        "api_key": "k",
        "api_secret": "s",
        "access_token": "opaque",  # no account id: no identity
        "access_token_secret": "t",
        "bearer_token": "b",
    }
    stack = Stack(sim)
    stack.create("x1", {"type": "x", "config": {**opaque, "access_token": "42-a"}})
    stack.create("x2", {"type": "x", "config": opaque})
    stack.deploy()
    with pytest.raises(PingBackError, match="the X account 42 is already bound to channel"):
        stack.update("x2", {"type": "x", "config": {**opaque, "access_token": "42-b"}})
    assert "PATCH" not in writes(sim)
