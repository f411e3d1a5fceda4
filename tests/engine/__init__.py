"""The engine harness: what the Pulumi CLI does to the provider, reproduced over gRPC.

Two layers. The **driver** — one provider process, started as the CLI starts it, driven
call by call (:class:`Driver`: Check, Diff, Create, Update, Delete, Read, the import
step's and a read step's Read), against the simulator whose faults a test injects
(:class:`SimulatorProcess`, or ``pulumi_pingback.simulator.Simulator`` in-process) — is
what the fast tests, the canary audit (tests/test_secrets.py) and the benchmarks stand
on. The **stack** (:class:`Engine`) plans the steps of `up`, preview, refresh and
destroy over that driver, for the fast tests that run a whole command: the canary audit,
tests/test_native.py, test_provider.py, test_soak.py, test_write_safety.py and
tests/program.py. tests/cli proves the same paths under the real CLI; what the stack
does is checked against it call by call by tests/cli/test_engine_fidelity.py
(docs/engine-fidelity.md), and what no test here needs is not reproduced (``up
--refresh``, `pulumi import`, the previews before `refresh` and `destroy`).

Modules: ``_engine`` (:class:`Engine`, one stack and its CLI commands), ``_deployment``
(one run of a program against the state), ``_driver`` (the provider calls of one
operation on one process), ``_model`` (declared resources, state, calls, errors, a run's
record), ``_processes`` (provider, simulator and engine-service processes),
``_targets`` (dynamic or native), ``_wire`` and ``_render`` (values on the wire, and as
the CLI prints them). Public API:

- :class:`Engine` — a stack: ``up``, ``preview``, ``refresh`` and ``destroy`` each
  return a :class:`Run`; ``deployment`` (an `up` or preview whose resources are
  registered one by one: :class:`Deployment`, whose ``run`` is the record once it has
  ended); ``session``, ``driver`` (one provider process, for tests that make calls one
  by one: :class:`Driver`); the stack, read-only: ``state`` (a :class:`Snapshot`),
  ``saved_provider``, ``ids()``, ``non_secret_values()``; ``stack_import`` (as `pulumi
  stack import`).
- :class:`Run` — one command's immutable record: ``steps`` (what the command did to each
  resource), ``calls`` (:class:`Call`; ``methods``), ``provider_calls``, ``diffs``,
  ``diff_lines``, ``state`` (the :class:`Snapshot` it left: resources by name,
  ``pending_deletes``, ``ids()``, ``non_secret_values()``), ``requests`` (every call in
  full, with ``record=True``: :class:`Request`), ``process_output``, ``engine_log``.
- :func:`channel` / :class:`Declared` — a resource as a program registers it, with its
  resource options; :class:`Secret` marks a secret input; :class:`ResourceState` — one
  in the state (frozen); :class:`Registered` — what a registration hands the program.
- :class:`StepError` (``details``: what the provider sent; ``printed``: what the CLI
  shows; ``run``: the failed command's :class:`Run`), :class:`CheckFailed`
  (``rendered``: the failures as the CLI prints them), :class:`EngineError`.
- :class:`Target`: which provider the engine drives — :data:`DYNAMIC` (the default) or
  :data:`NATIVE` (the plugin, as the CLI starts it from this repository; its property
  names and secret inputs come from the schema it serves). Tests that hold for both
  take the ``target`` fixture (tests/conftest.py).
- :class:`ProviderProcess`, :class:`SimulatorProcess`, :func:`free_port`, the commands
  :data:`DYNAMIC_SERVER` and :data:`NATIVE_PLUGIN` (with :data:`ENGINE_ADDRESS`, the
  engine service it is given), :data:`ROOT`; :func:`asked` (what a simulator was asked)
  and :data:`STARTUP_LIST` (what a provider asks as it starts); :func:`wait_for`.
- wire helpers: :func:`to_struct`, :func:`from_struct`, :func:`from_wire`,
  :func:`strip_secrets`, :func:`is_secret_path`, :func:`leaves`, ``UNKNOWN``, ``Path_``;
  :data:`TYPE_TOKEN` (the dynamic resource's type).
"""

from ._deployment import Deployment
from ._driver import Driver
from ._engine import Engine, wait_for
from ._model import (
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
)
from ._processes import (
    DYNAMIC_SERVER,
    ENGINE_ADDRESS,
    NATIVE_PLUGIN,
    ROOT,
    STARTUP_LIST,
    ProviderProcess,
    SimulatorProcess,
    asked,
    free_port,
)
from ._render import TYPE_TOKEN
from ._targets import DYNAMIC, NATIVE, Target
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
    "NATIVE",
    "NATIVE_PLUGIN",
    "ROOT",
    "STARTUP_LIST",
    "TYPE_TOKEN",
    "UNKNOWN",
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
    "channel",
    "free_port",
    "from_struct",
    "from_wire",
    "is_secret_path",
    "leaves",
    "strip_secrets",
    "to_struct",
    "wait_for",
]
