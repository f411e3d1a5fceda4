"""The package's modules form layers: a call goes down (front → core → client →
transport), never back up. No module imports — at its top or inside a function — one that
imports it back, directly or through others; and none outside tests is over ~350 lines."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pulumi_pingback"
MAX_LINES = 365  # "~350": one cohesive module may run a little over


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
    assert graph["pulumi_pingback._client"] >= {"pulumi_pingback._creates"}  # it sees imports
    assert _cycles(graph) == []


_CORE_DOWN = ["_operations", "_client", "_creates", "_listing", "_retry", "_transport"]
CREATE_PATHS = {
    "dynamic": ["_provider", *_CORE_DOWN],
    "native": ["_native", "_native_provider", "_native_wire", *_CORE_DOWN],
}


def test_the_create_path_goes_down_only() -> None:
    """The modules a create passes through, front to wire (each front's), each importing
    none of those before it, directly or through others."""
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}

    def reach(name: str) -> set[str]:
        seen: set[str] = set()
        todo = [name]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    for front, path in CREATE_PATHS.items():
        names = [f"pulumi_pingback.{m}" for m in path]
        for i, name in enumerate(names):
            assert not reach(name) & set(names[:i]), (front, name)
        assert names[-1] in reach(names[0]), front  # the path is connected


def test_no_module_is_over_about_350_lines() -> None:
    sizes = {n: len(p.read_text().splitlines()) for n, p in _modules().items()}
    assert {n: s for n, s in sizes.items() if s > MAX_LINES} == {}
