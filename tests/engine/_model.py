"""What the harness's engine works with: declared resources, their state, the calls made,
the errors a step ends with, the requests recorded, and the record of one command's run
(see :mod:`._engine`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pulumi.runtime import proto

from ._render import render_error, render_failure
from ._targets import DYNAMIC
from ._wire import (
    UNKNOWN,
    Path_,
    is_secret_path,
    leaves,
)


@dataclass
class Declared:
    """One resource as a program registers it, with its resource options."""

    name: str
    inputs: dict[str, Any]
    delete_before_replace: bool | None = None  # None: not set, the provider decides
    # what PingBackChannel registers (tests/test_resource.py checks the class does)
    additional_secret_outputs: tuple[str, ...] = ("meta_verify_token",)
    replacement_trigger: Any = None
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    protect: bool = False
    retain_on_delete: bool = False
    import_id: str | None = None
    read_id: str | None = None  # opts.id / a static get: a read step, not managed


def channel(
    name: str,
    type: str,
    config: Any,
    *,
    is_active: Any = True,
    adopt_id: str | None = None,
    adopt_overwrite: bool | None = None,
    **options: Any,
) -> Declared:
    """A PingBackChannel as its class registers it (``options``: see Declared)."""
    inputs: dict[str, Any] = {"type": type, "config": config, "is_active": is_active}
    if adopt_id is not None:
        inputs["adopt_id"] = adopt_id
    if adopt_overwrite is not None:
        inputs["adopt_overwrite"] = adopt_overwrite
    return Declared(name, inputs, **options)


@dataclass(frozen=True)
class ResourceState:
    """One resource as the state holds it. Frozen: a step puts a new one in the state
    (the engine never changes one in place, nor the dicts it holds), so a snapshot taken
    after a run stays what it was. The secret paths are frozensets."""

    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    input_secrets: AbstractSet[Path_]
    output_secrets: AbstractSet[Path_]
    declared: Declared
    external: bool = False  # read, not managed (opts.id / get)

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_secrets", frozenset(self.input_secrets))
        object.__setattr__(self, "output_secrets", frozenset(self.output_secrets))

    @property
    def protect(self) -> bool:
        return self.declared.protect

    @property
    def retain_on_delete(self) -> bool:
        return self.declared.retain_on_delete


@dataclass(frozen=True, eq=False)
class Snapshot(Mapping[str, ResourceState]):
    """The stack's state at one moment, read-only: its resources by name (a mapping: it
    compares equal to a dict of the same resources) and the pending deletes — replaced
    resources whose delete has not run yet."""

    resources: Mapping[str, ResourceState] = field(default_factory=dict)
    pending_deletes: tuple[ResourceState, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "resources", MappingProxyType(dict(self.resources)))
        object.__setattr__(self, "pending_deletes", tuple(self.pending_deletes))

    def __getitem__(self, name: str) -> ResourceState:
        return self.resources[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    def __repr__(self) -> str:
        return f"Snapshot({dict(self.resources)!r}, pending_deletes={self.pending_deletes!r})"

    def ids(self) -> set[str]:
        """The channel ids the stack holds: its managed resources' and pending deletes'."""
        managed = [r for r in self.resources.values() if not r.external]
        return {r.id for r in managed} | {r.id for r in self.pending_deletes}

    def non_secret_values(self) -> Iterator[tuple[str, Path_, Any]]:
        """Every input and output leaf the engine would show in plain text."""
        for r in [*self.resources.values(), *self.pending_deletes]:
            for path, value in leaves(r.outputs):
                if not is_secret_path(path, r.output_secrets):
                    yield r.name, ("outputs", *path), value
            for path, value in leaves(r.inputs):
                if path and path[0] == "__provider":
                    continue
                if not is_secret_path(path, r.input_secrets):
                    yield r.name, ("inputs", *path), value


@dataclass(frozen=True)
class Call:
    """A resource call the engine made: the method, and the resource's name."""

    method: str
    name: str


