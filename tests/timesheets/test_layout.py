"""The timesheets modules import one another one way: no circle, lazy imports included."""

from __future__ import annotations

import ast
from pathlib import Path

import timesheets

PACKAGE = Path(timesheets.__file__).parent


def _imports() -> dict[str, set[str]]:
    """Each timesheets module and the timesheets modules it imports (anywhere in it)."""
    modules = {path.stem: path for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level == 1 or node.module == "timesheets"):
                found.update(alias.name for alias in node.names)
                found.add(node.module or "")
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("timesheets."):
                found.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("timesheets."))
        graph[name] = (found & modules.keys()) - {name}
    return graph


def _reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(graph[module])
    return seen


def test_no_timesheets_module_imports_itself_through_others():
    graph = _imports()
    assert [name for name in graph if name in _reaches(graph, name)] == []


def test_tasks_stand_below_the_modules_that_enqueue_them():
    graph = _imports()
    assert "tasks" in graph["decisions"] and "tasks" in graph["bulk_upload"]
    assert _reaches(graph, "tasks").isdisjoint({"decisions", "bulk_upload", "views", "api"})
