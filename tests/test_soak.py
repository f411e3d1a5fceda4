"""Fault-injection soak: channel lifecycles under injected faults, through the engine.

After every `up` attempt (failed or not) the simulator's channels must equal the stack's
state exactly — no duplicate, no orphan, nothing lost — and a failed step is re-run as a
user re-runs `pulumi up`. PINGBACK_SOAK_LIFECYCLES (default 200) makes it longer.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from pulumi_pingback.simulator import Simulator

from .engine import Declared, Engine, Secret, StepError, channel

LIFECYCLES = int(os.environ.get("PINGBACK_SOAK_LIFECYCLES", "200"))
SLOTS = 16
WRITES = ("POST", "PATCH", "DELETE")
# What a user may see when retries run out; anything else is a bug.
CLEAR_ERRORS = re.compile(
    r"^(PingBack failed on .* It was retried; try again later"
    r"|PingBack did not answer .* raise pingback:timeout or try again"
    r"|the connection to PingBack broke during .*try again"
    r"|PingBack is rate limiting requests \(429\).*run the command again.*"
    r"|creating the \w+ channel timed out or failed after it was sent.*)$",
    re.S,
)


@dataclass
class Slot:
    name: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    gen: int = 0


def fresh_spec(rng: random.Random, uid: int) -> dict[str, Any]:
    kind = rng.choice(["telegram", "whatsapp", "instagram", "x", "widget", "sms"])
    return {"type": kind, "uid": uid, "cred": 0, "active": True}


def declared(slot: Slot) -> Declared:
    s = slot.spec
    kind, uid, cred = s["type"], s["uid"], s["cred"]
    config: Any
    if kind == "telegram":
        config = {"bot_token": Secret(f"{8000000000 + uid}:tok{cred}x{uid}")}
    elif kind in ("whatsapp", "instagram"):
        config = {
            "phone_number_id": f"{5000 + uid}",
            "access_token": Secret(f"EAA{cred}u{uid}"),
            "verify_token": Secret(f"verify{cred}"),
        }
    elif kind == "x":
        config = Secret(
            {
                "api_key": f"k{cred}",
                "api_secret": f"s{cred}",
                "access_token": f"{9000 + uid}-at{cred}",
                "access_token_secret": "ats",
                "bearer_token": f"b{cred}",
            }
        )
    else:
        config = {"label": f"slot {uid} v{cred}"}
    return channel(slot.name, kind, config, is_active=s["active"])


def mutate(rng: random.Random, slot: Slot, next_uid: Callable[[], int]) -> str:
    roll = rng.random()
    s = slot.spec
    if roll < 0.2:
        return "same"
    if roll < 0.55:
        if rng.random() < 0.5:
            s["active"] = not s["active"]
        else:
            s["cred"] += 1  # rotation for the same identity
        return "update"
    if roll < 0.75:
        if s["type"] in ("widget", "sms"):
            s["type"] = "sms" if s["type"] == "widget" else "widget"
        else:
            s["uid"] = next_uid()  # another bot / number / account
        return "replace"
    return "delete"


def assert_consistent(engine: Engine, sim: Simulator) -> Counter[str]:
    live = {c["id"]: c for c in sim.channels()}
    state = engine.ids()
    problems: Counter[str] = Counter()
    for cid in set(live) - state:
        twin = any(
            r.outputs.get("type") == live[cid]["type"]
            and r.outputs.get("config") == live[cid]["config"]
            for r in engine.state.values()
        )
        problems["duplicates" if twin else "orphans"] += 1
    problems["lost"] += len(state - set(live))
    for r in engine.state.values():
        c = live.get(r.id)
        if c is not None:
            assert (c["type"], c["config"], c["is_active"]) == (
                r.outputs["type"],
                r.outputs["config"],
                r.outputs["is_active"],
            ), f"{r.name}: state and PingBack disagree"
    assert not +problems, f"state and PingBack differ: {dict(problems)}"
    return problems


@pytest.mark.soak
def test_fault_injection_soak(
    sim: Simulator, make_engine: Callable[..., Engine], capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(20261123)
    sim.state.rng.seed(7)
    faults = [
        dict(kind="status", status=503),
        dict(kind="status", status=429, retry_after="0.1"),
        dict(kind="drop"),
        dict(kind="drop", after_commit=True),
        dict(kind="latency", delay=0.3),
        dict(kind="hang", delay=0.8),
    ]
    for method in WRITES:
        for f in faults:
            sim.inject(method=method, times=None, probability=0.045, **f)  # type: ignore[arg-type]

    engine = make_engine(config={"pingback:timeout": "0.5", "pingback:maxRetries": "2"}, parallel=4)
    uid = iter(range(1, 1_000_000))
    slots = [Slot() for _ in range(SLOTS)]
    lifecycles = 0
    counts: Counter[str] = Counter()
    errors: list[str] = []
    started = time.monotonic()
    round_no = 0
    refresh_lists = 0
    with engine.session():
        while lifecycles < LIFECYCLES or any(s.name for s in slots):
            round_no += 1
            for slot in slots:
                if not slot.name:
                    if lifecycles < LIFECYCLES:
                        slot.gen += 1
                        slot.name = f"s{slots.index(slot)}g{slot.gen}"
                        slot.spec = fresh_spec(rng, next(uid))
                        lifecycles += 1
                        counts["create"] += 1
                    continue
                action = mutate(rng, slot, lambda: next(uid))
                counts[action] += 1
                if action == "delete":
                    slot.name = ""
            program = [declared(s) for s in slots if s.name]
            for _attempt in range(8):
                try:
                    engine.up(program)
                    break
                except StepError as exc:
                    errors.append(exc.message)
                    assert CLEAR_ERRORS.match(exc.message), f"unclear error: {exc.message!r}"
                    assert_consistent(engine, sim)
            else:
                pytest.fail("`pulumi up` did not converge after 8 attempts")
            assert_consistent(engine, sim)
            if round_no % 4 == 0:
                before = len(sim.requests())
                assert set(engine.refresh().values()) <= {"same"}
                refresh_lists += len(sim.requests()) - before
                assert_consistent(engine, sim)
        engine.up([])

    assert sim.channels() == [] and engine.ids() == set()
    log = sim.requests()
    writes = [r for r in log if r["method"] in WRITES]
    faulted = [r for r in writes if r["fault"]]
    provider_writes = sum(1 for c in engine.calls if c.method in ("Create", "Update", "Delete"))
    # outside refreshes, the only lists are reconciliations of ambiguous creates
    reconcile_lists = sum(1 for r in log if r["method"] == "GET") - refresh_lists
    report = {
        "lifecycles": lifecycles,
        "rounds": round_no,
        "steps": dict(counts),
        "write requests": len(writes),
        "faults injected": len(faulted),
        "fault share of writes": f"{len(faulted) / len(writes):.0%}",
        "faults by kind": dict(Counter(r["fault"] for r in faulted)),
        "retries": len(writes) - provider_writes,
        "refresh reads / lists": f"{sum(1 for c in engine.calls if c.method == 'Read')} / {refresh_lists}",
        "reconciliation lists": reconcile_lists,
        "errors shown to the user": len(errors),
        "duplicates": 0,
        "orphans": 0,
        "lost": 0,
        "seconds": round(time.monotonic() - started, 1),
    }
    with capsys.disabled():  # the counts belong in the CI log
        print("\nsoak:", report)
    assert lifecycles >= LIFECYCLES
    assert len(faulted) / len(writes) >= 0.20
    assert {"status", "drop", "latency", "hang"} <= {r["fault"] for r in faulted}
