"""The replace-vs-update policy, in one place. A pure function: no I/O, no pulumi.

Compares a channel's old **outputs** (what the dynamic-provider server passes as
``olds``) with its new checked inputs:

| what changed                                            | decision           |
|---------------------------------------------------------|--------------------|
| ``type``                                                | replace            |
| ``identity`` (another bot / phone number / X account)   | replace            |
| ``type`` or ``identity`` unknown at preview              | replace (reported) |
| credentials for the same identity (token rotation)      | update in place    |
| ``is_active``, any other config key                     | update in place    |
| config or ``is_active`` unknown at preview               | update (reported)  |
| nothing (server-added ``_…`` keys, outputs, ``adopt_id``, ``__provider`` ignored) | no change, no API call |
| a changed path listed in ``replace_on_changes`` (the resource option)  | replace            |

Identity is compared only when both sides have one: an X access token without the
leading account id cannot prove a different account, so it updates in place.
Replacement is create-before-delete unless the resource sets ``delete_before_replace``.

``replace_on_changes`` is the resource option, passed by ``PingBackChannel`` as an
input: the engine applies it only to a detailed diff, which the dynamic-provider server
never sends, so the policy applies it here (paths as Pulumi writes them: ``config``,
``config.bot_token``, ``config["bot_token"]``, ``*``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._kinds import channel_identity, kind_of
from ._models import split_config
from ._unknowns import contains_unknown, is_unknown

__all__ = ["DiffDecision", "PathChange", "decide", "ignoring", "path_segments", "path_string"]

_SEGMENT = re.compile(r'\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]|([^.\[\]]+)')


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNESCAPE = re.compile(r"\\(.)")


def path_segments(path: str) -> list[str]:
    """``config["bot_token"]`` / ``config.bot_token`` -> ``["config", "bot_token"]``."""
    return [_UNESCAPE.sub(r"\1", a) or b or c for a, b, c in _SEGMENT.findall(path)]


def path_string(segments: Iterable[str]) -> str:
    """The inverse: ``["config", "a.b"]`` -> ``config["a.b"]`` (Pulumi's property-path
    grammar, parsed and written here only)."""
    out = ""
    for segment in segments:
        if out and segment != "*" and not _PLAIN.fullmatch(segment):
            escaped = segment.replace("\\", "\\\\").replace('"', '\\"')
            out += f'["{escaped}"]'
        else:
            out += f".{segment}" if out else segment
    return out


def _covers(pattern: list[str], path: list[str]) -> bool:
    """Whether a replace_on_changes path contains a changed path (``*``: any segment)."""
    return len(pattern) <= len(path) and all(
        p in ("*", q) for p, q in zip(pattern, path, strict=False)
    )


def ignoring(
    news: Mapping[str, Any], olds: Mapping[str, Any], paths: Iterable[str]
) -> dict[str, Any]:
    """``news`` with every ``ignore_changes`` path holding the value ``olds`` hold (or
    absent where they hold none), as the resource option means: a change there is no
    change. Paths as Pulumi writes them (``is_active``, ``config.bot_token``,
    ``config["a.b"]``, ``config``, ``*`` for a segment)."""
    out: dict[str, Any] = dict(news)
    for raw in paths:
        segments = path_segments(raw)
        if segments:
            _restore(out, olds, segments)
    return out


def _restore(target: dict[str, Any], source: Mapping[str, Any], segments: list[str]) -> None:
    head, rest = segments[0], segments[1:]
    keys = set(target) | set(source) if head == "*" else {head}
    for key in keys:
        if not rest:
            if key in source:
                target[key] = source[key]
            else:
                target.pop(key, None)
            continue
        inner, old = target.get(key), source.get(key)
        if isinstance(inner, Mapping) and isinstance(old, Mapping):
            target[key] = dict(inner)
            _restore(target[key], old, rest)


@dataclass(frozen=True)
class PathChange:
    """One changed property path and what it does: ``("config", "bot_token")`` updated, and
    whether that change replaces the channel."""

    path: tuple[str, ...]
    op: str  # "add" | "delete" | "update"
    replace: bool


@dataclass(frozen=True)
class DiffDecision:
    """What the engine is told: ``changes`` and ``replaces`` (top-level property keys), and
    per path (``detail``) what changed and whether it replaces — the native provider's
    detailed diff is a renaming of ``detail``."""

    changes: bool
    replaces: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    detail: tuple[PathChange, ...] = ()

    @property
    def kind(self) -> str:
        if not self.changes:
            return "none"
        return "replace" if self.replaces else "update"


def _old_identity(olds: Mapping[str, Any]) -> str | None:
    identity = olds.get("identity")
    if isinstance(identity, str) and identity:
        return identity
    config = olds.get("config")
    old_type = olds.get("type")
    if isinstance(config, Mapping) and isinstance(old_type, str):
        return channel_identity(old_type, config)
    return None


def _config_changes(old: Mapping[str, Any], new: Any) -> list[list[str]]:
    """Changed config paths; the whole config when the new one is unknown or odd."""
    if (contains_unknown(new) and not isinstance(new, Mapping)) or not isinstance(new, Mapping):
        return [["config"]]
    paths = []
    for key in sorted(set(old) | set(new), key=str):
        if key not in old or key not in new or contains_unknown(new[key]) or old[key] != new[key]:
            paths.append(["config", str(key)])
    return paths


def _forced(patterns: Iterable[str], changed: list[list[str]]) -> list[str]:
    """Top-level keys that replace_on_changes turns into replaces."""
    keys: list[str] = []
    for raw in patterns:
        pattern = path_segments(raw)
        for path in changed:
            # A whole-config change (unknown at preview) may touch any config key.
            hit = _covers(pattern, path) or (
                path == ["config"] and pattern[:1] in (["config"], ["*"])
            )
            if pattern and hit and path[0] not in keys:
                keys.append(path[0])
    return keys


def decide(olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffDecision:
    """Decide update-in-place vs replace for one channel. Total: never raises.

    ``news["ignore_changes"]`` (the resource option, passed by ``PingBackChannel`` as an
    input like ``replace_on_changes``) is applied first: the dynamic-provider server
    never hands the provider the engine's list, and a refresh's Diff (olds: what was
    read; news: the old inputs) would otherwise show a dashboard change of an ignored
    path as drift."""
    ignored = news.get("ignore_changes")
    if isinstance(ignored, list | tuple):
        news = ignoring(news, olds, [p for p in ignored if isinstance(p, str)])
    replaces: list[str] = []
    changed: list[str] = []
    paths: list[list[str]] = []

    new_type = news.get("type")
    if is_unknown(new_type) or new_type != olds.get("type"):
        replaces.append("type")
        changed.append("type")

    new_identity = news.get("identity")
    old_identity = _old_identity(olds)
    if is_unknown(new_identity) or (
        isinstance(new_identity, str) and old_identity is not None and new_identity != old_identity
    ):
        replaces.append("identity")
        changed.append("identity")

    old_config_raw = olds.get("config")
    old_config = split_config(old_config_raw)[0] if isinstance(old_config_raw, Mapping) else {}
    new_config_raw = news.get("config")
    if new_config_raw is None:
        new_config_raw = {}
    if (
        contains_unknown(new_config_raw)
        or not isinstance(new_config_raw, Mapping)
        or dict(new_config_raw) != old_config
    ):
        changed.append("config")
        paths += _config_changes(old_config, new_config_raw)

    new_active = news.get("is_active", True)
    if is_unknown(new_active) or new_active != olds.get("is_active", True):
        changed.append("is_active")

    paths += [[key] for key in changed if key != "config"]
    patterns = news.get("replace_on_changes")
    if isinstance(patterns, list | tuple):
        for key in _forced((p for p in patterns if isinstance(p, str)), paths):
            if key not in replaces:
                replaces.append(key)

    return DiffDecision(
        changes=bool(changed),
        replaces=tuple(replaces),
        changed=tuple(changed),
        detail=_detail(olds, news, old_config, changed, replaces),
    )


def _op(before: bool, after: bool) -> str:
    return "add" if not before else "delete" if not after else "update"


def _detail(
    olds: Mapping[str, Any],
    news: Mapping[str, Any],
    old_config: Mapping[str, Any],
    changed: list[str],
    replaces: list[str],
) -> tuple[PathChange, ...]:
    """Per path: a config key replaces when it is the identity's key and the identity
    changed, or when the type did; a top-level key when it is among the replaces."""
    out: list[PathChange] = []
    new_config = news.get("config")
    identity_key = getattr(kind_of(news.get("type")), "identity_key", None)
    for key in changed:
        if key != "config":
            out.append(PathChange((key,), _op(key in olds, key in news), key in replaces))
        elif not isinstance(new_config, Mapping):  # unknown at preview: the whole config
            out.append(PathChange(("config",), "update", bool(replaces)))
        else:
            for path in _config_changes(old_config, new_config):
                k = path[1]
                replace = ("identity" in replaces and k == identity_key) or "type" in replaces
                out.append(
                    PathChange(("config", k), _op(k in old_config, k in new_config), replace)
                )
    return tuple(out)
