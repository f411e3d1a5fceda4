"""The create journal (pulumi_pingback.client._journal): a create whose answer never reached its
caller — a Pulumi CLI killed mid-flight — is found by the next process, not made again.

Each "earlier run" is a real child process creating through the client with a journal,
its caller a real listening socket the test closes (the engine dying) or the process
itself killed; the "next run" is this process. The simulator holds the POSTs as told.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from pathlib import Path

import pytest

from pulumi_pingback import AmbiguousCreateError, DesiredChannel, PingBackClient
from pulumi_pingback.channels._models import Declaration
from pulumi_pingback.client._journal import Journal
from pulumi_pingback.simulator import Simulator

from ._runs import Caller, earlier_run
from .conftest import TG, TOKEN, quick


def wait_for_posts(sim: Simulator, n: int) -> None:
    deadline = time.monotonic() + 20
    while sum(r["method"] == "POST" for r in sim.requests()) < n:
        assert time.monotonic() < deadline, "the earlier run's POST never arrived"
        time.sleep(0.02)


def next_run(sim: Simulator, journal_dir: Path) -> PingBackClient:
    return quick(sim, journal=Journal(TOKEN, sim.url, directory=journal_dir))


BOT = DesiredChannel("telegram", {"bot_token": TG})
WIDGET = DesiredChannel("widget", {"widget_id": "site-1"})


def posts(sim: Simulator) -> int:
    return sum(r["method"] == "POST" for r in sim.requests())


def test_a_create_answered_after_its_caller_died_is_taken_not_made_again(
    sim: Simulator, tmp_path: Path
) -> None:
    caller = Caller()
    sim.inject("latency", method="POST", delay=1.0)
    run = earlier_run(sim, tmp_path, BOT, caller.address)
    wait_for_posts(sim, 1)
    caller.die()  # the CLI is killed while the POST is in flight
    made, _ = run.communicate(timeout=30)
    made_id = made.strip()
    assert [c["id"] for c in sim.channels()] == [made_id]

    channel = next_run(sim, tmp_path).create(DesiredChannel("telegram", {"bot_token": TG}))
    assert channel.id == made_id
    assert posts(sim) == 1  # the next run sent none
    (path,) = tmp_path.glob("creates-*/*.jsonl")  # one channel, one file
    entries = [json.loads(line) for line in path.open()]
    assert [e["op"] for e in entries] == ["sent", "orphaned", "taken"]


def test_a_create_whose_process_was_killed_mid_flight_is_found_by_listing(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.inject("latency", method="POST", delay=1.0)  # the write lands after the wait
    run = earlier_run(sim, tmp_path, WIDGET)
    wait_for_posts(sim, 1)
    run.send_signal(signal.SIGKILL)  # provider and caller gone at once
    run.wait(10)
    time.sleep(1.2)
    (landed,) = sim.channels()

    channel = next_run(sim, tmp_path).create(DesiredChannel("widget", {"widget_id": "site-1"}))
    assert channel.id == landed["id"]
    assert posts(sim) == 1


def test_a_killed_create_that_never_landed_is_sent_again(sim: Simulator, tmp_path: Path) -> None:
    sim.inject("hang", method="POST", delay=5)
    run = earlier_run(sim, tmp_path, WIDGET, timeout=1)  # it lands by 3 s, or never
    wait_for_posts(sim, 1)
    sim.clear_faults()
    sim.reset()  # PingBack never stored it
    run.send_signal(signal.SIGKILL)
    run.wait(10)

    channel = next_run(sim, tmp_path).create(DesiredChannel("widget", {"widget_id": "site-1"}))
    assert [c["id"] for c in sim.channels()] == [channel.id]
    assert posts(sim) == 1  # its own


def test_a_live_create_elsewhere_is_never_taken(sim: Simulator, tmp_path: Path) -> None:
    # Another deployment on this machine creates the same widget right now: both get
    # their own channel.
    caller = Caller()
    sim.inject("latency", method="POST", delay=1.0, times=1)
    run = earlier_run(sim, tmp_path, WIDGET, caller.address)
    wait_for_posts(sim, 1)
    mine = next_run(sim, tmp_path).create(DesiredChannel("widget", {"widget_id": "site-1"}))
    theirs, _ = run.communicate(timeout=30)
    assert mine.id != theirs.strip()
    assert sorted(c["id"] for c in sim.channels()) == sorted([mine.id, theirs.strip()])
    caller.die()


def test_more_new_matches_than_lost_creates_is_an_error_listing_them(
    sim: Simulator, tmp_path: Path
) -> None:
    caller = Caller()
    sim.inject("latency", method="POST", delay=1.0)
    run = earlier_run(sim, tmp_path, WIDGET, caller.address)
    wait_for_posts(sim, 1)
    caller.die()
    run.communicate(timeout=30)
    other = PingBackClient(TOKEN, base_url=sim.url).create(
        DesiredChannel("widget", {"widget_id": "site-1"})
    )  # someone else's, made after the lost create was sent
    with pytest.raises(AmbiguousCreateError) as caught:
        next_run(sim, tmp_path).create(DesiredChannel("widget", {"widget_id": "site-1"}))
    assert other.id in str(caught.value) and "cut short by an earlier run" in str(caught.value)


def test_the_journal_holds_no_secret_and_only_its_owner_reads_it(
    sim: Simulator, tmp_path: Path
) -> None:
    client = next_run(sim, tmp_path / "journal")
    client.create(DesiredChannel("telegram", {"bot_token": TG}))
    (path,) = (tmp_path / "journal").glob("creates-*/*.jsonl")
    text = path.read_text()
    assert TOKEN not in text and TG not in text and TG.split(":")[1] not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "journal").stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_journal_that_cannot_be_written_never_fails_a_create(
    sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the directory should be
    client = next_run(sim, blocked / "journal")
    created = client.create(DesiredChannel("widget", {"widget_id": "a"}))
    client.create(DesiredChannel("widget", {"widget_id": "b"}))
    assert len(sim.channels()) == 2 and created.id
    warnings = [r for r in caplog.records if "create journal" in r.getMessage()]
    assert len(warnings) == 1


def test_the_default_directory_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi_pingback.client._journal import default_directory

    monkeypatch.delenv("PINGBACK_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_directory() == tmp_path / "pulumi-pingback"
    monkeypatch.setenv("PINGBACK_STATE_DIR", str(tmp_path / "here"))
    assert default_directory() == tmp_path / "here"
    assert os.environ["PINGBACK_STATE_DIR"].endswith("here")


def ops_of(journal_dir: Path, desired: DesiredChannel) -> list[str]:
    journal = Journal(TOKEN, "-", directory=journal_dir)  # for its fingerprint only
    fp = journal.fingerprint(desired.type, dict(desired.config), desired.is_active)
    (path,) = journal_dir.glob(f"creates-*/{fp[:32]}.jsonl")
    return [e["op"] for e in map(json.loads, path.open())]


def test_a_caller_that_dies_between_two_answers_gets_the_second_orphaned(
    sim: Simulator, tmp_path: Path
) -> None:
    """Whether the caller still waits is asked at every answer: the connection the first
    answer left open to it ends when the caller goes, and the next answer sees that."""
    caller = Caller()
    client = quick(sim, journal=Journal(TOKEN, sim.url, directory=tmp_path, caller=caller.address))
    first, second = WIDGET, DesiredChannel("widget", {"widget_id": "site-2"})
    client.create(first)
    caller.die()  # the CLI is killed between two creates
    client.create(second)
    assert ops_of(tmp_path, first) == ["sent", "answered"]
    assert ops_of(tmp_path, second) == ["sent", "orphaned"]


def test_a_live_caller_that_drops_an_idle_connection_still_waits(
    sim: Simulator, tmp_path: Path
) -> None:
    """A live caller may end the connection held to it (a gRPC server ends one that never
    speaks): asked anew, it is there, and the answer is not orphaned."""
    caller = Caller()
    client = quick(sim, journal=Journal(TOKEN, sim.url, directory=tmp_path, caller=caller.address))
    first, second = WIDGET, DesiredChannel("widget", {"widget_id": "site-2"})
    client.create(first)
    held, _ = caller.sock.accept()
    held.sendall(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")  # it speaks first (SETTINGS)...
    held.close()  # ...then drops the connection; its listener stays
    client.create(second)
    assert ops_of(tmp_path, first) == ["sent", "answered"]
    assert ops_of(tmp_path, second) == ["sent", "answered"]
    caller.die()


def test_the_suite_keeps_every_journal_out_of_the_users_state_dir(tmp_path: Path) -> None:
    """tests/conftest.py points PINGBACK_STATE_DIR and XDG_STATE_HOME into the session's
    folder: a create in this process and one in a provider process the harness starts
    (its environment without PINGBACK_*) each journal there, never in the user's folder.
    A token of this test's own names its journal folder."""
    from pulumi_pingback._operations import Channels
    from pulumi_pingback._settings import Settings

    from .conftest import session_state_dirs, users_state_dir
    from .engine import Engine, channel

    token = f"state-dir-guard-{os.getpid()}-{time.monotonic_ns()}"
    mine, harness = session_state_dirs()
    with Simulator(token=token) as sim:
        folder = Journal(token, sim.url).folder.name
        Channels(Settings(token, sim.url, timeout=2.0, max_retries=0)).create(
            Declaration.of({"type": "widget", "config": {"widget_id": "here"}})
        )
        assert (mine / folder).is_dir()
        Engine({"pingback:token": token, "pingback:apiUrl": sim.url}, cwd=tmp_path).up(
            [channel("w", "widget", {"widget_id": "there"})]
        )
        assert len(sim.channels()) == 2
    assert (harness / folder).is_dir()
    assert not (users_state_dir() / folder).exists()
