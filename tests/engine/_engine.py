"""A stand-in for the Pulumi engine, driving the real provider server over gRPC.

The Pulumi CLI cannot be installed where these tests run. What it does to a dynamic
provider is written down in ../shared/pulumi-dynamic-engine.md (the spec of this
module); this module does the same, over the same protocol, to the same process. It
drives either target (``_targets``): the dynamic provider's ``python -m pulumi.dynamic``,
or the native plugin as the CLI starts it from this repository. For the native plugin it
follows what the engine does for a provider that answers ``acceptSecrets`` and
``supportsPreview`` (pkg/resource/plugin/provider_plugin.go, deploy/providers/registry.go,
deploy/step.go — read from the pulumi/pulumi sources):

- the default provider: ``CheckConfig`` of the stack's ``pingback:*`` config (strings,
  secrets kept, ``version`` added), ``DiffConfig`` against the saved provider inputs when
  there are some, then ``Configure`` with the checked inputs (``args``) and the deprecated
  ``variables`` (``pingback:config:<key>``); refresh and destroy configure it from the
  inputs saved in the state, with no CheckConfig;
- secrets sent to every call as secrets, and never copied from inputs to outputs (the
  provider marks its own);
- previews call ``Create``/``Update`` with ``preview`` set, and the program sees what
  the provider answered;
- ``replace_on_changes`` applied to the detailed diff and the changed keys
  (applyReplaceOnChanges), a detailed diff kind ``*_REPLACE`` meaning replace;
- the import step: ``Read(id)`` with no properties; no properties back is "does not
  exist", no inputs back is "does not support importing"; then Check and Diff against
  the program (``import_``), or Check of the read inputs against themselves
  (``pulumi import``);

and, for both targets:

- one provider process per operation (``up``, ``preview``, ``refresh``, ``destroy``),
  first sent ``Handshake`` (UNIMPLEMENTED: the engine falls back to the old protocol)
  and ``GetPluginInfo``, then configured with the whole stack config — ``refresh`` and ``destroy`` with the config
  saved by the last ``up``, unless ``run_program=True``;
- the call orders per operation: create; update; replace create-before-delete (the old
  Delete at the end of the run) or delete-before-replace (the resource option overrides
  the provider's answer); forced replaces (``--target-replace``: Check without olds, no
  Diff; ``replacement_trigger``: no Diff, a second Check); preview (Check and Diff only,
  a second Check for a replace, the program sees the checked inputs as outputs);
  refresh (Read, then Diff of the refreshed state against the old inputs, inverted);
  ``up --refresh`` (that refresh, then Check with the refreshed inputs, then Diff);
  destroy (Delete in reverse order);
- resource options as the engine applies them: ``ignore_changes`` (old values copied
  into the new inputs before Check), ``replace_on_changes`` (applied to the Diff's
  detailed diff or changed keys — which the dynamic server never sends),
  ``delete_before_replace``, ``protect``, ``retain_on_delete``, ``import_`` (a Read
  with no properties), ``id`` / ``get`` (a read step), ``replacement_trigger``;
- secrets: stripped before every call; kept where the provider returns them wrapped,
  and re-marked on same-named properties (annotateSecrets) and
  ``additional_secret_outputs``;
- a failed step stops the run: what completed stays in state, a replaced resource whose
  delete did not run stays as a pending delete, retired at the end of the next ``up``.
"""

from __future__ import annotations

import base64
import functools
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc

from pulumi_pingback import PingBackChannelProvider
from pulumi_pingback._resource import SECRET_OUTPUTS