class StepError(Exception):
    """A failed step. ``details``: what the provider process sent; ``printed``: what the
    CLI shows; ``message``: the exception's own text (the end of the traceback);
    ``run``: the record of the command it stopped (what it did up to the failure, and the
    state it left), set when the error leaves the command (None when raised outside one)."""

    run: Run | None = None

    def __init__(
        self, method: str, name: str, details: str, token: str = DYNAMIC.type_token
    ) -> None:
        self.method = method
        self.name = name
        self.details = details
        self.printed = render_error(name, details, token)
        self.message = error_message(details)
        super().__init__(f"{method} {name}: {self.message}")


class EngineError(StepError):
    """An error the engine raises itself (no provider call), e.g. protect."""

    def __init__(self, method: str, name: str, message: str) -> None:
        super().__init__(method, name, message)


class CheckFailed(StepError):
    """Check failures; ``details`` is what the CLI prints for them."""

    def __init__(
        self,
        name: str,
        failures: list[tuple[str, str]],
        program: dict[str, Any],
        token: str = DYNAMIC.type_token,
        method: str = "Check",
    ) -> None:
        self.failures = failures
        self.rendered = [render_failure(name, p, r, program, token) for p, r in failures]
        super().__init__(method, name, "\n".join(self.rendered), token)
        self.message = "\n".join(f"{p}: {r}" for p, r in failures)


def error_message(details: str) -> str:
    """The exception's text: what follows the last ``module.Name: `` line of a traceback
    (or all of ``details`` when it is not one)."""
    lines = details.rstrip().splitlines()
    if not lines or not lines[0].startswith("Traceback"):
        return details.strip()
    for i in range(len(lines) - 1, 0, -1):
        head = lines[i].split(": ", 1)
        if (
            len(head) == 2
            and not lines[i].startswith(" ")
            and head[0].replace(".", "").isidentifier()
        ):
            return "\n".join([head[1], *lines[i + 1 :]])
    return details.strip()


def _trigger_changed(new: Any, old: Any) -> bool:
    """The engine's shouldTriggerReplace: unknowns change; nulls never do."""
    if new == UNKNOWN or old == UNKNOWN:
        return True
    if new is None or old is None:
        return False
    return bool(new != old)


def _roc_paths(path: str) -> list[str]:
    """A property path's segments (``config.a``, ``config["a.b"]``, ``*``), as the engine
    parses resource.PropertyPath — written here apart from the provider's own parser."""
    out: list[str] = []
    i = 0
    while i < len(path):
        if path[i] == ".":
            i += 1
        elif path.startswith('["', i):
            end = path.index('"]', i + 2)
            out.append(path[i + 2 : end].replace('\\"', '"').replace("\\\\", "\\"))
            i = end + 2
        elif path[i] == "[":
            end = path.index("]", i)
            out.append(path[i + 1 : end])
            i = end + 1
        else:
            end = i
            while end < len(path) and path[end] not in ".[":
                end += 1
            out.append(path[i:end])
            i = end
    return out


def _contains(pattern: list[str], path: list[str]) -> bool:
    return len(pattern) <= len(path) and all(
        p in ("*", q) for p, q in zip(pattern, path, strict=False)
    )


REPLACE_KINDS = {
    proto.PropertyDiff.ADD_REPLACE,
    proto.PropertyDiff.DELETE_REPLACE,
    proto.PropertyDiff.UPDATE_REPLACE,
}


