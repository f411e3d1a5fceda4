"""The one ownership registry (pulumi_pingback.client._ownership), tried against the
core: real threads racing, real child processes killed, the simulator's faults making
each race deterministic. Each test is one of the defects issue #25 found at the seams
of the three records it replaced; the real CLI's share is tests/cli/test_interrupts.py
and tests/cli/test_identity.py.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from pulumi_pingback import (
    ChannelNotFoundError,
    DesiredChannel,
    IdentityConflictError,
    InternalServerError,
    PingBackClient,
    PingBackError,
)
from pulumi_pingback._operations import Channels
from pulumi_pingback._settings import Settings
from pulumi_pingback.channels._models import Declaration
from pulumi_pingback.client._journal import Journal, entries_in
from pulumi_pingback.client._ownership import Ownership
from pulumi_pingback.simulator import Simulator

from ._runs import Caller, earlier_run, gone_sent, write_history
from .conftest import TOKEN, quick
from .hostile import hostile_server, item, uid

BOT = "7300000001:AAH-ownership-first"
BOT_AGAIN = "7300000001:AAH-ownership-second"  # the same bot, another token: another body
URN = "urn:pulumi:dev::shop::pingback:index:Channel::support-bot"


def posts(sim: Simulator) -> int:
    return sum(r["method"] == "POST" for r in sim.requests())


def bot(token: str = BOT) -> DesiredChannel:
    return DesiredChannel("telegram", {"bot_token": token})


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where every provider process of a test keeps its journal (PINGBACK_STATE_DIR)."""
    monkeypatch.setenv("PINGBACK_STATE_DIR", str(tmp_path))
    return tmp_path


def core(sim: Simulator, *, caller: str | None = None) -> Channels:
    """The core of one provider process (one deployment) as the native front configures
    it: its journal in PINGBACK_STATE_DIR, ``caller`` its engine."""
    return Channels(
        Settings(TOKEN, sim.url, timeout=2.0, max_retries=0), native=True, caller=caller
    )


# ---- 1. a killed run whose POST commits late: neither a duplicate nor an orphan --------------


