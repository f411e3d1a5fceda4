"""Preview-time unknowns, as the dynamic-provider server hands them to us.

``python -m pulumi.dynamic`` deserializes unknown values as ``pulumi.output.Unknown``
objects in check/diff, and can only serialize them back as the ``UNKNOWN`` sentinel
string. Kept apart from pulumi so the pure modules stay cheap to import and test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi.runtime.rpc.UNKNOWN


def is_unknown(value: Any) -> bool:
    return (isinstance(value, str) and value == UNKNOWN) or type(value).__name__ == "Unknown"


def contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False


def to_wire(value: Any) -> Any:
    """Replace Unknown objects with the sentinel string the server can serialize."""
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    return value
