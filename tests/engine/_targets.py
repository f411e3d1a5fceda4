"""The two providers the harness drives: the dynamic provider and the native plugin.

A target says which process the CLI starts, the resource's type token, and how a
program's property names reach the wire. Programs here are written with the Python
names (``is_active``), as a Python program writes them with either front: the dynamic
``PingBackChannel`` sends them as they are; a generated SDK sends the schema's names
(``isActive``) and reads the answers back by the schema's names — so the native target
renames at the wire, from the schema the plugin serves (GetSchema, asked once per
session: the harness imports no private production module), and refuses any property the schema
does not declare (a generated SDK would never see it). Config keys too: programs here
give PingBack's (``bot_token``), a generated SDK sends the config type's (``botToken``,
a key it does not declare under ``extra``), so the target maps them both ways, secret
paths included.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import threading
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime import proto

from ._processes import DYNAMIC_SERVER, NATIVE_PLUGIN, ROOT, ProviderProcess
from ._wire import Path_


def _snake(name: str) -> str:
    """A schema name as Pulumi's Python codegen names it: ``isActive`` -> ``is_active``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


_SCHEMA_LOCK = threading.Lock()  # engine threads may ask at once: one plugin answers


def served_schema() -> dict[str, Any]:
    """The package schema the native plugin serves, as the CLI gets it (`pulumi package
    get-schema`, SDK generation): GetSchema of the plugin started as the CLI starts it.
    Asked once per test session (a copy each time)."""
    with _SCHEMA_LOCK:
        return copy.deepcopy(_ask_schema())


@functools.cache
def _ask_schema() -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGBACK_")}
    plugin = ProviderProcess(None, secret_keys=(), cwd=ROOT, env=env, command=NATIVE_PLUGIN)
    try:
        answer = plugin.stub.GetSchema(proto.GetSchemaRequest(), timeout=60)
    finally:
        plugin.close()
    schema: dict[str, Any] = json.loads(answer.schema)
    return schema


@functools.cache
def _resource_names(token: str) -> tuple[dict[str, str], frozenset[str]]:
    """The served schema's resource ``token``: program (Python) name -> wire name for
    every property it declares, and the inputs it declares secret (program names)."""
    resource = served_schema()["resources"][token]
    names = set(resource["properties"]) | set(resource["inputProperties"])
    secret = {n for n, p in resource["inputProperties"].items() if p.get("secret")}
    return {_snake(n): n for n in sorted(names)}, frozenset(_snake(n) for n in secret)


@functools.cache
def _config_keys(token: str) -> dict[str, str]:
    """The served schema's config type of resource ``token``: program (Python) name ->
    wire name of each key it declares but ``extra`` (the map of the keys PingBack does
    not document, which a program gives as ``extra``)."""
    schema = served_schema()
    ref = schema["resources"][token]["inputProperties"]["config"]["$ref"]
    keys = schema["types"][ref.removeprefix("#/types/")]["properties"]
    return {_snake(n): n for n in sorted(keys) if n != "extra"}


@dataclass(frozen=True)
class Target:
    name: str
    command: tuple[str, ...]
    type_token: str
    native: bool
    # the plugin's directory, which the CLI names in the Handshake; None: the CLI's own
    # (the dynamic provider's `pulumi-resource-pulumi-python` ships with the CLI, which
    # the harness has not: it names the program's directory instead)
    plugin_dir: Path | None = None
    # the package the provider's `variables` keys start with (`<package>:config:<key>`)
    package: str = "pulumi-python"

    @property
    def names(self) -> Mapping[str, str]:
        """Program (Python) name -> wire name, for every property the schema declares
        (the native plugin's, as it serves it; the dynamic provider has none)."""
        return _resource_names(self.type_token)[0] if self.native else {}

    @property
    def secret_inputs(self) -> frozenset[str]:
        """The inputs (program names) the schema declares secret: a generated SDK, like a
        YAML program, sends each of them as one secret, whatever the program wrote."""
        return _resource_names(self.type_token)[1] if self.native else frozenset()

    @property
    def provider_token(self) -> str:
        """The type of the default provider, as check failures of its config print it."""
        return "pulumi:providers:pingback" if self.native else "pulumi:providers:pulumi-python"

    def send(
        self, props: dict[str, Any], paths: AbstractSet[Path_] = frozenset()
    ) -> tuple[dict[str, Any], set[Path_]]:
        """Program names -> wire names, with the secret ``paths``: the properties, and
        the keys of a config (a key the config type does not declare goes in ``extra``,
        as a program of a generated SDK gives it)."""
        if not self.native:
            return dict(props), set(paths)
        names = self.names
        wired = {names.get(k, k): v for k, v in props.items()}
        keys = _config_keys(self.type_token)
        config = wired.get("config")
        if isinstance(config, dict):
            out: dict[str, Any] = {}
            for key, value in config.items():
                if key in keys:
                    out[keys[key]] = value
                else:
                    out.setdefault("extra", {})[key] = value
            wired["config"] = out
        moved: set[Path_] = set()
        for path in paths:
            head, *rest = path
            if head == "config" and rest:
                where = [keys[rest[0]]] if rest[0] in keys else ["extra", rest[0]]
                moved.add(("config", *where, *rest[1:]))
            else:
                moved.add((names.get(head, head), *rest))
        return wired, moved

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
        config = renamed.get("config")
        if not isinstance(config, dict):
            return renamed, {(back.get(p[0], p[0]), *p[1:]) for p in paths if p}
        keys = {v: k for k, v in _config_keys(self.type_token).items()}
        extra = config.get("extra")
        stray = sorted(set(config) - set(keys) - {"extra"})
        assert not stray, f"the plugin returned config keys its schema does not declare: {stray}"
        flat = {keys[k]: v for k, v in config.items() if k != "extra"}
        if isinstance(extra, dict):
            flat.update(extra)
        renamed["config"] = flat
        moved: set[Path_] = set()
        for path in paths:
            if not path:
                continue
            head, *rest = path
            if head == "config" and rest and rest[0] == "extra":
                tails = [rest[1:]] if len(rest) > 1 else [[k] for k in (extra or {})]
                moved |= {("config", *t) for t in tails}
            elif head == "config" and rest:
                moved.add(("config", keys.get(rest[0], rest[0]), *rest[1:]))
            else:
                moved.add((back.get(head, head), *rest))
        return renamed, moved

    def schema_secrets(self, props: dict[str, Any]) -> set[Path_]:
        """The secret paths an SDK adds to a program's inputs: the schema's secret
        inputs that are set."""
        return {(k,) for k in self.secret_inputs if props.get(k) is not None}


DYNAMIC = Target("dynamic", DYNAMIC_SERVER, "pulumi-python:dynamic/pingback:Channel", False)
NATIVE = Target("native", NATIVE_PLUGIN, "pingback:index:Channel", True, ROOT, "pingback")

TARGETS = {t.name: t for t in (DYNAMIC, NATIVE)}
