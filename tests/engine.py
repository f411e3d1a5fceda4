"""A stand-in for the Pulumi engine, driving the real ``python -m pulumi.dynamic`` server.

The Pulumi CLI cannot be installed where these tests run. What it does to a dynamic
provider is written down in ../shared/pulumi-dynamic-engine.md; this module does the
same, over the same gRPC protocol, to the same server process the CLI starts:

- one provider process per operation (``up``, ``preview``, ``refresh``, ``destroy``),
  started as ``python -u -m pulumi.dynamic``, its port read from stdout, then
  ``Configure`` with the whole stack config as ``namespace:key`` (secrets wrapped);
- the call orders per operation (Check → Create; Check → Diff → Update; replace
  create-before-delete with the old Delete at the end of the run, or delete-before-
  replace; preview = Check and Diff with unknowns; refresh = Read with old outputs
  and inputs; destroy = Delete in reverse order);
- Diff gets old **outputs**; a "same" diff keeps the old outputs with the new inputs;
- secrets are stripped before every call and re-marked on the way back: an output is
  secret where its same-named input was, plus ``additional_secret_outputs``;
- a failed step stops the run; what completed stays in state; a replaced resource whose
  delete did not run stays as a pending delete, deleted first by the next ``up``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto, rpc
from pulumi.runtime.proto import provider_pb2_grpc

from pulumi_pingback import PingBackChannelProvider
from pulumi_pingback._resource import SECRET_OUTPUTS

UNKNOWN = rpc.UNKNOWN
TYPE_TOKEN = "pulumi-python:dynamic/pingback:Channel"
Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Secret:
    """A secret input, as a program's ``pulumi.Output.secret(...)``."""

    value: Any


def strip_secrets(value: Any, path: Path_ = ()) -> tuple[Any, set[Path_]]:
    """(plain value, paths that were secret)."""
    if isinstance(value, Secret):
        plain, inner = strip_secrets(value.value, path)
        return plain, {path} | inner
    if rpc.is_rpc_secret(value):
        plain, inner = strip_secrets(value["value"], path)
        return plain, {path} | inner
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        paths: set[Path_] = set()
        for k, v in value.items():
            out[k], sub = strip_secrets(v, (*path, k))
            paths |= sub
        return out, paths
    if isinstance(value, list):
        items, paths = [], set()
        for i, v in enumerate(value):
            item, sub = strip_secrets(v, (*path, str(i)))
            items.append(item)
            paths |= sub
        return items, paths
    return value, set()


def is_secret_path(path: Path_, secret_paths: set[Path_]) -> bool:
    return any(path[: len(p)] == p for p in secret_paths)


def leaves(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, (*path, str(i)))
    else:
        yield path, value


@dataclass
class Declared:
    """One resource as a program registers it."""

    name: str
    inputs: dict[str, Any]
    delete_before_replace: bool = False
    additional_secret_outputs: tuple[str, ...] = tuple(SECRET_OUTPUTS)
    replacement_trigger: Any = None


def channel(
    name: str,
    type: str,
    config: Any,
    *,
    is_active: Any = True,
    adopt_id: str | None = None,
    delete_before_replace: bool = False,
    replacement_trigger: Any = None,
) -> Declared:
    """A PingBackChannel as its class registers it."""
    inputs: dict[str, Any] = {"type": type, "config": config, "is_active": is_active}
    if adopt_id is not None:
        inputs["adopt_id"] = adopt_id
    return Declared(
        name,
        inputs,
        delete_before_replace=delete_before_replace,
        replacement_trigger=replacement_trigger,
    )


@dataclass
class ResourceState:
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    input_secrets: set[Path_]
    output_secrets: set[Path_]
    declared: Declared


@dataclass
class Call:
    method: str
    name: str
    detail: str = ""


class StepError(Exception):
    """A provider call failed: what the CLI prints as the resource's error."""

    def __init__(self, method: str, name: str, details: str) -> None:
        self.method = method
        self.name = name
        self.details = details
        self.message = error_message(details)
        super().__init__(f"{method} {name}: {self.message}")


