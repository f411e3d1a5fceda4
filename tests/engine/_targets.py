"""The two providers the harness drives: the dynamic provider and the native plugin.

A target says which process the CLI starts, the resource's type token, and how a
program's property names reach the wire. Programs here are written with the Python
names (``is_active``), as a Python program writes them with either front: the dynamic
``PingBackChannel`` sends them as they are; a generated SDK sends the schema's names
(``isActive``) and reads the answers back by the schema's names — so the native target
renames at the wire, from the schema the plugin serves, and refuses any property the
schema does not declare (a generated SDK would never see it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._processes import DYNAMIC_SERVER, NATIVE_PLUGIN, ROOT
from ._wire import Path_


def _snake(name: str) -> str:
    """A schema name as Pulumi's Python codegen names it: ``isActive`` -> ``is_active``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@dataclass(frozen=True)
class Target:
    name: str
    command: tuple[str, ...]
    type_token: str
    native: bool
    # program (Python) name -> wire name, for every property the schema declares
    names: dict[str, str] = field(default_factory=dict)
    # the plugin's directory, which the CLI names in the Handshake; None: the CLI's own
    # (the dynamic provider's `pulumi-resource-pulumi-python` ships with the CLI, which
    # the harness has not: it names the program's directory instead)
    plugin_dir: Path | None = None
    # the package the provider's `variables` keys start with (`<package>:config:<key>`)
    package: str = "pulumi-python"
    # the inputs (program names) the schema declares secret: a generated SDK, like a YAML
    # program, sends each of them as one secret, whatever the program wrote
    secret_inputs: frozenset[str] = frozenset()

    @property
    def provider_token(self) -> str:
        """The type of the default provider, as check failures of its config print it."""
        return "pulumi:providers:pingback" if self.native else "pulumi:providers:pulumi-python"

    def send(self, props: dict[str, Any]) -> dict[str, Any]:
        """Program names -> wire names (top-level keys; config keys are the user's)."""
        if not self.native:
            return dict(props)
        return {self.names.get(k, k): v for k, v in props.items()}

    def receive(
        self, props: dict[str, Any], paths: set[Path_]
    ) -> tuple[dict[str, Any], set[Path_]]:
        """Wire names -> program names; a property outside the schema is an error."""
        if not self.native:
            return props, paths
        back = {v: k for k, v in self.names.items()}
        unknown = sorted(set(props) - set(back))
        assert not unknown, f"the plugin returned properties its schema does not declare: {unknown}"
        renamed = {back[k]: v for k, v in props.items()}
        return renamed, {(back.get(p[0], p[0]), *p[1:]) for p in paths if p}

    def schema_secrets(self, props: dict[str, Any]) -> set[Path_]:
        """The secret paths an SDK adds to a program's inputs: the schema's secret
        inputs that are set."""
        return {(k,) for k in self.secret_inputs if props.get(k) is not None}


def _schema() -> dict[str, Any]:
    from pulumi_pingback._schema import CHANNEL_TOKEN, schema_json

    resource: dict[str, Any] = json.loads(schema_json())["resources"][CHANNEL_TOKEN]
    return resource


def _schema_names() -> dict[str, str]:
    resource = _schema()
    names = set(resource["properties"]) | set(resource["inputProperties"])
    return {_snake(n): n for n in sorted(names)}


def _schema_secret_inputs() -> frozenset[str]:
    inputs = _schema()["inputProperties"]
    return frozenset(_snake(n) for n, p in inputs.items() if p.get("secret"))


DYNAMIC = Target("dynamic", DYNAMIC_SERVER, "pulumi-python:dynamic/pingback:Channel", False)
NATIVE = Target(
    "native",
    NATIVE_PLUGIN,
    "pingback:index:Channel",
    True,
    _schema_names(),
    ROOT,
    "pingback",
    _schema_secret_inputs(),
)

TARGETS = {t.name: t for t in (DYNAMIC, NATIVE)}
