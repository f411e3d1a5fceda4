"""pulumi-pingback under the real Pulumi CLI: wall times of `pulumi up`, `preview` and
`refresh`, each beside a baseline measured in the same run.

    .venv/bin/python -m benchmarks.cli            # the full run (a few minutes on 2 cores)
    .venv/bin/python -m benchmarks.cli --quick    # a few channels, one repeat (a smoke run)

The CLI is the one ``scripts/pulumi-cli/build`` makes (skipped, with a message, when it is
missing). Everything runs in a temporary directory: a ``Workspace`` of its own (PULUMI_HOME,
file backend, PINGBACK_STATE_DIR), a copy of this checkout's native plugin made ready by
`pulumi package add`, and the simulator as its own process on 127.0.0.1, answering every
request after a fixed latency (the round trip to a real API).

Two paths, the same N widgets (distinct ``widget_id``s: no identity collides):

- dynamic: a Python program of ``PingBackChannel``s (the ``python -m pulumi.dynamic``
  server, at most 4 calls at once: the SDK server's 4 worker threads);
- native: a YAML program of ``pingback:index:Channel``s (the plugin ``pingback``, as many
  calls at once as the engine's ``--parallel``: 4 x CPUs unless PULUMI_PARALLEL).

Each `up` is set beside the CLI's fixed cost (the same program with 0 channels, the same
latency) plus ceil(N/P) round trips, for the parallelism P that applies; the P the run
actually had is read back from the simulator (the peak of requests in flight). Figures are
printed, never asserted (``tests/cli/test_cli_benchmark.py`` runs ``--quick``).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.cli._cli import (
    Result,
    Stack,
    Workspace,
    cli_bin,
    plugin_copy,
    python_project,
)
from tests.engine import SimulatorProcess

ROOT = Path(__file__).resolve().parent.parent

TOKEN = "bench-cli-token"
BUILD = "scripts/pulumi-cli/build"
DYNAMIC_WORKERS = 4  # the SDK's dynamic-provider server: ThreadPoolExecutor(max_workers=4)
DYNAMIC_IDS, NATIVE_IDS = "bench-dynamic-w", "bench-native-w"  # distinct widget_ids
rows: list[tuple[str, str, str, str]] = []


def row(name: str, measured: str, baseline: str = "", ratio: float | None = None) -> None:
    r = "" if ratio is None else f"{ratio:.2f}x"
    rows.append((name, measured, baseline, r))
    print(f"  {name}: {measured}" + (f" (baseline {baseline}) {r}" if baseline else ""), flush=True)


def secs(t: float) -> str:
    return f"{t:.2f} s"


# ---- the programs -------------------------------------------------------------------------


def dynamic_program(n: int) -> str:
    return (
        "from pulumi_pingback import PingBackChannel, WidgetConfig\n\n"
        f"for i in range({n}):\n"
        "    PingBackChannel(\n"
        f'        f"w{{i}}", type="widget", config=WidgetConfig(widget_id=f"{DYNAMIC_IDS}{{i}}"),\n'
        "        is_active=True,\n"
        "    )\n"
    )


def yaml_program(where: Path, plugin: Path, n: int) -> Path:
    """A YAML project naming the plugin as `pulumi package add` records it."""
    where.mkdir(parents=True, exist_ok=True)
    resources = {
        f"w{i}": {
            "type": "pingback:index:Channel",
            "properties": {
                "type": "widget",
                "config": {"widget_id": f"{NATIVE_IDS}{i}"},
                "isActive": True,
            },
        }
        for i in range(n)
    }
    project: dict[str, Any] = {
        "name": "bench-native",
        "runtime": "yaml",
        "packages": {"pingback": str(plugin)},
    }
    if resources:
        project["resources"] = resources
    (where / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return where


# ---- measuring ----------------------------------------------------------------------------


@dataclass
class Run:
    """One CLI command: its wall time, the API calls it made, the peak in flight."""

    seconds: float
    calls: Counter[str]
    max_inflight: int

    def api(self) -> str:
        total = sum(self.calls.values())
        if not total:
            return "0 API calls"
        split = ", ".join(f"{v} {k}" for k, v in sorted(self.calls.items()))
        return f"{total} API calls ({split})"


@dataclass
class Route:
    """One provider path: a stack with 0 channels and one with N, and what they measured."""

    name: str
    widget_ids: str
    zero: Stack
    full: Stack
    runs: dict[str, list[Run]] = field(default_factory=dict)

    def median(self, key: str) -> float:
        return statistics.median(r.seconds for r in self.runs[key])

    def last(self, key: str) -> Run:
        return self.runs[key][-1]


class Bench:
    def __init__(self, sim: SimulatorProcess, ws: Workspace, latency: float) -> None:
        self.sim = sim
        self.ws = ws
        self.latency = latency

    def configure(self, latency: float) -> None:
        self.sim.control.post(
            "/_sim/config", json={"latency": latency, "limit": 100_000, "plan": "pro"}
        ).raise_for_status()

    def stack(self, project: Path, name: str) -> Stack:
        st = Stack(self.ws, project, name).init()
        st.set("pingback:apiUrl", self.sim.url)
        st.set("pingback:token", TOKEN, secret=True)
        return st

    def timed(self, command: str, st: Stack, expect: str) -> Run:
        """``pulumi <command>`` of ``st`` at the benchmark's latency, timed as a user waits
        for it (process start to exit)."""
        self.configure(self.latency)
        self.sim.clear_log()
        start = time.perf_counter()
        result: Result = getattr(st, command)()
        seconds = time.perf_counter() - start
        if expect not in result.stdout:
            raise RuntimeError(f"expected {expect!r} in the output of\n{result}")
        calls = Counter(r["method"] for r in self.sim.requests())
        return Run(seconds, calls, int(self.sim.state()["max_inflight"]))

    def destroy(self, st: Stack) -> None:
        """Back to an empty stack, untimed and at no latency (each `up` then creates)."""
        self.configure(0)
        st.destroy()

    def measure(self, p: Route, n: int, first: bool) -> None:
        print(f"  {p.name}", flush=True)
        if not first:
            self.destroy(p.zero)
            self.destroy(p.full)
        for key, st, expect in (
            ("up0", p.zero, "1 created"),
            ("preview0", p.zero, "1 unchanged"),
            ("refresh0", p.zero, "1 unchanged"),
            ("up", p.full, f"{n + 1} created"),
            ("preview", p.full, f"{n + 1} unchanged"),
            ("refresh", p.full, f"{n + 1} unchanged"),
        ):
            run = self.timed(key.rstrip("0"), st, expect)
            p.runs.setdefault(key, []).append(run)
            print(f"    {key}: {run.seconds:.2f} s, {run.api()}", flush=True)
        held = [
            c
            for c in self.sim.state()["channels"]
            if str(c["config"].get("widget_id", "")).startswith(p.widget_ids)
        ]
        if len(held) != n:
            raise RuntimeError(f"the simulator holds {len(held)} of the {n} channels of {p.name}")


def native_plugin(ws: Workspace, root: Path) -> tuple[Path, float]:
    """A copy of this checkout's plugin, its venv made by `pulumi package add` (as the
    ``native_plugin`` fixture of tests/cli/conftest.py makes it); the time that took."""
    plugin = plugin_copy(root)
    project = root / "add-once"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: add-once\nruntime: yaml\n")
    start = time.perf_counter()
    ws.run("package", "add", str(plugin), cwd=project, timeout=900)
    return plugin, time.perf_counter() - start


# ---- the table ----------------------------------------------------------------------------


def report(p: Route, n: int, rtt: float, parallel: int, why: str) -> None:
    ms = rtt * 1000
    up, up0 = p.median("up"), p.median("up0")
    floor = math.ceil(n / parallel) * rtt
    last = p.last("up")
    peak = max(r.max_inflight for r in p.runs["up"])
    row(
        f"1. {p.name}: `pulumi up` of {n} channels at {ms:.0f} ms, default --parallel",
        f"{secs(up)} ({last.api()})",
        f"0 channels {secs(up0)} + ceil({n}/{parallel}) x {ms:.0f} ms {secs(floor)} "
        f"= {secs(up0 + floor)}",
        up / (up0 + floor),
    )
    # What the 0-channel program never pays: starting the provider, and a Check + Diff per
    # channel; the no-op preview pays exactly that, with no API call.
    starts = p.median("preview") - p.median("preview0")
    row(
        f"1. {p.name}: the `up` over that baseline",
        secs(up - up0 - floor),
        f"no-op preview of {n} over 0 channels (provider start, Check + Diff) {secs(starts)}",
        (up - up0 - floor) / starts if starts > 0 else None,
    )
    row(
        f"1. {p.name}: parallelism (peak requests in flight at the simulator)",
        f"{peak}",
        f"{parallel}: {why}",
    )
    for key, what in (("preview", "no-op `pulumi preview`"), ("refresh", "`pulumi refresh`")):
        t, t0 = p.median(key), p.median(key + "0")
        last = p.last(key)
        if key == "preview":
            baseline, bound = f"0 channels {secs(t0)}", t0
        else:
            # the reads of a pass share one list; `refresh --yes` makes two passes
            lists = max(last.calls["GET"], 1)
            bound = t0 + lists * rtt
            baseline = f"0 channels {secs(t0)} + {lists} x {ms:.0f} ms = {secs(bound)}"
        row(f"2. {p.name}: {what} of {n}", f"{secs(t)} ({last.api()})", baseline, t / bound)


def summary(dynamic: Route, native: Route, n: int, rtt: float, engine: int) -> list[str]:
    """The table in words, from this run's figures."""
    ms = rtt * 1000
    d_up, d_up0, n_up, n_up0 = (r.median(k) for r in (dynamic, native) for k in ("up", "up0"))
    d_peak, n_peak = (max(x.max_inflight for x in r.runs["up"]) for r in (dynamic, native))
    d_wait, n_wait = math.ceil(n / DYNAMIC_WORKERS) * rtt, math.ceil(n / engine) * rtt
    lines = [
        f"The CLI's fixed cost (`up` of 0 channels, no provider started): {secs(d_up0)} for "
        f"the Python program (the language host runs it once for the preview pass and once "
        f"for the update), {secs(n_up0)} for the YAML one.",
        f"Parallelism: at most {d_peak} requests in flight through the dynamic provider (the "
        f"SDK server's {DYNAMIC_WORKERS} workers, below the engine's {engine}); {n_peak} "
        f"through the native plugin (the engine's default --parallel, {engine}).",
        f"`up` of {n} at {ms:.0f} ms: dynamic {secs(d_up)}, of which ceil({n}/{DYNAMIC_WORKERS})"
        f" round trips are {secs(d_wait)} ({d_wait / d_up:.0%}); native {secs(n_up)}, of "
        f"which ceil({n}/{engine}) round trips are {secs(n_wait)} ({n_wait / n_up:.0%}). "
        f"Native takes {n_up / d_up:.2f}x the dynamic time.",
    ]
    for r in (dynamic, native):
        extra = r.median("preview") - r.median("preview0")
        lines.append(
            f"{r.name}: a no-op preview of {n} makes {sum(r.last('preview').calls.values())} "
            f"API calls and costs {secs(extra)} over the 0-channel preview: starting the "
            f"provider and a Check + Diff per channel, which the 0-channel `up` never pays; "
            f"refresh makes {r.last('refresh').api()} (one shared list per pass: "
            f"`refresh --yes` runs a preview pass first, with a provider process of its own)."
        )
    return lines


