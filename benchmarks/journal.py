"""What the create journal's history costs a `pulumi up`: the native plugin's `up` of N
channels under the real CLI, with a journal that is new, then one holding 2,000 and
20,000 lines of earlier creates — each beside the new journal's, measured in the same
run (the baseline: the same `up`, no history).

    .venv/bin/python -m benchmarks.journal            # N = 100, median of 7 (about 4 minutes)
    .venv/bin/python -m benchmarks.journal --quick    # N = 6, one repeat (a smoke run)

The simulator answers at once (0 ms): what is left is the CLI, the plugin and the
journal. The history is what a busy machine leaves within the hours a journal keeps
resolved entries (younger than 6 hours, so no compaction drops them); a create reads only
its own channel's file, so the question is whether the history costs anything at all.
Figures are printed, never asserted (tests/cli/test_cli_benchmark.py runs ``--quick``).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.cli import BUILD, NATIVE_IDS, native_plugin, yaml_program
from pulumi_pingback.client._journal import Journal
from tests._runs import write_history
from tests.cli._cli import Stack, Workspace, cli_bin
from tests.engine import SimulatorProcess

TOKEN = "bench-journal-token"
HISTORIES = (0, 2_000, 20_000)


def main() -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a few channels, one repeat")
    parser.add_argument("--plugin", type=Path, help="a plugin `pulumi package add` made ready")
    parser.add_argument("--repeats", type=int, default=7, help="runs of each (the median)")
    args = parser.parse_args()
    n, repeats = (6, 1) if args.quick else (100, args.repeats)
    bin_dir = cli_bin()
    if bin_dir is None:
        print(f"skipped: the Pulumi CLI built by {BUILD} is not in its cache: run `{BUILD}` first")
        return 0
    times: dict[int, list[float]] = {h: [] for h in HISTORIES}
    with tempfile.TemporaryDirectory(prefix="pingback-journal-bench-") as tmp:
        root = Path(tmp)
        ws = Workspace(root / "ws", bin_dir)
        state = root / "ws" / "pingback-state"
        with SimulatorProcess("--quiet", token=TOKEN) as sim:
            sim.reset(plan="pro", latency=0, limit=100_000, token=TOKEN)
            if args.plugin is not None:
                plugin = args.plugin
            else:
                print("setup: `pulumi package add` of the plugin", flush=True)
                plugin, _ = native_plugin(ws, root / "plugin")
            st = Stack(ws, yaml_program(root / "native", plugin, n), "journal").init()
            st.set("pingback:apiUrl", sim.url)
            st.set("pingback:token", TOKEN, secret=True)
            journal = Journal(TOKEN, sim.url, directory=state)
            for i in range(repeats):
                for history in HISTORIES:  # interleaved: a change of load hits all alike
                    if journal.folder.exists():
                        shutil.rmtree(journal.folder)
                    write_history(journal, history, age=60)
                    sim.reset(plan="pro", latency=0, limit=100_000, token=TOKEN)
                    begin = time.perf_counter()
                    st.up()
                    times[history].append(time.perf_counter() - begin)
                    held = [
                        c
                        for c in sim.state()["channels"]
                        if str(c["config"].get("widget_id", "")).startswith(NATIVE_IDS)
                    ]
                    assert len(held) == n, f"{len(held)} of {n} channels"
                    st.destroy()
                    print(f"  repeat {i + 1}: {history} lines: {times[history][-1]:.2f} s")
    base = statistics.median(times[0])
    print(
        f"\nnative `pulumi up` of {n} channels at 0 ms, by the journal's history "
        f"(median of {repeats}; {time.perf_counter() - started:.0f} s)\n"
    )
    print("| journal | `pulumi up` | baseline: a new journal (same run) | ratio |")
    print("|---|---|---|---|")
    for history in HISTORIES:
        t = statistics.median(times[history])
        print(f"| {history:,} lines | {t:.2f} s | {base:.2f} s | {t / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
