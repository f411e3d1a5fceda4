"""A stand-in for the Pulumi engine, driving the real provider server over gRPC.

It does what the Pulumi engine does to a provider, over the same protocol, to the same
process, so that the fast tests need no CLI. It was written from the pulumi/pulumi
sources (pkg/resource/plugin/provider_plugin.go, deploy/providers/registry.go,
deploy/step.go, deploy/step_generator.go, deploy/deployment_executor.go) and is checked,
call by call and field by field, against the real CLI (v3.274) by
tests/cli/test_engine_fidelity.py; what still differs, and why, is in
docs/engine-fidelity.md. It drives either target (``_targets``): the dynamic provider's
``python -m pulumi.dynamic``, or the native plugin as the CLI starts it from this
repository.

For both targets:

- one provider process per command (``up`` — which is `up --skip-preview`: a plain
  `pulumi up` is ``preview`` then ``up`` —, ``preview``, ``refresh``, ``destroy``,
  ``pulumi_import``), sent ``Handshake`` (UNIMPLEMENTED: the engine falls back to the
  old protocol) and ``GetPluginInfo`` first and ``Cancel`` last;
- the default provider: ``CheckConfig`` of the stack's settings and ``DiffConfig``
  against the inputs the state holds (when it holds some), both with secrets stripped
  (the dynamic server answers both UNIMPLEMENTED: the news stand, DIFF_UNKNOWN), then
  ``Configure`` with the inputs (``args``, secrets wrapped), the deprecated
  ``variables`` (``<package>:config:<key>``) and the provider's id, urn, name and type;
  for the dynamic provider the inputs are the whole stack config (``namespace:key``),
  for the plugin its ``pingback:*`` keys (and ``version`` when the program's SDK gives
  one). refresh and destroy configure it from the inputs in the state, with no
  CheckConfig (``run_program=True``: as ``up``); a stack left empty has none;
- every resource call carries urn, name and type; Check a fresh ``randomSeed`` and the
  old outputs (``oldOutputs``); Diff and Update the ``ignoreChanges`` option;
- the call orders per operation: create; update; replace create-before-delete (the old
  Delete at the end of the run) or delete-before-replace (the resource option overrides
  the provider's answer); forced replaces (``--target-replace``: Check without olds, no
  Diff; ``replacement_trigger``: no Diff, a second Check); preview (Check and Diff, a
  second Check for a replace; a provider that supports previews also gets
  ``Create``/``Update`` with ``preview`` and the program sees its answer, otherwise the
  checked inputs); refresh (Read, then Diff of the refreshed state against the old
  inputs, inverted; ``preview=True``: the preview a plain `pulumi refresh` runs first);
  ``up --refresh`` (every resource of the state refreshed first with the provider from
  the state, then the program's default provider checked in a process of its own and,
  when unchanged, the resources left with the refreshed one: registry.Same); destroy
  (Delete in reverse order; ``preview=True``: Configure only);
- resource options as the engine applies them: ``ignore_changes`` (old values copied
  into the new inputs before Check, with their secrets), ``replace_on_changes``
  (applied to the Diff's detailed diff or changed keys — which the dynamic server never
  sends; a detailed diff kind ``*_REPLACE`` means replace), ``delete_before_replace``,
  ``protect``, ``retain_on_delete``, ``import_`` (the import step: Read with empty
  properties and no inputs — no properties back is "does not exist", no inputs back
  "does not support importing" —, then Check with the read outputs as ``oldOutputs``
  and Diff against the program), ``id`` / ``get`` (a read step: Read with the
  registered inputs, ``inputs`` left out when there are none), ``replacement_trigger``;
  `pulumi import` is the import step's Read, then Check of the read inputs against
  themselves, no Diff;
- secrets: a provider that does not accept them (the dynamic server) gets them
  stripped, and the engine re-marks them on same-named properties (annotateSecrets);
  one that does (the plugin) gets them as secrets, a secret inside a secret too, and
  marks its own outputs; what the program registers carries the schema's secret inputs
  as one secret each, as an SDK sends them; ``additional_secret_outputs`` on top;
- a failed step stops the run: what completed stays in state, a replaced resource whose
  delete did not run stays as a pending delete, retired at the end of the next ``up``.
"""

from __future__ import annotations

import base64
import copy
import functools
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc

from pulumi_pingback import PingBackChannelProvider
from pulumi_pingback import __version__ as SDK_VERSION

from ._processes import EngineServer, ProviderProcess
from ._render import changed_inputs, render_error, render_failure
from ._targets import DYNAMIC, Target
from ._wire import (
    UNKNOWN,
    Path_,
    from_wire,
    is_secret_path,
    leaves,
    reset_path,
    strip_secrets,
    to_struct,
)


@dataclass
class Declared:
    """One resource as a program registers it, with its resource options."""

    name: str
    inputs: dict[str, Any]
    delete_before_replace: bool | None = None  # None: not set, the provider decides
    # what PingBackChannel registers (tests/test_resource.py checks the class does)
    additional_secret_outputs: tuple[str, ...] = ("config", "meta_verify_token")
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


@dataclass
class ResourceState:
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    input_secrets: set[Path_]
    output_secrets: set[Path_]
    declared: Declared
    external: bool = False  # read, not managed (opts.id / get)

    @property
    def protect(self) -> bool:
        return self.declared.protect

    @property
    def retain_on_delete(self) -> bool:
        return self.declared.retain_on_delete


@dataclass
class Call:
    method: str
    name: str


class StepError(Exception):
    """A failed step. ``details``: what the provider process sent; ``printed``: what the
    CLI shows; ``message``: the exception's own text (the end of the traceback)."""

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


