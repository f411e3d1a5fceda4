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
  `pulumi up` is ``preview`` then ``up`` —, ``preview``, ``refresh`` and ``destroy``,
  each the `--skip-preview` form), sent ``Handshake`` (UNIMPLEMENTED: the engine falls
  back to the old protocol) and ``GetPluginInfo`` first and ``Cancel`` last;
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
  inputs, inverted); destroy (Delete in reverse order);
- resource options as the engine applies them: ``ignore_changes`` (old values copied
  into the new inputs before Check, with their secrets), ``replace_on_changes``
  (applied to the Diff's detailed diff or changed keys — which the dynamic server never
  sends; a detailed diff kind ``*_REPLACE`` means replace), ``delete_before_replace``,
  ``protect``, ``retain_on_delete``, ``import_`` (the import step: Read with empty
  properties and no inputs — no properties back is "does not exist", no inputs back
  "does not support importing" —, then Check with the read outputs as ``oldOutputs``
  and Diff against the program), ``id`` / ``get`` (a read step: Read with the
  registered inputs, ``inputs`` left out when there are none), ``replacement_trigger``;
- secrets: a provider that does not accept them (the dynamic server) gets them
  stripped, and the engine re-marks them on same-named properties (annotateSecrets);
  one that does (the plugin) gets them as secrets, a secret inside a secret too, and
  marks its own outputs; what the program registers carries the schema's secret inputs
  as one secret each, as an SDK sends them; ``additional_secret_outputs`` on top;
- a failed step stops the run: what completed stays in state, a replaced resource whose
  delete did not run stays as a pending delete, retired at the end of the next ``up``.

Each command returns its :class:`Run` — the calls it made, the diffs, its steps, the
state it left, the requests (``record=True``), what the processes printed and logged — and
a command that fails gives its record to its :class:`StepError` (``run``). The engine
keeps only the stack: ``state`` (a :class:`Snapshot`) and the default provider's saved
inputs (``saved_provider``), both read-only.

