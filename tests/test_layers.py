"""The package reads as folders by concern, and its modules form layers: a call goes down
(front → core → client → channel rules → settings and errors), never back up. No module
imports — at its top or inside a function — one that imports it back, directly or
through others; and each folder imports nothing of what it must know nothing of."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pulumi_pingback"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.with_suffix("").relative_to(PACKAGE.parent).parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every package module ``name`` imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            subs = {f"{target}.{a.name}" for a in node.names} & known
            found |= subs if len(subs) == len(node.names) else subs | ({target} & known)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names} & known
    return found - {name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_no_module_imports_one_that_imports_it_back() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    assert graph["pulumi_pingback.client._client"] >= {
        "pulumi_pingback.client._creates"
    }  # it sees imports
    assert _cycles(graph) == []


_CORE_DOWN = [
    "_operations",
    "client._client",
    "client._creates",
    "client._listing",
    "client._retry",
    "client._transport",
]
CREATE_PATHS = {
    "dynamic": ["dynamic._provider", *_CORE_DOWN],
    "native": ["native._server", "native._provider", "native._wire", *_CORE_DOWN],
}


def _reach(graph: dict[str, set[str]], name: str) -> set[str]:
    seen: set[str] = set()
    todo = [name]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_the_create_path_goes_down_only() -> None:
    """The modules a create passes through, front to wire (each front's), each importing
    none of those before it, directly or through others."""
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    for front, path in CREATE_PATHS.items():
        names = [f"pulumi_pingback.{m}" for m in path]
        for i, name in enumerate(names):
            assert not _reach(graph, name) & set(names[:i]), (front, name)
        assert names[-1] in _reach(graph, names[0]), front  # the path is connected


KNOWS_NOTHING_OF = {
    # folder: what its modules never import, directly or through others (package parts,
    # or third-party packages by their top name)
    "client": {"pulumi", "dynamic", "native", "command", "_operations", "_advice"},
    "channels": {"httpx", "client", "dynamic", "native", "command", "_operations", "_advice"},
    "dynamic": {"native", "command"},
    "native": {"dynamic", "command"},
    "command": {"dynamic", "native", "_operations"},
}


def _third_party(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found - {"pulumi_pingback"}


def test_each_folder_knows_nothing_of_what_it_must_not() -> None:
    """The folders name the architecture: the client knows no Pulumi, the channel rules no
    HTTP, each front no other front; the one registry of ownership is the client's."""
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}

    def part(module: str) -> str:
        return module.removeprefix("pulumi_pingback.").split(".")[0]

    for name in modules:
        folder = part(name)
        if folder not in KNOWS_NOTHING_OF or name == f"pulumi_pingback.{folder}":
            continue
        reached = {name, *_reach(graph, name)}
        used = {part(m) for m in reached} | {t for m in reached for t in _third_party(modules[m])}
        assert not used & KNOWS_NOTHING_OF[folder], (name, used & KNOWS_NOTHING_OF[folder])
