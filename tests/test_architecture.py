"""The layering of the package, checked by walking its imports (no import is executed).

* Nothing below the interfaces imports them: no module outside ``tawazun.cli`` and
  ``tawazun.web`` imports ``tawazun.cli`` or ``tawazun.web`` (at any depth, even inside a
  function).
* No import cycle among the package's modules. Edges are the imports a module makes when
  it is loaded (module level); an import inside a function runs later and is left out, as is
  Python's implicit import of a parent package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "tawazun"


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PKG.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The longest known module that ``name`` starts with."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(mod: str, path: Path, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()

    def visit(node: ast.AST, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            inside_fn = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _resolve(alias.name)
                    if target:
                        out.add(target)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = mod if is_pkg else mod.rpartition(".")[0]
                    for _ in range(child.level - 1):
                        base = base.rpartition(".")[0]
                    name = f"{base}.{child.module}" if child.module else base
                else:
                    name = child.module or ""
                if not name.startswith("tawazun"):
                    continue
                for alias in child.names:
                    target = _resolve(f"{name}.{alias.name}") or _resolve(name)
                    if target:
                        out.add(target)
            if inside_fn and top_level_only:
                continue
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                continue  # imports for type checkers only never run
            visit(child, depth + 1)

    visit(tree, 0)
    out.discard(mod)
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _interface(mod: str) -> bool:
    return mod.startswith(("tawazun.cli", "tawazun.web"))


def test_the_walk_sees_the_package():
    assert "tawazun.forecast" in MODULES and "tawazun.cli.main" in MODULES
    # sanity: the walk finds a known edge
    assert "tawazun.forecast" in _imports("tawazun.cli.arena_cmds", MODULES["tawazun.cli.arena_cmds"],
                                          top_level_only=True)


def test_nothing_below_the_interfaces_imports_them():
    offenders = []
    for mod, path in sorted(MODULES.items()):
        if _interface(mod):
            continue
        for target in sorted(_imports(mod, path, top_level_only=False)):
            if _interface(target):
                offenders.append(f"{mod} imports {target}")
    assert not offenders, "\n".join(offenders)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_no_import_cycles():
    graph = {mod: _imports(mod, path, top_level_only=True) for mod, path in MODULES.items()}
    cycles = _cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("layer", ["tawazun.engines", "tawazun.arena", "tawazun.uncertainty",
                                   "tawazun.scenarios", "tawazun.evidence", "tawazun.evaluation"])
def test_core_layers_do_not_render(layer):
    """Engines, the arena, uncertainty, scenarios, evidence and evaluation do not import the
    renderers (report, web, cli): data flows one way, arena -> engines -> run -> renderers."""
    offenders = []
    for mod, path in MODULES.items():
        if mod == layer or mod.startswith(layer + "."):
            for target in _imports(mod, path, top_level_only=False):
                if target.startswith(("tawazun.report", "tawazun.cli", "tawazun.web")):
                    offenders.append(f"{mod} imports {target}")
    assert not offenders, "\n".join(offenders)
