"""Creates whose answer may never reach the caller, kept on disk for the next process.

A Pulumi CLI killed while creates are in flight (SIGKILL, the OOM killer, a CI job's
timeout) leaves *pending operations*, and the next ``pulumi up`` creates those resources
again. The POSTs of the killed run may have landed: without a record, those channels
are orphans and the new POSTs duplicates. So before each POST the client appends an
entry to a journal file, and after it the outcome:

- ``sent``: the POST is about to go; with the ids of the channels that already matched
  it (``before``), the writing process (pid and start time) and the address of the
  process waiting for the answer (``caller``: the Pulumi engine).
- ``answered``: the channel went back to a live caller: it belongs to a resource.
- ``orphaned``: the channel was made but its caller had gone (the engine refused the
  connection): nobody holds it.
- ``failed``: nothing was made (every attempt was answered without creating).
- ``taken``: a later create took the orphan.

It also records, per deployment (its ``caller``), the channels its resources declare
with ``adopt_id`` (``declared``, at Check) and adopt (``adopted``). A replacement can run
its create and the old resource's delete in two provider processes (a new provider
version, an explicit provider beside the default one): the delete then asks the journal
whether another process of the same deployment declared or adopted that very channel,
and keeps it if so, as one process keeps it for itself (:mod:`._ownership`).

A later create of the same channel (same type, config and ``is_active``) first looks at
the entries nobody can still resolve — their writer is dead, or their caller is and the
writer has stopped — and takes the channel such a create made: the one it recorded
(``orphaned``), or the one matching channel that appeared after it was sent, that no
answered entry holds (``sent``). More new matching channels than lost creates is an
error listing them, as an ambiguous create is.

The file holds no secret: fingerprints are HMACs keyed by the API token, and the rest
is ids, times, pids and a loopback address. One file per API URL and token, under
``PINGBACK_STATE_DIR`` (default ``$XDG_STATE_HOME/pulumi-pingback``, i.e.
``~/.local/state/pulumi-pingback``), mode 0600; entries older than 7 days are dropped.
A journal that cannot be written is skipped with one warning: a create never fails
because of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Journal", "Lost", "default_directory"]

log = logging.getLogger("pulumi_pingback")

KEEP_SECONDS = 7 * 24 * 3600
FINAL = ("answered", "failed", "taken")
CLAIMS = ("declared", "adopted")
DEPLOYMENT_SECONDS = 6 * 3600  # a deployment's claims count for this long


def default_directory() -> Path:
    given = os.environ.get("PINGBACK_STATE_DIR")
    if given:
        return Path(given)
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "pulumi-pingback"


def _start_time(pid: int) -> str | None:
    """When ``pid`` started (Linux: /proc), to tell a live process from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return started is None or _start_time(pid) in (None, started)


def _listening(address: str | None) -> bool:
    """Whether something accepts connections at ``host:port`` (the caller is alive)."""
    if not address:
        return True
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
            return True
    except (OSError, ValueError):
        return False


@dataclass
class _Entry:
    id: str
    fp: str
    sent: float
    before: frozenset[str]
    pid: int
    started: str | None
    caller: str | None
    state: str = "sent"
    channel: str | None = None


@dataclass(frozen=True)
class Lost:
    """Creates of one channel nobody can still answer, and what each one recorded."""

    entries: tuple[str, ...]
    known: tuple[str, ...] = ()  # channels made whose answer found no caller
    before: frozenset[str] = field(default_factory=frozenset)  # matched before all were sent


