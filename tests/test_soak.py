"""Fault-injection soak: channel lifecycles under injected faults, through the engine.

After every `up` attempt (failed or not) the simulator's channels must equal the stack's
state exactly — no duplicate, no orphan, nothing lost, no id held by two resources — and a
failed step is re-run as a user re-runs `pulumi up`. Several resources have identical
configs (webchat `{}`, widgets sharing a widget_id); faults include late commits (the
server stores a POST after the client gave up, or after a proxy answered 5xx) and 2xx
answers the client cannot read. PINGBACK_SOAK_LIFECYCLES (default 200) makes it longer.
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

from .engine import Declared, Engine, Run, Secret, Snapshot, StepError, channel

LIFECYCLES = int(os.environ.get("PINGBACK_SOAK_LIFECYCLES", "200"))
SLOTS = 16
WRITES = ("POST", "PATCH", "DELETE")
# What a user may see when retries run out; anything else is a bug.
CLEAR_ERRORS = re.compile(
    r"^(PingBack failed on .*\n(Nothing was created\. )?Try again later; re-running .* is safe\."
    r"|PingBack did not (finish answering|answer) .*\nTo fix: raise pingback:timeout .*"
    r"|the connection to PingBack broke during .*\nTry again; re-running the command is safe\."
    r"|PingBack is rate limiting requests \(429 .*\nTo fix: wait, then run the command again.*"
    r"|PingBack answered \w+ \S+ with 2\d\d and .*\nNothing this provider can read came back.*)$",
    re.S,
)


@dataclass
class Slot:
    name: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    gen: int = 0


KINDS = ["telegram", "whatsapp", "instagram", "x", "widget", "sms", "webchat", "webchat"]
FREE_FORM = ["widget", "sms", "webchat"]


def fresh_spec(rng: random.Random, uid: int) -> dict[str, Any]:
    return {"type": rng.choice(KINDS), "uid": uid, "cred": 0, "active": True}


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
    elif kind == "webchat":
        config = {}  # identical in every webchat resource
    elif kind == "widget" and uid % 2:
        config = {"widget_id": "shared-widget"}  # identical in half the widgets
    elif kind == "widget":
        config = {"widget_id": f"w{uid}", "label": f"v{cred}"}
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
        if s["type"] in FREE_FORM:
            s["type"] = FREE_FORM[(FREE_FORM.index(s["type"]) + 1) % len(FREE_FORM)]
        else:
            s["uid"] = next_uid()  # another bot / number / account
        return "replace"
    return "delete"


def assert_consistent(snapshot: Snapshot, sim: Simulator) -> Counter[str]:
    """The state a run left (``snapshot``) against what PingBack holds."""
    live = {c["id"]: c for c in sim.channels()}
    state = snapshot.ids()
    problems: Counter[str] = Counter()
    held = Counter(r.id for r in [*snapshot.values(), *snapshot.pending_deletes])
    problems["shared ids"] = sum(1 for n in held.values() if n > 1)
    for cid in set(live) - state:
        twin = any(
            r.outputs.get("type") == live[cid]["type"]
            and r.outputs.get("config") == live[cid]["config"]
            for r in snapshot.values()
        )
        problems["duplicates" if twin else "orphans"] += 1
    problems["lost"] += len(state - set(live))
    for r in snapshot.values():
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
        dict(kind="body", body="html", status=200),  # committed, answered with a page
    ]
    late_commits = [  # creates only: a PATCH reordered after a later one is out of scope
        dict(kind="latency", delay=0.8),  # stored after the client's 0.5 s timeout
        dict(kind="late", status=502, delay=0.2),  # a proxy's 502; the write lands after it
        dict(kind="late", status=503, delay=0.2),
    ]
    for method in WRITES:
        for f in faults + (late_commits if method == "POST" else []):
            sim.inject(method=method, times=None, probability=0.035, **f)  # type: ignore[arg-type]

    engine = make_engine(config={"pingback:timeout": "0.5", "pingback:maxRetries": "2"}, parallel=4)
    uid = iter(range(1, 1_000_000))
    slots = [Slot() for _ in range(SLOTS)]
    lifecycles = 0
    counts: Counter[str] = Counter()
    errors: list[str] = []
    started = time.monotonic()
    round_no = 0
    refresh_lists = 0
    most_identical = 0
    runs: list[Run] = []  # every command's, failed ones too
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
            same_config = Counter(repr((d.inputs["type"], d.inputs["config"])) for d in program)
            most_identical = max([most_identical, *same_config.values()])
            for _attempt in range(8):
                try:
                    runs.append(engine.up(program))
                    break
                except StepError as exc:
                    errors.append(exc.message)
                    assert CLEAR_ERRORS.match(exc.message), f"unclear error: {exc.message!r}"
                    assert exc.run is not None
                    runs.append(exc.run)
                    assert_consistent(exc.run.state, sim)
            else:
                pytest.fail("`pulumi up` did not converge after 8 attempts")
            assert_consistent(runs[-1].state, sim)
            if round_no % 4 == 0:
                before = len(sim.requests())
                refreshed = engine.refresh()
                runs.append(refreshed)
                assert set(refreshed.steps.values()) <= {"same"}
                refresh_lists += len(sim.requests()) - before
                assert_consistent(refreshed.state, sim)
        runs.append(engine.up([]))

    assert sim.channels() == [] and engine.ids() == set()
    log = sim.requests()
    writes = [r for r in log if r["method"] in WRITES]
    faulted = [r for r in writes if r["fault"]]
    methods = [m for run in runs for m in run.methods]
    provider_writes = sum(1 for m in methods if m in ("Create", "Update", "Delete"))
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
        "refresh reads / lists": f"{methods.count('Read')} / {refresh_lists}",
        "reconciliation lists": reconcile_lists,
        "errors shown to the user": len(errors),
        "most resources with one config at once": most_identical,
        "duplicates": 0,
        "shared ids": 0,
        "orphans": 0,
        "lost": 0,
        "seconds": round(time.monotonic() - started, 1),
    }
    with capsys.disabled():  # the counts belong in the CI log
        print("\nsoak:", report)
    assert lifecycles >= LIFECYCLES
    assert len(faulted) / len(writes) >= 0.20
    assert {"status", "drop", "latency", "hang", "late", "body"} <= {r["fault"] for r in faulted}
    assert most_identical >= 3  # several resources with one config, in one stack, at once
