"""What a provider is sent, from both engines: the real CLI's ``PULUMI_DEBUG_GRPC`` log and
the harness's runs' ``requests`` (``Engine(record=True)``), as one comparable form.

``PULUMI_DEBUG_GRPC=<file>`` makes the CLI write every gRPC call it makes as a JSON line
(sdk/go/pulumi-internal/rpcdebug, protojson: ``method``, ``request``, then ``response`` or ``errors``,
with ``progress`` ``request_started`` / ``response_completed``). Only the provider calls
(``/pulumirpc.ResourceProvider/…``) count here, once each, when they completed. A call
becomes ``{"method", "request"[, "error"]}``: the request as protobuf JSON (lowerCamelCase
names, defaults left out: what both ``protojson`` and ``json_format`` write) and the
error's gRPC code; answers are left out (the same provider code makes them).

A ``Cancel`` the CLI abandoned (``CANCELED``: the engine's own context ended, or the process
was gone) is left out. When ``destroy`` deletes a provider, the registry closes it, and
closing sends ``Cancel`` (``hostManagedProvider.Close``, pkg/host/host.go); the host's own
``Close`` at the end of the command sends ``Cancel`` to every plugin still in its table,
and whether the first close has taken the plugin out of that table yet is a race. The
second ``Cancel`` then meets a process on its way out: it never reaches the provider's code.

:func:`normalise` then replaces what differs between any two runs — addresses, ids,
times, random seeds, the simulator's URL, the plugin's directory — by placeholders, so
two runs of the same scenario compare equal.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from ..engine import Run

Call = dict[str, Any]
"""One provider call: ``method``, ``request`` and, when it failed, ``error``."""

PROVIDER = "/pulumirpc.ResourceProvider/"
UNKNOWN_ID = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown value
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")
_ADDRESSES = (
    "engineAddress",
    "mapperTarget",
    "loaderTarget",
    "resolverTarget",
    "resourceStatusAddress",
)


def _code(name: str) -> str:
    """A gRPC code as Go prints it (``Unimplemented``) in Python's spelling
    (``UNIMPLEMENTED``)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).upper()


def cli_calls(log: Path) -> list[Call]:
    """The provider calls of a ``PULUMI_DEBUG_GRPC`` log, in the order they completed."""
    calls: list[Call] = []
    if not log.exists():
        return calls
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        if not entry["method"].startswith(PROVIDER) or entry["progress"] == "request_started":
            continue
        call: Call = {"method": entry["method"][len(PROVIDER) :], "request": entry["request"]}
        if entry.get("errors"):
            found = re.search(r"code = (\w+)", entry["errors"][0])
            call["error"] = _code(found.group(1)) if found else entry["errors"][0]
        if call["method"] == "Cancel" and call.get("error") == "CANCELED":
            continue  # abandoned by the CLI itself (see the module's notes)
        calls.append(call)
    return calls


def harness_calls(runs: Iterable[Run]) -> list[Call]:
    """The calls the harness's ``runs`` (of an ``Engine(record=True)``) sent, in order."""
    calls: list[Call] = []
    for sent in (request for run in runs for request in run.requests):
        call: Call = {"method": sent.method, "request": json_format.MessageToDict(sent.request)}
        if sent.error:
            call["error"] = sent.error
        calls.append(call)
    return calls


def normalise(calls: Iterable[Call], *, values: Mapping[str, str] = {}) -> list[Call]:
    """``calls`` with what differs between runs as placeholders: the engine's service
    addresses (``<address>``), random seeds (``<seed>``), timestamps (``<time>``), the
    unknown value (``<unknown>``), every other UUID as ``<id N>`` numbered by first
    appearance (keys sorted), and each string of ``values`` (e.g. the simulator's URL,
    the plugin's directory) by its placeholder."""
    ids: dict[str, str] = {UNKNOWN_ID: "<unknown>"}

    def text(value: str) -> str:
        for raw, placeholder in values.items():
            value = value.replace(raw, placeholder)
        value = _TIME.sub("<time>", value)
        return _UUID.sub(lambda m: ids.setdefault(m.group(0), f"<id {len(ids)}>"), value)

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(value[k]) for k in sorted(value)}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return text(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)  # a Struct number: 2.0 from Python is 2 from Go
        return value

    out: list[Call] = []
    for call in calls:
        request = dict(call["request"])
        for key in _ADDRESSES:
            if key in request:
                request[key] = "<address>"
        if "randomSeed" in request:
            request["randomSeed"] = "<seed>"
        if "resourceStatusToken" in request:  # a UUID per call: not an id to number
            request["resourceStatusToken"] = "<token>"
        out.append({**call, "request": walk(request)})
    return out


def methods(calls: Iterable[Call]) -> list[str]:
    return [c["method"] for c in calls]


def render(calls: Iterable[Call]) -> list[str]:
    """One line per call, for a readable diff."""
    return [
        f"{c['method']}{' !' + c['error'] if 'error' in c else ''} "
        f"{json.dumps(c['request'], sort_keys=True)}"
        for c in calls
    ]


def explain(cli: list[Call], harness: list[Call]) -> str:
    """Where the two sequences part: their methods, then a diff of the calls."""
    lines = [
        f"real CLI: {' '.join(methods(cli))}",
        f"harness:  {' '.join(methods(harness))}",
        *difflib.unified_diff(render(cli), render(harness), "real CLI", "harness", lineterm=""),
    ]
    return "\n".join(lines)
