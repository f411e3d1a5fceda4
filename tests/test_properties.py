"""Property-based tests: arbitrary JSON into check, the models and diff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_pingback.channels._check import check_inputs
from pulumi_pingback.channels._diff import decide
from pulumi_pingback.channels._kinds import CHANNEL_TYPES, KINDS
from pulumi_pingback.channels._unknowns import UNKNOWN
from pulumi_pingback.simulator import Simulator

from .conftest import TOKEN
from .engine import CheckFailed, Engine, channel

KEYS = sorted({k for kind in KINDS.values() for k in kind.keys} | {"_meta", ""})
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from([UNKNOWN, "7123456789:AAHtoken", "42-token", "", " "])
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
)
types = st.sampled_from(CHANNEL_TYPES) | json_values
configs = (
    st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), json_values, max_size=6)
    | json_values
)
inputs_strategy = st.fixed_dictionaries(
    {"type": types, "config": configs},
    optional={
        "is_active": json_values,
        "adopt_id": json_values,
        "identity": json_values,
        "typo": json_values,
    },
)
ROOTS = ("type", "config", "is_active", "adopt_id", "typo")
PRINTABLE = ("", "type", "is_active", "adopt_id")


@given(inputs_strategy)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_check_is_total_and_either_valid_or_names_the_property(news: dict[str, Any]) -> None:
    inputs, problems = check_inputs(news)
    json.dumps(inputs)  # serializable as it goes back over the wire
    for prop, reason in problems:
        assert prop.split(".")[0].split("[")[0] in ROOTS, prop
        assert reason
    if not problems and UNKNOWN not in json.dumps(inputs):
        again, more = check_inputs(inputs)  # checked inputs check clean, unchanged
        assert more == [] and again == inputs and inputs["type"] in CHANNEL_TYPES


@given(
    st.dictionaries(st.sampled_from([*ROOTS, "identity", "__provider"]), json_values),
    st.dictionaries(st.sampled_from([*ROOTS, "identity", "__provider"]), json_values),
)
@settings(max_examples=200)
def test_diff_is_total(olds: dict[str, Any], news: dict[str, Any]) -> None:
    decision = decide(olds, news)
    assert isinstance(decision.changes, bool)
    assert set(decision.replaces) <= {"type", "identity"}
    assert not decision.replaces or decision.changes


valid_configs = {
    "telegram": st.builds(
        lambda b, t: {"bot_token": f"{b}:{t}"},
        st.integers(1, 10**10),
        st.text("abcXYZ019_-", min_size=1, max_size=20),
    ),
    "whatsapp": st.fixed_dictionaries(
        {k: st.text("abc123", min_size=1, max_size=8) for k in KINDS["whatsapp"].keys}
    ),
    "x": st.fixed_dictionaries(
        {k: st.text("ab12-", min_size=1, max_size=8) for k in KINDS["x"].keys}
    ),
    "widget": st.builds(
        lambda extra, wid: {**extra, "widget_id": wid},
        st.dictionaries(
            st.text("abc", min_size=1, max_size=5),
            st.text("xyz", min_size=1, max_size=5),
            max_size=3,
        ),
        st.text("xyz", min_size=1, max_size=5),
    ),
}
valid_inputs = st.sampled_from(sorted(valid_configs)).flatmap(
    lambda t: st.fixed_dictionaries(
        {"type": st.just(t), "config": valid_configs[t], "is_active": st.booleans()}
    )
)


@given(valid_inputs)
@settings(max_examples=150)
def test_the_same_inputs_are_never_a_change(news: dict[str, Any]) -> None:
    checked, problems = check_inputs(news)
    assert problems == []
    as_outputs = dict(checked, business_id="b", created_at="t", __provider="p")
    assert decide(as_outputs, {**checked, "__provider": "q"}).kind == "none"
    assert decide(checked, checked).kind == "none"


@pytest.fixture(scope="module")
def live_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with Simulator(token=TOKEN) as sim:
        engine = Engine(
            {"pingback:token": TOKEN, "pingback:apiUrl": sim.url},
            cwd=Path(tmp_path_factory.mktemp("props")),
        )
        with engine.session():
            yield engine


@given(inputs_strategy)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_check_through_the_real_server_never_crashes(
    live_engine: Engine, news: dict[str, Any]
) -> None:
    news = {k: v for k, v in news.items() if k != "typo"}
    try:
        live_engine.preview(
            [
                channel(
                    "p",
                    news["type"],
                    news["config"],
                    is_active=news.get("is_active", True),
                )
            ]
        )
    except CheckFailed as exc:
        assert exc.failures
        for prop, reason in exc.failures:
            # Never a top-level property that can hold a secret: the CLI would print it.
            assert prop in PRINTABLE or prop.startswith("config."), prop
            assert prop or reason.split(":")[0].split(".")[0].split("[")[0] in ROOTS
