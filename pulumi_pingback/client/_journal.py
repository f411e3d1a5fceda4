"""The create journal: the ownership registry's store on disk (:mod:`._ownership` is the
only reader and writer of its meaning; this module keeps the files and their index).

A Pulumi CLI killed while creates are in flight (SIGKILL, the OOM killer, a CI job's
timeout) leaves *pending operations*, and the next ``pulumi up`` creates those resources
again. The POSTs of the killed run may have landed — or may land later, a slow server
committing them after the run is gone. Without a record, those channels are orphans and
the new POSTs duplicates. So the client appends, for each create:

- ``sent``: the POST is about to go: its fingerprint (``fp``), the ids of the channels
  that already matched it (``before``), the writing process (pid and start time), the
  address of the process waiting for the answer (``caller``: the Pulumi engine), the
  resource it is for (``urn``, when the front knows it) and ``until``: the time by which
  that POST has landed or never will (its deadline, then the window its writer would
  have listed over to find it);
- ``attempt``: another POST of the same create, with its own ``until``;
- ``answered`` (the channel went back to a live caller), ``orphaned`` (it was made after
  its caller had gone), ``failed`` (nothing was made), ``taken`` (a later create took it).

and, per deployment (its ``caller``), the channels its resources declare with
``adopt_id`` (``declared``) and adopt (``adopted``), so that a replacement's create and
the old resource's delete, run by two provider processes, agree on who keeps a channel.

**One file per channel.** Each fingerprint (one channel: type, config, ``is_active``)
has a file of its own, and the deployments' claims one more: a create reads only its
channel's file — what was appended since it last did — so what it pays does not grow
with the history of every other channel. A provider compacts the folder when it starts,
in the background (:meth:`Journal.warm`): a file untouched for 6 hours whose creates are
all resolved (or sent more than 7 days ago) goes, and so do the claims of deployments
older than that. A
line that cannot be read (cut short, or a field of the wrong type) is skipped with one
warning. Appends take the folder's lock shared, a compaction and a take (a create
taking a lost one's channel) exclusive; reads take none (:meth:`Journal.refresh`).

The files hold no secret: fingerprints are HMACs keyed by the API token, and the rest
is ids, times, pids, URNs and a loopback address. One folder per API URL and token, under
``PINGBACK_STATE_DIR`` (default ``$XDG_STATE_HOME/pulumi-pingback``, i.e.
``~/.local/state/pulumi-pingback``), mode 0700, its files 0600. A journal that cannot be
written is skipped with one warning: a create never fails because of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import hmac
import json
import logging
import os
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Entry", "Journal", "canonical", "default_directory", "entries_in", "listening"]

log = logging.getLogger("pulumi_pingback")

KEEP_SECONDS = 7 * 24 * 3600
"""Entries sent longer ago than this are dropped, resolved or not."""
RECENT_SECONDS = 6 * 3600
"""A deployment's claims, and a resolved entry (for the URN of its resource), count this long."""
COMPACT_AT = 512
"""The claims file is rewritten once this many of its lines can go."""
UNRESOLVED = ("sent", "orphaned")
RESOLVED = ("answered", "failed", "taken")
CLAIMS = ("declared", "adopted")


def canonical(channel_type: str, config: Any, is_active: bool) -> str:
    """ "The same channel", as text: type, config and ``is_active`` (what
    :meth:`DesiredChannel.matches` compares)."""
    return json.dumps([channel_type, config, is_active], sort_keys=True, default=str)


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


@functools.lru_cache(maxsize=16)
def _where(address: str) -> tuple[Any, ...]:
    """``host:port`` resolved once (family, type, protocol and socket address)."""
    host, _, port = address.rpartition(":")
    family, kind, proto, _, sockaddr = socket.getaddrinfo(
        host or "127.0.0.1", int(port), 0, socket.SOCK_STREAM
    )[0]
    return family, kind, proto, sockaddr


def listening(address: str | None, *, timeout: float = 1.0) -> bool:
    """Whether something accepts connections at ``host:port`` (a caller, an engine, is
    alive); True without an address (nothing to ask). Asked anew every time (a connect);
    only the address is resolved once."""
    if not address:
        return True
    try:
        family, kind, proto, sockaddr = _where(address)
        with socket.socket(family, kind, proto) as probe:
            probe.settimeout(timeout)
            probe.connect(sockaddr)
            return True
    except (OSError, ValueError):
        return False


