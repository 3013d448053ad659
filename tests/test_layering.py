"""House rules that can be checked mechanically (../shared/reference/style-anchors.md, issue 20).

- Packages: app → claimtrack → corpus; ``replicate`` stands alone (claimtrack runs it as a process).
- Rooms of ``claimtrack``, one way: cli → present → literature → runs → search → graph. A module
  may import its own room and the rooms below it — at module level or inside a function alike.
  Inside ``claimtrack`` nobody imports the package root (``from claimtrack import X``): name the room.
- No import circle anywhere in the project (modules of claimtrack, replicate, corpus and app).
- Pages hold no SQL, HTTP or torch; only the search index may load torch; no module over 400 lines.

    python -m pytest tests/test_layering.py -q
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("claimtrack", "replicate", "corpus", "app")
FORBIDDEN = {
    "corpus": {"claimtrack", "app", "replicate"},
    "claimtrack": {"app", "replicate"},
    "replicate": {"claimtrack", "corpus", "app"},
    "app": {"sqlite3", "httpx", "requests", "torch", "replicate", "chromadb", "transformers"},
}
# The rooms of claimtrack, lowest first: a room may import itself and what is to its left.
ROOMS = ("graph", "search", "runs", "literature", "present", "cli")
# The app shows what present computes; it never drives the command line.
APP_MAY_IMPORT = set(ROOMS) - {"cli"}
# Embedding text for search needs a torch model (all-MiniLM-L6-v2); only the index may load it.
TORCH_ALLOWED = {"claimtrack/search/index.py", "claimtrack/search/embedding.py"}
MAX_LINES = 400


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, root: Path, known: set[str]) -> set[str]:
    """Project modules ``path`` imports anywhere in its body (``from a import b`` counts ``a.b``
    when ``a.b`` is a module, else ``a``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path, root)
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = me.split(".")[: len(me.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join([*pkg, base] if base else pkg)
            for a in node.names:
                out.add(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base)
    return {m for m in out if m in known}


def import_graph(root: Path) -> dict[str, set[str]]:
    files = {module_name(p, root): p for pkg in PACKAGES if (root / pkg).is_dir()
             for p in sorted((root / pkg).rglob("*.py"))}
    known = set(files)
    return {m: imported_modules(p, root, known) - {m} for m, p in files.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
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
            visit(v)
    return out


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports that go against the room order, or around it (the package root, cli from app)."""
    bad = []
    for mod, deps in graph.items():
        parts = mod.split(".")
        for dep in deps:
            dparts = dep.split(".")
            if dparts[0] != "claimtrack":
                continue
            if parts[0] == "claimtrack" and len(parts) > 1 and parts[1] in ROOMS:
                if len(dparts) == 1:
                    bad.append(f"{mod} → claimtrack (name the room)")
                elif dparts[1] in ROOMS and ROOMS.index(dparts[1]) > ROOMS.index(parts[1]):
                    bad.append(f"{mod} → {dep} ({parts[1]} is below {dparts[1]})")
            elif parts[0] == "app" and len(dparts) > 1 and dparts[1] not in APP_MAY_IMPORT:
                bad.append(f"{mod} → {dep} (the app may import {sorted(APP_MAY_IMPORT)})")
    return sorted(bad)


def test_no_import_circle_anywhere():
    assert circles(import_graph(ROOT)) == []


def test_rooms_import_one_way():
    assert upward_imports(import_graph(ROOT)) == []


def test_claimtrack_top_level_holds_only_the_package_files():
    top = {p.name for p in (ROOT / "claimtrack").glob("*.py")}
    assert top <= {"__init__.py", "__main__.py"}
    rooms = {p.name for p in (ROOT / "claimtrack").iterdir() if (p / "__init__.py").exists()}
    assert rooms == set(ROOMS)
    for room in ROOMS:  # each room says what lives there and what it may import
        doc = ast.get_docstring(ast.parse((ROOT / "claimtrack" / room / "__init__.py").read_text()))
        assert doc and "import" in doc.lower(), f"claimtrack/{room}/__init__.py needs a docstring"


def test_tests_mirror_the_rooms():
    assert {p.name for p in (ROOT / "tests" / "claimtrack").iterdir() if p.is_dir()
            and p.name != "__pycache__"} == set(ROOMS)


def _plant(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return import_graph(tmp_path)


def test_a_planted_circle_and_an_upward_import_are_caught(tmp_path):
    graph = _plant(tmp_path, {
        "claimtrack/__init__.py": "",
        "claimtrack/graph/__init__.py": "",
        "claimtrack/graph/store.py": "def f():\n    from claimtrack.present import board\n",
        "claimtrack/present/__init__.py": "",
        "claimtrack/present/board.py": "from claimtrack.graph import store\n",
        "claimtrack/search/__init__.py": "",
        "claimtrack/search/index.py": "from claimtrack import Store\n",
    })
    assert circles(graph) == [["claimtrack.graph.store", "claimtrack.present.board"]]
    assert upward_imports(graph) == [
        "claimtrack.graph.store → claimtrack.present.board (graph is below present)",
        "claimtrack.search.index → claimtrack (name the room)"]


def package_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_packages_import_one_way(package):
    bad = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        forbidden = set(FORBIDDEN[package])
        if package == "claimtrack" and rel not in TORCH_ALLOWED:
            forbidden |= {"torch"}
        hit = package_imports(path) & forbidden
        if hit:
            bad[rel] = sorted(hit)
    assert not bad, f"layering violated: {bad}"


def test_no_module_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for pkg in PACKAGES
            for p in sorted((ROOT / pkg).rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"split these modules: {long}"
