"""The import graph, read from the source with ast (every import, module-level or inside a function):
the pipeline's layers import downwards only, and tabgen's packages import each other without a cycle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "tabgen"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[str]:
    """Every module a file imports (for ``from a import b``: both a and a.b, since b may be a module)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: a relative import"  # (the graph below reads absolute names)
            assert node.module is not None
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


GRAPH = {module_name(p): set(imports(p)) for p in sorted(PACKAGE.rglob("*.py"))}


def unit(module: str) -> str:
    """The part of tabgen a module belongs to: its sub-package (tabgen.tab), else the module itself."""
    parts = module.split(".")
    return ".".join(parts[:2])


def test_the_graph_is_read() -> None:
    # (a guard on the reading itself: these are known edges)
    assert "tabgen.tab.types" in GRAPH["tabgen.tab.parse"]
    assert "tabgen.render.piece" in GRAPH["tabgen.cli"]  # an import inside a function
    assert "guitarpro" in GRAPH["tabgen.sources.guitarpro"]


def test_the_tab_model_imports_no_reader_renderer_format_torch_or_rich() -> None:
    banned = ("tabgen.render", "tabgen.formats", "tabgen.sources", "tabgen.cli", "torch", "rich")
    found = {
        (module, name)
        for module, names in GRAPH.items()
        if module.startswith("tabgen.tab.")
        for name in names
        if any(name == b or name.startswith(b + ".") for b in banned)
    }
    assert found == set()


def test_renderers_and_formats_read_no_files() -> None:
    readers = ("tabgen.sources", "tabgen.tab.parse", "tabgen.tab.decode", "tabgen.inputs")
    found = {
        (module, name)
        for module, names in GRAPH.items()
        if module.startswith(("tabgen.render.", "tabgen.formats."))
        for name in names
        if any(name == r or name.startswith(r + ".") for r in readers)
    }
    assert found == set()


def test_no_cycle_among_tabgen_packages() -> None:
    edges: dict[str, set[str]] = {}
    for module, names in GRAPH.items():
        for name in names:
            if name.startswith("tabgen.") and unit(name) != unit(module) and unit(name) in map(unit, GRAPH):
                edges.setdefault(unit(module), set()).add(unit(name))
    # depth-first search for a back edge, keeping the path so that a failure names the cycle
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for nxt in sorted(edges.get(node, ())):
            cycle = visit(nxt, [*path, node])
            if cycle:
                return cycle
        done.add(node)
        return None

    cycles = [c for c in (visit(n, []) for n in sorted(edges)) if c]
    assert cycles == []