class Driver:
    """The provider calls one engine operation makes, on one provider process.

    Thread-safe; every call is recorded in ``engine.calls``. Properties cross here:
    program names and plain values in, the target's wire out, and back.
    """

    def __init__(
        self,
        engine: Engine,
        process: ProviderProcess,
        accept_secrets: bool,
        supports_preview: bool | None = None,
    ) -> None:
        self.engine = engine
        self.process = process
        self.target = engine.target
        self.accept_secrets = accept_secrets  # the provider's Configure answer
        self.supports_preview = (
            accept_secrets and self.target.native if supports_preview is None else supports_preview
        )

    def _names(self, name: str) -> dict[str, Any]:
        """The urn, name and type every resource call carries."""
        return {"urn": self.engine.urn(name), "name": name, "type": self.target.type_token}

    def rpc(self, method: str, name: str, request: Any) -> Any:
        with self.engine.lock:
            self.engine.calls.append(Call(method, name))
        try:
            return getattr(self.process.stub, method)(request, timeout=300)
        except grpc.RpcError as exc:
            raise StepError(
                method, name, exc.details() or str(exc), self.target.type_token
            ) from None

    def wire(self, props: dict[str, Any], secrets: set[Path_]) -> Any:
        """Properties as the engine marshals them for this provider: secrets kept as
        secrets if it accepts them (KeepSecrets), else stripped; the target's names."""
        plain, _ = strip_secrets(props)
        if self.accept_secrets:
            plain = _wrap(plain, secrets)
        return to_struct(self.target.send(plain))

    def answer(self, struct: Any) -> tuple[dict[str, Any], set[Path_]]:
        """A provider's answer as the engine keeps it (KeepSecrets), in program names."""
        values, paths = from_wire(struct)
        return self.target.receive(values, paths)

    def news(self, d: Declared) -> tuple[dict[str, Any], set[Path_]]:
        """The program's inputs as the engine passes them: plain, secret paths apart
        (the program's, and the schema's secret inputs: ``program_secrets``),
        ``__provider`` added for the dynamic provider."""
        plain, _ = strip_secrets(d.inputs)
        plain = {k: v for k, v in plain.items() if v is not None}
        if not self.target.native:
            plain["__provider"] = self.engine.blob
        return plain, self.program_secrets(d)

    def program_secrets(self, d: Declared) -> set[Path_]:
        """The secret paths of what the program registers: those it marked, and — as a
        generated SDK or a YAML program sends them — the schema's secret inputs, each
        as one secret."""
        plain, secrets = strip_secrets(d.inputs)
        return secrets | self.target.schema_secrets(plain)

    def check(
        self,
        d: Declared,
        olds: dict[str, Any],
        news: dict[str, Any],
        old_secrets: set[Path_] = frozenset(),  # type: ignore[assignment]
        old: ResourceState | None = None,
        news_secrets: set[Path_] | None = None,
    ) -> tuple[dict[str, Any], set[Path_]]:
        """Checked inputs and their secret paths: the provider's, plus — for a provider
        that does not accept secrets — the news' on same-named properties
        (annotateSecrets). ``old``: the resource whose outputs go as ``oldOutputs``
        (none for a create or a replacement's own Check); ``news_secrets``: the news'
        secret paths (default: the program's); every Check has a fresh ``randomSeed``."""
        program_secrets = self.program_secrets(d) if news_secrets is None else news_secrets
        resp = self.rpc(
            "Check",
            d.name,
            proto.CheckRequest(
                **self._names(d.name),
                olds=self.wire(olds, set(old_secrets)),
                news=self.wire(news, program_secrets),
                randomSeed=os.urandom(32),
                old_outputs=self.wire(
                    old.outputs if old else {}, old.output_secrets if old else set()
                ),
            ),
        )
        if resp.failures:
            raise CheckFailed(  # the program's values, as secret as the SDK sent them
                d.name,
                [(f.property, f.reason) for f in resp.failures],
                self.target.send(_wrap(strip_secrets(d.inputs)[0], self.program_secrets(d))),
                self.target.type_token,
            )
        checked, sealed = self.answer(resp.inputs)
        if self.accept_secrets:
            return checked, sealed
        return checked, sealed | program_secrets

    def diff(
        self,
        name: str,
        id_: str,
        olds: dict[str, Any],
        old_inputs: dict[str, Any],
        news: dict[str, Any],
        secrets: tuple[set[Path_], set[Path_], set[Path_]] = (set(), set(), set()),
        ignore_changes: Sequence[str] = (),
    ) -> Any:
        """``secrets``: the secret paths of olds, old_inputs and news; ``ignore_changes``:
        the resource option, which the engine sends along (having applied it already)."""
        resp = self.rpc(
            "Diff",
            name,
            proto.DiffRequest(
                id=id_,
                **self._names(name),
                olds=self.wire(olds, secrets[0]),  # the servers pass old *outputs* to diff()
                news=self.wire(news, secrets[2]),
                old_inputs=self.wire(old_inputs, secrets[1]),
                ignoreChanges=list(ignore_changes),
            ),
        )
        if resp.changes == proto.DiffResponse.DIFF_UNKNOWN:
            raise AssertionError("the provider must never answer DIFF_UNKNOWN")
        if not self.target.native and (resp.detailedDiff or resp.diffs):
            raise AssertionError("the dynamic server sends no detailed diff")
        return resp

    def create(
        self, d: Declared, inputs: dict[str, Any], input_secrets: set[Path_], preview: bool = False
    ) -> ResourceState:
        resp = self.rpc(
            "Create",
            d.name,
            proto.CreateRequest(
                **self._names(d.name),
                properties=self.wire(inputs, input_secrets),
                preview=preview,
            ),
        )
        if not resp.id and not preview:
            raise EngineError(
                "Create",
                d.name,
                f"plugin returned empty resource.ID from create '{self.engine.urn(d.name)}'",
            )
        outputs, sealed = self.answer(resp.properties)
        return ResourceState(
            d.name,
            resp.id,
            inputs,
            outputs,
            set(input_secrets),
            self.output_secrets(d, input_secrets, sealed),
            d,
        )

    def output_secrets(
        self, d: Declared, input_secrets: Iterable[Path_], returned: Iterable[Path_]
    ) -> set[Path_]:
        """Secret outputs: what the provider returned as secrets, ``additional_secret_outputs``,
        and — for a provider that does not accept secrets — the same-named inputs'
        (annotateSecrets; the dynamic provider's blob is always secret)."""
        paths = set(returned) | {(k,) for k in d.additional_secret_outputs}
        if not self.accept_secrets:
            paths |= set(input_secrets) | {("__provider",)}
        return paths

    def update(
        self,
        d: Declared,
        old: ResourceState,
        checked: dict[str, Any],
        secrets: set[Path_],
        preview: bool = False,
    ) -> tuple[dict[str, Any], set[Path_]]:
        """An Update; the state takes its answer unless it is a preview. Returns the
        outputs and their secret paths."""
        resp = self.rpc(
            "Update",
            d.name,
            proto.UpdateRequest(
                id=old.id,
                **self._names(d.name),
                olds=self.wire(old.outputs, old.output_secrets),
                news=self.wire(checked, secrets),
                old_inputs=self.wire(old.inputs, old.input_secrets),
                ignoreChanges=list(d.ignore_changes),
                preview=preview,
            ),
        )
        outputs, sealed = self.answer(resp.properties)
        output_secrets = self.output_secrets(d, secrets, sealed)
        if not preview:
            with self.engine.lock:
                old.inputs, old.input_secrets, old.declared = checked, set(secrets), d
                old.outputs = outputs
                old.output_secrets = output_secrets
        return outputs, output_secrets

    def delete(self, r: ResourceState) -> None:
        """The engine's delete step: nothing for ``retain_on_delete``."""
        if r.retain_on_delete:
            return
        self.rpc(
            "Delete",
            r.name,
            proto.DeleteRequest(
                id=r.id,
                **self._names(r.name),
                properties=self.wire(r.outputs, r.output_secrets),
                old_inputs=self.wire(r.inputs, r.input_secrets),
            ),
        )

    def read(self, r: ResourceState) -> str:
        """A refresh of ``r``: Read, then the Diff of the refreshed state against the old
        inputs, inverted (step.go RefreshStep). Returns deleted | changed | same."""
        resp = self.rpc(
            "Read",
            r.name,
            proto.ReadRequest(
                id=r.id,
                **self._names(r.name),
                properties=self.wire(r.outputs, r.output_secrets),
                inputs=self.wire(r.inputs, r.input_secrets) if r.inputs else None,
            ),
        )
        if not resp.id:
            return "deleted"
        outs, sealed_outs = self.answer(resp.properties)
        if resp.HasField("inputs"):
            ins, sealed_ins = self.answer(resp.inputs)
        else:
            ins, sealed_ins = r.inputs, set()
        if not self.accept_secrets:  # annotateSecrets from the old state (PP Read)
            sealed_outs |= r.output_secrets
            sealed_ins |= r.input_secrets
        diff = self.diff(  # the state's ignore_changes go along (step.go RefreshStep)
            r.name,
            resp.id,
            outs,
            ins,
            r.inputs,
            (sealed_outs, sealed_ins, r.input_secrets),
            r.declared.ignore_changes,
        )
        with self.engine.lock:
            r.id = resp.id
            r.outputs, r.output_secrets = (
                outs,
                sealed_outs | {(k,) for k in r.declared.additional_secret_outputs},
            )
            r.inputs, r.input_secrets = ins, sealed_ins
        return "changed" if diff.changes == proto.DiffResponse.DIFF_SOME else "same"

    def lookup(self, d: Declared) -> ResourceState:
        """A read step (opts.id / a static get): Read with the registered inputs as
        both ``properties`` and ``inputs`` — the engine leaves ``inputs`` out when there
        are none (PP Read), and always sends ``properties``."""
        news, secrets = self.news(d)
        assert d.read_id is not None
        resp = self.rpc(
            "Read",
            d.name,
            proto.ReadRequest(
                id=d.read_id,
                **self._names(d.name),
                properties=self.wire(news, secrets),
                inputs=self.wire(news, secrets) if news else None,
            ),
        )
        outs, sealed = self.answer(resp.properties)
        # An empty id is not an error here: the resource comes back with no outputs.
        return ResourceState(
            d.name,
            resp.id,
            news,
            outs if resp.id else {},
            secrets,
            self.output_secrets(d, secrets, sealed),
            d,
            external=True,
        )

    def import_(self, d: Declared, import_id: str) -> ResourceState:
        """The import step (step.go ImportStep): Read(id) with empty properties and no
        inputs. No properties back: "does not exist"; no inputs back: "does not support
        importing"; an empty id: the import id. (The dynamic server fails here:
        pulumi#16175.)"""
        resp = self.rpc(
            "Read",
            d.name,
            proto.ReadRequest(id=import_id, **self._names(d.name), properties=to_struct({})),
        )
        if not resp.HasField("properties"):
            raise EngineError("Import", d.name, f"resource '{import_id}' does not exist")
        if not resp.HasField("inputs"):
            raise EngineError(
                "Import",
                d.name,
                "provider does not support importing resources; please try updating the "
                "'pingback' plugin",
            )
        outs, sealed_outs = self.answer(resp.properties)
        ins, sealed_ins = self.answer(resp.inputs)
        return ResourceState(
            d.name,
            resp.id or import_id,
            ins,
            outs,
            sealed_ins,
            self.output_secrets(d, sealed_ins, sealed_outs),
            d,
        )


