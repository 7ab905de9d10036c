"""The house's shape (../shared/ARCHITECTURE.md), read from the sources so a change that breaks it fails here.

- No import circles among the project's modules. Imports inside functions count too: a lazy import
  hides a circle from Python, not from the next reader.
- Nothing in config/ imports an app (apps register what they add: error handlers, URLs by string).
- Floors use only floors below them (or beside them, without a circle); nothing reaches up.
- Pure code (pki/ and every <app>/domain/) imports with Django, DRF and Celery made unimportable.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Floor of each top-level package; <app>/domain/ packages are floor 0 whatever their app.
FLOORS = {
    "config": 0,
    "pki": 0,
    "accounts": 1,
    "history": 1,
    "registry": 2,
    "compliance": 3,
    "audits": 3,
    "distrust": 4,
    "notifications": 5,
}
NOT_PROJECT = {"tests", "bench", "static", "templates", "var", "build"}


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    modules = {}
    for top in sorted(p for p in root.iterdir() if (p / "__init__.py").exists() and p.name not in NOT_PROJECT):
        for path in top.rglob("*.py"):
            rel = path.relative_to(root)
            if "migrations" in rel.parts:
                continue
            name = ".".join(rel.with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the project modules it imports (a name imported from a package counts as its submodule)."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                found = resolve(target)
                # A package importing its own submodules is not an edge upward; a module its package is.
                if found and found != name and not name.startswith(found + "."):
                    graph[name].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def floor(module: str) -> int:
    if module.split(".")[1:2] == ["domain"]:
        return 0
    return FLOORS[module.split(".")[0]]


MODULES = project_modules()
GRAPH = import_graph(MODULES)


def test_the_graph_sees_real_imports_including_those_inside_functions():
    assert "accounts.permissions" in GRAPH["compliance.views"]
    assert "pki.x509" in GRAPH["registry.models"]
    # A lazy import (inside a function) is an edge too.
    lazy = [(m, t) for m, path in MODULES.items() for t in GRAPH[m] if f"    from {t} import" in path.read_text()]
    assert lazy, "the graph must include imports inside functions"


def test_cycle_finder_finds_a_circle_and_not_a_chain():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_circles_among_project_modules():
    assert cycles(GRAPH) == []


def test_config_imports_no_app():
    reaching = sorted((m, t) for m, targets in GRAPH.items() if m.startswith("config") for t in targets
                      if not t.startswith("config"))
    assert reaching == []


def test_every_package_has_a_floor():
    assert {m.split(".")[0] for m in MODULES} <= set(FLOORS)


def test_nothing_reaches_up_a_floor():
    upward = sorted((m, t) for m, targets in GRAPH.items() for t in targets if floor(t) > floor(m))
    assert upward == []


def pure_modules() -> list[str]:
    return sorted(m for m in MODULES if m == "pki" or m.startswith("pki.") or ".domain" in m)


def test_pure_code_imports_without_django_drf_or_celery():
    names = pure_modules()
    assert {"pki.x509", "pki.certdata", "pki.onecrl", "pki.paths", "compliance.domain.deadlines",
            "audits.domain.checks"} <= set(names)
    script = textwrap.dedent(f"""
        import importlib, importlib.abc, sys
        BLOCKED = ("django", "rest_framework", "celery", "drf_spectacular", "kombu")
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ImportError(f"pure code imported {{name}}")
                return None
        sys.meta_path.insert(0, Block())
        for name in {names!r}:
            importlib.import_module(name)
        try:
            import django  # noqa: F401
        except ImportError:
            print("blocked")
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "blocked"


def test_readme_layout_table_names_every_package_and_nothing_else():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    path_cells = [line.split("|")[2] for line in layout.splitlines() if line.startswith("|") and "`" in line]
    named = {cell.strip().strip("`").split("/")[0] for cells in path_cells for cell in cells.split(",")}
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"}
    assert packages <= named, f"README's layout lacks {sorted(packages - named)}"
    missing = sorted(name for name in named - {"<app>"} if not (ROOT / name).exists())
    assert missing == [], f"README's layout names what is not in the tree: {missing}"