def test_a_create_that_lands_after_its_run_was_killed_is_waited_for_and_taken(
    sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The killed run's POST commits 3 s after it was sent, long after its writer died: the
    next run's create of the same bot waits for it (saying so) and takes it, where it used
    to list at once, find nothing, and send a second POST."""
    sim.inject("latency", method="POST", delay=3.0)  # commits after the sleep, client or not
    run = earlier_run(sim, tmp_path, bot())
    wait_for(lambda: posts(sim) == 1, "the killed run's POST")
    run.send_signal(signal.SIGKILL)  # provider and caller gone at once, the POST in flight
    run.wait(10)
    assert sim.channels() == []  # not landed yet

    caplog.set_level(logging.WARNING, "pulumi_pingback")
    started = time.monotonic()
    channel = quick(sim, journal=Journal(TOKEN, sim.url, directory=tmp_path)).create(bot())
    assert [c["id"] for c in sim.channels()] == [channel.id]  # one channel, taken
    assert posts(sim) == 1 and time.monotonic() - started < 10
    waits = [r.getMessage() for r in caplog.records if "may still land" in r.getMessage()]
    assert len(waits) == 1 and "waiting up to" in waits[0]


def test_a_lost_create_that_never_lands_is_sent_again_once_its_time_has_passed(
    sim: Simulator, tmp_path: Path
) -> None:
    """Nothing lands by the lost POST's ``until`` (its deadline and settle window): a list
    begun after that is final, and one POST goes."""
    journal = Journal(TOKEN, sim.url, directory=tmp_path)
    sent = time.time()
    fp = journal.fingerprint("webchat", {}, True)
    lost = {**gone_sent(f"{fp[:32]}.lost", fp, sent), "until": sent + 1.5}
    journal.folder.mkdir(parents=True)
    journal.path_of(fp).write_text(json.dumps(lost) + "\n")
    channel = quick(sim, journal=journal).create(DesiredChannel("webchat", {}))
    assert time.time() - sent >= 1.5  # it waited for the lost POST's time to pass
    assert [c["id"] for c in sim.channels()] == [channel.id] and posts(sim) == 1
    ops = [r["op"] for r in entries_in(journal.path_of(fp).read_text())]
    assert ops == ["sent", "failed", "sent", "answered"]


# ---- 2. two runs, one bot: the later channel yields ------------------------------------------


def test_two_runs_binding_one_bot_at_once_leave_one_channel(sim: Simulator, tmp_path: Path) -> None:
    """Two deployments (two machines: no journal in common) create the same bot, every
    POST taking 2 s: both lists are made before either commit, so both guards pass. After
    its POST each lists again; the later channel's creator deletes it and fails, naming
    the other."""
    sim.inject("latency", method="POST", delay=2.0, times=None)
    results: dict[str, Any] = {}

    def run(name: str, token: str) -> None:
        client = quick(sim, timeout=5.0, journal=Journal(TOKEN, sim.url, directory=tmp_path / name))
        try:
            results[name] = client.create(bot(token))
        except PingBackError as exc:
            results[name] = exc

    threads = [threading.Thread(target=run, args=a) for a in (("a", BOT), ("b", BOT_AGAIN))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    kept = [r for r in results.values() if not isinstance(r, Exception)]
    refused = [r for r in results.values() if isinstance(r, IdentityConflictError)]
    assert len(kept) == 1 and len(refused) == 1, results
    assert [c["id"] for c in sim.channels()] == [kept[0].id]  # one channel on the bot
    assert refused[0].other_id == kept[0].id
    assert f"bound at the same time by channel {kept[0].id}" in refused[0].message
    assert "was deleted again" in refused[0].message


def test_a_yielding_run_that_cannot_delete_its_channel_says_to_delete_it(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.inject("latency", method="POST", delay=2.0, times=None)
    sim.inject("status", method="DELETE", status=503, times=None)
    errors: list[PingBackError] = []

    def run(name: str, token: str) -> None:
        journal = Journal(TOKEN, sim.url, directory=tmp_path / name)
        try:
            quick(sim, timeout=5.0, max_retries=0, journal=journal).create(bot(token))
        except PingBackError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=a) for a in (("a", BOT), ("b", BOT_AGAIN))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    (refused,) = errors
    assert isinstance(refused, IdentityConflictError)
    mine = next(c["id"] for c in sim.channels() if c["id"] != refused.other_id)
    assert f"channel {mine}, made by this create, could not be deleted (" in refused.message
    assert refused.message.endswith("): delete it in PingBack")


def test_the_window_that_remains_stamps_in_one_order_commits_in_the_other() -> None:
    """The one case the rule cannot see, pinned: PingBack stamps ``created_at`` before it
    commits, run A's POST commits first but is stamped later than run B's, and A lists
    before B commits. A sees only its own channel; B sees both and finds itself first by
    ``created_at``. Both keep theirs: two channels on one bot (docs/failure-semantics.md
    says so). Any other order leaves one (the test above)."""
    with hostile_server() as server:
        b_posted, a_listed = threading.Event(), threading.Event()
        stamps = {BOT: "2026-12-07T10:00:02Z", BOT_AGAIN: "2026-12-07T10:00:01Z"}

        def post(body: dict[str, Any]) -> tuple[int, Any]:
            token = body["config"]["bot_token"]
            made = item(uid(len(server.listing) + 1), "telegram", {"bot_token": token})
            made["created_at"] = stamps[token]
            if token == BOT_AGAIN:  # B: stamped first, committed last — after A listed
                b_posted.set()
                a_listed.wait(10)
            server.listing = [*server.listing, made]
            return 201, made

        server.on_post = post
        results: dict[str, Any] = {}

        def run(name: str, token: str) -> None:
            client = quick(server, max_retries=0)  # type: ignore[arg-type]
            if name == "a":
                b_posted.wait(10)  # B's POST is in, not committed
                original = client.reads.get

                def get(**kw: Any) -> Any:
                    listing = original(**kw)
                    if client.owners.has_baseline and kw.get("since") is not None:
                        a_listed.set()  # A's list after its POST: made before B commits
                    return listing

                client.reads.get = get  # type: ignore[method-assign]
            results[name] = client.create(bot(token))

        threads = [threading.Thread(target=run, args=a) for a in (("b", BOT_AGAIN), ("a", BOT))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert not any(isinstance(r, Exception) for r in results.values())
        assert len(server.listing) == 2  # the window: both kept
        assert {r.method for r in server.received()} == {"GET", "POST"}  # nothing deleted


def test_a_create_alone_on_its_bot_costs_one_list_after_the_post(sim: Simulator) -> None:
    """The cross-run check is one list begun after the answer; a settle's list, made after
    the commit, serves instead of another (tests/test_client.py counts that case)."""
    quick(sim).create(bot())
    assert [r["method"] for r in sim.requests()] == ["GET", "POST", "GET"]


# ---- 3. the identity guard and its record are one step ---------------------------------------


def test_no_create_passes_the_guard_between_another_ones_post_and_its_record(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two creates of one bot with two bodies, in one process: the second starts just as the
    first records its channel (the recording made slow, to widen that moment). It is
    refused then, before any POST: the check and the record are one step."""
    client = quick(sim)
    recording = threading.Event()
    original = Ownership.wrote

    def slow_record(self: Ownership, channel: Any) -> None:
        recording.set()
        time.sleep(0.5)
        original(self, channel)

    monkeypatch.setattr(Ownership, "wrote", slow_record)
    second: list[BaseException] = []

    def later() -> None:
        recording.wait(10)
        try:
            client.create(bot(BOT_AGAIN))
        except PingBackError as exc:
            second.append(exc)

    thread = threading.Thread(target=later)
    thread.start()
    client.create(bot())
    thread.join(10)
    assert len(sim.channels()) == 1 and posts(sim) == 1
    assert len(second) == 1 and isinstance(second[0], IdentityConflictError)


# ---- 5. errors are facts: each waiter its own ---------------------------------------------------


def test_threads_sharing_a_failed_list_each_get_their_own_error_and_advice(
    sim: Simulator, tmp_path: Path
) -> None:
    """A create and a read share one list, which fails: each thread gets an error of its
    own, with its own reader's advice (the create's says nothing was created); the
    read's advice used to overwrite the create's, on the one shared object."""
    sim.set_latency(0.8)  # every answer after 0.8 s: the two calls meet on one list
    sim.inject("status", method="GET", status=500, times=None)
    ops = core(sim)
    errors: dict[str, PingBackError] = {}
    barrier = threading.Barrier(2)

    def create() -> None:
        barrier.wait()
        try:
            ops.create(Declaration.of({"type": "webchat", "config": {}}))
        except PingBackError as exc:
            errors["create"] = exc

    def read() -> None:
        barrier.wait()
        time.sleep(0.2)  # joins the create's list, in flight
        try:
            ops.read(uid(1), {"type": "webchat"})
        except PingBackError as exc:
            errors["read"] = exc

    threads = [threading.Thread(target=f) for f in (create, read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert [r["method"] for r in sim.requests()] == ["GET"]  # one list, shared
    made, read_ = errors["create"], errors["read"]
    assert made is not read_
    assert isinstance(made, InternalServerError) and isinstance(read_, InternalServerError)
    assert made.advice.startswith("Nothing was created.")
    assert read_.advice == "Try again later; re-running the command is safe."
    with pytest.raises(AttributeError, match="is a fact"):
        made.advice = "edited"


# ---- 6. a miss is confirmed by a list that began after the question ---------------------------


@pytest.mark.parametrize("how", ["import", "refresh"])
def test_a_channel_made_after_the_start_list_is_found_not_gone(
    sim: Simulator, tmp_path: Path, how: str
) -> None:
    """The provider lists once when it starts; a channel made after that (by another run,
    in the dashboard) is found by an import or a refresh, not called unknown or gone."""
    ops = core(sim)
    ops.verify()  # the start-up list
    made = PingBackClient(TOKEN, base_url=sim.url).create(DesiredChannel("webchat", {}))
    sim.clear_log()
    props: dict[str, Any] = {} if how == "import" else {"type": "webchat", "created_at": "x"}
    outputs = ops.read_or_lookup(made.id, props, "import")
    assert outputs is not None and outputs.id == made.id
    assert [r["method"] for r in sim.requests()] == ["GET"]  # the miss, listed again once


def test_an_unknown_id_is_unknown_after_one_more_list(sim: Simulator, tmp_path: Path) -> None:
    ops = core(sim)
    ops.verify()
    with pytest.raises(ChannelNotFoundError, match=f"no channel {uid(9)}"):
        ops.read_or_lookup(uid(9), {}, "import")
    assert [r["method"] for r in sim.requests()] == ["GET", "GET"]


# ---- 7. the journal is indexed ------------------------------------------------------------------


@pytest.fixture
def journal_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "journal"


def test_what_a_create_reads_does_not_grow_with_the_history(
    sim: Simulator, journal_dir: Path
) -> None:
    """A create reads its own channel's file, what was appended since it last did: the
    lines of 20,000 earlier creates of other channels are never read."""
    journal = Journal(TOKEN, sim.url, directory=journal_dir)
    write_history(journal, 20_000, age=60)  # recent: no compaction drops them
    client = quick(sim, journal=journal)
    for n in range(21):
        client.create(DesiredChannel("webchat", {"n": str(n)}))
    assert journal.lines == 0  # each create read its file before its own two lines
    client.create(DesiredChannel("webchat", {"n": "0"}, is_active=False))
    client.create(DesiredChannel("webchat", {"n": "0"}, is_active=False))
    assert journal.lines == 2  # the second read the first's two lines, and nothing else
    assert len(list(journal.folder.glob("*.jsonl"))) == 10_000 + 22


def test_compaction_drops_resolved_files_and_keeps_open_creates(
    sim: Simulator, journal_dir: Path
) -> None:
    journal = Journal(TOKEN, sim.url, directory=journal_dir)
    write_history(journal, 4_000, age=7 * 3600)  # resolved, untouched for more than 6 hours
    old = time.time() - 7 * 3600
    path = journal.path_of("f" * 64)
    path.write_text(json.dumps(gone_sent("f" * 32 + ".open", "f" * 64, old)) + "\n")
    os.utime(path, (old, old))  # an old create still open (its writer is gone)
    journal.warm()
    wait_for(lambda: len(list(journal.folder.glob("*.jsonl"))) == 1, "the compaction")
    assert [r["e"] for r in entries_in(path.read_text())] == ["f" * 32 + ".open"]
    assert [e.id for e in journal.unresolved("f" * 64)] == ["f" * 32 + ".open"]


def test_a_malformed_line_is_skipped_with_one_warning_and_never_fails_a_create(
    sim: Simulator, journal_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(TOKEN, sim.url, directory=journal_dir)
    journal.folder.mkdir(mode=0o700, parents=True)
    fp = journal.fingerprint("webchat", {}, True)
    journal.path_of(fp).write_text(
        f'{{"e":"{fp[:32]}.x","op":"sent","fp":"{fp}","t":"not-a-number","before":[],"pid":1,'
        '"start":null}\n'
        '{"e":"y","op":"declared","id":7}\n'
        "{not json\n"
    )
    client = quick(sim, journal=journal)
    for _ in range(3):
        client.create(DesiredChannel("webchat", {}))
    assert len(sim.channels()) == 3
    warnings = [r for r in caplog.records if "cannot read" in r.getMessage()]
    assert len(warnings) == 1 and "(line 1)" in warnings[0].getMessage()


# ---- 8. killed between the answer and the save: the same resource takes its channel -----------


def test_a_create_answered_to_a_cli_killed_before_it_saved_is_taken_by_the_same_resource(
    sim: Simulator, tmp_path: Path
) -> None:
    """The earlier run's create was answered (the engine alive), then its CLI was killed
    before it saved the step: the next `up` creates the same resource again — same URN,
    new to the state. It takes the channel its own run made, where the identity guard
    used to refuse it ("already bound to channel …")."""
    caller = Caller()
    run = earlier_run(sim, tmp_path, bot(), caller.address, URN)
    made, _ = run.communicate(timeout=30)
    caller.die()  # killed after the answer, before the save
    ops = core(sim, caller="127.0.0.1:9")  # the next `up`, its own engine
    inputs = {"type": "telegram", "config": {"bot_token": BOT}}
    checked = ops.check(inputs, {}, resource=URN)  # new to the state: no old inputs
    assert not checked.failures
    outputs = ops.create(Declaration.of(checked.inputs), resource=URN)
    assert outputs.id == made.strip() and posts(sim) == 1
    ops.delete(made.strip(), {"type": "telegram", "identity": "telegram:bot/7300000001"})
    assert [c["id"] for c in sim.channels()] == [made.strip()]  # kept: this deployment took it


def test_another_resource_never_takes_a_channel_answered_to_a_gone_caller(
    sim: Simulator, tmp_path: Path
) -> None:
    """Answered to a caller that is gone is how every finished `up` ends: only the same
    resource, new to the state, is the same create. Another URN, or the same one whose
    Check carried old inputs (a replacement), gets the guard's refusal."""
    caller = Caller()
    run = earlier_run(sim, tmp_path, bot(), caller.address, URN)
    run.communicate(timeout=30)
    caller.die()
    for resource, olds in ((URN + "-other", {}), (URN, {"type": "telegram", "config": {}})):
        ops = core(sim, caller="127.0.0.1:9")
        inputs = {"type": "telegram", "config": {"bot_token": BOT}}
        checked = ops.check(inputs, olds, resource=resource)
        with pytest.raises(IdentityConflictError, match="already bound to channel"):
            ops.create(Declaration.of(checked.inputs), resource=resource)
    assert posts(sim) == 1 and len(sim.channels()) == 1


# ---- another machine's run: the refusal says how to take the channel ---------------------------


def test_a_channel_no_journal_here_knows_is_refused_with_the_way_to_take_it(
    sim: Simulator, tmp_path: Path
) -> None:
    made = PingBackClient(TOKEN, base_url=sim.url).create(bot())  # a runner that is gone
    ops = core(sim)
    checked = ops.check({"type": "telegram", "config": {"bot_token": BOT}}, {}, resource=URN)
    with pytest.raises(IdentityConflictError) as info:
        ops.create(Declaration.of(checked.inputs), resource=URN)
    assert info.value.unknown_here and info.value.other_id == made.id
    assert (
        f"add adoptId: '{made.id}' to this resource and run `pulumi up` (nothing is written "
        "to PingBack), then drop the interrupted create from the stack: `pulumi refresh "
        f"--yes --import-pending-creates {URN} --import-pending-creates {made.id}`"
    ) in info.value.advice


def test_what_already_matches_a_create_is_what_a_scan_of_the_list_finds() -> None:
    """A create's ``before`` (the channels that already held what it declares) comes from
    an index of the list built once, not a scan per create: it finds exactly what
    comparing every channel finds, JSON's equal values alike (1, 1.0 and True; keys in
    any order; PingBack's own ``_…`` keys aside), in the list's order."""
    from pulumi_pingback.channels._models import Channel
    from pulumi_pingback.client._listing import Listing

    configs: list[dict[str, Any]] = [
        {"widget_id": "w", "n": 1},
        {"n": 1.0, "widget_id": "w"},
        {"widget_id": "w", "n": True},
        {"widget_id": "w", "n": 2},
        {"widget_id": "w", "n": 1, "_setup": {"url": "x"}},
        {"widget_id": "w", "n": [1, {"a": None}]},
        {"widget_id": "w", "n": [1.0, {"a": None}]},
        {"widget_id": "w"},
        {"widget_id": "w", "n": "1"},
    ]
    channels = {
        uid(i): Channel(id=uid(i), type=kind, config=config, is_active=active)
        for i, (kind, config, active) in enumerate(
            (kind, config, active)
            for kind in ("widget", "webchat")
            for config in configs
            for active in (True, False)
        )
    }
    listing = Listing(channels)
    for kind in ("widget", "webchat", "email"):
        for config in [*configs, {"widget_id": "w", "n": (1, {"a": None})}]:
            for active in (True, False):
                desired = DesiredChannel(kind, config, is_active=active)
                scan = [c.id for c in channels.values() if desired.matches(c)]
                assert [c.id for c in listing.matching(desired)] == scan
    assert len(listing.matching(DesiredChannel("widget", {"widget_id": "w", "n": 1}))) == 4


# ---- a stack brought up again after its destroy -----------------------------------------------


def test_creates_of_urns_an_earlier_run_made_and_destroyed_share_one_list(sim: Simulator) -> None:
    """Each create of a resource new to the state asks whether an earlier run made its
    channel and died before saving it (the journal knows the URN's earlier creates). A
    list begun after that channel was made answers for every create at once: a stack
    brought up again after a destroy lists once, not once per channel (it listed 12
    times for 12 widgets, each a round trip before its POST)."""
    urns = [f"{URN}-w{i}" for i in range(12)]

    def up(ops: Channels) -> list[str]:
        def one(urn: str) -> str:
            inputs = {"type": "widget", "config": {"widget_id": urn.rsplit("-", 1)[1]}}
            checked = ops.check(inputs, {}, resource=urn)
            return str(ops.create(Declaration.of(checked.inputs), resource=urn).id)

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(one, urns))

    first = Caller()
    made = up(core(sim, caller=first.address))
    first.die()
    ops = core(sim, caller="127.0.0.1:9")
    for cid in made:
        ops.delete(cid, {"type": "widget", "identity": None})
    assert sim.channels() == []

    sim.clear_log()
    again = up(core(sim, caller="127.0.0.1:9"))  # the next `up`, a new provider process
    lists = [r for r in sim.requests() if r["method"] == "GET"]
    assert len(lists) == 1, [r["path"] for r in sim.requests()]
    assert posts(sim) == 12 and len(set(again)) == 12 and not set(again) & set(made)
    assert sorted(c["id"] for c in sim.channels()) == sorted(again)


# ---- two deployments on one machine --------------------------------------------------------------


def test_a_settle_never_takes_a_channel_another_deployment_here_was_answered_with(
    sim: Simulator,
) -> None:
    """Stack A has listed; stack B, on the same machine, creates `webchat {}` and is
    answered; A's identical create gets a 502 and never landed. A's settle sees a new
    matching channel — B's, which this machine's journal knows B was answered with — so
    it must not take it: the settle finds nothing, the POST goes again (it took B's
    channel before: two stacks, one channel)."""
    a_engine, b_engine = Caller(), Caller()

    def deployment(caller: Caller) -> Channels:
        settings = Settings(TOKEN, sim.url, timeout=1.0, max_retries=1)
        return Channels(settings, native=True, caller=caller.address)

    def create(ops: Channels, inputs: dict[str, Any], urn: str) -> str:
        checked = ops.check(inputs, {}, resource=urn)
        return str(ops.create(Declaration.of(checked.inputs), resource=urn).id)

    a, b = deployment(a_engine), deployment(b_engine)
    create(a, {"type": "widget", "config": {"widget_id": "a-site"}}, URN + "-a-site")  # A lists
    theirs = create(b, {"type": "webchat", "config": {}}, URN + "-b-chat")
    sim.inject("status", status=502, method="POST", times=1)  # A's POST: refused, not stored
    ours = create(a, {"type": "webchat", "config": {}}, URN + "-a-chat")
    assert ours != theirs
    assert sorted(c["type"] for c in sim.channels()) == ["webchat", "webchat", "widget"]
    a_engine.die()
    b_engine.die()
