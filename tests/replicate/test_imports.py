"""replicate/ imports only stdlib, torch, transformers, numpy, scipy (matplotlib optional, lazily).

    .venv/bin/python -m pytest tests/replicate/test_imports.py -q
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "replicate"
ALLOWED = {"torch", "transformers", "numpy", "scipy", "matplotlib", "replicate"}


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield node, a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node, node.module.split(".")[0]


def test_only_allowed_imports():
    bad = []
    for f in sorted(ROOT.rglob("*.py")):
        for _, mod in _imports(f):
            if mod not in ALLOWED and mod not in sys.stdlib_module_names:
                bad.append(f"{f.relative_to(ROOT.parent)}: {mod}")
    assert not bad, bad


def test_matplotlib_is_imported_lazily():
    for f in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(f.read_text())
        for node in tree.body:  # module level only
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.startswith("matplotlib") for n in names), f


def test_files_stay_small():
    # entropy_interventions.py is 425 lines: it is the registered module of shipped cpu-scale results,
    # and any edit changes the sha256 that `replicate verify` needs to recompute them at HEAD, so it is
    # split (arm setup apart from the rule) at its next re-registration, not now; every other file <= 400
    allowed = {"entropy_interventions.py": 430}
    for f in ROOT.rglob("*.py"):
        assert len(f.read_text().splitlines()) <= allowed.get(f.name, 400), f