def main() -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a few channels, one repeat")
    args = parser.parse_args()
    n, repeats = (6, 1) if args.quick else (100, 3)
    rtt = 0.15
    bin_dir = cli_bin()
    if bin_dir is None:
        print(
            f"skipped: the Pulumi CLI built by {BUILD} is not in its cache "
            f"(or PINGBACK_PULUMI_BIN): run `{BUILD}` first"
        )
        return 0
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    engine_parallel = 4 * (cpus or 1)
    print(f"pulumi CLI in {bin_dir}; {n} channels, {rtt * 1000:.0f} ms round trip", flush=True)
    with tempfile.TemporaryDirectory(prefix="pingback-cli-bench-") as tmp:
        root = Path(tmp)
        ws = Workspace(root / "ws", bin_dir)
        with SimulatorProcess("--quiet", token=TOKEN) as sim:
            bench = Bench(sim, ws, rtt)
            bench.configure(0)
            print("setup: `pulumi package add` of the plugin, stacks", flush=True)
            plugin, added = native_plugin(ws, root / "plugin")
            dyn0 = python_project(root / "dynamic-0", dynamic_program(0), name="bench-dynamic")
            dynn = python_project(root / "dynamic-n", dynamic_program(n), name="bench-dynamic")
            nat0 = yaml_program(root / "native-0", plugin, 0)
            natn = yaml_program(root / "native-n", plugin, n)
            paths = [
                Route(
                    "dynamic (Python program)",
                    DYNAMIC_IDS,
                    bench.stack(dyn0, "zero"),
                    bench.stack(dynn, "full"),
                ),
                Route(
                    "native (YAML program)",
                    NATIVE_IDS,
                    bench.stack(nat0, "zero"),
                    bench.stack(natn, "full"),
                ),
            ]
            for i in range(repeats):
                print(f"repeat {i + 1} of {repeats}", flush=True)
                for p in paths:  # interleaved: a change of load hits both alike
                    bench.measure(p, n, first=i == 0)
            bench.configure(0)
            for p in paths:  # leave nothing behind but the temporary directory
                p.full.destroy()
                p.zero.destroy()
    print("\nfigures:", flush=True)
    dynamic, native = paths
    report(
        dynamic,
        n,
        rtt,
        DYNAMIC_WORKERS,
        "the SDK server's 4 worker threads",
    )
    report(
        native,
        n,
        rtt,
        engine_parallel,
        f"the engine's default --parallel, 4 x {cpus} CPUs (PULUMI_PARALLEL unset)",
    )
    row(
        f"1. native against dynamic: `pulumi up` of {n}",
        secs(native.median("up")),
        secs(dynamic.median("up")),
        native.median("up") / dynamic.median("up"),
    )
    row("setup: `pulumi package add` of the plugin (its venv, pip install)", secs(added))
    versions = bin_dir / "VERSIONS"
    built = versions.read_text().strip() if versions.exists() else "pulumi"
    print(
        f"\npulumi-pingback under the Pulumi CLI ({built}; {cpus} CPUs, "
        f"Python {sys.version.split()[0]}; median of {repeats}; "
        f"{time.perf_counter() - started:.0f} s)\n"
    )
    print("| benchmark | measured | baseline (same run) | ratio |")
    print("|---|---|---|---|")
    # section 1 (up), then 2 (preview, refresh), then the setup; in order within each
    for r in sorted(rows, key=lambda r: r[0][:2] if r[0][0].isdigit() else "9"):
        print("| " + " | ".join(r) + " |")
    print("\nWhat the figures say:\n")
    for line in summary(dynamic, native, n, rtt, engine_parallel):
        print(f"- {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
