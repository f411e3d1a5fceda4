"""The engine harness: what the Pulumi CLI does to the provider, reproduced over gRPC.

Modules: ``_engine`` (the facade: :class:`Engine`, one stack and its CLI commands),
``_deployment`` (one run of a program against the state), ``_driver`` (the provider calls
of one operation on one process), ``_model`` (declared resources, state, calls, errors,
a run's record),
``_processes`` (provider, simulator and engine-service processes), ``_targets`` (dynamic
or native), ``_wire`` and ``_render`` (values on the wire, and as the CLI prints them).

Checked against the real CLI by tests/cli/test_engine_fidelity.py; what still differs is
in docs/engine-fidelity.md. Public API:

- :class:`Engine` — a stack: ``up``, ``preview``, ``refresh``, ``destroy`` and
  ``pulumi_import`` each return a :class:`Run`; ``deployment`` (an `up` or preview whose
  resources are registered one by one: :class:`Deployment`, whose ``run`` is the record
  once it has ended); ``session``, ``driver`` (one provider process, for tests that
  make calls one by one: :class:`Driver`); the stack, read-only: ``state`` (a
  :class:`Snapshot`), ``saved_provider``, ``ids()``, ``non_secret_values()``;
  ``stack_import`` (as `pulumi stack import`).
- :class:`Run` — one command's immutable record: ``steps`` (what the command did to each
  resource), ``calls`` (:class:`Call`; ``methods``), ``provider_calls``, ``diffs``,
  ``diff_lines``, ``state`` (the :class:`Snapshot` it left: resources by name,
  ``pending_deletes``, ``ids()``, ``non_secret_values()``), ``requests`` (every call in
  full, with ``record=True``: :class:`Request`), ``process_output``, ``engine_log``.
- :func:`channel` / :class:`Declared` — a resource as a program registers it, with its
  resource options; :class:`Secret` marks a secret input; :class:`ResourceState` — one
  in the state (frozen).
- :class:`StepError` (``details``: what the provider sent; ``printed``: what the CLI
  shows; ``run``: the failed command's :class:`Run`), :class:`CheckFailed`
  (``rendered``: the failures as the CLI prints them), :class:`EngineError`.
- :class:`Target`: which provider the engine drives — :data:`DYNAMIC` (the default) or
  :data:`NATIVE` (the plugin, as the CLI starts it from this repository; its property
  names and secret inputs come from the schema it serves, :func:`served_schema`). Tests
  that hold for both take the ``target`` fixture (tests/conftest.py).
- :class:`ProviderProcess`, :class:`SimulatorProcess`, :func:`free_port`; :func:`asked`
  (what a simulator was asked) and :data:`STARTUP_LIST` (what a provider asks as it starts).
- wire helpers: :func:`to_struct`, :func:`from_struct`, :func:`from_wire`,
  :func:`strip_secrets`, :func:`is_secret_path`, :func:`leaves`, ``UNKNOWN``.
"""

from ._deployment import Deployment
from ._driver import Driver
from ._engine import Engine, wait_for
from ._model import (
    UNKNOWN_ID,
    Call,
    CheckFailed,
    Declared,
    EngineError,
    Registered,
    Request,
    ResourceState,
    Run,
    Snapshot,
    StepError,
    channel,
    error_message,
    replace_keys,
)
from ._processes import (
    DYNAMIC_SERVER,
    ENGINE_ADDRESS,
    ENGINE_LOG,
    NATIVE_PLUGIN,
    ROOT,
    STARTUP_LIST,
    ProviderProcess,
    SimulatorProcess,
    asked,
    free_port,
)
from ._render import TYPE_TOKEN, changed_inputs, go_value, render_error, render_failure
from ._targets import DYNAMIC, NATIVE, TARGETS, Target, served_schema
from ._wire import (
    UNKNOWN,
    Path_,
    Secret,
    from_struct,
    from_wire,
    is_secret_path,
    leaves,
    strip_secrets,
    to_struct,
)

__all__ = [
    "DYNAMIC",
    "DYNAMIC_SERVER",
    "ENGINE_ADDRESS",
    "ENGINE_LOG",
    "NATIVE",
    "NATIVE_PLUGIN",
    "ROOT",
    "STARTUP_LIST",
    "TARGETS",
    "TYPE_TOKEN",
    "UNKNOWN",
    "UNKNOWN_ID",
    "Call",
    "CheckFailed",
    "Declared",
    "Deployment",
    "Driver",
    "Engine",
    "EngineError",
    "Path_",
    "ProviderProcess",
    "Registered",
    "Request",
    "ResourceState",
    "Run",
    "Secret",
    "SimulatorProcess",
    "Snapshot",
    "StepError",
    "Target",
    "asked",
    "changed_inputs",
    "channel",
    "error_message",
    "free_port",
    "from_struct",
    "from_wire",
    "go_value",
    "is_secret_path",
    "leaves",
    "render_error",
    "render_failure",
    "replace_keys",
    "served_schema",
    "strip_secrets",
    "to_struct",
    "wait_for",
]
