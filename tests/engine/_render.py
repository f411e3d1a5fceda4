"""What the Pulumi CLI prints: check failures, step errors, `preview --diff` lines."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from pulumi.runtime import rpc

from ._wire import Path_, Secret, is_secret_path, leaves

TYPE_TOKEN = "pulumi-python:dynamic/pingback:Channel"


def render_failure(
    name: str, prop: str, reason: str, program: dict[str, Any], token: str = TYPE_TOKEN
) -> str:
    """One check failure as the engine prints it (SG issueCheckFailures, diag 2002/2003).

    The value is the *program's* input under the top-level key ``prop`` (a nested path is
    not a key: ``{<nil>}``), printed as ``PropertyValue.RedactSecrets`` does: Go's %v
    with every secret, at any depth, as ``[secret]`` (the CLI's ``--show-secrets`` alone
    prints them).
    """
    if not prop:
        return f"{token} resource '{name}' has a problem: {reason}"
    value = go_value(program.get(prop))
    return f"{token} resource '{name}': property {prop} value {value} has a problem: {reason}"


def go_value(value: Any) -> str:
    """Go's %v of a resource.PropertyValue holding ``value``, secrets redacted
    (``RedactSecrets``: a secret becomes the string ``[secret]``)."""
    return "{" + _go_inner(value) + "}"


def _go_inner(value: Any) -> str:
    if isinstance(value, Secret) or rpc.is_rpc_secret(value):
        return "[secret]"
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


def render_error(name: str, details: str, token: str = TYPE_TOKEN) -> str:
    """A failed step as the CLI shows it: the resource, then ``error:`` and the details
    the provider process sent (with SDK 3.272, the whole Python traceback)."""
    body = details.rstrip("\n").replace("\n", "\n    ")
    return f"  {token} ({name}):\n    error: {body}"


def changed_inputs(
    name: str,
    old: dict[str, Any],
    old_secrets: AbstractSet[Path_],
    new: dict[str, Any],
    new_secrets: AbstractSet[Path_],
) -> list[str]:
    """`pulumi preview --diff` lines for one resource: each changed input leaf; a value
    that is secret on either side prints ``[secret]``."""
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