def _reset_secrets(secrets: set[Path_], old_secrets: set[Path_], path: str) -> set[Path_]:
    """The news' secret paths once ``ignore_changes`` put the old value at ``path``: the
    program's there give way to the old value's."""
    at = tuple(path.split("."))
    return {p for p in secrets if p[: len(at)] != at} | {
        p for p in old_secrets if p[: len(at)] == at
    }


def _go_string(value: Any) -> str:
    """A provider input as the engine writes it into ``variables`` (JSON unless a string)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    import json

    return json.dumps(value)


def _wrap(value: Any, secrets: set[Path_], path: Path_ = ()) -> Any:
    """``value`` with the values at ``secrets`` wrapped as wire secrets — a secret inside
    a secret too (a provider may return ``config`` secret with ``config.bot_token``
    secret in it, and the engine sends both back)."""
    if isinstance(value, dict):
        value = {k: _wrap(v, secrets, (*path, k)) for k, v in value.items()}
    elif isinstance(value, list):
        value = [_wrap(v, secrets, (*path, str(i))) for i, v in enumerate(value)]
    if path and path in secrets:
        return rpc.wrap_rpc_secret(value)
    return value


@dataclass
class Registered:
    """What the engine hands back to the program for one registration."""

    id: str
    outputs: dict[str, Any]
    secrets: set[Path_]
    unknown: bool = False  # preview: every output that is not a checked input is unknown


UNKNOWN_ID = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The id the engine gives a provider at a preview before it exists (UnknownStringValue)."""


