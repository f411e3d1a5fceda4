"""The Python program ``pingback export`` writes: every channel declared with ``adopt_id``,
each credential read from secret stack config, laid out as ruff formats it (so the
exported code passes ``ruff check`` and ``ruff format --check`` with default settings).
The command and the project's other files are :mod:`._export`'s."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ._kinds import kind_of

__all__ = ["LINE", "NOTE", "Secret", "render_program"]

LINE = 88  # ruff's and black's default width: the exported project has no settings of its own
NOTE = "STACK-CONFIG.md"


def _slug(text: str) -> str:
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")[:60] or "channel"


def _base_name(channel: Any) -> str:
    identity = channel.identity
    if identity:
        return _slug(identity.replace(":", "-").replace("/", "-"))
    widget_id = channel.config.get("widget_id")
    if channel.type == "widget" and isinstance(widget_id, str) and widget_id:
        return _slug(f"widget-{widget_id[:24]}")
    return _slug(f"{channel.type}-{channel.id[:8]}")


def _camel(*parts: str) -> str:
    words = [w for p in parts for w in re.split(r"[^A-Za-z0-9]+", p) if w]
    return (words[0].lower() + "".join(w[:1].upper() + w[1:] for w in words[1:])) if words else "x"


@dataclass
class Secret:
    key: str  # the stack config key
    what: str  # what to put there, for the placeholder
    is_object: bool

    def command(self) -> str:
        value = f"<JSON: the {self.what}>" if self.is_object else f"<the {self.what}>"
        return f"pulumi config set --secret {self.key} '{value}'"


def _plan_names(channels: Sequence[Any]) -> list[str]:
    """Resource names: from type and identity, unique (``-2``…), stable for a business."""
    names: list[str] = []
    seen: dict[str, int] = {}
    for channel in channels:
        base = _base_name(channel)
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def _q(value: str) -> str:
    """A Python string literal in the quotes ruff would keep: double quotes, unless the
    value holds more double quotes than single ones (ASCII: JSON's escapes, valid Python)."""
    double = json.dumps(value)
    if value.count('"') <= value.count("'"):
        return double

    def swap(m: re.Match[str]) -> str:
        if m.group(0) == "'":
            return "\\'"
        return '"' if m.group(0) == '\\"' else m.group(0)

    return "'" + re.sub(r"\\.|'", swap, double[1:-1]) + "'"


@dataclass
class _Call:
    """``opening args closing``, laid out as ruff formats it: on one line when it fits,
    else one argument a line with a trailing comma (which keeps it so at any width)."""

    opening: str
    args: list[tuple[str, _Node]] = field(default_factory=list)  # (prefix, value)
    closing: str = ")"

    def flat(self) -> str:
        return self.opening + ", ".join(p + _flat(v) for p, v in self.args) + self.closing


_Node = str | _Call


def _flat(node: _Node) -> str:
    return node if isinstance(node, str) else node.flat()


def _lay(prefix: str, node: _Node, indent: str, suffix: str, *, split: bool = False) -> list[str]:
    one = indent + prefix + _flat(node) + suffix
    if isinstance(node, str) or not node.args or (not split and len(one) <= LINE):
        return [one]
    lines = [indent + prefix + node.opening]
    for arg_prefix, value in node.args:
        lines += _lay(arg_prefix, value, indent + "    ", ",")
    return [*lines, indent + node.closing + suffix]


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident if ident[:1].isalpha() else f"channel_{ident}"


def render_program(
    channels: Sequence[Any], *, protect: bool = True, project: bool = False
) -> tuple[str, list[Secret]]:
    """The program declaring ``channels`` with adopt_id, and the secrets it reads.
    ``project``: its header points at the project's stack-config note."""
    from ._configs import CONFIG_CLASSES

    ordered = sorted(channels, key=lambda c: (c.type, _base_name(c), c.created_at or "", c.id))
    names = _plan_names(ordered)
    secrets: list[Secret] = []
    used_classes: set[str] = set()
    blocks: list[str] = []
    for name, channel in zip(names, ordered, strict=True):
        kind = kind_of(channel.type)
        typed = kind is not None and not kind.free_keys
        entries: list[tuple[str, _Node]] = []
        for key, value in channel.user_config.items():
            source: _Node
            if kind is not None and not kind.credential(key) and isinstance(value, str):
                source = _q(value)  # readable: written as it is
            else:
                what = f"{key} of {channel.type} channel {channel.id}"
                secret = Secret(_camel(name, key), what, not isinstance(value, str))
                secrets.append(secret)
                reader = "require_secret_object" if secret.is_object else "require_secret"
                source = _Call(f"config.{reader}(", [("", _q(secret.key))])
            entries.append((f"{key}=", source) if typed else (f"{_q(key)}: ", source))
        if typed:
            cls = CONFIG_CLASSES[channel.type].__name__
            used_classes.add(cls)
            config: _Call = _Call(f"{cls}(", entries)
        else:
            config = _Call("{", entries, "}")
        args: list[tuple[str, _Node]] = [
            ("", _q(name)),
            ("type=", _q(channel.type)),
            ("config=", config),
        ]
        if not channel.is_active:
            args.append(("is_active=", "False"))
        args.append(("adopt_id=", _q(channel.id)))
        if protect:
            args.append(("opts=", _Call("pulumi.ResourceOptions(", [("protect=", "True")])))
        call = _Call("PingBackChannel(", args)
        blocks.append("\n".join(_lay(f"{_identifier(name)} = ", call, "", "", split=True)))
    business = next((c.business_id for c in ordered if c.business_id), "?")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    imported = sorted({"PingBackChannel", *used_classes})
    import_line = "from pulumi_pingback import " + ", ".join(imported)
    if len(import_line) > LINE:
        import_line = (
            "from pulumi_pingback import (\n" + "".join(f"    {n},\n" for n in imported) + ")"
        )
    where = (
        f"{NOTE} lists the\n`pulumi config set --secret` commands to run."
        if project
        else "`pingback export` printed\nthe `pulumi config set --secret` commands to run on stderr."
    )
    protected = (
        "\nEach is protected (protect=True): PingBack's delete cannot be undone, so\n"
        "`pulumi destroy` refuses until `pulumi state unprotect`.\n"
        if protect
        else ""
    )
    header = (
        f'"""The PingBack channels of business {business}, as code.\n\n'
        f"Made by `pingback export` on {stamp}. Every channel is declared with adopt_id:\n"
        "the first `pulumi up` adopts it, with no write when PingBack holds what is\n"
        "declared (a difference is refused, naming the keys), and the next one changes\n"
        f"nothing. Set the credentials to the live values first: {where}\n"
        f'{protected}"""\n\n'
        "import pulumi\n" + import_line + "\n\nconfig = pulumi.Config()\n"
    )
    program = header + "".join(f"\n{block}\n" for block in blocks)
    return program, secrets
