"""An operation's time limit (``customTimeouts``, :mod:`pulumi_pingback.client._limit`):
the whole operation, retries, waits and settling included, ends by it."""

from __future__ import annotations

import time

import pytest

from pulumi_pingback import OutcomeUnknownError, TimeLimitError
from pulumi_pingback.channels._models import DesiredChannel as D
from pulumi_pingback.client._limit import limited, parse_duration
from pulumi_pingback.simulator import Simulator

from .conftest import TG, quick


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10.0), ("1m30s", 90.0), ("1.5h", 5400.0), ("250ms", 0.25), ("2h0m3s", 7203.0)],
)
def test_durations_read_as_the_engine_reads_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "ten seconds", "5d", "1m 30s"])
def test_anything_else_is_no_duration(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_create_against_a_hung_server_ends_with_its_limit_and_says_it_may_exist(
    sim: Simulator,
) -> None:
    """The POST commits and the answer never comes in time: with a 1 s limit (the request
    timeout is 5 s, three retries) the create ends after 1 s with the outcome unknown,
    naming the limit; nothing is sent again."""
    client = quick(sim, timeout=5.0)
    client.list()
    sim.inject("hang", delay=10, times=1, method="POST")
    started = time.monotonic()
    with pytest.raises(OutcomeUnknownError) as info, limited(1.0, "customTimeouts.create"):
        client.create(D("telegram", {"bot_token": TG}))
    took = time.monotonic() - started
    assert 0.9 < took < 1.5, took
    assert "customTimeouts.create: 1 s" in str(info.value)
    assert [r["method"] for r in sim.requests() if r["method"] == "POST"] == ["POST"]
    assert len(sim.channels()) == 1  # made: the next run's journal finds it


def test_a_rate_limit_wait_past_the_limit_is_not_waited(sim: Simulator) -> None:
    """A 429 asking for 3 s within a 1 s limit fails at once: no sleep that outlasts the
    operation, no request sent after its end."""
    sim.inject("status", status=429, retry_after="3", times=5, method="GET")
    started = time.monotonic()
    with pytest.raises(Exception) as info, limited(1.0, "customTimeouts.update"):
        quick(sim).list()
    assert time.monotonic() - started < 0.5
    assert "429" in str(info.value)
    assert len(sim.requests()) == 1


def test_no_request_leaves_once_the_limit_ran_out(sim: Simulator) -> None:
    client = quick(sim)
    with pytest.raises(TimeLimitError) as info, limited(0.01, "customTimeouts.delete"):
        time.sleep(0.05)
        client.list(fresh=True)
    assert info.value.sent is False
    assert "customTimeouts.delete: 0.01 s" in str(info.value)
    assert sim.requests() == []