@dataclass
class Request:
    """One call to a provider process, as ``Engine(record=True)`` keeps it."""

    process: int  # which process of this engine, 1, 2, … in the order they started
    method: str
    request: Any  # the protobuf message sent
    response: Any  # the answer; None on an error
    error: str | None  # the gRPC status code's name on an error


def _unimplemented(exc: grpc.RpcError) -> bool:
    return bool(exc.code() == grpc.StatusCode.UNIMPLEMENTED)


class Engine:
    """A stack: its state, its config, and the operations the CLI runs on it.

    ``record=True`` keeps every call to every provider process, with its request and
    answer, in ``requests``; ``provider_version``: the ``version`` the engine adds to the
    native default provider's inputs (a generated SDK registers its own; a YAML program,
    none: ``None``).
    """

    def __init__(
        self,
        config: dict[str, str],
        *,
        secret_keys: Iterable[str] = ("pingback:token",),
        stack: str = "dev",
        project: str = "pingback-test",
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        parallel: int = 1,
        target: Target = DYNAMIC,
        command: Sequence[str] | None = None,
        record: bool = False,
        provider_version: str | None = SDK_VERSION,
    ) -> None:
        self.config = dict(config)
        self.saved_config: dict[str, str] | None = None  # what the last `up` saved
        self.secret_keys = set(secret_keys)
        self.stack = stack
        self.project = project
        self.cwd = cwd or Path.cwd()
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("PINGBACK_")}
        base_env["PULUMI_PROJECT"] = project
        self.env = {**base_env, **(env or {})}
        self.parallel = parallel
        self.target = target
        self.command = tuple(command if command is not None else target.command)
        # The engine of the current CLI command: each command (up, preview, refresh,
        # destroy, import) has its own, at its own address, as each `pulumi` run has.
        self._engine = EngineServer()
        self._engine_logs = [self._engine.log]
        self.record = record
        self.provider_version = provider_version
        # The default provider's inputs saved by the last `up` (native: checked, with
        # their secret paths); refresh and destroy configure the provider from them.
        self.saved_provider: tuple[dict[str, Any], set[Path_]] | None = None
        self._checked_provider: tuple[dict[str, Any], set[Path_]] | None = None
        self.provider_id: str | None = None  # the default provider's id in the state
        self.state: dict[str, ResourceState] = {}
        self.pending_deletes: list[ResourceState] = []
        self.calls: list[Call] = []  # resource calls
        self.provider_calls: list[str] = []  # the default provider's own
        self.requests: list[Request] = []  # every call, with record=True
        self.process_output: list[str] = []
        self.diff_lines: list[str] = []
        self.diffs: dict[str, Any] = {}  # the last Diff answer per resource
        self.blob = serialize_provider(PingBackChannelProvider())
        self.lock = threading.RLock()
        self._session: Driver | None = None
        self._processes = 0

    # ---- plumbing ---------------------------------------------------------------------------

    def urn(self, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{self.target.type_token}::{name}"

    @property
    def provider_urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{self.target.provider_token}::default"

    @contextmanager
    def _process(self) -> Iterator[ProviderProcess]:
        """A provider process, as the CLI starts one (Handshake, GetPluginInfo), sent
        Cancel and stopped at the end."""
        with self.lock:
            self._processes += 1
            index = self._processes
        process = ProviderProcess(
            None,
            secret_keys=self.secret_keys,
            cwd=self.cwd,
            env=self.env,
            command=self.command,
            plugin_dir=self.target.plugin_dir,
            record=functools.partial(self._record, index) if self.record else None,
            engine_address=self._engine.address,
        )
        try:
            yield process
        finally:
            self.process_output.append(process.close())

    def _record(self, process: int, method: str, request: Any, response: Any, error: Any) -> None:
        with self.lock:
            self.requests.append(
                Request(process, method, request, response, error.code().name if error else None)
            )

    @contextmanager
    def driver(
        self, *, config: dict[str, str] | None = None, saved: bool = False
    ) -> Iterator[Driver]:
        """A provider process for one operation (or the session's), as a Driver.
        ``saved``: configured from the provider inputs the last `up` saved (refresh,
        destroy), as the engine loads a provider from the state: Configure only;
        otherwise CheckConfig of ``config`` (default: the stack's), DiffConfig against
        the saved inputs when there are some, then Configure."""
        if self._session is not None:
            yield self._session
            return
        config = self.config if config is None else config
        with self._process() as process:
            from_state = self._saved_inputs() if saved else None
            if from_state is not None:
                inputs, secrets = from_state
            else:
                inputs, secrets, _ = self._check_provider(process, config)
            yield self._configure(process, inputs, secrets)

    def _saved_inputs(self) -> tuple[dict[str, Any], set[Path_]] | None:
        """The default provider's inputs in the state, with their secret paths (the
        dynamic provider's: the whole stack config the last `up` saved)."""
        if self.target.native:
            return self.saved_provider
        if self.saved_config is None:
            return None
        saved = dict(self.saved_config)
        return saved, {(k,) for k in self.secret_keys if k in saved}

    def _provider_news(self, config: dict[str, str]) -> tuple[dict[str, Any], set[Path_]]:
        """The default provider's inputs as the engine makes them from the stack config:
        for the plugin its ``pingback:*`` keys, unprefixed (and ``version`` when the
        program's SDK gives one); for the dynamic provider the whole config,
        ``namespace:key``. Strings, and the paths of the secret ones."""
        if self.target.native:
            news: dict[str, Any] = {
                k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("pingback:")
            }
            if self.provider_version is not None:
                news["version"] = self.provider_version
            return news, {
                (k.split(":", 1)[1],)
                for k in self.secret_keys
                if k.startswith("pingback:") and k in config
            }
        return dict(config), {(k,) for k in self.secret_keys if k in config}

    def _provider_call(
        self, process: ProviderProcess, method: str, request: Any, *, optional: bool = False
    ) -> Any:
        """A call to the default provider; ``optional``: UNIMPLEMENTED answers None (the
        engine's fallback for CheckConfig and DiffConfig)."""
        with self.lock:
            self.provider_calls.append(method)
        try:
            return getattr(process.stub, method)(request, timeout=60)
        except grpc.RpcError as exc:
            if optional and _unimplemented(exc):
                return None
            raise StepError(
                method, "default", exc.details() or str(exc), self.target.provider_token
            ) from None

    def _provider_names(self) -> dict[str, Any]:
        return {"urn": self.provider_urn, "name": "default", "type": self.target.provider_token}

    def _check_provider(
        self, process: ProviderProcess, config: dict[str, str]
    ) -> tuple[dict[str, Any], set[Path_], bool]:
        """CheckConfig of the stack's settings, and DiffConfig against the saved inputs
        when there are some, both with secrets stripped (PP CheckConfig, DiffConfig);
        UNIMPLEMENTED (the dynamic server) is the news as they are and DIFF_UNKNOWN.
        Returns the checked inputs, their secret paths (the news' kept: annotateSecrets),
        and whether they changed (DIFF_UNKNOWN: the engine compares the inputs)."""
        news, news_secrets = self._provider_news(config)
        saved = self._saved_inputs()
        olds = saved[0] if saved else {}
        resp = self._provider_call(
            process,
            "CheckConfig",
            proto.CheckRequest(
                **self._provider_names(), olds=to_struct(olds), news=to_struct(news)
            ),
            optional=True,
        )
        if resp is None:
            inputs, secrets = dict(news), set(news_secrets)
        else:
            if resp.failures:
                raise CheckFailed(
                    "default",
                    [(f.property, f.reason) for f in resp.failures],
                    _wrap(news, news_secrets),
                    self.target.provider_token,
                    method="CheckConfig",
                )
            inputs, secrets = from_wire(resp.inputs)
            secrets |= news_secrets
        changed = saved is None
        if saved is not None:
            answer = self._provider_call(
                process,
                "DiffConfig",
                proto.DiffRequest(
                    **self._provider_names(),
                    olds=to_struct(olds),
                    old_inputs=to_struct(olds),
                    news=to_struct(strip_secrets(inputs)[0]),
                ),
                optional=True,
            )
            changes = proto.DiffResponse.DIFF_UNKNOWN if answer is None else answer.changes
            changed = changes == proto.DiffResponse.DIFF_SOME or (
                changes == proto.DiffResponse.DIFF_UNKNOWN and olds != inputs
            )
        self._checked_provider = (inputs, secrets)
        return inputs, secrets, changed

    def _configure(
        self, process: ProviderProcess, inputs: dict[str, Any], secrets: set[Path_]
    ) -> Driver:
        """Configure, as the engine configures the default provider: ``args`` the inputs
        with secrets wrapped, the deprecated ``variables`` (``<package>:config:<key>``),
        and the provider's id, urn, name and type."""
        variables = {
            f"{self.target.package}:config:{k}": _go_string(v)
            for k, v in inputs.items()
            if k != "version"
        }
        answer = self._provider_call(
            process,
            "Configure",
            proto.ConfigureRequest(
                args=to_struct(_wrap(inputs, secrets)),
                variables=variables,
                acceptSecrets=True,
                acceptResources=True,
                sends_old_inputs=True,
                sends_old_inputs_to_delete=True,
                id=self.provider_id or UNKNOWN_ID,
                **self._provider_names(),
            ),
        )
        return Driver(self, process, bool(answer.acceptSecrets), bool(answer.supportsPreview))

    def _save_provider(self) -> None:
        """An `up` writes the default provider to the state: its id, and its inputs."""
        self.saved_config = dict(self.config)
        if self.target.native and self._checked_provider is not None:
            self.saved_provider = self._checked_provider

    def _forget_provider(self) -> None:
        """A stack left with no resource has no default provider either: the next `up`
        checks its config afresh (no olds, no DiffConfig) and gives it a new id."""
        if not self.state and not self.pending_deletes:
            self.saved_config = None
            self.saved_provider = None
            self.provider_id = None

    def _next_command(self) -> None:
        """A new CLI command: a new engine at a new address (outside a session)."""
        if self._session is None:
            self._engine.stop()
            self._engine = EngineServer()
            self._engine_logs.append(self._engine.log)

    @property
    def engine_log(self) -> list[tuple[str, str, str]]:
        """What providers sent the engine's log service, every command's, in order:
        (severity, urn, message) — what the CLI prints."""
        return [m for log in self._engine_logs for m in log.since()]

    @contextmanager
    def session(self) -> Iterator[Driver]:
        """Several operations in one provider process (faster; not what the CLI does:
        per-deployment memory in the provider then outlives a command)."""
        with self.driver() as drv:
            self._session = drv
            try:
                yield drv
            finally:
                self._session = None

    def _run_parallel(self, jobs: list[Callable[[], Any]]) -> None:
        if self.parallel <= 1:
            for job in jobs:
                job()
            return
        with ThreadPoolExecutor(self.parallel) as pool:
            futures = [pool.submit(job) for job in jobs]
            errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]  # type: ignore[misc]

    def _saved(self, run_program: bool) -> dict[str, str]:
        """refresh/destroy configure the provider from the config the last `up` saved."""
        if run_program or self.saved_config is None:
            return self.config
        return self.saved_config

    @contextmanager
    def _kept(self, keep: bool) -> Iterator[None]:
        """With ``keep``: the state as it was afterwards (a preview writes nothing)."""
        if not keep:
            yield
            return
        with self.lock:
            snapshot = copy.deepcopy((self.state, self.pending_deletes))
        try:
            yield
        finally:
            with self.lock:
                self.state, self.pending_deletes = snapshot

    # ---- operations ---------------------------------------------------------------------------

    def up(
        self,
        program: list[Declared],
        *,
        target_replace: Iterable[str] = (),
        refresh: bool = False,
    ) -> dict[str, str]:
        """Like `pulumi up --skip-preview` (``--target-replace``, ``--refresh``); a plain
        `pulumi up` is ``preview`` then this.

        Returns {name: create|update|replace|same|delete|read}.
        """
        names = [d.name for d in program]
        assert len(set(names)) == len(names), "duplicate resource names"
        self._next_command()
        with self.deployment(target_replace=target_replace, refresh=refresh) as deploy:
            self._run_parallel([functools.partial(deploy.register, d) for d in program])
        return deploy.result

    def preview(self, program: list[Declared], *, refresh: bool = False) -> dict[str, str]:
        self._next_command()
        """Like `pulumi preview --diff`: returns {name: create|update|replace:<keys>|same|
        delete}; ``self.diff_lines`` gets the changed inputs as the CLI prints them."""
        self.diff_lines = []
        with self.deployment(preview=True, refresh=refresh) as deploy:
            for d in program:
                deploy.register(d)
        return deploy.result

    @contextmanager
    def deployment(
        self,
        *,
        preview: bool = False,
        target_replace: Iterable[str] = (),
        refresh: bool = False,
    ) -> Iterator[Deployment]:
        """An `up` (or preview) whose resources are registered one by one, as a program
        does. At the end: removed resources are deleted, then pending deletes retired.

        ``refresh`` (`up --refresh`): before the program runs, every resource of the
        state is refreshed with the provider the state holds (deployment_executor.go
        refresh: Configure from the saved inputs, no CheckConfig); then the program's
        default provider is checked in a process of its own (CheckConfig, DiffConfig),
        and when its inputs have not changed the resources stay with the refreshed one,
        already configured (registry.go Same) — the new process gets no Configure."""
        if not preview and self.provider_id is None:
            self.provider_id = str(uuid.uuid4())  # the default provider's create
        with self._kept(preview), ExitStack() as stack:
            if refresh:
                refresher = stack.enter_context(self.driver(config=self._saved(False), saved=True))
                self._refresh_all(refresher)
                drv = refresher
                if self._session is None:
                    process = stack.enter_context(self._process())
                    inputs, secrets, changed = self._check_provider(process, self.config)
                    if changed:
                        drv = self._configure(process, inputs, secrets)
            else:
                drv = stack.enter_context(self.driver())
            if not preview:
                self._save_provider()
            deploy = Deployment(self, drv, preview=preview, refresh=refresh)
            deploy.target_replace = set(target_replace)
            yield deploy
            deploy.finish()
            if not preview:
                self._forget_provider()

    def _refresh_all(self, drv: Driver) -> dict[str, str]:
        """A refresh step for every managed resource of the state: {name: same|changed|
        deleted}; deleted ones leave the state."""
        result: dict[str, str] = {}

        def one(r: ResourceState) -> None:
            outcome = drv.read(r)
            with self.lock:
                if outcome == "deleted":
                    self.state.pop(r.name, None)
                result[r.name] = outcome

        managed = [r for r in self.state.values() if not r.external]
        self._run_parallel([functools.partial(one, r) for r in managed])
        return result

    def refresh(self, *, run_program: bool = False, preview: bool = False) -> dict[str, str]:
        """Like `pulumi refresh --skip-preview`: {name: same|changed|deleted} (changed:
        drift shown). ``preview``: the preview a plain `pulumi refresh` runs first — the
        same calls, nothing kept."""
        self._next_command()
        with (
            self._kept(preview),
            self.driver(config=self._saved(run_program), saved=not run_program) as drv,
        ):
            return self._refresh_all(drv)

    def destroy(self, *, preview: bool = False) -> None:
        """Like `pulumi destroy --skip-preview`, with the config the last `up` saved.
        ``preview``: the preview a plain `pulumi destroy` runs first — the provider is
        configured and nothing else is sent (a protected resource stops it)."""
        self._next_command()
        with self.driver(config=self._saved(False), saved=True) as drv:
            if preview:
                for r in self.state.values():
                    if r.protect and not r.external:
                        raise self._protected(r)
                return
            for r in list(self.pending_deletes):
                drv.delete(r)
                self.pending_deletes.remove(r)
            for r in reversed(list(self.state.values())):
                self.remove(drv, r)
        self._forget_provider()

    def pulumi_import(self, name: str, import_id: str, *, protect: bool = True) -> ResourceState:
        """`pulumi import <type> <name> <id>` (no program runs): the provider from the
        state when there is one (else checked from the stack config), the import step's
        Read, then Check of the read inputs against themselves — no Diff. The resource is
        protected unless ``protect=False`` (`--protect=false`), as the CLI does."""
        self._next_command()
        from_state = self._saved_inputs() is not None
        if self.provider_id is None:
            self.provider_id = str(uuid.uuid4())
        with self.driver(saved=from_state) as drv:
            if not from_state:
                self._save_provider()
            read = drv.import_(Declared(name, {}, protect=protect), import_id)
            declared = Declared(name, _wrap(read.inputs, read.input_secrets), protect=protect)
            checked, secrets = drv.check(declared, read.inputs, read.inputs, read.input_secrets)
            imported = ResourceState(
                name,
                read.id,
                checked,
                read.outputs,
                secrets,
                read.output_secrets,
                Declared(name, _wrap(checked, secrets), protect=protect),
            )
            with self.lock:
                self.state[name] = imported
        return imported

    def _protected(self, r: ResourceState) -> EngineError:
        return EngineError(
            "Delete",
            r.name,
            f"resource {self.urn(r.name)} cannot be deleted because it is protected",
        )

    def remove(self, drv: Driver, r: ResourceState) -> bool:
        """Take ``r`` out of the stack as the engine does: a read (external) resource just
        leaves the state; a protected one stops the run; the rest are deleted. True when
        the provider was asked to delete."""
        if r.external:
            del self.state[r.name]
            return False
        if r.protect:
            raise self._protected(r)
        drv.delete(r)
        del self.state[r.name]
        return True

    # ---- inspection ---------------------------------------------------------------------------

    def ids(self) -> set[str]:
        managed = [r for r in self.state.values() if not r.external]
        return {r.id for r in managed} | {r.id for r in self.pending_deletes}

    def non_secret_values(self) -> Iterator[tuple[str, Path_, Any]]:
        """Every input and output leaf the engine would show in plain text."""
        for r in [*self.state.values(), *self.pending_deletes]:
            for path, value in leaves(r.outputs):
                if not is_secret_path(path, r.output_secrets):
                    yield r.name, ("outputs", *path), value
            for path, value in leaves(r.inputs):
                if path and path[0] == "__provider":
                    continue
                if not is_secret_path(path, r.input_secrets):
                    yield r.name, ("inputs", *path), value

    def provider_blob(self) -> bytes:
        return base64.b64decode(self.blob)


