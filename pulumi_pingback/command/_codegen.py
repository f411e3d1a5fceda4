"""The Python program ``pingback export`` writes: every channel declared with ``adopt_id``,
each credential read from secret stack config, laid out as ruff formats it (so the
exported code passes ``ruff check`` and ``ruff format --check`` with default settings).
The command and the project's other files are :mod:`._export`'s.

The program is **built, not formatted**: what PingBack answered (ids, types, config keys
and values) reaches it only as Python string literals (:func:`literal`, each read back
with ``ast.literal_eval`` before use); a config key is a keyword argument only when it is
one of the type's documented keys (a row of :mod:`..channels._kinds`), else the config is a dict
literal; names in the code are ours (the classes, ``pulumi``, ``config``) or made of
``[a-z0-9_]``. The whole program is then parsed and walked (:func:`verify`): a call,
name, attribute or keyword outside the expected set stops the export before anything is
written. The docstring holds none of PingBack's text.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .._untrusted import inert
from ..channels._kinds import kind_of

__all__ = ["LINE", "NOTE", "Secret", "UnsafeProgram", "literal", "render_program", "verify"]

LINE = 88  # ruff's and black's default width: the exported project has no settings of its own
NOTE = "STACK-CONFIG.md"

_SECRET_READERS = ("require_secret", "require_secret_object")
_OWN_NAMES = frozenset({"pulumi", "config", "PingBackChannel"})
"""Names the program binds or imports itself (no channel's variable may take one)."""


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
    key: str  # the stack config key: [A-Za-z0-9]
    what: str  # what to put there, for the placeholder (inert: no control character)
    is_object: bool

    def argv(self) -> list[str]:
        value = f"<JSON: the {self.what}>" if self.is_object else f"<the {self.what}>"
        return ["pulumi", "config", "set", "--secret", self.key, value]

    def command(self) -> str:
        """The command to paste, every argument quoted for the shell."""
        return shlex.join(self.argv())


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
    value holds more double quotes than single ones (ASCII: JSON's escapes, valid Python;
    DEL escaped too, so the literal holds no control character)."""
    double = json.dumps(value).replace("\x7f", "\\x7f")
    if value.count('"') <= value.count("'"):
        return double

    def swap(m: re.Match[str]) -> str:
        if m.group(0) == "'":
            return "\\'"
        return '"' if m.group(0) == '\\"' else m.group(0)

    return "'" + re.sub(r"\\.|'", swap, double[1:-1]) + "'"


def literal(value: str) -> str:
    """``value`` as a Python string literal (:func:`_q`), read back before it is used:
    whatever PingBack sent, it is a string in the program, never code."""
    text = _q(value)
    if ast.literal_eval(text) != value:  # pragma: no cover - a bug in _q
        raise AssertionError("a string literal of the exported program does not read back")
    return text


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
    """A channel's variable from its resource name (``[a-z0-9-]``): a Python identifier
    that is no keyword and none of the program's own names."""
    ident = re.sub(r"\W", "_", name, flags=re.ASCII)
    if not ident[:1].isalpha() or keyword.iskeyword(ident) or ident in _OWN_NAMES:
        ident = f"channel_{ident}"
    return ident


def _unique(key: str, taken: set[str]) -> str:
    """``key``, or ``key2``, ``key3``… : two config keys that camel-case alike (``a b``,
    ``a-b``) still read two stack config keys."""
    n, candidate = 1, key
    while candidate in taken:
        n += 1
        candidate = f"{key}{n}"
    taken.add(candidate)
    return candidate


def render_program(
    channels: Sequence[Any], *, protect: bool = True, project: bool = False
) -> tuple[str, list[Secret]]:
    """The program declaring ``channels`` with adopt_id, and the secrets it reads, checked
    by :func:`verify`. ``project``: its header points at the project's stack-config note."""
    from ..channels._configs import CONFIG_CLASSES

    ordered = sorted(channels, key=lambda c: (c.type, _base_name(c), c.created_at or "", c.id))
    names = _plan_names(ordered)
    secrets: list[Secret] = []
    secret_keys: set[str] = set()
    used_classes: set[str] = set()
    variables: set[str] = set()
    blocks: list[str] = []
    for name, channel in zip(names, ordered, strict=True):
        kind = kind_of(channel.type)
        user = channel.user_config
        # Keyword arguments of the typed class only for exactly the type's documented keys
        # (names from the table, never from PingBack); anything else is a dict literal.
        typed = kind is not None and not kind.free_keys and set(user) == set(kind.keys)
        entries: list[tuple[str, _Node]] = []
        for key, value in user.items():
            source: _Node
            if kind is not None and not kind.credential(key) and isinstance(value, str):
                source = literal(value)  # readable: written as it is
            else:
                what = f"{inert(key)} of {inert(channel.type)} channel {channel.id}"
                stack_key = _unique(_camel(name, key), secret_keys)
                secret = Secret(stack_key, what, not isinstance(value, str))
                secrets.append(secret)
                reader = _SECRET_READERS[secret.is_object]
                source = _Call(f"config.{reader}(", [("", literal(secret.key))])
            entries.append((f"{key}=", source) if typed else (f"{literal(key)}: ", source))
        if typed:
            cls = CONFIG_CLASSES[channel.type].__name__
            used_classes.add(cls)
            config: _Call = _Call(f"{cls}(", entries)
        else:
            config = _Call("{", entries, "}")
        args: list[tuple[str, _Node]] = [
            ("", literal(name)),
            ("type=", literal(channel.type)),
            ("config=", config),
        ]
        if not channel.is_active:
            args.append(("is_active=", "False"))
        args.append(("adopt_id=", literal(channel.id)))
        if protect:
            args.append(("opts=", _Call("pulumi.ResourceOptions(", [("protect=", "True")])))
        call = _Call("PingBackChannel(", args)
        variable = _identifier(name)
        variables.add(variable)
        blocks.append("\n".join(_lay(f"{variable} = ", call, "", "", split=True)))
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
    docstring = (
        "The PingBack channels of one business, as code.\n\n"
        f"Made by `pingback export` on {stamp}. Every channel is declared with adopt_id:\n"
        "the first `pulumi up` adopts it, with no write when PingBack holds what is\n"
        "declared (a difference is refused, naming the keys), and the next one changes\n"
        f"nothing. Set the credentials to the live values first: {where}\n{protected}"
    )
    header = (
        f'"""{docstring}"""\n\nimport pulumi\n' + import_line + "\n\nconfig = pulumi.Config()\n"
    )
    program = header + "".join(f"\n{block}\n" for block in blocks)
    verify(program, docstring=docstring, classes=used_classes, variables=variables)
    return program, secrets


class UnsafeProgram(Exception):
    """The program an export would write does not pass :func:`verify` (a bug: nothing is
    written)."""


_ATTRIBUTES = {
    ("pulumi", "Config"),
    ("pulumi", "ResourceOptions"),
    *(("config", reader) for reader in _SECRET_READERS),
}
_NODES = (
    ast.Module, ast.Expr, ast.Import, ast.ImportFrom, ast.alias, ast.Assign, ast.Call,
    ast.keyword, ast.Dict, ast.Name, ast.Attribute, ast.Constant, ast.Load, ast.Store,
)  # fmt: skip


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def verify(
    program: str, *, docstring: str, classes: Iterable[str], variables: Iterable[str]
) -> None:
    """The exported program as Python reads it: the docstring ours, ``import pulumi`` and
    the classes from ``pulumi_pingback``, then assignments whose only calls are
    ``PingBackChannel``, the typed config ``classes``, ``pulumi.Config``,
    ``pulumi.ResourceOptions`` and ``config.require_secret(_object)``; every constant a
    string or a boolean, every keyword a property or a documented key, every name ours.
    Raises :class:`UnsafeProgram` naming the first node that is not."""
    from ..channels._configs import CONFIG_CLASSES
    from ..channels._kinds import KINDS
    from ..channels._schema import INPUTS

    classes, variables = set(classes), set(variables)
    loads = _OWN_NAMES | classes
    calls = {"PingBackChannel", "pulumi.Config", "pulumi.ResourceOptions", *classes}
    calls |= {f"config.{reader}" for reader in _SECRET_READERS}
    keywords = {*INPUTS, "opts", "protect"} | {k for kind in KINDS.values() for k in kind.keys}
    tree = ast.parse(program)

    def refuse(node: ast.AST, what: str) -> UnsafeProgram:
        line = getattr(node, "lineno", "?")
        return UnsafeProgram(f"line {line}: {what}")

    body = list(tree.body)
    if not body or ast.get_docstring(tree, clean=False) != docstring:
        raise refuse(tree, "the docstring is not the one written")
    for node in ast.walk(tree):
        if not isinstance(node, _NODES):
            raise refuse(node, f"a {type(node).__name__}")
        if isinstance(node, ast.Expr) and node is not body[0]:
            raise refuse(node, "an expression statement")
        if isinstance(node, ast.Import) and [a.name for a in node.names] != ["pulumi"]:
            raise refuse(node, "an import")
        if isinstance(node, ast.ImportFrom) and (
            node.module != "pulumi_pingback"
            or {a.name for a in node.names} - {"PingBackChannel", *classes}
            or any(a.asname for a in node.names)
        ):
            raise refuse(node, "an import")
        if isinstance(node, ast.Call) and _dotted(node.func) not in calls:
            raise refuse(node, f"a call of {_dotted(node.func)!r}")
        if isinstance(node, ast.keyword) and node.arg not in keywords:
            raise refuse(node, f"a keyword {node.arg!r}")
        if isinstance(node, ast.Attribute) and (_dotted(node.value), node.attr) not in _ATTRIBUTES:
            raise refuse(node, f"an attribute {node.attr!r}")
        if isinstance(node, ast.Name):
            allowed = variables | {"config"} if isinstance(node.ctx, ast.Store) else loads
            if node.id not in allowed:
                raise refuse(node, f"a name {node.id!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, str | bool):
            raise refuse(node, f"a constant {type(node.value).__name__}")
    if classes - {c.__name__ for c in CONFIG_CLASSES.values()}:
        raise refuse(tree, "a class that is no typed config")