class CheckFailed(StepError):
    """Check failures; ``details`` is what the CLI prints for them (see go_value)."""

    def __init__(self, name: str, failures: list[tuple[str, str]], program: dict[str, Any]) -> None:
        self.failures = failures
        self.rendered = [render_failure(name, p, r, program) for p, r in failures]
        super().__init__("Check", name, "\n".join(self.rendered))
        self.message = "\n".join(f"{p}: {r}" for p, r in failures)


def render_failure(name: str, prop: str, reason: str, program: dict[str, Any]) -> str:
    """One check failure as the engine prints it (SG issueCheckFailures, diag 2002/2003).

    The value is the *program's* input under the top-level key ``prop`` (a nested path is
    not a key: ``{<nil>}``), printed with Go's %v — secrets in plain text.
    """
    if not prop:
        return f"{TYPE_TOKEN} resource '{name}' has a problem: {reason}"
    value = go_value(program.get(prop))
    return f"{TYPE_TOKEN} resource '{name}': property {prop} value {value} has a problem: {reason}"


def go_value(value: Any) -> str:
    """Go's %v of a resource.PropertyValue holding ``value`` (a Secret prints its value)."""
    return "{" + _go_inner(value) + "}"


def _go_inner(value: Any) -> str:
    if isinstance(value, Secret):
        return "&{" + go_value(value.value) + "}"
    if rpc.is_rpc_secret(value):
        return "&{" + go_value(value["value"]) + "}"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    return str(value)


def error_message(details: str) -> str:
    """The exception text at the end of the traceback the server sends back."""
    lines = details.rstrip().splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit)\b: ", lines[i]):
            return "\n".join(lines[i:]).split(": ", 1)[1]
    return details.strip()


def to_struct(props: dict[str, Any]) -> Any:
    # A private loop: never replace the caller's current event loop (programs need it).
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def from_struct(struct: Any) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct, keep_unknowns=True))


def from_wire(struct: Any) -> tuple[dict[str, Any], set[Path_]]:
    """A provider's answer as the engine keeps it (KeepSecrets): plain values, and the
    paths the provider returned wrapped as secrets — read off the raw Struct, since the
    Python SDK's deserializer marks a whole object secret when one of its values is."""
    plain, paths = strip_secrets(json_format.MessageToDict(struct))
    return plain, paths