class Deployment:
    """The resources one `up` (or preview) registers; each is stepped when registered."""

    def __init__(self, engine: Engine, driver: Driver, *, preview: bool, refresh: bool) -> None:
        self.engine = engine
        self.driver = driver
        self.preview = preview
        self.refresh = refresh
        self.target_replace: set[str] = set()
        self.result: dict[str, str] = {}
        self.registered: set[str] = set()

    def register(self, d: Declared) -> Registered:
        engine = self.engine
        with engine.lock:
            assert d.name not in self.registered, f"duplicate resource name {d.name}"
            self.registered.add(d.name)
        if d.read_id is not None:
            r = self.driver.lookup(d)
            with engine.lock:
                engine.state[d.name] = r
                self.result[d.name] = "read"
            return Registered(r.id, r.outputs, r.output_secrets)
        return self._step(d)

    def _done(self, d: Declared, kind: str, r: ResourceState) -> Registered:
        with self.engine.lock:
            self.result[d.name] = kind
        return Registered(r.id, r.outputs, r.output_secrets)

    def _planned(
        self,
        d: Declared,
        kind: str,
        old: ResourceState | None,
        checked: dict[str, Any],
        secrets: set[Path_],
    ) -> Registered:
        """Preview: nothing is written. A provider that supports previews is asked
        (Create/Update with ``preview``) and the program sees its answer; otherwise the
        program sees the checked inputs as outputs, and the rest unknown."""
        with self.engine.lock:
            self.result[d.name] = kind
            self.engine.diff_lines += changed_inputs(
                d.name,
                old.inputs if old else {},
                old.input_secrets if old else set(),
                checked,
                secrets,
            )
        drv = self.driver
        if drv.supports_preview and kind != "same":
            if kind == "update" and old is not None:
                outputs, output_secrets = drv.update(d, old, checked, secrets, preview=True)
            else:
                planned = drv.create(d, checked, secrets, preview=True)
                outputs, output_secrets = planned.outputs, planned.output_secrets
            return Registered(old.id if old and kind == "update" else "", outputs, output_secrets)
        if drv.supports_preview and old is not None:
            return Registered(old.id, old.outputs, old.output_secrets)
        outputs = {k: v for k, v in checked.items() if k != "__provider"}
        return Registered(old.id if old else "", outputs, set(secrets), unknown=True)

    def _step(self, d: Declared) -> Registered:
        engine, drv = self.engine, self.driver
        news, news_secrets = drv.news(d)
        with engine.lock:
            old = engine.state.get(d.name)
        if d.import_id is not None and (old is None or old.id != d.import_id):
            # The import step, then Check and Diff of the program against what it read.
            # A resource of the stack whose import id changed is import-replaced (SG,
            # ImportReplacement): the new id is read and taken, and the old channel is
            # deleted at the end of the run.
            replaced = old
            old = drv.import_(d, d.import_id)
            if not self.preview:
                with engine.lock:
                    engine.state[d.name] = old
                    if replaced is not None:
                        engine.pending_deletes.append(replaced)
        if old is None:
            checked, secrets = drv.check(d, {}, news)
            if self.preview:
                return self._planned(d, "create", None, checked, secrets)
            new = drv.create(d, checked, secrets)
            with engine.lock:
                engine.state[d.name] = new
            return self._done(d, "create", new)
        for path in d.ignore_changes:  # applied before Check: the old value, its secrets
            reset_path(news, old.inputs, path)
            news_secrets = _reset_secrets(news_secrets, old.input_secrets, path)
        if d.name in self.target_replace:
            # --target-replace: Check without olds, no Diff, no second Check (SG).
            checked, secrets = drv.check(d, {}, news, news_secrets=news_secrets)
            return self._replace(d, old, checked, secrets, bool(d.delete_before_replace), ("id",))
        checked, secrets = drv.check(d, old.inputs, news, old.input_secrets, old, news_secrets)
        if _trigger_changed(d.replacement_trigger, old.declared.replacement_trigger):
            # replacement_trigger: no Diff; the replacement gets a second Check.
            checked, secrets = drv.check(d, {}, news, news_secrets=news_secrets)
            return self._replace(d, old, checked, secrets, bool(d.delete_before_replace), ())
        diff = drv.diff(
            d.name,
            old.id,
            old.outputs,
            old.inputs,
            checked,
            (old.output_secrets, old.input_secrets, secrets),
            d.ignore_changes,
        )
        with engine.lock:
            engine.diffs[d.name] = diff
        # applyReplaceOnChanges: on the detailed diff and the changed keys (the dynamic
        # server sends neither, so replace_on_changes changes nothing there).
        keys = replace_keys(diff, d.replace_on_changes)
        if diff.changes == proto.DiffResponse.DIFF_NONE:
            if self.preview:
                return self._planned(d, "same", old, checked, secrets)
            with engine.lock:
                old.inputs, old.input_secrets, old.declared = checked, secrets, d
            return self._done(d, "same", old)
        if not keys:
            if self.preview:
                return self._planned(d, "update", old, checked, secrets)
            drv.update(d, old, checked, secrets)
            return self._done(d, "update", old)
        if d.import_id is not None:
            # SG: "previously-imported resources that still specify an ID may not be
            # replaced" — whether imported in this run or an earlier one.
            raise EngineError(
                "Replace",
                d.name,
                "previously-imported resources that still specify an ID may not be replaced; "
                "please remove the `import` declaration from your program",
            )
        if d.protect and old.protect:
            raise EngineError(
                "Replace",
                d.name,
                f'unable to replace resource "{engine.urn(d.name)}"\nas it is currently marked '
                "for protection. To unprotect the resource, remove the `protect` flag from the "
                "resource in your Pulumi program and run `pulumi up`",
            )
        # the replacement's own Check
        checked, secrets = drv.check(d, {}, news, news_secrets=news_secrets)
        delete_first = (
            d.delete_before_replace
            if d.delete_before_replace is not None
            else diff.deleteBeforeReplace
        )
        return self._replace(d, old, checked, secrets, delete_first, tuple(keys))

    def _replace(
        self,
        d: Declared,
        old: ResourceState,
        checked: dict[str, Any],
        secrets: set[Path_],
        delete_first: bool,
        keys: tuple[str, ...],
    ) -> Registered:
        engine, drv = self.engine, self.driver
        if self.preview:
            return self._planned(d, "replace:" + ",".join(keys), old, checked, secrets)
        if delete_first:
            drv.delete(old)
            with engine.lock:
                del engine.state[d.name]
            new = drv.create(d, checked, secrets)
            with engine.lock:
                engine.state[d.name] = new
            return self._done(d, "replace", new)
        new = drv.create(d, checked, secrets)
        with engine.lock:
            engine.state[d.name] = new
            engine.pending_deletes.append(old)  # deleted at the end of the run
        return self._done(d, "replace", new)

    def finish(self) -> None:
        """End of a run: delete what the program no longer declares (reverse order),
        then retire pending deletes — this run's and any a failed run left."""
        engine, drv = self.engine, self.driver
        removed = [r for n, r in engine.state.items() if n not in self.registered]
        for r in reversed(removed):
            if self.preview:
                self.result[r.name] = "delete"
                continue
            if engine.remove(drv, r):
                self.result[r.name] = "delete"
        if self.preview:
            return
        for r in list(engine.pending_deletes):
            drv.delete(r)
            engine.pending_deletes.remove(r)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


__all__ = [
    "UNKNOWN_ID",
    "Call",
    "CheckFailed",
    "Declared",
    "Deployment",
    "Driver",
    "Engine",
    "EngineError",
    "Registered",
    "Request",
    "ResourceState",
    "StepError",
    "channel",
    "error_message",
    "replace_keys",
    "wait_for",
]
