"""Another `pulumi up`'s provider, as a real child process creating through the client
with a create journal, and the engine it answers to, as a real listening socket: what
tests of killed runs kill (tests/test_journal.py, tests/test_ownership.py)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from pulumi_pingback import DesiredChannel
from pulumi_pingback.client._journal import Journal
from pulumi_pingback.simulator import Simulator

from .conftest import TOKEN

CHILD = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from pulumi_pingback import DesiredChannel, PingBackClient
    from pulumi_pingback.client._journal import Journal
    url, directory, caller, body, resource, timeout = sys.argv[1:7]
    spec = json.loads(body)
    journal = Journal({token!r}, url, directory=Path(directory), caller=caller or None)
    client = PingBackClient({token!r}, base_url=url, timeout=float(timeout), journal=journal)
    print("sending", flush=True)
    channel = client.create(DesiredChannel(spec["type"], spec["config"]), resource=resource or None)
    print(channel.id, flush=True)
    """
).format(token=TOKEN)


class Caller:
    """A listening socket standing for the engine that waits for an answer."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"

    def die(self) -> None:
        self.sock.close()


def earlier_run(
    sim: Simulator,
    journal_dir: Path,
    desired: DesiredChannel,
    caller: str = "",
    urn: str = "",
    *,
    timeout: float = 10,
) -> subprocess.Popen[str]:
    """Another process creating ``desired`` (for ``urn``) with a journal in
    ``journal_dir``, answering to ``caller``, each request given ``timeout`` seconds (its
    POST has landed or never will 3 x ``timeout`` after it went); returned once it is
    about to send."""
    body = json.dumps({"type": desired.type, "config": dict(desired.config)})
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, sim.url, str(journal_dir), caller, body, urn, str(timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "sending"
    return proc


def gone_sent(entry: str, fp: str, sent: float) -> dict[str, Any]:
    """A ``sent`` line of a process that is gone (pid 1 never started at "gone")."""
    return {
        "e": entry,
        "op": "sent",
        "fp": fp,
        "t": sent,
        "before": [],
        "pid": 1,
        "start": "gone",
        "caller": None,
        "until": sent + 90,
    }


def write_history(journal: Journal, lines: int, *, age: float) -> None:
    """``lines`` lines of resolved creates of other channels sent ``age`` seconds ago, as
    a busy week leaves them: two lines each (sent, answered), each channel's file its own
    (what tests/test_ownership.py and benchmarks/journal.py start from)."""
    journal.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    sent = time.time() - age
    for i in range(lines // 2):
        fp = hashlib.sha256(f"history {i}".encode()).hexdigest()
        entry = f"{fp[:32]}.{i}"
        with open(journal.path_of(fp), "w") as out:
            out.write(json.dumps(gone_sent(entry, fp, sent)) + "\n")
            out.write(
                json.dumps(
                    {"e": entry, "op": "answered", "id": f"00000000-0000-4000-8000-{i:012d}"}
                )
                + "\n"
            )
        if age:
            os.utime(journal.path_of(fp), (sent, sent))