class ProviderProcess:
    """``python -u -m pulumi.dynamic``, as the CLI's shim starts it."""

    def __init__(
        self, config: dict[str, str], *, secret_keys: Iterable[str], cwd: Path, env: dict[str, str]
    ) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        port_line = self.proc.stdout.readline().decode().strip()
        if not port_line.isdigit():
            err = self.proc.stderr.read().decode()
            raise RuntimeError(f"provider process did not print a port: {port_line!r} {err}")
        self.stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        self._readers = [
            threading.Thread(target=self._drain, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for t in self._readers:
            t.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port_line}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        args = {
            k: (rpc.wrap_rpc_secret(v) if k in set(secret_keys) else v) for k, v in config.items()
        }
        self.stub.Configure(
            proto.ConfigureRequest(
                args=to_struct(args),
                variables=dict(config),
                acceptSecrets=True,
                acceptResources=True,
                sends_old_inputs=True,
                sends_old_inputs_to_delete=True,
            ),
            timeout=60,
        )

    @staticmethod
    def _drain(stream: Any, sink: list[bytes]) -> None:
        for line in iter(stream.readline, b""):
            sink.append(line)

    def close(self) -> str:
        self.channel.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()
            self.proc.wait(10)
        for t in self._readers:
            t.join(5)
        return (b"".join(self.stdout) + b"".join(self.stderr)).decode(errors="replace")


class Engine:
    """A stack: its state, and the operations the CLI runs on it."""

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
    ) -> None:
        self.config = dict(config)
        self.secret_keys = set(secret_keys)
        self.stack = stack
        self.project = project
        self.cwd = cwd or Path.cwd()
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("PINGBACK_")}
        base_env["PULUMI_PROJECT"] = project
        self.env = {**base_env, **(env or {})}
        self.parallel = parallel
        self.state: dict[str, ResourceState] = {}
        self.pending_deletes: list[ResourceState] = []
        self.calls: list[Call] = []
        self.process_output: list[str] = []
        self.blob = serialize_provider(PingBackChannelProvider())
        self.target_replace: set[str] = set()
        self.diff_lines: list[str] = []
        self._lock = threading.Lock()
        self._proc: ProviderProcess | None = None

    # ---- plumbing ---------------------------------------------------------------------

    def urn(self, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{TYPE_TOKEN}::{name}"

    @contextmanager
    def _provider(self) -> Iterator[ProviderProcess]:
        if self._proc is not None:  # a session() keeps one process
            yield self._proc
            return
        proc = ProviderProcess(
            self.config, secret_keys=self.secret_keys, cwd=self.cwd, env=self.env
        )
        try:
            yield proc
        finally:
            self.process_output.append(proc.close())

    @contextmanager
    def session(self) -> Iterator[None]:
        """Run several operations in one provider process (faster; not what the CLI does)."""
        proc = ProviderProcess(
            self.config, secret_keys=self.secret_keys, cwd=self.cwd, env=self.env
        )
        self._proc = proc
        try:
            yield
        finally:
            self._proc = None
            self.process_output.append(proc.close())

    def _rpc(self, p: ProviderProcess, method: str, name: str, request: Any) -> Any:
        with self._lock:
            self.calls.append(Call(method, name))
        try:
            return getattr(p.stub, method)(request, timeout=300)
        except grpc.RpcError as exc:
            raise StepError(method, name, exc.details() or str(exc)) from None

    def _news(self, d: Declared) -> tuple[dict[str, Any], set[Path_]]:
        plain, secrets = strip_secrets(d.inputs)
        plain = {k: v for k, v in plain.items() if v is not None}
        plain["__provider"] = self.blob
        return plain, secrets

    def _check(
        self, p: ProviderProcess, d: Declared, olds: dict[str, Any], news: dict[str, Any]
    ) -> tuple[dict[str, Any], set[Path_]]:
        """Checked inputs, and their secret paths: the provider's plus the program's
        (annotateSecrets: same-named inputs keep their secretness)."""
        resp = self._rpc(
            p,
            "Check",
            d.name,
            proto.CheckRequest(urn=self.urn(d.name), olds=to_struct(olds), news=to_struct(news)),
        )
        if resp.failures:
            raise CheckFailed(d.name, [(f.property, f.reason) for f in resp.failures], d.inputs)
        checked, sealed = from_wire(resp.inputs)
        return checked, sealed | strip_secrets(d.inputs)[1]

    def _output_secrets(
        self, d: Declared, input_secrets: set[Path_], returned: Iterable[Path_] = ()
    ) -> set[Path_]:
        return (
            set(returned)
            | set(input_secrets)
            | {(k,) for k in d.additional_secret_outputs}
            | {("__provider",)}
        )

    def _create(
        self, p: ProviderProcess, d: Declared, inputs: dict[str, Any], input_secrets: set[Path_]
    ) -> ResourceState:
        resp = self._rpc(
            p,
            "Create",
            d.name,
            proto.CreateRequest(urn=self.urn(d.name), properties=to_struct(inputs)),
        )
        outputs, sealed = from_wire(resp.properties)
        return ResourceState(
            d.name,
            resp.id,
            inputs,
            outputs,
            input_secrets,
            self._output_secrets(d, input_secrets, sealed),
            d,
        )

    def _delete(self, p: ProviderProcess, r: ResourceState) -> None:
        self._rpc(
            p,
            "Delete",
            r.name,
            proto.DeleteRequest(
                id=r.id,
                urn=self.urn(r.name),
                properties=to_struct(r.outputs),
                old_inputs=to_struct(r.inputs),
            ),
        )

    def _diff(
        self, p: ProviderProcess, d: Declared, old: ResourceState, checked: dict[str, Any]
    ) -> Any:
        request = proto.DiffRequest(
            id=old.id,
            urn=self.urn(d.name),
            olds=to_struct(old.outputs),  # the server passes old *outputs* to diff()
            news=to_struct(checked),
            old_inputs=to_struct(old.inputs),
        )
        return self._rpc(p, "Diff", d.name, request)

    def _delete_pending(self, p: ProviderProcess) -> None:
        """Replaced resources whose delete has not run yet (it runs at the end of an up)."""
        for old in list(self.pending_deletes):
            self._delete(p, old)
            self.pending_deletes.remove(old)

    # ---- operations ---------------------------------------------------------------------

    def up(self, program: list[Declared], *, target_replace: Iterable[str] = ()) -> dict[str, str]:
        """Like `pulumi up` (``--target-replace`` names in ``target_replace``).

        Returns {name: create|update|replace|same|delete}.
        """
        names = [d.name for d in program]
        assert len(set(names)) == len(names), "duplicate resource names"
        self.target_replace = set(target_replace)
        with self.deployment() as deploy:
            self._run_parallel([lambda d=d: deploy.register(d) for d in program])
        return deploy.result

    @contextmanager
    def deployment(self) -> Iterator[Deployment]:
        """An `up` whose resources are registered one by one (as a running program does)."""
        with self._provider() as p:
            self._delete_pending(p)
            deploy = Deployment(self, p)
            yield deploy
            removed = [r for n, r in self.state.items() if n not in deploy.registered]
            for r in reversed(removed):
                self._delete(p, r)
                del self.state[r.name]
                deploy.result[r.name] = "delete"
            self._delete_pending(p)

    def _run_parallel(self, jobs: list[Any]) -> None:
        if self.parallel <= 1:
            for job in jobs:
                job()
            return
        with ThreadPoolExecutor(self.parallel) as pool:
            futures = [pool.submit(job) for job in jobs]
            errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]  # type: ignore[misc]

    def _step(self, p: ProviderProcess, d: Declared, result: dict[str, str]) -> None:
        news, secrets = self._news(d)
        with self._lock:
            old = self.state.get(d.name)
        if old is None:
            checked, secrets = self._check(p, d, {}, news)
            new = self._create(p, d, checked, secrets)
            with self._lock:
                self.state[d.name] = new
                result[d.name] = "create"
            return
        if d.name in self.target_replace:
            # --target-replace: Check without olds, no Diff, no second Check (SG).
            checked, secrets = self._check(p, d, {}, news)
            self._replace(p, d, old, checked, secrets, d.delete_before_replace, result)
            return
        checked, secrets = self._check(p, d, old.inputs, news)
        if _trigger_changed(d.replacement_trigger, old.declared.replacement_trigger):
            # replacement_trigger: no Diff; the replacement gets a second Check.
            checked, secrets = self._check(p, d, {}, news)
            self._replace(p, d, old, checked, secrets, d.delete_before_replace, result)
            return
        diff = self._diff(p, d, old, checked)
        if diff.changes == proto.DiffResponse.DIFF_UNKNOWN:
            raise AssertionError("the provider must never answer DIFF_UNKNOWN")
        if diff.changes == proto.DiffResponse.DIFF_NONE:
            with self._lock:
                old.inputs, old.input_secrets, old.declared = checked, secrets, d
                result[d.name] = "same"
            return
        if not diff.replaces:
            resp = self._rpc(
                p,
                "Update",
                d.name,
                proto.UpdateRequest(
                    id=old.id,
                    urn=self.urn(d.name),
                    olds=to_struct(old.outputs),
                    news=to_struct(checked),
                    old_inputs=to_struct(old.inputs),
                ),
            )
            outputs, sealed = from_wire(resp.properties)
            with self._lock:
                old.inputs, old.input_secrets, old.declared = checked, secrets, d
                old.outputs = outputs
                old.output_secrets = self._output_secrets(d, secrets, sealed)
                result[d.name] = "update"
            return
        delete_first = diff.deleteBeforeReplace or d.delete_before_replace
        checked, secrets = self._check(p, d, {}, news)
        self._replace(p, d, old, checked, secrets, delete_first, result)

    def _replace(
        self,
        p: ProviderProcess,
        d: Declared,
        old: ResourceState,
        checked: dict[str, Any],
        secrets: set[Path_],
        delete_first: bool,
        result: dict[str, str],
    ) -> None:
        if delete_first:
            self._delete(p, old)
            with self._lock:
                del self.state[d.name]
            new = self._create(p, d, checked, secrets)
            with self._lock:
                self.state[d.name] = new
                result[d.name] = "replace"
            return
        new = self._create(p, d, checked, secrets)
        with self._lock:
            self.state[d.name] = new
            self.pending_deletes.append(old)  # deleted at the end of the run
            result[d.name] = "replace"

    def preview(self, program: list[Declared]) -> dict[str, str]:
        """Like `pulumi preview --diff`: Check and Diff only (inputs may hold UNKNOWN).

        ``self.diff_lines`` gets the changed inputs as the CLI prints them: a value that is
        secret on either side prints ``[secret]``.
        """
        plan: dict[str, str] = {}
        self.diff_lines = []
        with self._provider() as p:
            for d in program:
                news, _ = self._news(d)
                old = self.state.get(d.name)
                if old is None:
                    checked, secrets = self._check(p, d, {}, news)
                    self.diff_lines += changed_inputs(d.name, {}, set(), checked, secrets)
                    plan[d.name] = "create"
                    continue
                checked, secrets = self._check(p, d, old.inputs, news)
                self.diff_lines += changed_inputs(
                    d.name, old.inputs, old.input_secrets, checked, secrets
                )
                diff = self._diff(p, d, old, checked)
                if diff.changes == proto.DiffResponse.DIFF_NONE:
                    plan[d.name] = "same"
                elif diff.replaces:
                    plan[d.name] = "replace:" + ",".join(diff.replaces)
                else:
                    plan[d.name] = "update"
            for name in self.state:
                if name not in {d.name for d in program}:
                    plan[name] = "delete"
        return plan

    def refresh(self) -> dict[str, str]:
        """Like `pulumi refresh`: Read each resource; gone ones leave the state."""
        result: dict[str, str] = {}
        with self._provider() as p:

            def read(r: ResourceState) -> None:
                resp = self._rpc(
                    p,
                    "Read",
                    r.name,
                    proto.ReadRequest(
                        id=r.id,
                        urn=self.urn(r.name),
                        properties=to_struct(r.outputs),
                        inputs=to_struct(r.inputs),
                    ),
                )
                with self._lock:
                    if not resp.id:
                        del self.state[r.name]
                        result[r.name] = "deleted"
                        return
                    outs, sealed_outs = from_wire(resp.properties)
                    changed = {k: v for k, v in outs.items() if r.outputs.get(k) != v}
                    r.outputs = outs
                    r.output_secrets |= sealed_outs  # kept, and old paths re-marked (PP Read)
                    if resp.HasField("inputs"):
                        r.inputs, sealed_ins = from_wire(resp.inputs)
                        r.input_secrets |= sealed_ins
                    result[r.name] = "changed" if changed else "same"

            self._run_parallel([lambda r=r: read(r) for r in list(self.state.values())])
        return result

    def destroy(self) -> None:
        with self._provider() as p:
            self._delete_pending(p)
            for r in reversed(list(self.state.values())):
                self._delete(p, r)
                del self.state[r.name]

    # ---- inspection ---------------------------------------------------------------------

    def ids(self) -> set[str]:
        return {r.id for r in self.state.values()} | {r.id for r in self.pending_deletes}

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