def replace_keys(diff: Any, replace_on_changes: Iterable[str]) -> list[str]:
    """What makes a Diff a replace, after applyReplaceOnChanges: the provider's replace
    keys, detailed-diff paths of a replace kind, and detailed-diff paths or changed keys
    a ``replace_on_changes`` path contains (SG applyReplaceOnChanges, DiffResult.Replace)."""
    keys = list(diff.replaces)
    patterns = [_roc_paths(p) for p in replace_on_changes]
    for path, change in diff.detailedDiff.items():
        hit = any(_contains(p, _roc_paths(path)) for p in patterns)
        if (change.kind in REPLACE_KINDS or hit) and path not in keys:
            keys.append(path)
    for key in diff.diffs:
        if any(_contains(p, _roc_paths(key)) for p in patterns) and key not in keys:
            keys.append(key)
    return keys


@dataclass
class Registered:
    """What the engine hands back to the program for one registration."""

    id: str
    outputs: dict[str, Any]
    secrets: set[Path_]
    unknown: bool = False  # preview: every output that is not a checked input is unknown


UNKNOWN_ID = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The id the engine gives a provider at a preview before it exists (UnknownStringValue)."""


@dataclass(frozen=True)
class Request:
    """One call to a provider process, as ``Engine(record=True)`` keeps it."""

    process: int  # which process of this engine, 1, 2, … in the order they started
    method: str
    request: Any  # the protobuf message sent
    response: Any  # the answer; None on an error
    error: str | None  # the gRPC status code's name on an error


@dataclass(frozen=True)
class Run:
    """The record of one command (``up``, ``preview``, ``refresh``, ``destroy``): what
    it did, and the state it left. Immutable: tuples, read-only
    mappings, a :class:`Snapshot`; a failed command's record is its error's ``run``.

    - ``steps``: {name: create|update|replace|same|delete|read} for an up (a preview:
      ``replace:<keys>`` for a replace), {name: same|changed|deleted} for a refresh,
      {name: delete} for a destroy;
    - ``calls``: the resource calls, in order; ``provider_calls``: the default
      provider's own (CheckConfig, DiffConfig, Configure), in order;
    - ``diffs``: the Diff answer per resource of an up or preview (protobuf);
    - ``diff_lines``: a preview's changed inputs as `pulumi preview --diff` prints them;
    - ``state``: the stack's state once the command ended (a preview's: unchanged);
    - ``requests``: every call to every provider process, in full (``record=True``);
    - ``process_output``: what each provider process it started printed;
    - ``engine_log``: what providers sent the engine's log service during it
      (severity, urn, message) — what the CLI prints.

    Calls made through a :class:`Driver` outside a command (``Engine.driver()``, a
    session's set-up) belong to no run.
    """

    command: str
    steps: Mapping[str, str]
    calls: tuple[Call, ...]
    provider_calls: tuple[str, ...]
    diffs: Mapping[str, Any]
    diff_lines: tuple[str, ...]
    state: Snapshot
    requests: tuple[Request, ...] = ()
    process_output: tuple[str, ...] = ()
    engine_log: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", MappingProxyType(dict(self.steps)))
        object.__setattr__(self, "diffs", MappingProxyType(dict(self.diffs)))

    @property
    def methods(self) -> list[str]:
        """The methods of ``calls``, in order (a new list each time)."""
        return [c.method for c in self.calls]


@dataclass
class Recording:
    """What a command is doing, while it runs (the engine's, under its lock); it becomes
    a :class:`Run` when the command ends."""

    command: str
    log_mark: int = 0  # the engine log's length when the command started
    steps: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    provider_calls: list[str] = field(default_factory=list)
    diffs: dict[str, Any] = field(default_factory=dict)
    diff_lines: list[str] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    process_output: list[str] = field(default_factory=list)
    run: Run | None = None  # set when the command ends

    def finish(self, state: Snapshot, engine_log: Iterable[tuple[str, str, str]]) -> Run:
        self.run = Run(
            self.command,
            self.steps,
            tuple(self.calls),
            tuple(self.provider_calls),
            self.diffs,
            tuple(self.diff_lines),
            state,
            tuple(self.requests),
            tuple(self.process_output),
            tuple(engine_log),
        )
        return self.run