from ._processes import ProviderProcess
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
    additional_secret_outputs: tuple[str, ...] = tuple(SECRET_OUTPUTS)
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
    **options: Any,
) -> Declared:
    """A PingBackChannel as its class registers it (``options``: see Declared)."""
    inputs: dict[str, Any] = {"type": type, "config": config, "is_active": is_active}
    if adopt_id is not None:
        inputs["adopt_id"] = adopt_id
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

    def __init__(self, engine: Engine, process: ProviderProcess, accept_secrets: bool) -> None:
        self.engine = engine
        self.process = process
        self.target = engine.target
        self.accept_secrets = accept_secrets  # the provider's Configure answer
        self.supports_preview = accept_secrets and self.target.native

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
        """The program's inputs as the engine passes them: plain, secret paths apart,
        ``__provider`` added for the dynamic provider."""
        plain, secrets = strip_secrets(d.inputs)
        plain = {k: v for k, v in plain.items() if v is not None}
        if not self.target.native:
            plain["__provider"] = self.engine.blob
        return plain, secrets

    def check(
        self,
        d: Declared,
        olds: dict[str, Any],
        news: dict[str, Any],
        old_secrets: set[Path_] = frozenset(),  # type: ignore[assignment]
    ) -> tuple[dict[str, Any], set[Path_]]:
        """Checked inputs and their secret paths: the provider's, plus — for a provider
        that does not accept secrets — the program's on same-named properties
        (annotateSecrets)."""
        program_secrets = strip_secrets(d.inputs)[1]
        resp = self.rpc(
            "Check",
            d.name,
            proto.CheckRequest(
                urn=self.engine.urn(d.name),
                olds=self.wire(olds, set(old_secrets)),
                news=self.wire(news, program_secrets),
            ),
        )
        if resp.failures:
            raise CheckFailed(
                d.name,
                [(f.property, f.reason) for f in resp.failures],
                self.target.send(d.inputs),
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
    ) -> Any:
        """``secrets``: the secret paths of olds, old_inputs and news."""
        resp = self.rpc(
            "Diff",
            name,
            proto.DiffRequest(
                id=id_,
                urn=self.engine.urn(name),
                olds=self.wire(olds, secrets[0]),  # the servers pass old *outputs* to diff()
                news=self.wire(news, secrets[2]),
                old_inputs=self.wire(old_inputs, secrets[1]),
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
                urn=self.engine.urn(d.name),
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
                urn=self.engine.urn(d.name),
                olds=self.wire(old.outputs, old.output_secrets),
                news=self.wire(checked, secrets),
                old_inputs=self.wire(old.inputs, old.input_secrets),
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
                urn=self.engine.urn(r.name),
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
                urn=self.engine.urn(r.name),
                properties=self.wire(r.outputs, r.output_secrets),
                inputs=self.wire(r.inputs, r.input_secrets),
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
        diff = self.diff(
            r.name, resp.id, outs, ins, r.inputs, (sealed_outs, sealed_ins, r.input_secrets)
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
        """A read step (opts.id / a static get): Read with the registered inputs."""
        news, secrets = self.news(d)
        assert d.read_id is not None
        resp = self.rpc(
            "Read",
            d.name,
            proto.ReadRequest(
                id=d.read_id,
                urn=self.engine.urn(d.name),
                properties=self.wire(news, secrets),
                inputs=self.wire(news, secrets),
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
        """The import step (step.go ImportStep): Read(id) with no properties or inputs.
        No properties back: "does not exist"; no inputs back: "does not support
        importing"; an empty id: the import id. (The dynamic server fails here:
        pulumi#16175.)"""
        resp = self.rpc(
            "Read", d.name, proto.ReadRequest(id=import_id, urn=self.engine.urn(d.name))
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


def _go_string(value: Any) -> str:
    """A provider input as the engine writes it into ``variables`` (JSON unless a string)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    import json

    return json.dumps(value)


def _wrap(value: Any, secrets: set[Path_], path: Path_ = ()) -> Any:
    """``value`` with the values at ``secrets`` wrapped as wire secrets."""
    if path and path in secrets:
        return rpc.wrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: _wrap(v, secrets, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrap(v, secrets, (*path, str(i))) for i, v in enumerate(value)]
    return value


@dataclass
class Registered:
    """What the engine hands back to the program for one registration."""

    id: str
    outputs: dict[str, Any]
    secrets: set[Path_]
    unknown: bool = False  # preview: every output that is not a checked input is unknown


class Engine:
    """A stack: its state, its config, and the operations the CLI runs on it."""

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
        # The default provider's inputs saved by the last `up` (native: checked, with
        # their secret paths); refresh and destroy configure the provider from them.
        self.saved_provider: tuple[dict[str, Any], set[Path_]] | None = None
        self._checked_provider: tuple[dict[str, Any], set[Path_]] | None = None
        self.warnings: list[str] = []
        self.state: dict[str, ResourceState] = {}
        self.pending_deletes: list[ResourceState] = []
        self.calls: list[Call] = []  # resource calls
        self.provider_calls: list[str] = []  # the native default provider's own
        self.process_output: list[str] = []
        self.diff_lines: list[str] = []
        self.diffs: dict[str, Any] = {}  # the last Diff answer per resource
        self.blob = serialize_provider(PingBackChannelProvider())
        self.lock = threading.RLock()
        self._session: Driver | None = None

    # ---- plumbing ---------------------------------------------------------------------------

    def urn(self, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{self.target.type_token}::{name}"

    @property
    def provider_urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{self.target.provider_token}::default"

    @contextmanager
    def driver(
        self, *, config: dict[str, str] | None = None, saved: bool = False
    ) -> Iterator[Driver]:
        """A provider process for one operation (or the session's), as a Driver.
        ``saved``: configured from the provider inputs the last `up` saved (refresh,
        destroy), as the engine loads a provider from the state."""
        if self._session is not None:
            yield self._session
            return
        config = self.config if config is None else config
        process = ProviderProcess(
            None if self.target.native else config,
            secret_keys=self.secret_keys,
            cwd=self.cwd,
            env=self.env,
            command=self.command,
        )
        try:
            if self.target.native:
                accept = self._configure_native(process, config, saved)
            else:
                accept = bool(process.configure.acceptSecrets)
            yield Driver(self, process, accept)
        finally:
            self.process_output.append(process.close())

    def _configure_native(
        self, process: ProviderProcess, config: dict[str, str], saved: bool
    ) -> bool:
        """The default provider of the native plugin, as the engine sets it up: from the
        state (``saved``: Configure only), or CheckConfig of the stack's pingback: config,
        DiffConfig against the saved inputs, then Configure. Returns acceptSecrets."""
        from pulumi_pingback._version import __version__

        def call(method: str, request: Any) -> Any:
            with self.lock:
                self.provider_calls.append(method)
            try:
                return getattr(process.stub, method)(request, timeout=60)
            except grpc.RpcError as exc:
                raise StepError(
                    method, "default", exc.details() or str(exc), self.target.provider_token
                ) from None

        urn = self.provider_urn
        if saved and self.saved_provider is not None:
            inputs, secrets = self.saved_provider
        else:
            news = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("pingback:")}
            news["version"] = __version__  # the SDK's version, added by the engine
            news_secrets: set[Path_] = {
                (k.split(":", 1)[1],) for k in self.secret_keys if k.startswith("pingback:")
            }
            olds, old_secrets = self.saved_provider or ({}, set())
            resp = call(
                "CheckConfig",
                proto.CheckRequest(
                    urn=urn,
                    olds=to_struct(_wrap(olds, old_secrets)),
                    news=to_struct(_wrap(news, news_secrets)),
                ),
            )
            if resp.failures:
                raise CheckFailed(
                    "default",
                    [(f.property, f.reason) for f in resp.failures],
                    _wrap(news, news_secrets),
                    self.target.provider_token,
                    method="CheckConfig",
                )
            inputs, secrets = from_wire(resp.inputs)
            secrets |= news_secrets  # CheckConfig: annotateSecrets, always
            if self.saved_provider is not None:
                call(
                    "DiffConfig",
                    proto.DiffRequest(
                        urn=urn,
                        id="provider-id",
                        olds=to_struct(_wrap(olds, old_secrets)),
                        old_inputs=to_struct(_wrap(olds, old_secrets)),
                        news=to_struct(_wrap(inputs, secrets)),
                    ),
                )
            self._checked_provider = (inputs, secrets)
        variables = {
            f"pingback:config:{k}": _go_string(v) for k, v in inputs.items() if k != "version"
        }
        answer = call(
            "Configure",
            proto.ConfigureRequest(
                args=to_struct(_wrap(inputs, secrets)),
                variables=variables,
                acceptSecrets=True,
                acceptResources=True,
                sends_old_inputs=True,
                sends_old_inputs_to_delete=True,
            ),
        )
        return bool(answer.acceptSecrets)

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

    # ---- operations ---------------------------------------------------------------------------

    def up(
        self,
        program: list[Declared],
        *,
        target_replace: Iterable[str] = (),
        refresh: bool = False,
    ) -> dict[str, str]:
        """Like `pulumi up` (``--target-replace``, ``--refresh``).

        Returns {name: create|update|replace|same|delete|read}.
        """
        names = [d.name for d in program]
        assert len(set(names)) == len(names), "duplicate resource names"
        with self.deployment(target_replace=target_replace, refresh=refresh) as deploy:
            self._run_parallel([functools.partial(deploy.register, d) for d in program])
        return deploy.result

    def preview(self, program: list[Declared], *, refresh: bool = False) -> dict[str, str]:
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
        does. At the end: removed resources are deleted, then pending deletes retired."""
        if not preview:
            self.saved_config = dict(self.config)  # the default provider's inputs
        with self.driver() as drv:
            if not preview and self._checked_provider is not None:
                self.saved_provider = self._checked_provider
            deploy = Deployment(self, drv, preview=preview, refresh=refresh)
            deploy.target_replace = set(target_replace)
            yield deploy
            deploy.finish()

    def refresh(self, *, run_program: bool = False) -> dict[str, str]:
        """Like `pulumi refresh`: {name: same|changed|deleted} (changed: drift shown)."""
        result: dict[str, str] = {}
        with self.driver(config=self._saved(run_program), saved=not run_program) as drv:

            def one(r: ResourceState) -> None:
                outcome = drv.read(r)
                with self.lock:
                    if outcome == "deleted":
                        self.state.pop(r.name, None)
                    result[r.name] = outcome

            managed = [r for r in self.state.values() if not r.external]
            self._run_parallel([functools.partial(one, r) for r in managed])
        return result

    def destroy(self) -> None:
        """Like `pulumi destroy`, with the config the last `up` saved."""
        with self.driver(config=self._saved(False), saved=True) as drv:
            for r in list(self.pending_deletes):
                drv.delete(r)
                self.pending_deletes.remove(r)
            for r in reversed(list(self.state.values())):
                self.remove(drv, r)

    def remove(self, drv: Driver, r: ResourceState) -> bool:
        """Take ``r`` out of the stack as the engine does: a read (external) resource just
        leaves the state; a protected one stops the run; the rest are deleted. True when
        the provider was asked to delete."""
        if r.external:
            del self.state[r.name]
            return False
        if r.protect:
            raise EngineError(
                "Delete",
                r.name,
                f"resource {self.urn(r.name)} cannot be deleted because it is protected",
            )
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
        news, _ = drv.news(d)
        with engine.lock:
            old = engine.state.get(d.name)
        if old is not None and self.refresh and drv.read(old) == "deleted":
            with engine.lock:
                del engine.state[d.name]
            old = None
        if old is None and d.import_id is not None:
            # The import step, then Check and Diff of the program against what it read.
            old = drv.import_(d, d.import_id)
            if not self.preview:
                with engine.lock:
                    engine.state[d.name] = old
        if old is None:
            checked, secrets = drv.check(d, {}, news)
            if self.preview:
                return self._planned(d, "create", None, checked, secrets)
            new = drv.create(d, checked, secrets)
            with engine.lock:
                engine.state[d.name] = new
            return self._done(d, "create", new)
        for path in d.ignore_changes:  # applied before Check, from the old inputs
            reset_path(news, old.inputs, path)
        if d.name in self.target_replace:
            # --target-replace: Check without olds, no Diff, no second Check (SG).
            checked, secrets = drv.check(d, {}, news)
            return self._replace(d, old, checked, secrets, bool(d.delete_before_replace), ("id",))
        checked, secrets = drv.check(d, old.inputs, news, old.input_secrets)
        if _trigger_changed(d.replacement_trigger, old.declared.replacement_trigger):
            # replacement_trigger: no Diff; the replacement gets a second Check.
            checked, secrets = drv.check(d, {}, news)
            return self._replace(d, old, checked, secrets, bool(d.delete_before_replace), ())
        diff = drv.diff(
            d.name,
            old.id,
            old.outputs,
            old.inputs,
            checked,
            (old.output_secrets, old.input_secrets, secrets),
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
        if d.protect and old.protect:
            raise EngineError(
                "Replace",
                d.name,
                f'unable to replace resource "{engine.urn(d.name)}"\nas it is currently marked '
                "for protection. To unprotect the resource, remove the `protect` flag from the "
                "resource in your Pulumi program and run `pulumi up`",
            )
        checked, secrets = drv.check(d, {}, news)  # the replacement's own Check
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
    "Call",
    "CheckFailed",
    "Declared",
    "Deployment",
    "Driver",
    "Engine",
    "EngineError",
    "Registered",
    "ResourceState",
    "StepError",
    "channel",
    "error_message",
    "replace_keys",
    "wait_for",
]