def _connected(address: str, timeout: float) -> socket.socket | None:
    """A connection to ``address`` (non-blocking once made), or None when nothing
    accepts one there."""
    try:
        family, kind, proto, sockaddr = _where(address)
        sock = socket.socket(family, kind, proto)
    except (OSError, ValueError):
        return None
    try:
        sock.settimeout(timeout)
        sock.connect(sockaddr)
        sock.setblocking(False)
        return sock
    except OSError:
        sock.close()
        return None


class CallerWatch:
    """Whether the caller at ``address`` (the engine a create answers to) is still there,
    asked when each answer comes back: one connection to it is held open, and the kernel
    ends that connection the moment the caller's process is gone (its listener closed, or
    the process killed), so one non-blocking read tells — where :func:`listening` would
    open and close a connection per answer. A connection found ended is not taken as the
    last word: the caller is asked anew with a connect (which also opens the next held
    one), as an idle connection may be closed by a live caller (a gRPC server ends one
    that never speaks after its handshake timeout). True without an address."""

    def __init__(self, address: str | None, *, timeout: float = 1.0) -> None:
        self.address = address
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    def waiting(self) -> bool:
        if not self.address:
            return True
        with self._lock:
            if self._sock is not None:
                if _still_open(self._sock):
                    return True
                self._sock.close()
            self._sock = _connected(self.address, self.timeout)
            return self._sock is not None


def _still_open(sock: socket.socket) -> bool:
    """Whether the other end still holds ``sock`` (what it sent is read and dropped)."""
    try:
        while sock.recv(4096):
            pass
        return False  # the other end closed it
    except BlockingIOError:
        return True  # open, nothing more to read
    except OSError:
        return False  # reset


@dataclass(slots=True)
class Entry:
    """One create, as the journal knows it."""

    id: str
    fp: str
    sent: float
    before: frozenset[str]
    pid: int
    started: str | None
    caller: str | None
    resource: str | None
    until: float
    state: str = "sent"
    channel: str | None = None
    made: float | None = None
    """When its channel was answered (epoch; None in a line written before 0.4)."""

    def writer_alive(self) -> bool:
        return _alive(self.pid, self.started)


@dataclass(frozen=True)
class _Claim:
    op: str
    caller: str
    pid: int
    t: float


# ---- reading a line: every field checked, or the line is skipped ------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _string_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ids(value: Any) -> bool:
    return isinstance(value, list) and all(type(i) is str for i in value)


_CLAIM = {"id": _string, "caller": _string, "pid": _whole, "t": _number}
_FIELDS: Mapping[str, Mapping[str, Callable[[Any], bool]]] = {
    "sent": {"fp": _string, "t": _number, "before": _ids, "pid": _whole, "start": _string_or_none},
    "attempt": {"until": _number},
    "answered": {"id": _string},
    "orphaned": {"id": _string},
    "taken": {"id": _string},
    "failed": {},
    "declared": _CLAIM,
    "adopted": _CLAIM,
}
_OPTIONAL: Mapping[str, Callable[[Any], bool]] = {
    "caller": _string_or_none,
    "urn": _string_or_none,
    "t": _number,
    "until": _number,
}


def _parsed(lines: list[bytes]) -> list[Any]:
    """The lines' JSON values, in one parse when every line is JSON (the common case:
    a file read whole is 20,000 lines), else line by line (None where one is not)."""
    try:
        values = json.loads(b"[" + b",".join(lines) + b"]")
        if isinstance(values, list) and len(values) == len(lines):
            return values
    except ValueError:
        pass
    parsed: list[Any] = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            parsed.append(None)
    return parsed


def _readable(record: Any) -> bool:
    """Whether ``record`` is a line this journal can index: every field of its ``op``
    there, of its type (a line cut short, or ``"t": "not-a-number"``, is not)."""
    if type(record) is not dict or type(record.get("e")) is not str:
        return False
    fields = _FIELDS.get(record.get("op"))  # type: ignore[arg-type]
    if fields is None:
        return False
    for name, check in fields.items():
        if not check(record.get(name)):
            return False
    for name, check in _OPTIONAL.items():
        if name in record and not check(record[name]):
            return False
    return True


LOCK_FDS_KEPT = 8
"""Descriptors of ``.lock`` a journal keeps open for its next locks (one per lock held at
once, up to this many)."""


def _close_all(fds: list[tuple[int, int]]) -> None:
    while fds:
        with contextlib.suppress(OSError, IndexError):
            os.close(fds.pop()[0])


@dataclass
class _File:
    """One file, as far as this process has read it: its inode and the bytes read, and
    what they say."""

    inode: int | None = None
    offset: int = 0
    lines: int = 0
    entries: dict[str, Entry] = field(default_factory=dict)
    unresolved: set[str] = field(default_factory=set)
    by_resource: dict[str, list[str]] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)  # channels answered to a caller, or taken
    claims: dict[str, list[_Claim]] = field(default_factory=dict)  # the claims file's


