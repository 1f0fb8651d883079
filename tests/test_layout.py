"""The layout a newcomer can read: no import circles, layers import downwards, modules stay small.

The import graph is read from the source (ast), not by importing: every `import`/`from ... import`
of a bot/ or storage/ module counts, including those inside functions (a function-level import
is how a circle usually hides), except those under `if TYPE_CHECKING:` (they never run). Importing
`pkg.sub` counts as a dependency on `pkg.sub` only, not on the package `pkg` that Python runs
first: a package's `__init__` listing its feature modules (bot/jobs/, bot/delivery/) is how
features register themselves, and those modules import the registry beside it, never the package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "storage")
MAX_LINES = 800

# Layers, lowest first: a module may import its own layer or a lower one, never a higher one.
RANKS = {
    "storage": 0,
    "bot.config": 1,
    "bot.lean_aiogram": 1,
    "bot.i18n": 2,
    "bot.services": 3,
    "bot.views": 4,
    "bot.menu": 4,
    "bot.middlewares": 4,
    "bot.inbox": 4,
    "bot.delivery": 5,
    "bot.flows": 5,
    "bot.jobs": 5,
    "bot.handlers": 6,
    "bot.forum": 6,
    "bot.scheduler": 6,
    "bot.app": 7,
    "bot.sandbox": 8,
    "bot.cli": 9,
    "bot.__main__": 10,
}


def modules() -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package's __init__)."""
    found: dict[str, tuple[Path, bool]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts and "versions" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, path: Path, is_package: bool, known: Iterable[str]) -> set[str]:
    known = set(known)
    deps: set[str] = set()
    package = name.split(".") if is_package else name.split(".")[:-1]

    def add(base: str, names: Iterable[str]) -> None:
        for item in names:
            full = f"{base}.{item}"
            if full in known:
                deps.add(full)
            elif base in known:
                deps.add(base)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    deps.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - (node.level - 1)]
                base = ".".join(parent + ([node.module] if node.module else []))
            add(base, (alias.name for alias in node.names))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    deps.discard(name)
    return deps


def import_graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, pkg, found) for name, (path, pkg) in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
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


def rank(module: str) -> int | None:
    """The module's layer (its own or its package's); None for modules outside the table."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in RANKS:
            return RANKS[prefix]
    return None


def test_no_module_imports_itself_in_a_circle() -> None:
    graph = import_graph()
    circles = cycles(graph)
    described = [
        " | ".join(f"{m} -> {', '.join(sorted(graph[m] & set(c)))}" for m in c) for c in circles
    ]
    assert not circles, "import circles:\n" + "\n".join(described)


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]


def test_layers_import_downwards() -> None:
    wrong = [
        f"{module} imports {dep}"
        for module, deps in sorted(import_graph().items())
        for dep in sorted(deps)
        if (r := rank(module)) is not None and (d := rank(dep)) is not None and d > r
    ]
    assert not wrong, "a lower layer imports a higher one:\n" + "\n".join(wrong)


def test_no_module_in_bot_is_longer_than_800_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for name, (path, _) in modules().items()
        if name.startswith("bot.")
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert not long, f"split these modules (at most {MAX_LINES} lines):\n" + "\n".join(long)


def test_every_feature_registers_its_renderers_and_jobs() -> None:
    graph = import_graph()
    notices = {m for m in graph if m.startswith("bot.delivery.") and m.endswith("notices")}
    missing = sorted(notices - graph["bot.delivery"])
    assert not missing, "list these in bot/delivery/__init__.py: " + ", ".join(missing)
    jobs = {m for m in graph if m.startswith("bot.jobs.") and m != "bot.jobs.registry"}
    missing = sorted(jobs - graph["bot.jobs"])
    assert not missing, "list these in bot/jobs/__init__.py: " + ", ".join(missing)


IGNORED = {"__pycache__", "test-output", "data", "build", "node_modules"}


def readme_tree() -> dict[str, list[str]]:
    """The README's layout tree: each directory it opens -> the entries it lists in it.

    An entry line is indented by two spaces a level and starts with the entry's name (`name/`
    for a directory); lines indented as far as the descriptions continue the one above.
    """
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Architecture", 1)[1]
    block = section.split("```", 2)[1]
    tree: dict[str, list[str]] = {"": []}
    stack: list[str] = []
    for line in block.splitlines()[1:]:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if not stripped or indent >= 20:
            continue
        level = indent // 2
        name = stripped.split()[0]
        stack = stack[:level]
        parent = "/".join(stack)
        tree.setdefault(parent, []).append(name.rstrip("/"))
        stack.append(name.rstrip("/"))
    return tree


def on_disk(folder: Path) -> set[str]:
    return {
        p.name for p in folder.iterdir()
        if not p.name.startswith(".") and p.name not in IGNORED
        and not p.name.endswith((".egg-info", ".db", ".png"))
    }


def test_the_readme_layout_tree_matches_the_files() -> None:
    tree = readme_tree()
    assert "bot" in tree[""] and "emulator" in tree["bot/sandbox"]
    problems = []
    for folder, listed in tree.items():
        path = ROOT / folder
        missing = sorted(set(listed) - on_disk(path))
        if missing:
            problems.append(f"README lists {missing} in {folder or '.'}/, which has no such entry")
        unlisted = sorted(on_disk(path) - set(listed))  # a folder it opens, it shows whole
        if unlisted:
            problems.append(f"README's tree of {folder or '.'}/ lacks {unlisted}")
    assert not problems, "\n".join(problems)
