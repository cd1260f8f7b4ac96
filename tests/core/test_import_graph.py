"""Imports inside core/ run one way: no module reaches itself again through the modules it imports,
whether the import sits at the top of the file or inside a function (a lazy import hides a circle)."""

import ast

from tests.core.test_no_streamlit import core_modules


def imports_of(path, known: set[str]) -> set[str]:
    """The core modules a file imports anywhere in it (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of module names, or None (depth-first search)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def core_graph() -> dict[str, set[str]]:
    modules = core_modules()
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        # A package's __init__ is imported with any of its modules; it is not an edge of its own.
        graph[name] = {target for target in imports_of(path, known) if target != name and target in modules}
        graph[name] -= {n for n in known if modules[n].name == "__init__.py"}
    return graph


def test_find_cycle_finds_a_planted_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_inside_core():
    assert find_cycle(core_graph()) is None