What tests/cli proves under the real CLI and no test here needs is not reproduced:
``up --refresh``, `pulumi import`, and the previews `pulumi refresh` and `pulumi
destroy` run first (docs/engine-fidelity.md).
"""

from __future__ import annotations

import base64
import functools
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

import grpc
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime import proto

from pulumi_pingback import PingBackChannelProvider
from pulumi_pingback import __version__ as SDK_VERSION

from ._deployment import Deployment
from ._driver import Driver, _go_string, _wrap
from ._model import (
    UNKNOWN_ID,
    Call,
    CheckFailed,
    Declared,
    EngineError,
    Recording,
    Request,
    ResourceState,
    Run,
    Snapshot,
    StepError,
)
from ._processes import EngineServer, ProviderProcess
from ._targets import DYNAMIC, Target
from ._wire import (
    Path_,
    from_wire,
    strip_secrets,
    to_struct,
)


def _unimplemented(exc: grpc.RpcError) -> bool:
    return bool(exc.code() == grpc.StatusCode.UNIMPLEMENTED)


class Engine:
    """A stack: its state, its config, and the operations the CLI runs on it.

    Each operation returns its :class:`Run`. ``record=True`` keeps every call to every
    provider process, with its request and answer, in each run's ``requests``;
    ``provider_version``: the ``version`` the engine adds to the native default
    provider's inputs (a generated SDK registers its own; a YAML program, none: ``None``).
    One command at a time.
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
        self._saved_config: dict[str, str] | None = None  # what the last `up` saved
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
        # destroy) has its own, at its own address, as each `pulumi` run has.
        self._engine = EngineServer()
        self.record = record
        self.provider_version = provider_version
        # The default provider's inputs saved by the last `up` (native: checked, with
        # their secret paths); refresh and destroy configure the provider from them.
        self._saved_provider: tuple[dict[str, Any], AbstractSet[Path_]] | None = None
        self._checked_provider: tuple[dict[str, Any], AbstractSet[Path_]] | None = None
        self._provider_id: str | None = None  # the default provider's id in the state
        self._state: dict[str, ResourceState] = {}
        self._pending: list[ResourceState] = []  # pending deletes
        self._running: Recording | None = None  # the command running, if any
        self.blob = serialize_provider(PingBackChannelProvider())
        self.lock = threading.RLock()
        self._session: Driver | None = None
        self._processes = 0

    # ---- the stack ----------------------------------------------------------------------------

    @property
    def state(self) -> Snapshot:
        """The stack's state now (a read-only snapshot; each run has its own)."""
        with self.lock:
            return Snapshot(self._state, tuple(self._pending))

    @property
    def saved_provider(self) -> tuple[Mapping[str, Any], frozenset[Path_]] | None:
        """The native default provider's inputs in the state (checked, as the last `up`
        saved them) and their secret paths; None for the dynamic provider, or none saved."""
        if self._saved_provider is None:
            return None
        inputs, secrets = self._saved_provider
        return MappingProxyType(dict(inputs)), frozenset(secrets)

    def stack_import(self, state: Snapshot) -> None:
        """Like `pulumi stack import`: the stack's resources and pending deletes become
        ``state``'s (its saved config and default provider stay)."""
        with self.lock:
            self._state = dict(state.resources)
            self._pending = list(state.pending_deletes)

    def ids(self) -> set[str]:
        """The channel ids the stack holds now (``state.ids()``)."""
        return self.state.ids()

    def non_secret_values(self) -> Iterator[tuple[str, Path_, Any]]:
        """Every input and output leaf of the state the engine would show in plain text
        (``state.non_secret_values()``)."""
        return self.state.non_secret_values()

    # ---- recording ----------------------------------------------------------------------------

    @contextmanager
    def _command(self, command: str) -> Iterator[Recording]:
        """One CLI command: a new engine at a new address (outside a session), and its
        record, which becomes the :class:`Run` at the end — the error's ``run`` when it
        fails with a StepError."""
        with self.lock:
            assert self._running is None, "one command at a time"
            if self._session is None:
                self._engine.stop()
                self._engine = EngineServer()
            running = Recording(command, log_mark=len(self._engine.log.since()))
            self._running = running
        try:
            yield running
        except StepError as exc:
            exc.run = self._finish(running)
            raise
        finally:
            if running.run is None:
                self._finish(running)

    def _finish(self, running: Recording) -> Run:
        with self.lock:
            self._running = None
            return running.finish(self.state, self._engine.log.since(running.log_mark))

    def _record_call(self, method: str, name: str) -> None:
        """A resource call, in the running command's record."""
        with self.lock:
            if self._running is not None:
                self._running.calls.append(Call(method, name))

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
            printed = process.close()
            with self.lock:
                if self._running is not None:
                    self._running.process_output.append(printed)

    def _record(self, process: int, method: str, request: Any, response: Any, error: Any) -> None:
        with self.lock:
            if self._running is not None:
                self._running.requests.append(
                    Request(
                        process, method, request, response, error.code().name if error else None
                    )
                )

    @contextmanager
    def driver(
        self, *, config: dict[str, str] | None = None, saved: bool = False
    ) -> Iterator[Driver]:
        """A provider process for one operation (or the session's), as a Driver.
        ``saved``: configured from the provider inputs the last `up` saved (refresh,
        destroy), as the engine loads a provider from the state: Configure only;
        otherwise CheckConfig of ``config`` (default: the stack's), DiffConfig against
        the saved inputs when there are some, then Configure. Its calls go into the
        record of the command running (outside a command — a test driving the provider
        call by call — into none)."""
        if self._session is not None:
            yield self._session
            return
        config = self.config if config is None else config
        with self._process() as process:
            from_state = self._saved_inputs() if saved else None
            if from_state is not None:
                inputs, secrets = from_state
            else:
                inputs, secrets = self._check_provider(process, config)
            yield self._configure(process, inputs, secrets)

    def _saved_inputs(self) -> tuple[dict[str, Any], AbstractSet[Path_]] | None:
        """The default provider's inputs in the state, with their secret paths (the
        dynamic provider's: the whole stack config the last `up` saved)."""
        if self.target.native:
            return self._saved_provider
        if self._saved_config is None:
            return None
        saved = dict(self._saved_config)
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
            if self._running is not None:
                self._running.provider_calls.append(method)
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
    ) -> tuple[dict[str, Any], AbstractSet[Path_]]:
        """CheckConfig of the stack's settings, and DiffConfig against the saved inputs
        when there are some, both with secrets stripped (PP CheckConfig, DiffConfig);
        UNIMPLEMENTED (the dynamic server) is the news as they are. Returns the checked
        inputs and their secret paths (the news' kept: annotateSecrets). Whatever
        DiffConfig answers, the command's one process is then configured."""
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
        secrets: AbstractSet[Path_]
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
        if saved is not None:
            self._provider_call(
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
        self._checked_provider = (inputs, secrets)
        return inputs, secrets

    def _configure(
        self, process: ProviderProcess, inputs: dict[str, Any], secrets: AbstractSet[Path_]
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
                id=self._provider_id or UNKNOWN_ID,
                **self._provider_names(),
            ),
        )
        return Driver(self, process, bool(answer.acceptSecrets), bool(answer.supportsPreview))

    def _save_provider(self) -> None:
        """An `up` writes the default provider to the state: its id, and its inputs."""
        self._saved_config = dict(self.config)
        if self.target.native and self._checked_provider is not None:
            self._saved_provider = self._checked_provider

    def _forget_provider(self) -> None:
        """A stack left with no resource has no default provider either: the next `up`
        checks its config afresh (no olds, no DiffConfig) and gives it a new id."""
        if not self._state and not self._pending:
            self._saved_config = None
            self._saved_provider = None
            self._provider_id = None

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
        if run_program or self._saved_config is None:
            return self.config
        return self._saved_config

    @contextmanager
    def _kept(self, keep: bool) -> Iterator[None]:
        """With ``keep``: the state as it was afterwards (a preview writes nothing)."""
        if not keep:
            yield
            return
        with self.lock:
            kept = dict(self._state), list(self._pending)  # frozen resources: copies enough
        try:
            yield
        finally:
            with self.lock:
                self._state, self._pending = kept

    # ---- operations ---------------------------------------------------------------------------

    def up(self, program: list[Declared], *, target_replace: Iterable[str] = ()) -> Run:
        """Like `pulumi up --skip-preview` (``--target-replace``); a plain `pulumi up` is
        ``preview`` then this.

        Its run's ``steps``: {name: create|update|replace|same|delete|read}.
        """
        names = [d.name for d in program]
        assert len(set(names)) == len(names), "duplicate resource names"
        with self.deployment(target_replace=target_replace) as deploy:
            self._run_parallel([functools.partial(deploy.register, d) for d in program])
        return deploy.run

    def preview(self, program: list[Declared]) -> Run:
        """Like `pulumi preview --diff`: its run's ``steps`` are {name: create|update|
        replace:<keys>|same|delete}, its ``diff_lines`` the changed inputs as the CLI
        prints them."""
        with self.deployment(preview=True) as deploy:
            for d in program:
                deploy.register(d)
        return deploy.run

    @contextmanager
    def deployment(
        self, *, preview: bool = False, target_replace: Iterable[str] = ()
    ) -> Iterator[Deployment]:
        """An `up` (or preview) whose resources are registered one by one, as a program
        does — one CLI command. At the end: removed resources are deleted, then pending
        deletes retired, and the deployment's ``run`` is the command's record."""
        with self._command("preview" if preview else "up") as command, self._kept(preview):
            if not preview and self._provider_id is None:
                self._provider_id = str(uuid.uuid4())  # the default provider's create
            with self.driver() as drv:
                if not preview:
                    self._save_provider()
                deploy = Deployment(self, drv, command, preview=preview)
                deploy.target_replace = set(target_replace)
                yield deploy
                deploy.finish()
                if not preview:
                    self._forget_provider()

    def _refresh_all(self, drv: Driver, steps: dict[str, str]) -> None:
        """A refresh step for every managed resource of the state, into ``steps``: {name:
        same|changed|deleted}; deleted ones leave the state."""

        def one(r: ResourceState) -> None:
            outcome, refreshed = drv.read(r)
            with self.lock:
                if refreshed is None:
                    self._state.pop(r.name, None)
                else:
                    self._state[r.name] = refreshed
                steps[r.name] = outcome

        managed = [r for r in self._state.values() if not r.external]
        self._run_parallel([functools.partial(one, r) for r in managed])

    def refresh(self, *, run_program: bool = False) -> Run:
        """Like `pulumi refresh --skip-preview`: its run's ``steps`` are {name: same|
        changed|deleted} (changed: drift shown)."""
        with (
            self._command("refresh") as command,
            self.driver(config=self._saved(run_program), saved=not run_program) as drv,
        ):
            self._refresh_all(drv, command.steps)
        assert command.run is not None
        return command.run

    def destroy(self) -> Run:
        """Like `pulumi destroy --skip-preview`, with the config the last `up` saved: its
        run's ``steps`` are {name: delete} for each resource it took out."""
        with (
            self._command("destroy") as command,
            self.driver(config=self._saved(False), saved=True) as drv,
        ):
            for r in list(self._pending):
                drv.delete(r)
                self._pending.remove(r)
            for r in reversed(list(self._state.values())):
                if self.remove(drv, r):
                    command.steps[r.name] = "delete"
            self._forget_provider()
        assert command.run is not None
        return command.run

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
            del self._state[r.name]
            return False
        if r.protect:
            raise self._protected(r)
        drv.delete(r)
        del self._state[r.name]
        return True

    def provider_blob(self) -> bytes:
        return base64.b64decode(self.blob)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


__all__ = ["Engine", "wait_for"]
