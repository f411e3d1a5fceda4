"""pulumi-pingback under the real Pulumi CLI, beside the engine's floor measured in the same
run: a trivial provider of the same shape whose every call only waits the round trip.

    .venv/bin/python -m benchmarks.cli            # N = 100 and 300, median of 3
    .venv/bin/python -m benchmarks.cli --quick    # 3 channels, one repeat (a smoke run)

The CLI is the one ``scripts/pulumi-cli/build`` makes (skipped, with a message, when it is
missing). Everything runs in a temporary directory: a ``Workspace`` of its own (PULUMI_HOME,
file backend, PINGBACK_STATE_DIR), a copy of this checkout's native plugin made ready by
`pulumi package add` (or the one ``--plugin`` names), and the simulator as its own process
on 127.0.0.1, answering every request after the round trip (150 ms).

Four paths, each a stack of its own, the same N widgets (type, config, isActive):

- native, pingback: a YAML program of ``pingback:index:Channel``s, the plugin against the
  simulator;
- native, trivial: the same YAML program of ``trivial:index:Channel``s
  (:mod:`benchmarks.trivial.native`: a source plugin started as ``pingback`` is, with the
  virtualenv `pulumi package add` made for it; Create, Update, Read and Delete sleep the
  round trip, nothing is secret);
- dynamic, pingback: a Python program of ``PingBackChannel``s;
- dynamic, trivial: a Python program of the same shape whose
  ``pulumi.dynamic.ResourceProvider`` sleeps the round trip (:mod:`benchmarks.trivial.dynamic`).

For each N and each repeat, the paths in turn (interleaved, the order reversed every other
repeat, so that a change of load or a warm cache favours no path; the dynamic paths at
N = 100 unless ``--dynamic-n 100 300``): `pulumi up`, a no-op `pulumi preview`,
`pulumi refresh`, `pulumi destroy`. Each is timed as a user waits for it (process start
to exit), with the CPU of its whole process tree (the CLI, language host, program and
plugins: ``getrusage(RUSAGE_CHILDREN)`` deltas, this process a child subreaper so that no
orphaned plugin escapes the count; the simulator, PingBack's side, is not counted). Before
each cycle the create journal (PINGBACK_STATE_DIR) is emptied: every `up` creates
channels new to this machine, as a first `up` does (the URNs of the previous cycle's
channels, still in the journal, would each cost a list: a re-create's cost). After
the first `up` of each N, `pulumi stack export` gives the state's size per channel and
the secrets each channel's resource holds. Printed: medians, each pingback figure as a
ratio to the trivial one, the targets of issue 26 beside them; never asserted
(``tests/cli/test_cli_benchmark.py`` runs ``--quick``).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks import trivial
from tests.cli._cli import ROOT, Result, Stack, Workspace, cli_bin, plugin_copy, python_project
from tests.engine import SimulatorProcess

TOKEN = "bench-cli-token"
BUILD = "scripts/pulumi-cli/build"
RTT = 0.15  # the simulator's latency, the trivial providers' sleep
DYNAMIC_IDS, NATIVE_IDS = "bench-dynamic-w", "bench-native-w"  # distinct widget_ids
COMMANDS = (  # in the order of a cycle, each with what its output says of N channels
    ("up", "`pulumi up`", "created"),
    ("preview", "no-op `pulumi preview`", "unchanged"),
    ("refresh", "`pulumi refresh`", "unchanged"),
    ("destroy", "`pulumi destroy`", "deleted"),
)
TARGETS = {("native", "up", 100): 1.10, ("native", "up", 300): 1.15}
"""Issue 26: pingback's native `up` against the trivial plugin's, under the same CLI."""
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # the key of Pulumi's secret envelope


def secs(t: float) -> str:
    return f"{t:.2f} s"


# ---- the programs -------------------------------------------------------------------------


def dynamic_program() -> str:
    """``PingBackChannel``s, as many as the stack's ``count``."""
    return (
        "import pulumi\n"
        "from pulumi_pingback import PingBackChannel, WidgetConfig\n\n"
        'for i in range(pulumi.Config().require_int("count")):\n'
        "    PingBackChannel(\n"
        f'        f"w{{i}}", type="widget", config=WidgetConfig(widget_id=f"{DYNAMIC_IDS}{{i}}"),\n'
        "        is_active=True,\n"
        "    )\n"
    )