class Journal:
    """One journal file: the creates sent with one token to one API URL."""

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        directory: Path | None = None,
        caller: str | None = None,
    ) -> None:
        self._key = hashlib.sha256(f"pulumi-pingback journal\0{token}".encode()).digest()
        scope = hmac.new(self._key, base_url.encode(), hashlib.sha256).hexdigest()[:16]
        self.directory = directory or default_directory()
        self.path = self.directory / f"creates-{scope}.jsonl"
        self.caller = caller
        self._pid = os.getpid()
        self._started = _start_time(self._pid)
        self._broken = False
        self._pruned = False

    def fingerprint(self, channel_type: str, config: Any, is_active: bool) -> str:
        canonical = json.dumps([channel_type, config, is_active], sort_keys=True, default=str)
        return hmac.new(self._key, canonical.encode(), hashlib.sha256).hexdigest()

    # ---- writes -------------------------------------------------------------------------

    def sent(self, fp: str, before: Iterable[str]) -> str:
        entry = uuid.uuid4().hex
        self._append(
            {
                "e": entry,
                "op": "sent",
                "fp": fp,
                "t": time.time(),
                "before": sorted(before),
                "pid": self._pid,
                "start": self._started,
                "caller": self.caller,
            }
        )
        return entry

    def answered(self, entry: str, channel_id: str) -> None:
        """The create made ``channel_id``: answered if the caller still waits, else orphaned."""
        op = "answered" if _listening(self.caller) else "orphaned"
        if op == "orphaned":
            log.info(
                "channel %s was made after its caller had gone: left for the next run", channel_id
            )
        self._append({"e": entry, "op": op, "id": channel_id})

    def failed(self, entries: Iterable[str]) -> None:
        for entry in entries:
            self._append({"e": entry, "op": "failed"})

    def taken(self, entries: Iterable[str], channel_id: str) -> None:
        for entry in entries:
            self._append({"e": entry, "op": "taken", "id": channel_id})

    def claim(self, op: str, channel_id: str) -> None:
        """This deployment's resources declare (``declared``) or adopted (``adopted``)
        ``channel_id``; nothing is recorded without a caller (no deployment to name)."""
        if self.caller:
            self._append(
                {
                    "e": uuid.uuid4().hex,
                    "op": op,
                    "id": channel_id,
                    "caller": self.caller,
                    "pid": self._pid,
                    "t": time.time(),
                }
            )

    def claimed_elsewhere(self, channel_id: str) -> bool:
        """Whether another process of this deployment declared or adopted ``channel_id``."""
        if not self.caller:
            return False
        since = time.time() - DEPLOYMENT_SECONDS
        return any(
            r.get("op") in CLAIMS
            and r.get("id") == channel_id
            and r.get("caller") == self.caller
            and r.get("pid") != self._pid
            and float(r.get("t", 0)) >= since
            for r in self._records()
        )

    # ---- reads --------------------------------------------------------------------------

    def lost(self, fp: str, *, wait: float = 0.0) -> Lost | None:
        """The creates of ``fp`` by other processes that nobody can still answer, oldest
        first. One whose caller is gone while its writer still runs (its POST may be in
        flight) is waited for up to ``wait`` seconds, then counted as lost too."""
        deadline = time.monotonic() + wait
        warned = False
        while True:
            open_ = sorted(
                (
                    e
                    for e in self._entries().values()
                    if e.fp == fp and e.state in ("sent", "orphaned") and e.pid != self._pid
                ),
                key=lambda e: e.sent,
            )
            running = [e for e in open_ if e.state == "sent" and _alive(e.pid, e.started)]
            busy = [e for e in running if _listening(e.caller)]  # another live deployment's
            if len(running) > len(busy) and time.monotonic() < deadline:
                if not warned:
                    warned = True
                    log.warning(
                        "an earlier run's create of this channel (process %d, whose CLI has "
                        "stopped) may still land: waiting up to %.0f s for its answer",
                        next(e.pid for e in running if e not in busy),
                        wait,
                    )
                time.sleep(0.1)
                continue
            lost = [e for e in open_ if e not in busy]
            if not lost:
                return None
            return Lost(
                entries=tuple(e.id for e in lost),
                known=tuple(e.channel for e in lost if e.state == "orphaned" and e.channel),
                before=frozenset.intersection(*(e.before for e in lost)),
            )

    def held(self) -> set[str]:
        """Channels answered to a caller or taken since: they belong to resources."""
        return {
            e.channel
            for e in self._entries().values()
            if e.state in ("answered", "taken") and e.channel
        }

    # ---- the file -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)

    def _append(self, record: dict[str, Any]) -> None:
        if self._broken:
            return
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        try:
            with self._locked(exclusive=False):
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
        except OSError as exc:
            self._disable(exc)

    def _disable(self, exc: OSError) -> None:
        self._broken = True
        log.warning(
            "the create journal %s cannot be used (%s): creates cut short by a killed CLI "
            "will not be recognised by the next run",
            self.path,
            exc.strerror or type(exc).__name__,
        )

    def _records(self) -> list[dict[str, Any]]:
        if self._broken:
            return []
        try:
            with self._locked(exclusive=not self._pruned):
                records = self._read()
                if not self._pruned:
                    records = self._prune(records)
                    self._pruned = True
        except OSError as exc:
            self._disable(exc)
            return []
        return records

    def _entries(self) -> dict[str, _Entry]:
        records = self._records()
        entries: dict[str, _Entry] = {}
        for r in records:
            if r.get("op") == "sent":
                entries[r["e"]] = _Entry(
                    r["e"],
                    r["fp"],
                    float(r["t"]),
                    frozenset(r.get("before", ())),
                    int(r["pid"]),
                    r.get("start"),
                    r.get("caller"),
                )
            elif r.get("e") in entries:
                entry = entries[r["e"]]
                entry.state = str(r["op"])
                entry.channel = r.get("id", entry.channel)
        return entries

    def _read(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        records = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and isinstance(record.get("e"), str):
                    records.append(record)
        return records

    def _prune(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop entries sent more than 7 days ago (caller holds the exclusive lock)."""
        cutoff = time.time() - KEEP_SECONDS
        old = {
            r["e"]
            for r in records
            if r.get("op") in ("sent", *CLAIMS) and float(r.get("t", 0)) < cutoff
        }
        if not old:
            return records
        kept = [r for r in records if r["e"] not in old]
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in kept)
        os.replace(tmp, self.path)
        return kept
