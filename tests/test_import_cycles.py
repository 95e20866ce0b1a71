"""No import cycles inside entra_auth, counting every import the source names.

The graph is built from the AST of every module: imports at module level, inside functions and
under ``if TYPE_CHECKING:`` all count (a cycle hidden in a function is still a cycle in the
design). Relative imports are resolved; ``from package import name`` is an edge to
``package.name`` when that is a module, else to ``package``. Importing a submodule is not
counted as importing its parent packages (Python runs their ``__init__`` first, but that is
not a dependency the source states).
"""

from __future__ import annotations

import ast
import pathlib

import entra_auth

ROOT = pathlib.Path(entra_auth.__file__).resolve().parent
PACKAGE = "entra_auth"


def _module_name(path: pathlib.Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".")
    if not is_package:
        base.pop()  # a plain module's dots count from its package
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _nearest_module(name: str, modules: dict[str, pathlib.Path]) -> str | None:
    """``name`` itself if it is an entra_auth module, else its longest prefix that is one."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    """module -> the entra_auth modules it imports (anywhere in its source)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node.level, node.module)
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    targets.append(submodule if submodule in modules else base)
            for target in targets:
                if target != PACKAGE and not target.startswith(PACKAGE + "."):
                    continue
                found = _nearest_module(target, modules)
                if found is not None and found != name:
                    graph[name].add(found)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component that has one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(start: str) -> None:  # Tarjan's algorithm, iteratively
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(component)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in the component {sorted(component)}")


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    # a module-level relative import, and a package's own import of its submodule
    assert "entra_auth.protocol.context" in graph["entra_auth._app_core"]
    assert "entra_auth.credentials.factory" in graph["entra_auth.credentials"]
    # an import inside a function (the applications build their client credential lazily)
    assert "entra_auth.credentials" in graph["entra_auth._app_core"]
    # a TYPE_CHECKING-only import (the public names of the package)
    assert "entra_auth.application" in graph["entra_auth"]


def test_find_cycles_reports_a_cycle_it_is_given() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_entra_auth_has_no_import_cycle() -> None:
    cycles = find_cycles(import_graph())
    listing = "\n".join("  " + " -> ".join(cycle) for cycle in cycles)
    assert not cycles, f"import cycles (imports in functions and TYPE_CHECKING count):\n{listing}"