def yaml_program(
    where: Path,
    plugin: Path,
    n: int,
    *,
    package: str = "pingback",
    widget_ids: str = NATIVE_IDS,
) -> Path:
    """A YAML project of ``n`` widgets naming the plugin as `pulumi package add` records it
    (a local path under ``packages:``); rewritten in place for another ``n``."""
    where.mkdir(parents=True, exist_ok=True)
    resources = {
        f"w{i}": {
            "type": f"{package}:index:Channel",
            "properties": {
                "type": "widget",
                "config": {"widgetId": f"{widget_ids}{i}"},
                "isActive": True,
            },
        }
        for i in range(n)
    }
    project: dict[str, Any] = {
        "name": f"bench-native-{package}" if package != "pingback" else "bench-native",
        "runtime": "yaml",
        "packages": {package: str(plugin)},
    }
    if resources:
        project["resources"] = resources
    (where / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    return where


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


def call(request: dict[str, Any]) -> str:
    """What one request asked PingBack: ``GET list``, ``POST``, ``DELETE``… (with its
    status when it failed)."""
    method, path, status = request["method"], str(request["path"]), request.get("status")
    what = (
        f"{method} list" if method == "GET" and path.rstrip("/").endswith("/channels") else method
    )
    return what if status is None or int(status) < 400 else f"{what} {status}"


# ---- the CPU of a command's whole process tree ----------------------------------------------


def become_subreaper() -> bool:
    """Orphans of the CLI's tree (a plugin outliving its parent) become this process's
    children, so that waiting for them counts their CPU in RUSAGE_CHILDREN. Linux only."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(36, 1, 0, 0, 0)) == 0  # PR_SET_CHILD_SUBREAPER
    return False


def _children() -> list[int]:
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me:  # field 4, ppid
            found.append(int(entry.name))
    return found


def reap(keep: Iterable[int], timeout: float = 10) -> int:
    """Wait for the children this process did not start itself (orphans adopted as the
    subreaper) until none is left or ``timeout``; how many were reaped."""
    kept, reaped = set(keep), 0
    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pid in _children() if pid not in kept]
        for pid in left:
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    reaped += 1
        if not left or time.monotonic() > deadline:
            return reaped
        time.sleep(0.02)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---- measuring ----------------------------------------------------------------------------


@dataclass
class Run:
    """One CLI command: its wall time, its tree's CPU, the API calls it made."""

    seconds: float
    cpu: float
    calls: Counter[str]

    def api(self) -> str:
        total = sum(self.calls.values())
        split = ", ".join(f"{v} {k}" for k, v in sorted(self.calls.items()))
        return f"{total} API calls ({split})" if total else "0 API calls"


@dataclass
class Route:
    """One path: a stack, how to size its program, and what it measured."""

    kind: str  # native | dynamic
    provider: str  # trivial | pingback
    stack: Stack
    size: Callable[[int], object]  # writes the program (or its config) for N channels
    widget_ids: str | None = None  # pingback's: checked at the simulator after each `up`
    runs: dict[tuple[str, int], list[Run]] = field(default_factory=dict)
    state: dict[int, tuple[float, float]] = field(default_factory=dict)  # bytes, secrets

    @property
    def name(self) -> str:
        return f"{self.kind}, {self.provider}"

    def median(self, command: str, n: int, what: str = "seconds") -> float:
        return float(statistics.median(getattr(r, what) for r in self.runs[(command, n)]))


class Bench:
    def __init__(self, sim: SimulatorProcess, ws: Workspace) -> None:
        self.sim = sim
        self.ws = ws
        self.keep = {sim.proc.pid}

    def stack(self, project: Path, name: str, *, secret: str = "", **config: str) -> Stack:
        """A new stack of ``project``: ``config`` set in one command, ``secret`` too (the
        simulator's throwaway token, so on the command line)."""
        st = Stack(self.ws, project, name).init()
        given = [f"--plaintext={k}={v}" for k, v in config.items()]
        st.run("config", "set-all", *given, *([f"--secret={secret}"] if secret else []))
        return st

    def pingback_stack(self, project: Path, name: str, **config: str) -> Stack:
        url, token = self.sim.url, f"pingback:token={TOKEN}"
        return self.stack(project, name, secret=token, **{"pingback:apiUrl": url, **config})

    def timed(self, route: Route, command: str, n: int, says: str) -> Run:
        """``pulumi <command>``, timed from process start to exit, with its tree's CPU."""
        self.sim.clear_log()
        cpu = children_cpu()
        start = time.perf_counter()
        result: Result = getattr(route.stack, command)()
        seconds = time.perf_counter() - start
        reap(self.keep)
        cpu = children_cpu() - cpu
        expect = f"{n + 1} {says}"  # the channels and the stack
        if expect not in result.stdout:
            raise RuntimeError(f"{route.name}: expected {expect!r} in the output of\n{result}")
        calls = Counter(call(r) for r in self.sim.requests())
        return Run(seconds, cpu, calls)

    def cycle(self, route: Route, n: int) -> None:
        # The create journal is kept from cycle to cycle, as a user's machine keeps it:
        # each `up` re-makes URNs an earlier cycle made and destroyed (their creates
        # share one list to tell they are gone: tests/test_ownership.py).
        route.size(n)
        line = []
        for command, _, says in COMMANDS:
            run = self.timed(route, command, n, says)
            route.runs.setdefault((command, n), []).append(run)
            line.append(f"{command} {run.seconds:.2f} s (CPU {run.cpu:.2f} s)")
            if route.provider == "pingback":
                line[-1] += f" {run.api()}"
            if command == "up":
                self.after_up(route, n)
        print(f"    {route.name}: " + ", ".join(line), flush=True)

    def after_up(self, route: Route, n: int) -> None:
        if route.widget_ids is not None:
            held = [
                c
                for c in self.sim.state()["channels"]
                if str(c["config"].get("widget_id", "")).startswith(route.widget_ids)
            ]
            if len(held) != n:
                raise RuntimeError(f"the simulator holds {len(held)} of {route.name}'s {n}")
        if n not in route.state:  # the state is the same every time: read once
            exported = route.stack.run("stack", "export").stdout
            channels = [
                r
                for r in json.loads(exported)["deployment"].get("resources", [])
                if r["type"].endswith("Channel")
            ]
            secrets = sum(json.dumps(r).count(SECRET_SIG) for r in channels)
            route.state[n] = (len(exported.encode()) / n, secrets / n)


# ---- the tables ---------------------------------------------------------------------------


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"


def target(kind: str, command: str, n: int, value: float) -> str:
    bound = TARGETS.get((kind, command, n))
    if bound is None:
        return ""
    return f"≤ {bound:.2f}x: {'met' if value <= bound else 'missed'}"


def report(routes: list[Route], ns: dict[str, tuple[int, ...]]) -> None:
    pairs = {
        kind: (
            next(r for r in routes if r.kind == kind and r.provider == "trivial"),
            next(r for r in routes if r.kind == kind and r.provider == "pingback"),
        )
        for kind in ("native", "dynamic")
    }
    print(
        "| path | command | N | trivial | pingback | ratio | target | CLI CPU trivial "
        "| CLI CPU pingback | CPU ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind, (floor, ours) in pairs.items():
        for n in ns[kind]:
            for command, what, _ in COMMANDS:
                t, p = floor.median(command, n), ours.median(command, n)
                ct, cp = floor.median(command, n, "cpu"), ours.median(command, n, "cpu")
                print(
                    f"| {kind} | {what} | {n} | {secs(t)} | {secs(p)} | {ratio(p, t)} "
                    f"| {target(kind, command, n, p / t)} | {secs(ct)} | {secs(cp)} "
                    f"| {ratio(cp, ct)} |"
                )
    print()
    print(
        "| path | N | state per channel: trivial | pingback | ratio "
        "| secrets per channel: trivial | pingback |"
    )
    print("|---|---|---|---|---|---|---|")
    for kind, (floor, ours) in pairs.items():
        for n in ns[kind]:
            (bt, st), (bp, sp) = floor.state[n], ours.state[n]
            print(
                f"| {kind} | {n} | {bt:,.0f} B | {bp:,.0f} B | {ratio(bp, bt)} | {st:g} | {sp:g} |"
            )
    print("\nWhat the figures say:\n")
    for kind, (floor, ours) in pairs.items():
        for n in ns[kind]:
            up, up0 = ours.median("up", n), floor.median("up", n)
            cpu, cpu0 = ours.median("up", n, "cpu"), floor.median("up", n, "cpu")
            calls = ours.runs[("up", n)][-1].api()
            print(
                f"- {kind}, `up` of {n}: pingback's own share is {secs(up - up0)} of wall "
                f"time ({(up - up0) / n * 1000:.1f} ms per channel) and {secs(cpu - cpu0)} "
                f"of CPU ({(cpu - cpu0) / n * 1000:.1f} ms per channel); it made {calls}."
            )


# ---- the run ------------------------------------------------------------------------------


def main() -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="3 channels, one repeat")
    parser.add_argument("--plugin", type=Path, help="a plugin `pulumi package add` made ready")
    parser.add_argument("--repeats", type=int, default=3, help="cycles of each (the median)")
    parser.add_argument(
        "--dynamic-n",
        type=int,
        nargs="+",
        default=[100],
        help="the dynamic paths' N (default 100; 300 adds about 3 minutes a repeat)",
    )
    args = parser.parse_args()
    native_ns = (3,) if args.quick else (100, 300)
    dynamic_ns = (3,) if args.quick else tuple(args.dynamic_n)
    repeats = 1 if args.quick else args.repeats
    bin_dir = cli_bin()
    if bin_dir is None:
        print(
            f"skipped: the Pulumi CLI built by {BUILD} is not in its cache "
            f"(or PINGBACK_PULUMI_BIN): run `{BUILD}` first"
        )
        return 0
    subreaper = become_subreaper()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"pulumi CLI in {bin_dir}; {RTT * 1000:.0f} ms round trip", flush=True)
    with tempfile.TemporaryDirectory(prefix="pingback-cli-bench-") as tmp:
        root = Path(tmp)
        # the Python programs import this checkout's pulumi_pingback, as the plugin does
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        ws = Workspace(root / "ws", bin_dir, env={"PYTHONPATH": path})
        with SimulatorProcess("--quiet", token=TOKEN) as sim:
            sim.reset(plan="pro", latency=RTT, limit=100_000, token=TOKEN)
            bench = Bench(sim, ws)
            if args.plugin is not None:
                plugin, added = args.plugin.resolve(), None
            else:
                print("setup: `pulumi package add` of the plugin", flush=True)
                plugin, added = native_plugin(ws, root / "plugin")
            floor = trivial.native_plugin(root / "trivial-plugin", plugin / "venv")
            print("setup: the four stacks", flush=True)
            nat = yaml_program(root / "native-pingback", plugin, 0)
            nat_t = yaml_program(root / "native-trivial", floor, 0, package="trivial")
            dyn = python_project(root / "dynamic-pingback", dynamic_program(), name="bench-dyn")
            dyn_t = trivial.dynamic_provider(
                python_project(root / "dynamic-trivial", trivial.PROGRAM, name="bench-dyn-floor")
            )
            first = str(min(dynamic_ns))  # the programs read N from their stack's config
            st_dyn_t = bench.stack(dyn_t, "floor", rtt=str(RTT), count=first)
            st_dyn = bench.pingback_stack(dyn, "ours", count=first)
            routes = [
                Route(
                    "native",
                    "trivial",
                    bench.stack(nat_t, "floor", **{"trivial:rtt": str(RTT)}),
                    functools.partial(yaml_program, nat_t, floor, package="trivial"),
                ),
                Route(
                    "native",
                    "pingback",
                    bench.pingback_stack(nat, "ours"),
                    functools.partial(yaml_program, nat, plugin),
                    NATIVE_IDS,
                ),
                Route("dynamic", "trivial", st_dyn_t, sizer(st_dyn_t, first)),
                Route("dynamic", "pingback", st_dyn, sizer(st_dyn, first), DYNAMIC_IDS),
            ]
            for i in range(repeats):
                for n in sorted(set(native_ns) | set(dynamic_ns)):
                    print(f"repeat {i + 1} of {repeats}, {n} channels", flush=True)
                    # interleaved, the order turned each repeat: a change of load, or
                    # a warm cache, favours neither the floor nor pingback
                    for route in routes if i % 2 == 0 else routes[::-1]:
                        if n in (native_ns if route.kind == "native" else dynamic_ns):
                            bench.cycle(route, n)
    versions = bin_dir / "VERSIONS"
    built = versions.read_text().strip().replace("\n", ", ") if versions.exists() else "pulumi"
    print(
        f"\npulumi-pingback under the Pulumi CLI ({built}; {cpus} CPUs, "
        f"Python {sys.version.split()[0]}; {RTT * 1000:.0f} ms round trip; median of "
        f"{repeats}; CPU: user+sys of each command's process tree"
        f"{'' if subreaper else ' (no subreaper: orphaned plugins uncounted)'}; "
        f"{time.perf_counter() - started:.0f} s)\n"
    )
    report(routes, {"native": native_ns, "dynamic": dynamic_ns})
    if added is not None:
        print(f"- setup: `pulumi package add` of the plugin (its venv, pip install): {secs(added)}")
    return 0


def sizer(st: Stack, count: str) -> Callable[[int], None]:
    """Sets ``count`` in the stack's config (``count`` now) when it changes."""
    current = [count]

    def size(n: int) -> None:
        if current != [str(n)]:
            st.run("config", "set", "count", str(n))
            current[:] = [str(n)]

    return size


if __name__ == "__main__":
    sys.exit(main())