def changed_inputs(
    name: str,
    old: dict[str, Any],
    old_secrets: set[Path_],
    new: dict[str, Any],
    new_secrets: set[Path_],
) -> list[str]:
    """`pulumi preview --diff` lines for one resource: each changed input leaf."""
    before = {p: v for p, v in leaves(old) if p and p[0] != "__provider"}
    after = {p: v for p, v in leaves(new) if p and p[0] != "__provider"}
    lines = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) == after.get(path):
            continue
        secret = is_secret_path(path, old_secrets) or is_secret_path(path, new_secrets)
        shown = [
            "(none)" if path not in side else "[secret]" if secret else repr(side[path])
            for side in (before, after)
        ]
        lines.append(f"{name}: {'.'.join(path)}: {shown[0]} => {shown[1]}")
    return lines


def _trigger_changed(new: Any, old: Any) -> bool:
    """The engine's shouldTriggerReplace: unknowns change; nulls never do."""
    if new == UNKNOWN or old == UNKNOWN:
        return True
    if new is None or old is None:
        return False
    return bool(new != old)


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


class Deployment:
    """The resources one `up` registers; each is stepped as soon as it is registered."""

    def __init__(self, engine: Engine, process: ProviderProcess) -> None:
        self.engine = engine
        self.process = process
        self.result: dict[str, str] = {}
        self.registered: set[str] = set()

    def register(self, d: Declared) -> ResourceState:
        with self.engine._lock:
            assert d.name not in self.registered, f"duplicate resource name {d.name}"
            self.registered.add(d.name)
        self.engine._step(self.process, d, self.result)
        return self.engine.state[d.name]
