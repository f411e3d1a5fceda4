"""Values on the wire: secrets, unknowns, and property Structs, as the engine sees them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import rpc

UNKNOWN = rpc.UNKNOWN
Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Secret:
    """A secret input, as a program's ``pulumi.Output.secret(...)``."""

    value: Any


def strip_secrets(value: Any, path: Path_ = ()) -> tuple[Any, set[Path_]]:
    """(plain value, paths that were secret) — what the engine does before every call."""
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


def is_secret_path(path: Path_, secret_paths: AbstractSet[Path_]) -> bool:
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


def to_struct(props: dict[str, Any]) -> Any:
    # A private loop: never replace the caller's current event loop (programs need it).
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def from_struct(struct: Any) -> dict[str, Any]:
    """Values as the Python SDK reads them (a nested secret makes its object secret)."""
    return dict(rpc.deserialize_properties(struct, keep_unknowns=True))


def from_wire(struct: Any) -> tuple[dict[str, Any], set[Path_]]:
    """A provider's answer as the engine keeps it (KeepSecrets): plain values, and the
    paths the provider returned wrapped as secrets — read off the raw Struct, as the Go
    engine reads them (the Python SDK marks a whole object secret if one value is)."""
    plain, paths = strip_secrets(json_format.MessageToDict(struct))
    return plain, paths


def reset_path(news: dict[str, Any], olds: dict[str, Any], path: str) -> None:
    """The engine's ignore_changes for one path: the old value, or none if it had none."""
    keys = path.split(".")
    new_parent: Any = news
    old_parent: Any = olds
    for key in keys[:-1]:
        if not isinstance(new_parent, dict) or not isinstance(new_parent.get(key), dict):
            return
        new_parent = new_parent[key]
        old_parent = old_parent.get(key) if isinstance(old_parent, dict) else None
    last = keys[-1]
    if isinstance(old_parent, dict) and last in old_parent:
        new_parent[last] = old_parent[last]
    else:
        new_parent.pop(last, None)
