"""The native provider's wire: ``PropertyValue`` <-> the core's plain values with their
secret paths, schema names <-> the core's, and the policy's per-path diff as a detailed
diff. Pure translation, no I/O (:mod:`._server` serves it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue
from pulumi.provider.experimental.provider import PropertyDiff, PropertyDiffKind

from .._exceptions import ChannelValidationError
from ..channels._diff import DiffDecision, path_segments, path_string
from ..channels._schema import CHANNEL_PROPERTIES, WIRE_NAMES
from ..channels._unknowns import UNKNOWN, is_unknown

__all__ = [
    "TO_CORE",
    "TO_WIRE",
    "core_path",
    "detailed_diff",
    "unwire",
    "wire",
    "wire_value",
]

Path_ = tuple[str, ...]

# Wire (schema) names <-> the core's (Python) names, from the schema's one table.
TO_CORE = {p.name: p.core for p in CHANNEL_PROPERTIES}
TO_WIRE = WIRE_NAMES


# ---- values: PropertyValue <-> plain Python, secrets as paths -------------------------------


def _plain(value: PropertyValue, path: Path_, secrets: set[Path_]) -> Any:
    """A wire value as the core takes it: unknowns as the sentinel, whole floats as ints."""
    if value.is_secret:
        secrets.add(path)
    v = value.value
    if isinstance(v, Computed):
        return UNKNOWN
    if isinstance(v, Mapping):
        return {k: _plain(item, (*path, k), secrets) for k, item in v.items()}
    if isinstance(v, tuple):
        return [_plain(item, (*path, str(i)), secrets) for i, item in enumerate(v)]
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if v is None or isinstance(v, bool | float | str):
        return v
    where = ".".join(path)
    raise ChannelValidationError(
        [(where, "must be JSON data: a string, number, bool, list or map")]
    )


def unwire(props: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], set[Path_]]:
    """Wire properties as core properties (Python names) and the paths that were secret."""
    secrets: set[Path_] = set()
    plain: dict[str, Any] = {}
    for key, value in props.items():
        core = TO_CORE.get(key, key)
        plain[core] = _plain(value, (core,), secrets)
    return plain, secrets


def wire_value(value: Any, path: Path_, secrets: set[Path_]) -> PropertyValue:
    secret = path in secrets
    if isinstance(value, Mapping):
        inner: Any = {str(k): wire_value(v, (*path, str(k)), secrets) for k, v in value.items()}
    elif isinstance(value, list | tuple):
        inner = [wire_value(v, (*path, str(i)), secrets) for i, v in enumerate(value)]
    elif isinstance(value, int) and not isinstance(value, bool):
        inner = float(value)  # PropertyValue takes floats only
    elif is_unknown(value):
        inner = UNKNOWN  # the wire's unknown: Computed does not marshal
    else:
        inner = value
    return PropertyValue(inner, is_secret=secret)


def wire(props: Mapping[str, Any], secrets: set[Path_]) -> dict[str, PropertyValue]:
    """Core properties on the wire, schema names, ``secrets`` (core paths) marked."""
    return {
        TO_WIRE.get(key, key): wire_value(value, (key,), secrets) for key, value in props.items()
    }


# ---- diffs -------------------------------------------------------------------------------


def core_path(path: str) -> str:
    """A property path in the schema's names (``isActive``) in the core's (``is_active``)."""
    head, *rest = path_segments(path) or [""]
    return path_string([TO_CORE.get(head, head), *rest])


_KINDS = {
    ("add", False): PropertyDiffKind.ADD,
    ("add", True): PropertyDiffKind.ADD_REPLACE,
    ("delete", False): PropertyDiffKind.DELETE,
    ("delete", True): PropertyDiffKind.DELETE_REPLACE,
    ("update", False): PropertyDiffKind.UPDATE,
    ("update", True): PropertyDiffKind.UPDATE_REPLACE,
}


def detailed_diff(decision: DiffDecision) -> dict[str, PropertyDiff]:
    """The policy's per-path answer in the schema's names: ``config.bot_token:
    UPDATE_REPLACE`` when the bot changes, ``UPDATE`` when its token rotates."""
    out: dict[str, PropertyDiff] = {}
    for change in decision.detail:
        head, *rest = change.path
        name = path_string([TO_WIRE.get(head, head), *rest])
        out[name] = PropertyDiff(_KINDS[change.op, change.replace], input_diff=True)
    return out