class Journal:
    """One journal: the creates sent with one token to one API URL, a file per channel."""

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        directory: Path | None = None,
        caller: str | None = None,
        horizon: float = 90.0,
    ) -> None:
        self._key = hashlib.sha256(f"pulumi-pingback journal\0{token}".encode()).digest()
        scope = hmac.new(self._key, base_url.encode(), hashlib.sha256).hexdigest()[:16]
        self.directory = directory or default_directory()
        self.folder = self.directory / f"creates-{scope}"
        self.claims_path = self.folder / "claims.jsonl"
        self._lock_path = str(self.folder / ".lock")
        self.caller = caller
        self._watch = CallerWatch(caller)
        self.horizon = horizon
        """For an entry without ``until`` (written by 0.3): how long after it was sent."""
        self.pid = os.getpid()
        self._started = _start_time(self.pid)
        self._broken = False
        self._made = 0  # times this process made (or found) the folder: 0, not yet
        self._lock_fds: list[tuple[int, int]] = []  # (descriptor of .lock, its folder's _made)
        weakref.finalize(self, _close_all, self._lock_fds)
        self._lock = threading.RLock()
        self._files: dict[Path, _File] = {}
        self._paths: dict[str, Path] = {}
        self._compacted = False
        self._warned_unreadable = False
        self.lines = 0
        """Lines read and indexed by this process, every file together."""

    def fingerprint(self, channel_type: str, config: Any, is_active: bool) -> str:
        """The one fingerprint of "the same channel" (:func:`canonical`), keyed by the token."""
        text = canonical(channel_type, config, is_active)
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def path_of(self, fp: str) -> Path:
        """The file of the creates of ``fp``."""
        return self._path(fp[:32])

    def _path_of_entry(self, entry: str) -> Path:
        return self._path(entry.split(".", 1)[0])

    def _path(self, name: str) -> Path:
        """The file ``<name>.jsonl``, its path made once (a create names it three times)."""
        path = self._paths.get(name)
        if path is None:
            path = self._paths[name] = self.folder / f"{name}.jsonl"
        return path

    # ---- writes -----------------------------------------------------------------------------

    def sent(self, fp: str, before: Iterable[str], *, resource: str | None, until: float) -> str:
        entry = f"{fp[:32]}.{uuid.uuid4().hex}"  # names its file
        self._append(
            self.path_of(fp),
            {
                "e": entry,
                "op": "sent",
                "fp": fp,
                "t": time.time(),
                "before": sorted(before),
                "pid": self.pid,
                "start": self._started,
                "caller": self.caller,
                "urn": resource,
                "until": until,
            },
        )
        return entry

    def attempt(self, entry: str, until: float) -> None:
        """Another POST of the same create is about to go."""
        self._append(self._path_of_entry(entry), {"e": entry, "op": "attempt", "until": until})

    def answered(self, entry: str, channel_id: str) -> None:
        """The create made ``channel_id``: answered if the caller still waits, else orphaned."""
        op = "answered" if self._watch.waiting() else "orphaned"
        if op == "orphaned":
            log.info(
                "channel %s was made after its caller had gone: left for the next run", channel_id
            )
        record = {"e": entry, "op": op, "id": channel_id, "t": time.time()}
        self._append(self._path_of_entry(entry), record)

    def failed(self, entries: Iterable[str]) -> None:
        for entry in entries:
            self._append(self._path_of_entry(entry), {"e": entry, "op": "failed"})

    def take(self, entry: str, channel_id: str) -> bool:
        """Record that ``channel_id``, made by ``entry``'s create, is taken by this one —
        unless another process took it (or that create's channel) first: False. One
        process at a time decides, under the folder's exclusive lock."""
        if self._broken:
            return True
        path = self._path_of_entry(entry)
        try:
            with self._locked(exclusive=True):
                index = self._read(path)
                with self._lock:
                    known = index.entries.get(entry)
                    if known is not None and known.state in ("failed", "taken"):
                        return False
                    mine = known is not None and known.channel == channel_id
                    if channel_id in index.held and not mine:
                        return False
                self._write(path, {"e": entry, "op": "taken", "id": channel_id})
                self._read(path)
        except OSError as exc:
            self._disable(exc)
        return True

    def claim(self, op: str, channel_id: str) -> None:
        """This deployment's resources declare (``declared``) or adopted (``adopted``)
        ``channel_id``; nothing is recorded without a caller (no deployment to name)."""
        if self.caller:
            self._append(
                self.claims_path,
                {
                    "e": uuid.uuid4().hex,
                    "op": op,
                    "id": channel_id,
                    "caller": self.caller,
                    "pid": self.pid,
                    "t": time.time(),
                },
            )

    # ---- reads: a channel's file, brought up to date -----------------------------------------

    def unresolved(self, fp: str) -> list[Entry]:
        """The creates of ``fp`` by other processes that are not resolved, oldest first."""
        index = self.refresh(self.path_of(fp))
        with self._lock:
            found = [index.entries[i] for i in index.unresolved if index.entries[i].pid != self.pid]
        return sorted(found, key=lambda e: e.sent)

    def of_resource(self, resource: str, fp: str) -> list[Entry]:
        """The creates of ``fp`` for ``resource`` whose channel was made (answered or
        orphaned) within the last hours, newest first."""
        index = self.refresh(self.path_of(fp))
        since = time.time() - RECENT_SECONDS
        with self._lock:
            found = [
                e
                for e in (index.entries[i] for i in index.by_resource.get(resource, []))
                if e.state in ("answered", "orphaned") and e.channel and e.sent >= since
            ]
        return sorted(found, key=lambda e: e.sent, reverse=True)

    def held(self, fp: str) -> set[str]:
        """The channels of ``fp`` answered to a caller or taken since: they belong to
        resources (a channel that matches a create has the create's fingerprint)."""
        index = self.refresh(self.path_of(fp))
        with self._lock:
            return set(index.held)

    def knows(self, channel_id: str) -> bool:
        """Whether a create recorded here made ``channel_id`` (every file is read: for a
        refusal's advice, not for a create)."""
        if self._broken or not self.folder.is_dir():
            return False
        for path in self.folder.glob("*.jsonl"):
            index = self.refresh(path)
            with self._lock:
                if any(e.channel == channel_id for e in index.entries.values()):
                    return True
        return False

    def claimed_elsewhere(self, channel_id: str) -> bool:
        """Whether another process of this deployment declared or adopted ``channel_id``."""
        if not self.caller:
            return False
        index = self.refresh(self.claims_path)
        since = time.time() - RECENT_SECONDS
        with self._lock:
            return any(
                c.caller == self.caller and c.pid != self.pid and c.t >= since
                for c in index.claims.get(channel_id, [])
            )

    def refresh(self, path: Path) -> _File:
        """``path``'s index, with what was appended since this process last read it (the
        whole file the first time, or once another process rewrote it).

        Read without the folder's lock: a line is appended whole by one ``write`` and read
        only up to its newline, and a compaction replaces a file in one rename, so a read
        sees the file before or after it (the inode tells which). Only a decision that
        writes (:meth:`take`) reads under the exclusive lock."""
        if not self._broken:
            try:
                return self._read(path)
            except OSError as exc:
                self._disable(exc)
        return _File()

    def warm(self) -> None:
        """Compact the folder now, in the background (a provider's start), once per process."""
        if not self._compacted:
            self._compacted = True
            threading.Thread(
                target=self._compact_safely, name="pingback-journal", daemon=True
            ).start()

    # ---- the index ----------------------------------------------------------------------------

    def _read(self, path: Path) -> _File:
        """Index the lines appended to ``path`` since the last read (caller holds the lock)."""
        with self._lock:
            index = self._files.setdefault(path, _File())
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            with self._lock:
                self._files[path] = _File()
                return self._files[path]
        with os.fdopen(fd, "rb") as file:
            inode = os.fstat(file.fileno()).st_ino
            with self._lock:
                if inode != index.inode:  # new, or rewritten by a compaction: read whole
                    index = self._files[path] = _File(inode=inode)
                file.seek(index.offset)
                data = file.read()
                end = data.rfind(b"\n") + 1  # a line still being written waits
                lines = data[:end].splitlines()
                for number, record in enumerate(_parsed(lines), index.lines + 1):
                    self._index(index, record, path, number)
                self.lines += len(lines)
                index.lines += len(lines)
                index.offset += end
                return index

    def _index(self, index: _File, record: Any, path: Path, number: int) -> None:
        if not _readable(record):
            if not self._warned_unreadable:
                self._warned_unreadable = True
                log.warning(
                    "the create journal %s has a line it cannot read (line %d): skipped",
                    path,
                    number,
                )
            return
        op, key = record["op"], record["e"]
        if op in CLAIMS:
            claim = _Claim(op, record["caller"], record["pid"], float(record["t"]))
            index.claims.setdefault(record["id"], []).append(claim)
            return
        if op == "sent":
            sent = float(record["t"])
            entry = Entry(
                key,
                record["fp"],
                sent,
                frozenset(record["before"]),
                record["pid"],
                record["start"],
                record.get("caller"),
                record.get("urn"),
                float(record.get("until", sent + self.horizon)),
            )
            index.entries[key] = entry
            index.unresolved.add(key)
            if entry.resource:
                index.by_resource.setdefault(entry.resource, []).append(key)
            return
        known = index.entries.get(key)
        if known is None:
            return  # its entry was compacted away
        if op == "attempt":
            known.until = max(known.until, float(record["until"]))
            return
        known.state = op
        known.channel = record.get("id", known.channel)
        if op in ("answered", "orphaned"):
            known.made = float(record["t"]) if "t" in record else None
        if op in RESOLVED:
            index.unresolved.discard(key)
        if op in ("answered", "taken") and known.channel:
            index.held.add(known.channel)

    def _compact_safely(self) -> None:
        try:
            with self._locked(exclusive=True):
                self._compact()
        except OSError as exc:
            self._disable(exc)

    def _compact(self) -> None:
        """Drop what no question needs any more (the caller holds the exclusive lock): a
        file untouched for 6 hours whose creates are all resolved or sent more than 7 days
        ago, the unresolved ones of such a file kept alone; claims older than 6 hours."""
        now = time.time()
        recent = now - RECENT_SECONDS
        if not self.folder.is_dir():
            return
        for item in os.scandir(self.folder):
            path = Path(item.path)
            if not item.name.endswith(".jsonl") or path == self.claims_path:
                continue
            if item.stat().st_mtime >= recent:
                continue
            index = self._read(path)
            with self._lock:
                keep = {
                    key
                    for key, e in index.entries.items()
                    if e.state in UNRESOLVED and e.sent >= now - KEEP_SECONDS
                }
            if keep:
                self._rewrite(path, lambda r, keep=keep: r["e"] in keep)  # type: ignore[misc]
            else:
                path.unlink(missing_ok=True)
                with self._lock:
                    self._files.pop(path, None)
        claims = self._read(self.claims_path)
        with self._lock:
            old = sum(1 for cs in claims.claims.values() for c in cs if c.t < recent)
        if old >= COMPACT_AT:
            self._rewrite(self.claims_path, lambda r: float(r["t"]) >= recent)

    def _rewrite(self, path: Path, kept: Callable[[dict[str, Any]], bool]) -> None:
        lines = path.read_bytes().splitlines()
        records = _parsed(lines)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.writelines(
                line + b"\n"
                for line, r in zip(lines, records, strict=True)
                if _readable(r) and kept(r)
            )
        os.replace(tmp, path)
        self._read(path)  # a new file: read whole

    # ---- the files ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        """The folder's lock, shared (appends) or exclusive (a take, a compaction), each
        holder on a descriptor of ``.lock`` of its own: threads exclude each other as
        processes do. Descriptors are kept for the next locks (a lock then costs no open
        and close), unless the folder was made anew since."""
        fd, made = -1, 0
        with contextlib.suppress(IndexError):
            fd, made = self._lock_fds.pop()
            if made != self._made:
                os.close(fd)
                fd = -1
        if fd < 0:
            fd = self._open(self._lock_path, os.O_RDWR | os.O_CREAT)
            made = self._made
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(fd)
            raise
        if len(self._lock_fds) < LOCK_FDS_KEPT and made == self._made:
            self._lock_fds.append((fd, made))
        else:
            os.close(fd)

    def _append(self, path: Path, record: dict[str, Any]) -> None:
        if self._broken:
            return
        try:
            with self._locked(exclusive=False):
                self._write(path, record)
        except OSError as exc:
            self._disable(exc)

    def _open(self, path: str | Path, flags: int) -> int:
        """``os.open`` of a file in the folder, made (mode 0700) the first time, or again
        when it is gone (the state directory removed under a running provider)."""
        if not self._made:
            self._make_folder()
        try:
            return os.open(path, flags, 0o600)
        except FileNotFoundError:
            self._make_folder()
            return os.open(path, flags, 0o600)

    def _make_folder(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self._made += 1

    def _write(self, path: Path, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        fd = self._open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def _disable(self, exc: OSError) -> None:
        self._broken = True
        log.warning(
            "the create journal %s cannot be used (%s): creates cut short by a killed CLI "
            "will not be recognised by the next run",
            self.folder,
            exc.strerror or type(exc).__name__,
        )


def entries_in(text: str) -> list[dict[str, Any]]:
    """The readable records of a journal's text, in order (for tests and tools)."""
    records = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if _readable(record):
                records.append(record)
    return records
